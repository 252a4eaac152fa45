"""Blob downloads that survive their process: <ingest>/partial/<hex>, flock()ed while written.

A pull killed mid-blob leaves the bytes it had; the next pull hashes them, asks the registry for
the rest (`Range`), and commits the verified whole into the content store with one rename (the
content store's own ingest → verify → rename, with a name that outlives the process). Files the
content store's `gc_ingest` sweeps are pid-named; this subdirectory is swept by `gc_partials`.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from podpy.errors import CorruptContent, PodpyError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from podpy.image.content import ContentStore

CHUNK = 1 << 20
STALE = 7 * 24 * 3600  # a partial blob nobody resumed for a week is dropped


class Busy(Exception):
    """Another process is downloading the same blob right now."""


def _dir(content: ContentStore) -> Path:
    return content.ingest_dir / "partial"


class PartialBlob:
    def __init__(self, content: ContentStore, digest: str) -> None:
        self.content, self.digest = content, digest
        d = _dir(content)
        d.mkdir(parents=True, exist_ok=True)
        self.path = d / digest.removeprefix("sha256:")
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise Busy(digest) from None
        import hashlib  # only when downloading: its OpenSSL set-up costs ~2-3 ms

        self.h = hashlib.sha256()
        self.size = 0

    def existing(self, limit: int):  # type: ignore[no-untyped-def]
        """Yield what an earlier attempt left (hashing it); drop it if longer than the blob."""
        if os.fstat(self.fd).st_size > limit > 0:
            os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        while chunk := os.read(self.fd, CHUNK):
            self.h.update(chunk)
            self.size += len(chunk)
            yield chunk

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.h.update(data)
        self.size += len(data)

    def commit(self) -> None:
        got = "sha256:" + self.h.hexdigest()
        if got != self.digest:
            self.discard()
            raise CorruptContent(f"digest mismatch: expected {self.digest}, got {got}")
        os.fsync(self.fd)
        target = self.content.path(self.digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, target)
        self.close()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # drops the lock; the bytes stay for the next attempt
            self.fd = -1


def gc_partials(content: ContentStore) -> None:
    """Remove partial blobs that are complete elsewhere or stale, unless someone holds them."""
    d = _dir(content)
    if not d.is_dir():
        return
    now = time.time()
    for p in d.iterdir():
        try:
            if not (content.exists("sha256:" + p.name) or now - p.stat().st_mtime > STALE):
                continue
            fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
        except (OSError, PodpyError):
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            p.unlink(missing_ok=True)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
