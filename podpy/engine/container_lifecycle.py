"""start, stop, kill, wait, rm: moving a container between states without a daemon.

`start` forks the supervisor with the container lock handed over (it releases it once the
container runs). The hooks below run in the supervisor; nothing here holds a lock while waiting
on a container.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.engine.container_procs import get_runtime, kill_pid, wait_pid
from podpy.engine.container_record import ContainerRecord, RunState
from podpy.engine.container_restart import before_signal, end_restarting, mark_stopped, on_exit, relaunch
from podpy.engine.signals import parse_signal
from podpy.errors import ContainerState, NoSuchContainer, PodpyError
from podpy.record import record
from podpy.storage.fsutil import rmtree
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.containers import ContainerService
    from podpy.supervisor.spawn import Launch, Prefork

EXIT_FILE_SECONDS = 600


@record
class AttachRequest:
    """The CLI's own stdio, for `run` without -d and `start -a` (the supervisor inherits them)."""

    stdin: int | None = None  # with -i
    stdout: int = 1
    stderr: int = 2
    winsize: tuple[int, int] | None = None


class Lifecycle:
    def __init__(self, svc: ContainerService) -> None:
        self.svc = svc

    # ---- start
    def start(self, ref: str, attach: AttachRequest | None = None, preserve_fds: int = 0,
              prefork: Prefork | None = None) -> tuple[ContainerRecord, Launch | None]:  # fmt: skip
        """Fork the supervisor (or hand the container to the one `prefork` made); returns once the
        container runs (Launch) or raises its start error.

        An already running container is left alone (Launch None), as Docker does."""
        from podpy.runtime.builtin.cgroups import kick_migration

        cid = self.svc.resolve(ref)
        with self.svc.lock(cid) as lock:
            rec = cr.load(self.svc.cdir(cid))
            cr.reconcile(rec)
            if rec.state.status in (cr.RUNNING, cr.RESTARTING):  # restarting: its supervisor starts it
                return rec, None
            kick_migration()  # the init joins its cgroups ~10 ms from now: start the wait that costs
            runtime = get_runtime(rec.runtime, self.svc.layout.runroot, self.svc.engine.opts.runtime_flags)
            run_dir = self.svc.run_dir(cid)
            if rec.state.started_at or run_dir.exists():  # it ran before, or a start was cut short (the
                self.teardown(rec, runtime)  # CLI killed before its supervisor took over): undo what it left
            (run_dir / "merged").mkdir(parents=True, exist_ok=True)
            premounted = self._premount(rec)
            try:
                self.network_up(rec)
            except BaseException:
                rec.state.premounted = premounted
                self.teardown(rec, runtime)
                raise
            if prefork is not None and not preserve_fds:
                launch = self._go(prefork, cid, lock.handover(), attach, premounted)
            else:
                from podpy.supervisor.spawn import spawn

                cfg = self._supervisor_config(rec, attach, preserve_fds)
                launch = spawn(cfg, runtime, _Hooks(self, rec, runtime, premounted, attach is not None), lock.handover())
        try:
            launch.started()
        except BaseException:
            launch.close()
            raise
        return rec, launch

    def _supervisor_config(self, rec: ContainerRecord, attach: AttachRequest | None, preserve_fds: int) -> Any:
        from podpy.engine.container_health import spec_for
        from podpy.supervisor.logfile import LogConfig
        from podpy.supervisor.monitor import Direct, SupervisorConfig
        from podpy.supervisor.protocol import parse_detach_keys

        cid = rec.id
        direct = Direct(attach.stdin, attach.stdout, attach.stderr) if attach else None
        return SupervisorConfig(
            cid=cid, bundle=self.svc.bundle(cid), run_dir=self.svc.run_dir(cid), log_path=self.svc.log_path(cid, rec.spec),
            log=LogConfig.from_json(rec.spec.get("log")),
            tty=bool(rec.spec.get("terminal")), open_stdin=rec.open_stdin,
            detach_keys=parse_detach_keys(rec.detach_keys), direct=direct,
            winsize=(attach.winsize if attach and attach.winsize else (24, 80)),
            health=spec_for(self.svc, rec), timeout=int(rec.spec.get("timeout") or 0), preserve_fds=preserve_fds,
        )  # fmt: skip

    def _go(self, prefork: Prefork, cid: str, lock_fd: int, attach: AttachRequest | None, premounted: str) -> Launch:
        """Hand the container lock (and the attached stdio) to the pre-forked supervisor."""
        fds = [lock_fd]
        doc: dict[str, Any] = {"cid": cid, "premounted": premounted, "attach": attach is not None}
        if attach is not None:
            fds += [attach.stdout, attach.stderr] + ([attach.stdin] if attach.stdin is not None else [])
            doc["winsize"] = list(attach.winsize) if attach.winsize else None
        try:
            return prefork.go(doc, fds)
        finally:
            os.close(lock_fd)

    def preforked(self, doc: dict[str, Any], fds: list[int]) -> tuple[Any, Any, Any, int]:
        """In the pre-forked supervisor, on `go`: what `start` would have spawned it with. The lock
        (fds[0]) is held: the record is the one the CLI prepared."""
        lock_fd = fds[0]
        os.set_inheritable(lock_fd, False)  # close-on-exec, as the lock the CLI opened (SCM_RIGHTS drops it);
        # the stdio fds stay inheritable: the supervisor dups them and closes these (spawn.close_inherited)
        attach = None
        if doc.get("attach"):
            winsize = doc.get("winsize")
            attach = AttachRequest(stdin=fds[3] if len(fds) > 3 else None, stdout=fds[1], stderr=fds[2],
                                   winsize=tuple(winsize) if winsize else None)  # fmt: skip
        rec = cr.load(self.svc.cdir(doc["cid"]))
        runtime = get_runtime(rec.runtime, self.svc.layout.runroot, self.svc.engine.opts.runtime_flags)
        premounted = doc.get("premounted") or ""
        try:
            cfg = self._supervisor_config(rec, attach, 0)
        except BaseException:  # undo the CLI's set-up, as a start that fails in the runtime does
            rec.state.premounted = premounted
            self.teardown(rec, runtime)
            raise
        return cfg, runtime, _Hooks(self, rec, runtime, premounted, attach is not None), lock_fd

    def _premount(self, rec: ContainerRecord) -> str:
        """An external runtime gets the rootfs mounted on the host (the built-in mounts it itself)."""
        if not rec.rootfs:  # every start, any runtime: /dev, /proc, /etc/hosts... are real again
            self.svc.storage_driver.prepare_start(rec.id, rec.top_layer)
        if not rec.runtime or rec.runtime == "builtin" or rec.rootfs or (rec.spec.get("uidmap") and os.geteuid() == 0):
            return ""  # root --uidmap: the runtime adapter mounts it ID-mapped
        driver = self.svc.storage_driver
        if driver.mount_options(rec.id, rec.top_layer)[0] == "bind":
            return ""
        target = self.svc.run_dir(rec.id) / "merged"
        driver.mount(rec.id, rec.top_layer, target)
        return str(target)

    def network_up(self, rec: ContainerRecord) -> None:
        """Pin and wire the network namespace config.json names (bridge/user networks only)."""
        if rec.spec.get("network") == "bridge" and self.svc.engine.opts.rootless:
            from podpy.engine.networks import rootless_bridge

            rootless_bridge.setup(self.svc.engine.networks, rec.id, rec.name, rec.spec,
                                  self.svc.bundle(rec.id) / "config.json")  # fmt: skip
        elif rec.spec.get("network") == "bridge":
            from podpy.engine import networks

            networks.setup(self.svc.engine.networks, rec.id, rec.name, rec.spec)
        elif rec.spec.get("network") in ("pasta", "slirp4netns"):
            from podpy.engine.networks import rootless

            rootless.setup(self.svc.engine.networks, rec.id, rec.spec, self.svc.bundle(rec.id) / "config.json")

    # ---- signals and waiting
    def kill(self, ref: str, sig: int | str = signal.SIGKILL) -> ContainerRecord:
        rec = self.svc.get(ref)
        num = parse_signal(sig)
        restarting = rec.state.status == cr.RESTARTING
        rec = before_signal(self.svc, rec, cancel=num in (signal.SIGKILL, parse_signal(rec.stop_signal)))
        if restarting:
            return rec  # nothing runs: as Docker, the kill only tells the restart policy
        if rec.state.status != cr.RUNNING:
            raise ContainerState(f"can only kill running containers. {rec.id} is in state "
                                 f"{rec.state.status}: container state improper")  # fmt: skip
        self._signal(rec, num)
        ev.container(self.svc, rec, "kill")
        return rec

    def _signal(self, rec: ContainerRecord, sig: int) -> None:
        try:
            get_runtime(rec.runtime, self.svc.layout.runroot, self.svc.engine.opts.runtime_flags).kill(
                rec.id, rec.state.pid, sig, self.svc.run_dir(rec.id)
            )
        except PodpyError:
            pass  # exited meanwhile
        if rec.state.paused:
            from podpy.engine.container_cgroups import thaw

            thaw(self.svc, rec)

    def stop(self, ref: str, timeout: int | None = None) -> ContainerRecord:
        """The stop signal, then SIGKILL after `timeout` seconds (the container's --stop-timeout)."""
        rec = before_signal(self.svc, self.svc.get(ref), cancel=True)  # stop wins over any restart policy
        if rec.state.status != cr.RUNNING:
            return rec
        wait_for = rec.stop_timeout if timeout is None else timeout
        stop_signal = parse_signal(rec.stop_signal)
        self._signal(rec, stop_signal)
        if not self.wait_stopped(rec, float(wait_for)):
            self.svc.notices.append(f"StopSignal {_signame(stop_signal)} failed to stop container "
                                    f"{rec.name} in {wait_for} seconds, resorting to SIGKILL")  # Podman's words
            self._signal(rec, signal.SIGKILL)
            self.wait_stopped(rec, None)
        ev.container(self.svc, rec, "stop")
        return rec

    def wait_stopped(self, rec: ContainerRecord, timeout: float | None) -> bool:
        """Until the container's init is gone and its supervisor has recorded it (or removed it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not wait_pid(rec.state.pid, rec.state.pid_start, timeout):
            return False
        while True:
            try:
                fresh = cr.load(self.svc.cdir(rec.id))
            except NoSuchContainer:
                return True
            cr.reconcile(fresh)
            if fresh.state.status != cr.RUNNING:
                return True
            if deadline is not None and time.monotonic() > deadline + 10:
                return False
            time.sleep(0.005)

    def wait(self, ref: str) -> int:
        """`wait`: block until the container is not running; its exit code."""
        rec = self.svc.get(ref)
        if rec.state.status == cr.RUNNING:
            self.wait_stopped(rec, None)
            try:
                rec = self.svc.get(rec.id)
            except NoSuchContainer:
                return self._exit_file(rec.id)
        return rec.state.exit_code

    def _exit_file(self, cid: str) -> int:
        try:
            return int((self.svc.layout.runroot / "exits" / cid).read_text())
        except (OSError, ValueError):
            raise NoSuchContainer(cid) from None

    # ---- removal
    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> str:
        """rm [-f] [-v]: -v also removes the anonymous volumes made for it (once the record is gone)."""
        cid = self.svc.resolve(ref)
        rec = self._remove(cid, force)
        if volumes and rec.anonymous_volumes:
            self.svc.engine.volumes.remove_anonymous(rec.anonymous_volumes)
        return cid

    def _remove(self, cid: str, force: bool) -> ContainerRecord:
        with self.svc.lock(cid):
            rec = cr.load(self.svc.cdir(cid))
            cr.reconcile(rec)
            if rec.state.status not in (cr.RUNNING, cr.RESTARTING):
                self.purge(rec)
                return rec
            if not force:
                raise ContainerState(f"cannot remove container {cid} as it is {rec.state.status} - running or "
                                     f"paused containers cannot be removed without force: container state improper")  # fmt: skip
            if rec.state.status == cr.RESTARTING:  # only its supervisor is left, waiting to restart it
                end_restarting(self.svc, rec)
                self.purge(rec)
                return rec
            mark_stopped(self.svc, rec, cancel=True)  # its restart policy must not start it again
            self._signal(rec, signal.SIGKILL)
        if not self.wait_stopped(rec, 10.0):
            kill_pid(rec.state.supervisor_pid, rec.state.supervisor_start)  # wedged: take over
        try:
            with self.svc.lock(cid):
                rec = cr.load(self.svc.cdir(cid))
                cr.reconcile(rec)
                self.purge(rec)
        except NoSuchContainer:
            pass  # its supervisor removed it (--rm)
        return rec

    def purge(self, rec: ContainerRecord, runtime: Any = None) -> None:
        """Remove everything of a stopped container (caller holds its lock)."""
        if rec.state.started_at or rec.state.premounted or self.svc.run_dir(rec.id).exists():
            self.teardown(rec, runtime)  # a start (even one cut short) makes the run dir first;
            # a container only created has nothing to undo (and rm need not load the network code)
        if not rec.rootfs:
            self.svc.storage_driver.remove_rw(rec.id)
        rmtree(self.svc.cdir(rec.id), ignore_errors=True)
        rmtree(self.svc.run_dir(rec.id), ignore_errors=True)
        ev.container(self.svc, rec, "remove")

    def discard(self, rec: ContainerRecord) -> None:
        """Undo a create that failed half-way."""
        try:
            with self.svc.lock(rec.id):
                self.purge(rec)
        except NoSuchContainer:
            pass

    def teardown(self, rec: ContainerRecord, runtime: Any) -> None:
        """What a previous run may have left: processes (supervisor killed), cgroups, a host mount."""
        pid = cr.leftover_init(rec)
        if pid:
            kill_pid(pid, rec.state.pid_start)
            wait_pid(pid, rec.state.pid_start, 5.0)
        try:
            (runtime or get_runtime(rec.runtime, self.svc.layout.runroot, self.svc.engine.opts.runtime_flags)).delete(
                rec.id, self.svc.run_dir(rec.id)
            )
        except (PodpyError, OSError):
            pass
        if rec.state.premounted:
            self.svc.storage_driver.unmount(Path(rec.state.premounted))
            rec.state.premounted = ""
        self.network_down(rec)  # after the processes: nothing uses the netns now

    def network_down(self, rec: ContainerRecord) -> None:
        """Undo network_up (idempotent): also run by the reconcile after a supervisor crash."""
        if rec.spec.get("network") == "bridge" and self.svc.engine.opts.rootless:
            from podpy.engine.networks import rootless_bridge

            rootless_bridge.teardown(self.svc.engine.networks, rec.id, rec.spec)
        elif rec.spec.get("network") == "bridge":
            from podpy.engine import networks

            networks.teardown(self.svc.engine.networks, rec.id, rec.spec)
        elif rec.spec.get("network") in ("pasta", "slirp4netns"):  # pasta outlives its namespace
            from podpy.engine.networks import rootless

            rootless.teardown(self.svc.engine.networks, rec.id)


def _write_pid_file(path: str, pid: int) -> None:
    """--pidfile / --conmon-pidfile (at every start); a failure must not stop the container."""
    from podpy.state import atomic_write_bytes

    try:
        atomic_write_bytes(Path(path), str(pid).encode(), durable=False)
    except OSError:
        pass


class _Hooks:
    """Runs in the supervisor process: the record and the setup follow the container's life."""

    def __init__(self, lc: Lifecycle, rec: ContainerRecord, runtime: Any, premounted: str, attached: bool = False) -> None:
        self.attached = attached  # run/start -a: an attach event after start (before it can die)
        self.lc = lc
        self.svc = lc.svc
        self.rec = rec
        self.runtime = runtime
        self.premounted = premounted
        self.fresh = True  # a start by the user (RestartCount back to 0), not by the restart policy
        self.force_restart = False  # --health-on-failure restart: the next exit restarts

    def started(self, pid: int) -> None:  # the container lock is held (inherited)
        rec = cr.load(self.svc.cdir(self.rec.id))
        me = os.getpid()
        rec.state = RunState(
            status=cr.RUNNING, pid=pid, pid_start=cr.proc_start_time(pid), supervisor_pid=me,
            supervisor_start=cr.proc_start_time(me), started_at=now_rfc3339(),
            restart_count=0 if self.fresh else rec.state.restart_count, premounted=self.premounted,
        )  # fmt: skip
        cr.save(self.svc.cdir(rec.id), rec, durable=False)
        self.rec = rec
        ev.started(self.svc, rec, self.attached and self.fresh)
        for path, value in ((rec.pidfile, pid), (rec.conmon_pidfile, me)):
            if path:
                _write_pid_file(path, value)
        if self.fresh and os.environ.get("NOTIFY_SOCKET"):
            from podpy.engine.create_misc import notify_ready

            notify_ready(rec.spec.get("annotations") or {}, me)

    def unhealthy(self, action: str) -> tuple[int, int]:
        """--health-on-failure: kill (SIGKILL, the policy decides), stop (the stop signal, no
        restart, as `podpy stop`), restart (SIGKILL, then started again whatever the policy)."""
        if action == "restart":
            self.force_restart = True
            return signal.SIGKILL, 0
        if action == "stop":
            with self.svc.lock(self.rec.id):
                rec = cr.load(self.svc.cdir(self.rec.id))
                rec.state.manually_stopped = rec.state.restart_canceled = True
                cr.save(self.svc.cdir(rec.id), rec)
            return parse_signal(self.rec.stop_signal), self.rec.stop_timeout
        return signal.SIGKILL, 0

    def failed(self, err: PodpyError) -> None:  # the container lock is held (inherited)
        rec = cr.load(self.svc.cdir(self.rec.id))
        rec.state.premounted = self.premounted
        self.lc.teardown(rec, self.runtime)
        if rec.auto_remove:
            self.lc.purge(rec)
            if rec.anonymous_volumes:
                self.svc.engine.volumes.remove_anonymous(rec.anonymous_volumes)
            return
        rec.state = RunState(status=cr.CREATED if self.fresh else cr.EXITED,  # a restart that failed: exited
                             exit_code=err.exit_code, error=str(err), restart_count=rec.state.restart_count,
                             started_at=rec.state.started_at, finished_at=rec.state.finished_at)  # fmt: skip
        cr.save(self.svc.cdir(rec.id), rec)

    def exited(self, exit_code: int) -> bool:
        """Record the exit, undo the setup, remove for --rm; True when the restart policy wants
        another run (the record then says restarting)."""
        pod_member = None
        try:
            with self.svc.lock(self.rec.id):
                rec = cr.load(self.svc.cdir(self.rec.id))
                rec.state.pid_start = 0  # it is dead: teardown must not signal a recycled pid
                ev.container(self.svc, rec, "died", exit_code=exit_code)
                if rec.auto_remove:  # purge tears down too; the record goes, so no OOM check for it
                    _write_exit_file(self.svc.layout.runroot / "exits" / rec.id, exit_code)
                    ev.container(self.svc, rec, "cleanup")
                    self.lc.purge(rec, self.runtime)
                    removed = rec
                else:
                    rec.state.oom_killed = _oom_killed(self.svc, rec)  # before teardown removes the cgroup
                    self.lc.teardown(rec, self.runtime)
                    ev.container(self.svc, rec, "cleanup")
                    rec.state.status = cr.EXITED
                    rec.state.exit_code = exit_code
                    rec.state.finished_at = now_rfc3339()
                    restart = on_exit(rec, exit_code)
                    if self.force_restart and not restart:  # --health-on-failure restart
                        rec.state.status, restart = cr.RESTARTING, True
                        rec.state.restart_count += 1
                    self.force_restart = False
                    cr.save(self.svc.cdir(rec.id), rec)
                    if restart or not rec.spec.get("pod"):
                        return restart
                    pod_member = rec
        except NoSuchContainer:
            return False  # removed by `rm -f` meanwhile
        if pod_member is not None:  # outside the lock: the pod's exit policy may stop its infra
            from podpy.engine.pods import after_exit

            after_exit(self.svc.engine, pod_member)
            return False
        if removed.anonymous_volumes:  # --rm takes its anonymous volumes along (after the record)
            self.svc.engine.volumes.remove_anonymous(removed.anonymous_volumes)
        if removed.spec.get("pod"):
            from podpy.engine.pods import after_exit

            after_exit(self.svc.engine, removed)
        return False

    def relaunch(self) -> int | None:
        """After the back-off: the container lock for the next run, None if it was called off."""

        def premount(rec: ContainerRecord) -> None:
            self.premounted = self.lc._premount(rec)
            self.lc.network_up(rec)

        self.fresh = False
        return relaunch(self.svc, self.rec.id, premount)


def _signame(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:  # a real-time signal
        return str(num)


def _oom_killed(svc: ContainerService, rec: ContainerRecord) -> bool:
    from podpy.engine.container_cgroups import oom_killed

    return oom_killed(svc, rec)


def _write_exit_file(path: Path, code: int) -> None:
    """<runroot>/exits/<id>: the exit code of a --rm container, for a `wait` that comes late.
    Old ones are dropped here (nobody waits for long-gone containers)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(code))
        cutoff = time.time() - EXIT_FILE_SECONDS
        for old in path.parent.iterdir():
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
    except OSError:
        pass
