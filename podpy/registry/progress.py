"""Progress events of pulls and pushes. The engine reports; the CLI draws (bars on a terminal,
plain lines otherwise). Callbacks may be called from download/upload threads at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# kinds, in the order a pull reports them
TRYING = "trying"  # message: the reference being pulled/pushed
MISSING = "missing"  # ensure_image: message: the reference not found locally (before a pull)
BLOB_START = "blob-start"  # id: digest, total: size, message: "blob" or "config"
BLOB_PROGRESS = "blob-progress"  # id, current, total
BLOB_DONE = "blob-done"  # id, message: "done", "skipped: already exists", "mounted"
EXTRACT = "extract"  # id: layer digest being extracted (after or while it downloads)
EXTRACTED = "extracted"  # id: layer digest whose extraction finished
MANIFEST = "manifest"  # id: manifest digest written (pull: stored; push: uploaded)
DONE = "done"  # id: image ID (pull) or manifest digest (push), message: the reference


@dataclass(frozen=True)
class Progress:
    kind: str
    id: str = ""
    current: int = 0
    total: int = 0
    message: str = ""


ProgressFn = Callable[[Progress], None]


def null(_: Progress) -> None:
    pass


class Counter:
    """Turns byte counts from a reader into BLOB_PROGRESS events, at most one per `step` bytes."""

    def __init__(self, fn: ProgressFn, digest: str, total: int, step: int = 1 << 20) -> None:
        self.fn, self.digest, self.total, self.step = fn, digest, total, step
        self.current = 0
        self._last = 0

    def add(self, n: int) -> None:
        if n < 0:  # the transfer restarted
            self.current = self._last = 0
            return
        if n == 0:
            return
        self.current += n
        if self.current - self._last >= self.step or (self.total and self.current >= self.total):
            self._last = self.current
            self.fn(Progress(BLOB_PROGRESS, self.digest, self.current, self.total))
