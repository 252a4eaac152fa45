"""Content store: blobs by sha256 digest. ingest -> verify -> rename, so a blob file is always whole.

An uncompressed layer blob may instead be kept as a tar-split (blobs/tar-split/<hex>, see
storage/tarsplit.py): the layer's extracted tree plus the bytes that are not file content. It
counts as the blob while the layer it names exists: `open` rebuilds the exact tar (checking its
digest), `size` is the tar's size. Before that layer goes while the blob is still wanted,
`materialize` turns it into an ordinary blob.
"""

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
    def __init__(self, blobs: Path, ingest: Path, layers: Path | None = None) -> None:
        self.blobs = blobs / "sha256"
        self.splits = blobs / "tar-split"
        self.ingest_dir = ingest
        self.layers = layers  # where the layers a tar-split names live (None: no tar-splits)

    def path(self, digest: str) -> Path:
        return self.blobs / _hex(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists() or self._split(digest) is not None

    def read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            pass
        with self.open(digest) as f:
            return f.read()

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            pass
        split = self._split(digest)
        if split is None:
            raise StorageError(f"blob {digest} is missing from the content store")
        from podpy.storage.tarsplit import RebuiltTar

        assert self.layers is not None
        tree = self.layers / _hex(split[0]) / "diff"
        return RebuiltTar(self.splits / _hex(digest), tree, digest, split[1])  # type: ignore[return-value]

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            split = self._split(digest)
            if split is None:
                raise
            return split[1]

    # ---- tar-splits
    def _split(self, digest: str) -> tuple[str, int] | None:
        """(chain ID, tar size) of the tar-split standing for `digest`, if its layer exists."""
        if self.layers is None:
            return None
        path = self.splits / _hex(digest)
        try:
            with open(path, "rb") as f:
                line = f.readline(4096)
        except FileNotFoundError:
            return None
        import json

        try:
            doc = json.loads(line)
            chain, size = doc["chain"], doc["size"]
            ok = doc.get("v") == 1 and doc.get("digest") == digest and isinstance(size, int)
        except (ValueError, KeyError, TypeError):
            return None
        if not ok or not isinstance(chain, str) or not (self.layers / _hex(chain) / "layer.json").is_file():
            return None
        return chain, size

    def split_chain(self, digest: str) -> str | None:
        """The layer a tar-split for `digest` rebuilds it from (None: the blob is a file, or absent)."""
        split = self._split(digest) if not self.path(digest).exists() else None
        return split[0] if split else None

    def put_split(self, digest: str, data: bytes) -> None:
        """Store the tar-split `data` (tarsplit.encode) for the blob `digest` (durably: it is the blob)."""
        tmp = self._write_tmp(lambda f: f.write(data))
        self.splits.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, self.splits / _hex(digest))

    def materialize(self, digest: str) -> None:
        """Turn a tar-split into an ordinary blob (its layer is about to go); the rebuilt tar is checked."""
        if self.split_chain(digest) is None:
            return
        with self.open(digest) as f:
            self.ingest(f, digest)
        self._drop_split(digest)

    def _drop_split(self, digest: str) -> None:
        try:
            (self.splits / _hex(digest)).unlink()
        except FileNotFoundError:
            pass

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
        self._drop_split(digest)

    def digests(self) -> list[str]:
        names = set()
        for d in (self.blobs, self.splits):
            if d.exists():
                names.update(p.name for p in d.iterdir() if len(p.name) == 64)
        return ["sha256:" + n for n in sorted(names)]

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
