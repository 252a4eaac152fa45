"""A container's cgroups: where they are, pause/unpause (the freezer), and OOM kills at exit."""

from __future__ import annotations

import fcntl
import json
import os
import time

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.errors import ContainerState, PodpyError
from podpy.runtime.builtin import cgroups
from podpy.runtime.builtin.cgroups import CgroupSet
from podpy.state import read_json

TYPE_CHECKING = False  # typing's, without importing typing on the run path
if TYPE_CHECKING:
    from podpy.engine.container_record import ContainerRecord
    from podpy.engine.containers import ContainerService

BUILTIN_STATE = "state.json"  # the built-in runtime's record of the cgroups it made


def _builtin(rec: ContainerRecord) -> bool:
    return rec.runtime in ("", "builtin")


def locate(svc: ContainerService, rec: ContainerRecord) -> CgroupSet:
    """The container's cgroup directories (empty: it has none, e.g. rootless on cgroup v1).

    The built-in runtime records them; for an external one they follow from the live init's
    /proc/<pid>/cgroup, or after its death (also the built-in's, when its record is missing) from
    config.json's cgroupsPath (relative paths sit under the caller's cgroup, which the supervisor
    shares with the runtime it started)."""
    state = read_json(svc.run_dir(rec.id) / BUILTIN_STATE, default={})
    if state.get("cgroups"):
        return CgroupSet.from_json(state["cgroups"])
    running = cr.alive(rec.state.pid, rec.state.pid_start)
    if _builtin(rec) and (running or os.geteuid() != 0):
        return CgroupSet()  # none made (rootless on v1): not the cgroups it inherited
    if running:
        return cgroups.of_pid(rec.state.pid)
    try:
        cfg = json.loads((svc.bundle(rec.id) / "config.json").read_bytes())
    except (OSError, ValueError):
        return CgroupSet()
    path = (cfg.get("linux") or {}).get("cgroupsPath")
    return cgroups.locate(path) if path else CgroupSet()


def oom_killed(svc: ContainerService, rec: ContainerRecord) -> bool:
    """Did the OOM killer strike in the container's cgroup? Asked when its init has exited, before
    the runtime's delete removes the cgroup (the supervisor's exit hook)."""
    from podpy.runtime.builtin.cgroup_stats import oom_kills

    try:
        return oom_kills(locate(svc, rec)) > 0
    except OSError:
        return False


def release(svc: ContainerService, rec: ContainerRecord, timeout: float = 0.5) -> None:
    """A reconcile found the supervisor dead: remove the container's cgroups now rather than at rm
    (nothing else would: a killed supervisor never runs its exit hook). Left alone while the init
    still runs (rm and start kill it first); best effort, as rm retries with a longer wait."""
    deadline = time.monotonic() + timeout
    while cr.leftover_init(rec):  # the supervisor's death SIGKILLs it (PDEATHSIG): a moment
        if time.monotonic() > deadline:
            return
        time.sleep(0.005)
    cg = locate(svc, rec)
    if not cg.paths:
        return
    try:
        cgroups.freeze(cg, False, timeout)  # a frozen task cannot die
    except (OSError, PodpyError):
        pass  # no freezer, or the cgroups are already gone
    try:
        cgroups.kill_all(cg, timeout)  # processes of a container without its own pid namespace
        cgroups.remove(cg, timeout)
    except (OSError, PodpyError):
        pass  # a task not yet reaped: rm removes them


def _runtime(svc: ContainerService, rec: ContainerRecord):  # type: ignore[no-untyped-def]
    from podpy.engine.container_procs import get_runtime

    return get_runtime(rec.runtime, svc.layout.runroot, svc.engine.opts.runtime_flags)


def set_paused(svc: ContainerService, ref: str, paused: bool) -> str:
    """pause (freeze every process of the container) or unpause; the container's ID."""
    cid = svc.resolve(ref)
    with svc.lock(cid):
        rec = cr.load(svc.cdir(cid))
        cr.reconcile(rec)
        if rec.state.status != cr.RUNNING:
            verb = "pause" if paused else "unpause"
            raise ContainerState(f'"{rec.name}" is not running, can\'t {verb}: container state improper')
        if rec.state.paused == paused:
            what = "already paused" if paused else "not paused"
            raise ContainerState(f'"{rec.name}" is {what}: container state improper')
        runtime = _runtime(svc, rec)
        (runtime.pause if paused else runtime.resume)(cid, svc.run_dir(cid))
        rec.state.paused = paused
        cr.save(svc.cdir(cid), rec, durable=False)
    ev.container(svc, rec, "pause" if paused else "unpause")
    return cid


def thaw(svc: ContainerService, rec: ContainerRecord) -> None:
    """After a signal to a paused container: thaw it so it acts on the signal (Docker does the
    same; a frozen task does not even die of SIGKILL on cgroup v1)."""
    try:
        _runtime(svc, rec).resume(rec.id, svc.run_dir(rec.id))
    except (PodpyError, OSError):
        return
    _clear_paused(svc, rec.id)


def _clear_paused(svc: ContainerService, cid: str) -> None:
    """Record the thaw unless the container's lock is busy: then our own caller holds it (rm -f)
    or its supervisor is recording the exit; either way the container is going away."""
    try:
        fd = os.open(svc.cdir(cid), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rec = cr.load(svc.cdir(cid))
        if rec.state.status == cr.RUNNING and rec.state.paused:
            rec.state.paused = False
            cr.save(svc.cdir(cid), rec, durable=False)
    except (OSError, PodpyError):
        pass
    finally:
        os.close(fd)
