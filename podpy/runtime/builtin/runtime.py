"""BuiltinRuntime: runs an OCI bundle with podpy's own code (no external binary)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from podpy.errors import PodpyError
from podpy.runtime.base import Started, Stdio, ensure_subreaper, load_config, pid_alive, proc_start_time
from podpy.runtime.builtin import cgroups
from podpy.state.atomic import atomic_write_json, read_json

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:  # launch and seccomp only for start/exec: rm, stop, kill, pause need the cgroups alone
    from podpy.runtime.seccomp import Filter

STATE_FILE = "state.json"


def _cgroups_path(cid: str, cfg: dict[str, Any]) -> str:
    return (cfg.get("linux") or {}).get("cgroupsPath") or f"podpy-{cid}"


def _container_cgroups(cid: str, cfg: dict[str, Any], state_dir: Path) -> cgroups.CgroupSet | None:
    """Root: always (limits, stats, kill-all). Rootless: only when limits are asked for, which needs a
    delegated v2 subtree; v1 hierarchies are never writable by an ordinary user."""
    res = (cfg.get("linux") or {}).get("resources") or {}
    path = _cgroups_path(cid, cfg)
    if (cfg.get("annotations") or {}).get("io.podpy.cgroups") == "disabled":  # --cgroups=disabled
        return None
    if os.geteuid() != 0:
        if not cgroups.has_limits(res):
            return None
        if not cgroups.unified_mode():
            raise PodpyError("resource limits for rootless containers require cgroup v2 delegation; "
                             "this host uses cgroup v1, which an ordinary user cannot control")  # fmt: skip
    planned = cgroups.plan(path)
    # recorded before any mkdir: a supervisor killed from here on leaves cgroups that delete() finds
    atomic_write_json(Path(state_dir) / STATE_FILE, {"id": cid, "cgroups": planned.to_json()}, durable=False)
    try:
        return cgroups.create(path, res, planned)
    except PodpyError as e:
        if os.geteuid() == 0:
            raise
        raise PodpyError(f"{e} (rootless resource limits require cgroup v2 delegation)") from None


_INHERITED = ("capabilities", "noNewPrivileges", "rlimits", "apparmorProfile", "selinuxLabel")


def _with_container_defaults(
    process: dict[str, Any], state_dir: Path, seccomp_cache: Path | None
) -> tuple[dict[str, Any], Filter | None]:
    """The process with the container's security settings it leaves out, and the container's
    seccomp filter (an exec'd process gets it too, as with runc)."""
    state = read_json(Path(state_dir) / STATE_FILE, default={})
    if not state.get("bundle"):
        if "capabilities" not in process:
            raise PodpyError("exec: no container state and no capabilities in the process")
        return process, None
    cfg = load_config(Path(state["bundle"]))
    container = cfg["process"]
    merged = dict(process)
    for key in _INHERITED:
        if key not in merged and key in container:
            merged[key] = container[key]
    from podpy.runtime.seccomp import prepare as prepare_seccomp

    return merged, prepare_seccomp(cfg.get("linux"), seccomp_cache)


def _leftover(cid: str, state: dict[str, Any]) -> cgroups.CgroupSet:
    """No record of cgroups (a state file from before they were recorded early, or none at all): the
    ones config.json names, as far as this caller sees them (root only: rootless has none unrecorded)."""
    if os.geteuid() != 0:
        return cgroups.CgroupSet()
    try:
        cfg = load_config(Path(state["bundle"])) if state.get("bundle") else {}
    except (OSError, PodpyError, ValueError):
        cfg = {}
    return cgroups.locate(_cgroups_path(cid, cfg))


class BuiltinRuntime:
    name = "builtin"

    def __init__(self, runroot: Path | None = None) -> None:
        # compiled seccomp programs are kept there (see podpy.runtime.seccomp); none without a runroot
        self.seccomp_cache = Path(runroot) / "seccomp" if runroot is not None else None

    def start(self, cid: str, bundle: Path, stdio: Stdio, state_dir: Path) -> Started:
        """Create and start the container; returns once its process has exec'd (or raises).

        The caller becomes a child subreaper and is the parent of the returned pid: it must reap it.
        """
        from podpy.runtime.builtin import launch

        bundle = Path(bundle).absolute()
        cfg = load_config(bundle)
        ensure_subreaper()
        cg = _container_cgroups(cid, cfg, state_dir)
        try:
            started = launch.start(cfg, bundle, stdio, cg, self.seccomp_cache)
        except BaseException:
            if cg is not None:
                cgroups.kill_all(cg)
                cgroups.remove(cg)
            raise
        # not fsync'd: the runroot is runtime state (tmpfs as a rule), a reboot ends the container anyway
        atomic_write_json(Path(state_dir) / STATE_FILE, {
            "id": cid, "pid": started.pid, "startTime": proc_start_time(started.pid),
            "bundle": str(bundle), "cgroups": cg.to_json() if cg else {}, "created": time.time(),
        }, durable=False)  # fmt: skip
        return started

    def exec(self, cid: str, init_pid: int, process: dict[str, Any], stdio: Stdio, state_dir: Path) -> Started:
        """Run `process` (an OCI process object) in the namespaces and cgroups of `init_pid`.
        Security settings it leaves out come from the container's config.json (as runc does): an exec
        never gets more privilege than the container just because a field was omitted."""
        ensure_subreaper()
        proc, seccomp = _with_container_defaults(process, state_dir, self.seccomp_cache)
        state = read_json(Path(state_dir) / STATE_FILE, default={})
        start_time = state.get("startTime") if int(state.get("pid") or 0) == init_pid else None
        # rootless containers have cgroups only when they asked for limits (a delegated v2 tree)
        join = os.geteuid() == 0 or bool(cgroups.CgroupSet.from_json(state.get("cgroups")).paths)
        from podpy.runtime.builtin import launch

        return launch.exec_in(init_pid, proc, stdio, join_cgroups=join, start_time=start_time, seccomp=seccomp)

    def kill(self, cid: str, pid: int, sig: int, state_dir: Path) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            raise PodpyError(f"container {cid[:12]} is not running") from None

    def _cgroups(self, state_dir: Path) -> cgroups.CgroupSet:
        state = read_json(Path(state_dir) / STATE_FILE, default={})
        return cgroups.CgroupSet.from_json(state.get("cgroups"))

    def pause(self, cid: str, state_dir: Path) -> None:
        cg = self._cgroups(state_dir)
        if not cg.paths:
            raise PodpyError("pause needs the container's cgroup (rootless on cgroup v1: not available)")
        cgroups.freeze(cg, True)

    def resume(self, cid: str, state_dir: Path) -> None:
        cg = self._cgroups(state_dir)
        if not cg.paths:
            raise PodpyError("unpause needs the container's cgroup")
        cgroups.freeze(cg, False)

    def state(self, cid: str, state_dir: Path) -> dict[str, Any]:
        """{"id", "pid", "status": "running"|"stopped", "bundle"} (OCI state, roughly)."""
        state = read_json(Path(state_dir) / STATE_FILE, default={})
        pid = int(state.get("pid") or 0)
        alive = pid_alive(pid, state.get("startTime"))
        return {"id": cid, "pid": pid if alive else 0, "status": "running" if alive else "stopped",
                "bundle": state.get("bundle", "")}  # fmt: skip

    def delete(self, cid: str, state_dir: Path) -> None:
        """Kill whatever is left of the container and remove its cgroups and state."""
        path = Path(state_dir) / STATE_FILE
        state = read_json(path, default={})
        cg = cgroups.CgroupSet.from_json(state.get("cgroups")) if state.get("cgroups") else _leftover(cid, state)
        if cg.paths:
            try:
                cgroups.freeze(cg, False)  # a frozen task cannot die
            except (OSError, PodpyError):
                pass
            cgroups.kill_all(cg)
            cgroups.remove(cg)
        elif pid_alive(int(state.get("pid") or 0), state.get("startTime")):
            os.kill(int(state["pid"]), signal.SIGKILL)
        path.unlink(missing_ok=True)
