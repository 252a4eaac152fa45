"""Content store: blobs by sha256 digest. ingest -> verify -> rename, so a blob file is always whole."""

from __future__ import annotations

import os
from pathlib import Path

from podpy.errors import CorruptContent, StorageError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import BinaryIO

CHUNK = 1 << 20


def sha256_digest(data: bytes) -> str:
    import hashlib  # hashlib and tempfile (~4 ms) only when writing: reading a blob needs neither

    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hex(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64:
        raise StorageError(f"unsupported digest {digest!r}")
    return hexpart


class ContentStore:
    def __init__(self, blobs: Path, ingest: Path) -> None:
        self.blobs = blobs / "sha256"
        self.ingest_dir = ingest

    def path(self, digest: str) -> Path:
        return self.blobs / _hex(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"blob {digest} is missing from the content store") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise StorageError(f"blob {digest} is missing from the content store") from None

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def write(self, data: bytes, expected: str | None = None) -> str:
        digest = sha256_digest(data)
        if expected and expected != digest:
            raise CorruptContent(f"digest mismatch: expected {expected}, got {digest}")
        if not self.exists(digest):
            self._commit(digest, lambda f: f.write(data))
        return digest

    def ingest(self, stream: BinaryIO, expected: str | None = None) -> tuple[str, int]:
        """Copy `stream` into the store, hashing as it goes; verify against `expected`."""
        import hashlib

        h = hashlib.sha256()
        size = 0

        def copy(f: BinaryIO) -> None:
            nonlocal size
            while chunk := stream.read(CHUNK):
                h.update(chunk)
                f.write(chunk)
                size += len(chunk)

        tmp = self._write_tmp(copy)
        digest = "sha256:" + h.hexdigest()
        if expected and expected != digest:
            os.unlink(tmp)
            raise CorruptContent(f"digest mismatch: expected {expected}, got {digest}")
        self.path(digest).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, self.path(digest))
        return digest, size

    def delete(self, digest: str) -> None:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            pass

    def digests(self) -> list[str]:
        if not self.blobs.exists():
            return []
        return ["sha256:" + p.name for p in self.blobs.iterdir() if len(p.name) == 64]

    def _write_tmp(self, writer) -> str:  # type: ignore[no-untyped-def]
        self.ingest_dir.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=self.ingest_dir, prefix=f"{os.getpid()}-")
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    def _commit(self, digest: str, writer) -> None:  # type: ignore[no-untyped-def]
        tmp = self._write_tmp(writer)
        self.path(digest).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, self.path(digest))

    def gc_ingest(self) -> None:
        """Remove partial writes whose writer process is gone (kill -9 during load/pull)."""
        if not self.ingest_dir.exists():
            return
        for p in self.ingest_dir.iterdir():
            pid = p.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
