"""Small process helpers every container module needs (below container_lifecycle, so that exec,
health, cgroups and restart can use them without importing the lifecycle back)."""

from __future__ import annotations

import os
import select
import signal
from pathlib import Path

from podpy.engine import container_record as cr

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def get_runtime(name: str, runroot: Path, flags: tuple[str, ...] = ()) -> Any:
    """The built-in runtime ("" or "builtin"), or an external OCI runtime (runc, crun, a path) given
    the global --runtime-flag options."""
    from podpy.runtime import get_runtime as pick

    return pick(name or None, runroot, flags)


def kill_pid(pid: int, start: int) -> None:
    if cr.alive(pid, start):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def wait_pid(pid: int, start: int, timeout: float | None) -> bool:
    """True once `pid` (with that start time) is gone; False on timeout."""
    if not cr.alive(pid, start):
        return True
    try:
        fd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return True
    try:
        if not cr.alive(pid, start):  # recycled between the check and the open
            return True
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)
