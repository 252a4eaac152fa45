"""What every runtime offers the supervisor, and the records it exchanges with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from podpy.errors import PodpyError
from podpy.record import record

TYPE_CHECKING = False  # typing's, without importing typing at start-up (~3 ms on create)
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # Runtime is for checkers only: nothing subclasses or isinstance-checks it

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.runtime.protocol import Runtime  # noqa: F401 - re-exported through __getattr__


@record(frozen=True)
class Stdio:
    """The container process's fds 0-2 as fds of the caller; None leaves the caller's own fd in place.
    Ignored when process.terminal is true: then the runtime makes a pty inside the container."""

    stdin: int | None = None
    stdout: int | None = None
    stderr: int | None = None
    preserve: int = 0  # --preserve-fds: the caller's fds 3..3+N-1 reach the process as themselves


@record(frozen=True)
class Started:
    """A running container process. `pid` is a host pid and a child of the caller (after reparenting
    to it as subreaper): the caller reaps it. `pty_master` is the caller's to close."""

    pid: int
    pty_master: int | None = None


def __getattr__(name: str) -> object:
    """`Runtime` (a typing.Protocol) on first use: run and exec never import typing for it."""
    if name == "Runtime":
        from podpy.runtime.protocol import Runtime

        return Runtime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_config(bundle: Path) -> dict[str, Any]:
    try:
        cfg = json.loads((bundle / "config.json").read_bytes())
    except FileNotFoundError:
        raise PodpyError(f"{bundle}/config.json: no such file: not an OCI bundle") from None
    except ValueError as e:
        raise PodpyError(f"{bundle}/config.json: {e}") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("process"), dict):
        raise PodpyError(f"{bundle}/config.json: no process to run")
    return cfg


def ensure_subreaper() -> None:
    """Orphans below us (the container init after its launcher exits; runc's init) come back to us."""
    from podpy.runtime import syscalls  # ctypes: only for callers that start containers

    syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: tells a live process from a recycled pid."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(raw.rsplit(")", 1)[1].split()[19])


def pid_alive(pid: int, start_time: int | None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return start_time is None or proc_start_time(pid) == start_time
