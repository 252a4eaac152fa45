"""Persistent network namespaces: bind-mounted on a file under the runroot, made before the
runtime starts (it only sees the path in config.json) and removed after the container exits.

Work inside a namespace runs on a short-lived thread that has joined it (setns and unshare of a
network namespace are per thread): a netlink socket opened there costs ~2 ms, where pyroute2's
`IPRoute(netns=...)` spawns a helper process (15-41 ms). The thread is gone before anything
forks, so the process is single-threaded again when the runtime needs it to be.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from podpy.errors import PodpyError
from podpy.runtime import syscalls as sc

TYPE_CHECKING = False  # typing's, without importing typing on the run path (~2 ms)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")


def _on_thread(fn: Callable[[], T]) -> T:
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=run, name="podpy-netns")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def create(path: Path, inside: Callable[[], T]) -> T:
    """A new network namespace pinned at `path` (lo up), then `inside()` run in it."""
    from podpy.runtime.builtin.namespaces import loopback_up

    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o444)

    def work() -> T:
        sc.unshare(sc.CLONE_NEWNET)
        sc.mount("/proc/thread-self/ns/net", str(path), None, sc.MS_BIND)
        loopback_up()
        return inside()

    try:
        return _on_thread(work)
    except BaseException:
        remove(path)
        raise


def run_in(path: Path, fn: Callable[[], T]) -> T:
    """`fn()` on a thread that has joined the namespace pinned at `path`."""

    def work() -> T:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            sc.setns(fd, sc.CLONE_NEWNET)
        except OSError as e:
            raise PodpyError(f"joining network namespace {path}: {e.strerror}") from None
        finally:
            os.close(fd)
        return fn()

    return _on_thread(work)


def remove(path: Path) -> None:
    """Unpin (the namespace, and the container's ends of its veths, go with its last user)."""
    try:
        sc.umount2(str(path), sc.MNT_DETACH)
    except OSError:
        pass  # not mounted (a half-made one)
    path.unlink(missing_ok=True)
