"""`exec -it` that the user can detach from (--detach-keys; default ctrl-p,ctrl-q), as Podman.

The exec'd process is the child of whoever starts it (a subreaper, with PDEATHSIG tied to it), and
only a parent can reap it and learn its exit code; the shell waits for the CLI's own pid. So the CLI
forks the session first:

    CLI (the shell's child) ──fork──▶ session: starts the process, relays the user's terminal
      waits on a pipe                    detach keys typed: terminal restored, "detached" on the pipe,
      "detached": exit 0                 then setsid, stdio to /dev/null, drain the pty until the
      EOF: the session's exit code       process exits, record its exit code (exec_died event)

Until it detaches, the session dies with the CLI (PDEATHSIG), and the process with the session, as
an undetached exec does. Typer-free: the fast path runs it too.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

Attached = Callable[..., int]  # exec_core.exec_attached(svc, container, opts, keys, on_detach)


def exec_detachable(svc: Any, container: str, opts: Any, keys: bytes, attached: Attached) -> int:
    """Run the exec session (`attached`) in a forked child; 0 as soon as the user detaches, otherwise
    the process's exit code (start errors raised here, as an undetachable exec raises them)."""
    from podpy.cli.tty import wait_exit_code
    from podpy.supervisor.protocol import start_error

    r, w = os.pipe2(os.O_CLOEXEC)
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - forked child
        code = 125
        try:
            os.close(r)
            code = _session(attached, svc, container, opts, keys, w, parent)
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        msg = f.read().decode(errors="replace")
    if msg == "detached":
        return 0  # the session is on its own now (reparented once we exit)
    code = wait_exit_code(pid)
    if msg.startswith("err "):
        num, _, text = msg[4:].partition(" ")
        raise start_error(int(num) if num.isdigit() else 125, text or "exec failed")
    return code


def _session(
    attached: Attached, svc: Any, container: str, opts: Any, keys: bytes, report: int, parent: int
) -> int:
    """In the forked session: the attached exec, with a detach that leaves it running on its own."""
    from podpy.errors import PodpyError
    from podpy.runtime import syscalls as sc

    sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the CLI died before PDEATHSIG was armed
        return 1
    reported = []

    def detached() -> None:
        from podpy.supervisor.spawn import set_title

        sc.prctl(sc.PR_SET_PDEATHSIG, 0)  # before the CLI exits: we outlive it now
        os.setsid()  # off the user's terminal: its hangup and job-control signals are not ours
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        set_title(f"podpy-exec {container}")  # not the CLI's command line (`exec -e SECRET=...`)
        os.write(report, b"detached")
        os.close(report)
        reported.append(True)

    try:
        return attached(svc, container, opts, keys, detached)
    except PodpyError as e:
        if not reported:
            os.write(report, f"err {e.exit_code} {e}".encode())
        return e.exit_code
    except Exception as e:  # noqa: BLE001 - the CLI prints it: a forked child has no error handler
        if not reported:
            os.write(report, f"err 125 exec session: {e}".encode())
        return 125
