"""`exec`: a new process in a running container, through the same runtime that started it.

The caller (the CLI) is the parent of the exec'd process and reaps it; `-d` forks a detached
reaper instead, which reports the start result over a pipe before it waits; `-it` runs in a session
the CLI forks first, which outlives it when the user detaches (cli/exec_detach).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.engine.spec_merge import merge_env
from podpy.errors import ContainerState, PodpyError
from podpy.record import field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from podpy.engine.containers import ContainerService


@record
class ExecOptions:
    """What `exec` runs and how (its flags)."""

    command: list[str]
    interactive: bool = False
    tty: bool = False
    env: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    privileged: bool = False
    preserve_fds: int = 0  # --preserve-fds: the caller's fds 3..3+N-1 reach the process


def exec_process(svc: ContainerService, rec: cr.ContainerRecord, opts: ExecOptions) -> dict[str, Any]:
    """The OCI process for `opts`: the container's own process, with exec's overrides."""
    base = json.loads((svc.bundle(rec.id) / "config.json").read_bytes())["process"]
    proc = dict(base)
    proc["args"] = list(opts.command)
    proc["terminal"] = opts.tty
    env = [e if "=" in e else f"{e}={os.environ.get(e, '')}" for e in opts.env]
    proc["env"] = list(merge_env(base.get("env") or [], env))
    if opts.workdir:
        proc["cwd"] = opts.workdir
    if not (opts.user or opts.privileged):  # the container's own user and capabilities
        return proc
    from podpy.engine import specgen  # only -u and --privileged re-derive them
    from podpy.engine.spec import ContainerSpec
    from podpy.runtime.builtin.capabilities import current_bounding

    user = base["user"]
    if opts.user:
        root = Path(f"/proc/{rec.state.pid}/root")
        from podpy.inroot import read_inside

        u = specgen.resolve_user(opts.user, read_inside(root, "/etc/passwd"), read_inside(root, "/etc/group"))
        user = {"uid": u.uid, "gid": u.gid, "additionalGids": list(u.additional_gids)}
    proc["user"] = user
    spec = ContainerSpec(args=tuple(opts.command), privileged=opts.privileged or bool(rec.spec.get("privileged")),
                         cap_add=tuple(rec.spec.get("cap_add") or ()),
                         cap_drop=tuple(rec.spec.get("cap_drop") or ()))  # fmt: skip
    proc["capabilities"] = specgen.capabilities(spec, int(user["uid"]), current_bounding())
    return proc


def running(svc: ContainerService, ref: str) -> cr.ContainerRecord:
    rec = svc.get(ref)
    if rec.state.status != cr.RUNNING or not cr.alive(rec.state.pid, rec.state.pid_start):
        # the recorded start time, not just /proc/<pid>: that pid may belong to another process now
        raise ContainerState("can only create exec sessions on running containers: container state improper")
    if rec.state.paused:  # the new process would join the frozen cgroup and hang
        raise ContainerState(f"container {rec.short_id} is paused, unpause the container before exec")
    return rec


def exec_start(svc: ContainerService, ref: str, opts: ExecOptions, stdio: Any) -> Any:
    """Start the process as a child of the caller; returns the runtime's Started (pid, pty_master)."""
    from podpy.engine.container_procs import get_runtime

    rec = running(svc, ref)
    proc = exec_process(svc, rec, opts)
    runtime = get_runtime(rec.runtime, svc.layout.runroot, svc.engine.opts.runtime_flags)
    started = runtime.exec(rec.id, rec.state.pid, proc, stdio, svc.run_dir(rec.id))
    ev.container(svc, rec, "exec")
    return started


def exec_detached(svc: ContainerService, ref: str, opts: ExecOptions) -> None:
    """exec -d: a detached reaper runs the process with no stdio; start errors still reach us."""
    from podpy.runtime.base import Stdio
    from podpy.supervisor.protocol import start_error

    opts.tty = False
    rec = running(svc, ref)
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - forked child
        code = 0
        try:
            os.close(r)
            os.setsid()
            if os.fork() == 0:
                code = _reaper(svc, rec.id, opts, w, Stdio)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        msg = f.read().decode(errors="replace")
    if not msg.startswith("ok"):
        code, _, text = msg.partition(" ")
        raise start_error(int(code) if code.isdigit() else 125, text or "exec failed")


def _reaper(svc: ContainerService, cid: str, opts: ExecOptions, report: int, stdio_cls: Any) -> int:
    from podpy.supervisor.spawn import close_inherited, reset_signals, set_title

    reset_signals()
    set_title(f"podpy-exec {cid}")  # not the CLI's command line (`exec -e SECRET=...`) for its whole life
    close_inherited({report})
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    try:
        started = exec_start(svc, cid, opts, stdio_cls(stdin=null, stdout=null, stderr=null))
    except PodpyError as e:
        os.write(report, f"{e.exit_code} {e}".encode())
        return 1
    os.write(report, b"ok")
    os.close(report)
    try:
        _, status = os.waitpid(started.pid, 0)
        ev.exec_died(svc, cid, os.waitstatus_to_exitcode(status))
    except ChildProcessError:
        pass
    return 0
