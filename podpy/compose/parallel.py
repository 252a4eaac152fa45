"""Container starts (and stops) that overlap: each runs in a forked child of the (single-threaded)
compose process, so the waits for supervisors overlap without forking supervisors from threads
(the engine forks them without exec; a fork from a threaded process would copy held locks).

A child reports failure as `<exit code> <message>` on a pipe; the parent re-raises it as a PodpyError
with that exit code once the child is joined.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from podpy.errors import PodpyError


@dataclass
class Child:
    pid: int
    fd: int  # read end of the child's error pipe
    label: str


def fork(fn: Callable[[], None], label: str) -> Child:
    """Run `fn` in a child process; join() the returned Child for its outcome."""
    r, w = os.pipe()
    # Inheritable: the supervisor a child forks closes inherited fds (it keeps close-on-exec ones).
    os.set_inheritable(r, True)
    os.set_inheritable(w, True)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's stack
        os.close(r)
        code = 0
        try:
            fn()
        except BaseException as e:  # noqa: BLE001  (reported to the parent, which raises it)
            code = e.exit_code if isinstance(e, PodpyError) else 125
            os.write(w, f"{code} {e}".encode(errors="replace")[:65000])
        finally:
            os._exit(1 if code else 0)
    os.close(w)
    return Child(pid, r, label)


def join(child: Child) -> None:
    """Wait for the child; raise what it failed with (already in the pipe once the child is gone:
    reading up to EOF could wait on a process that inherited the write end)."""
    _, status = os.waitpid(child.pid, 0)
    os.set_blocking(child.fd, False)
    try:
        report = os.read(child.fd, 65536).decode(errors="replace")
    except BlockingIOError:
        report = ""
    finally:
        os.close(child.fd)
    if report:
        code, _, message = report.partition(" ")
        err = PodpyError(message)
        err.exit_code = int(code)
        raise err
    if os.waitstatus_to_exitcode(status) != 0:
        raise PodpyError(f"{child.label}: the worker process failed ({os.waitstatus_to_exitcode(status)})")
