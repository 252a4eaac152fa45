"""The fork dance that gives the caller a container init as its own child.

    caller ──fork──▶ launcher ──unshare(user; maps by the caller; pid, mnt, ...)──fork──▶ init
                        └─ reports init's pid, exits ─▶ init is reparented to the caller (subreaper)
    caller reaps launcher, says "go" ─▶ init: PDEATHSIG, rootfs, pivot_root, process setup, execve

Python 3.11 has no clone(): unshare(CLONE_NEWPID) only affects later children, so the launcher
forks once more and exits. The caller must be a child subreaper (start/exec make it one) so the
init comes back to it; it then reaps the init with an ordinary waitpid. `exec` is the same dance
with setns into the init's namespaces instead of unshare.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from podpy.errors import CannotInvoke, CommandNotFound, PodpyError
from podpy.runtime import syscalls as sc
from podpy.runtime.base import Started, Stdio
from podpy.runtime.builtin import cgroups, devices, idmap, namespaces, process
from podpy.runtime.builtin.sync import Channel, run_child
from podpy.runtime.seccomp import Filter
from podpy.runtime.seccomp import prepare as prepare_seccomp

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

_ERRORS: dict[int, type[PodpyError]] = {126: CannotInvoke, 127: CommandNotFound}


def _reap(pid: int) -> int | None:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def _undumpable() -> None:
    """In the launcher, before it joins or makes any namespace (the init inherits it): processes in
    the container must not ptrace or open /proc/<pid>/{exe,fd,mem} of a podpy process while it still
    runs the host's interpreter with the caller's memory (CVE-2019-5736); execve resets it."""
    sc.prctl(sc.PR_SET_DUMPABLE, 0)


def _adopted(chan: Channel, caller: int, proc_fd: int, stdio: Stdio, *extra: int) -> None:
    """In the init: wait until the launcher is gone and we are the caller's child, then die with it;
    then close every fd it does not need, before any setup."""
    chan.wait_go()
    sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
    fd = os.open("self/status", os.O_RDONLY, dir_fd=proc_fd)  # the host's /proc: host pids
    try:
        status = os.read(fd, 4096).decode()
    finally:
        os.close(fd)
        os.close(proc_fd)
    ppid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
    if ppid != caller:  # the caller died before PDEATHSIG was armed
        os._exit(1)
    keep = [fd for fd in (stdio.stdin, stdio.stdout, stdio.stderr) if fd is not None]
    keep += range(3, 3 + stdio.preserve)  # --preserve-fds
    process.close_fds_except([*chan.child_fds(), *keep, *extra])


def _place(place: Callable[[int], None], init: int, chan: Channel) -> OSError | None:
    """Run `place(init)`; on failure kill the init (it waits for us) so that its pipe reaches EOF."""
    try:
        place(init)
    except OSError as e:
        try:
            os.kill(init, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return e
    chan.go()
    return None


def _spawn(
    chan: Channel,
    launcher: Callable[[], None],
    uid_maps: Any = None,
    place: Callable[[int], None] | None = None,
) -> Started:
    """Fork the launcher and drive the protocol; on any failure kill and reap what was started.

    `place(init)` runs while the init builds its rootfs (moving a task between v1 cgroups costs a
    RCU grace period per hierarchy, ~1 ms each): the init waits for a second "go" before exec."""
    a = os.fork()
    if a == 0:
        run_child(chan, launcher)
    chan.parent_side()
    init: int | None = None
    launcher_reaped = False
    path = ""
    place_error: OSError | None = None
    try:
        while (msg := chan.recv()) is not None:
            if msg["t"] == "userns":
                namespaces.write_id_maps(a, *uid_maps)
                chan.go()
            elif msg["t"] == "pid":
                init = int(msg["pid"])
                _reap(a)
                launcher_reaped = True
                chan.go()
                if place is not None:
                    place_error = _place(place, init, chan)
            elif msg["t"] == "exec":
                path = str(msg.get("path", ""))
            elif msg["t"] == "execfail":  # the stub's execve of the command failed
                raise process.exec_error(path, int(msg["errno"]))
            elif msg["t"] == "err":
                raise _ERRORS.get(msg.get("code", 125), PodpyError)(msg.get("msg", "container start failed"))
        if place_error is not None:  # the init's own error, if any, was raised above
            raise PodpyError(f"moving the container into its cgroups: {place_error.strerror}")
        if init is None:
            raise PodpyError("the container launcher exited without starting the container")
        return Started(init, chan.recv_fd())
    except BaseException:
        for pid, reaped in ((a, launcher_reaped), (init, False)):
            if pid and not reaped:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _reap(pid)
        raise
    finally:
        chan.close()


def start(
    cfg: dict[str, Any], bundle: Path, stdio: Stdio, cg: cgroups.CgroupSet | None, seccomp_cache: Path | None = None
) -> Started:
    proc = cfg["process"]
    if (cfg.get("annotations") or {}).get("run.oci.keep_original_groups") == "1":  # crun's; no setgroups
        proc = {**proc, "user": {**proc.get("user", {}), "keepGroups": True}}
    if domain := ((cfg.get("linux") or {}).get("personality") or {}).get("domain"):
        proc = {**proc, "personality": domain}  # set by finalize just before the execve
    plan = namespaces.plan(cfg)
    seccomp = prepare_seccomp(cfg.get("linux"), seccomp_cache)  # compiled (or read) here: the child only loads it
    chan = Channel(with_socket=bool(proc.get("terminal")))
    caller = os.getpid()
    # a cgroup namespace is rooted where its creator sits: then the launcher joins first; otherwise
    # the caller places the init while it mounts
    join_early = cg is not None and bool(plan.unshare_flags & sc.CLONE_NEWCGROUP)
    place = None if cg is None or join_early else (lambda pid: cgroups.join(cg, pid))

    def init(proc_fd: int, trees: idmap.Trees | None) -> None:
        _adopted(chan, caller, proc_fd, stdio, *([] if trees is None else trees.fds()))
        from podpy.runtime.builtin import rootfs  # start only: exec joins the root the init made

        pty = rootfs.prepare(cfg, bundle, plan.in_userns, bool(proc.get("terminal")), cg, trees)
        if place is not None:
            chan.wait_go()  # in our cgroups now
        if pty:
            devices.set_size(pty[0], proc.get("consoleSize"))
            chan.send_fd(pty[0])
            os.close(pty[0])
        if plan.unshare_flags & sc.CLONE_NEWUTS or any(k == "uts" for k, _ in plan.join):
            if cfg.get("hostname"):
                sc.sethostname(cfg["hostname"])
            if cfg.get("domainname"):
                sc.setdomainname(cfg["domainname"])
        process.finalize(proc, stdio, pty[1] if pty else None, create_cwd=True, chan=chan, seccomp=seccomp)

    def launcher() -> None:
        if not plan.new_user:
            _undumpable()
        proc_fd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        if join_early and cg is not None:
            cgroups.join(cg)
        trees = None  # root making a user namespace: the rootfs ID-mapped now, while we are host root
        if idmapped:
            from podpy.runtime.builtin import rootfs

            annotation = (cfg.get("annotations") or {}).get(rootfs.ROOTFS_MOUNT_ANNOTATION)
            trees = idmap.prepare(cfg, bundle, rootfs.root_path(cfg, bundle), annotation)
        joins = plan.join
        if idmapped:  # root: the namespaces to join (a pinned netns, a pod's) are the host's: join first
            for kind, path in joins:
                namespaces.setns_path(kind, path)
            joins = ()
        if plan.new_user:
            sc.unshare(sc.CLONE_NEWUSER)
            chan.send(t="userns")
            chan.wait_go()
            _undumpable()  # only now: an ordinary user's caller writes our uid_map itself
        elif plan.user_path:
            namespaces.setns_path("user", plan.user_path)
        for kind, path in joins:
            namespaces.setns_path(kind, path)
        sc.unshare(plan.unshare_flags)
        if plan.unshare_flags & sc.CLONE_NEWNET:
            namespaces.loopback_up()
        pid = os.fork()
        if pid == 0:
            run_child(chan, lambda: init(proc_fd, trees))
        chan.send(t="pid", pid=pid)

    idmapped = idmap.wanted(cfg)
    linux = cfg.get("linux") or {}
    maps = (linux.get("uidMappings") or [], linux.get("gidMappings") or [])
    return _spawn(chan, launcher, maps, place)


def exec_in(
    init_pid: int,
    proc: dict[str, Any],
    stdio: Stdio,
    join_cgroups: bool,
    start_time: int | None = None,
    seccomp: Filter | None = None,
) -> Started:
    terminal = bool(proc.get("terminal"))
    pid_dir = namespaces.open_pid_dir(init_pid, start_time)
    chan = Channel(with_socket=terminal)
    caller = os.getpid()

    def init(proc_fd: int) -> None:
        _adopted(chan, caller, proc_fd, stdio)
        pty = devices.open_pty(Path("/dev/pts")) if terminal else None
        if pty:
            devices.set_size(pty[0], proc.get("consoleSize"))
            chan.send_fd(pty[0])
            os.close(pty[0])
        if join_cgroups:
            chan.wait_go()
        process.finalize(proc, stdio, pty[1] if pty else None, create_cwd=False, chan=chan, seccomp=seccomp)

    def launcher() -> None:
        _undumpable()
        proc_fd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fds = namespaces.open_for_join(pid_dir)
        if os.geteuid() == 0:  # root: a mapped container's net/pid namespaces may be the host's (pinned)
            fds = [f for f in fds if f[0] != "user"] + [f for f in fds if f[0] == "user"]
        namespaces.join_all(fds)
        os.close(pid_dir)
        pid = os.fork()
        if pid == 0:
            run_child(chan, lambda: init(proc_fd))
        chan.send(t="pid", pid=pid)

    place = (lambda pid: cgroups.join_like(init_pid, pid)) if join_cgroups else None
    try:
        return _spawn(chan, launcher, place=place)
    finally:
        os.close(pid_dir)
