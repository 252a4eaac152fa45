"""Tar plumbing shared by docker-archive and oci-archive: a random-access reader and a streaming writer."""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
from collections.abc import Callable
from typing import Any, BinaryIO

from podpy.errors import PodpyError

MAX_DOC = 64 << 20  # manifests, configs, index.json: small JSON; refuse absurd sizes
MAX_LINKS = 16
COPY_CHUNK = 1 << 20


def normalize(name: str) -> str:
    """Archive member names as Docker writes them or as `./name` or `/name`: one canonical form."""
    return posixpath.normpath("/" + name).lstrip("/")


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """Parse a metadata file that must be a JSON object; one clear error naming `what` otherwise."""
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise PodpyError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise PodpyError(f"{what} is not a JSON object")
    return doc


class ArchiveReader:
    """Members of a seekable, uncompressed tar by canonical name; links inside it are followed."""

    def __init__(self, fileobj: BinaryIO) -> None:
        try:
            self.tar = tarfile.open(fileobj=fileobj, mode="r:")
            members = self.tar.getmembers()
        except (tarfile.TarError, EOFError) as e:
            raise PodpyError(f"the input is not a tar archive: {e}") from None
        self.members = {normalize(m.name): m for m in members}  # the last entry wins, as on extraction

    def has(self, path: str) -> bool:
        try:
            self.resolve(path)
        except PodpyError:
            return False
        return True

    def resolve(self, path: str) -> tarfile.TarInfo:
        """The regular file `path` names, following symlinks and hard links (Docker links repeated layers)."""
        name = normalize(path)
        for _ in range(MAX_LINKS):
            m = self.members.get(name)
            if m is None:
                raise PodpyError(f"the archive has no {path!r}")
            if m.isfile():
                return m
            if m.issym():
                name = normalize(posixpath.join(posixpath.dirname(name), m.linkname))
            elif m.islnk():
                name = normalize(m.linkname)
            else:
                raise PodpyError(f"{path!r} in the archive is not a regular file")
        raise PodpyError(f"{path!r} in the archive: too many levels of links")

    def open(self, path: str) -> BinaryIO:
        f = self.tar.extractfile(self.resolve(path))
        assert f is not None  # resolve() returned a regular file
        return f  # type: ignore[return-value]

    def size(self, path: str) -> int:
        return self.resolve(path).size

    def opener(self, path: str) -> Callable[[], BinaryIO]:
        """Opens the member `path` on its own: readers from several threads do not share a position."""
        m = self.resolve(path)
        try:
            fd = self.tar.fileobj.fileno()  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            return lambda: self.open(path)
        return lambda: _Section(fd, m.offset_data, m.size)  # type: ignore[return-value]

    def read(self, path: str) -> bytes:
        m = self.resolve(path)
        if m.size > MAX_DOC:
            raise PodpyError(f"{path!r} in the archive is too large ({m.size} bytes) for a metadata file")
        with self.open(path) as f:
            return f.read()


class _Section(io.RawIOBase):
    """`size` bytes of a file from `offset`, read with pread (no shared file position)."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self._fd, self._pos, self._end = fd, offset, offset + size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self._end - self._pos
        data = os.pread(self._fd, left if n is None or n < 0 else min(n, left), self._pos) if left > 0 else b""
        self._pos += len(data)
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        memoryview(b).cast("B")[: len(data)] = data
        return len(data)


class _Counted:
    """A writer that knows how much it wrote (tarfile's "w:" mode asks for tell(); stdout cannot)."""

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._n = 0

    def write(self, data: bytes) -> int:
        self._dst.write(data)
        self._n += len(data)
        return len(data)

    def tell(self) -> int:
        return self._n


class ArchiveWriter:
    """A tar written front to back (stdout works): parent directories first, fixed owner and mtime."""

    def __init__(self, dst: BinaryIO) -> None:
        # "w:" on a counting writer, not "w|": the stream mode re-buffers every write in 10 KiB
        # pieces; this writes tarfile's (1 MiB) copies straight through. Same bytes either way.
        self.tar = tarfile.open(fileobj=_Counted(dst), mode="w:", format=tarfile.PAX_FORMAT,  # type: ignore[call-overload]
                                copybufsize=COPY_CHUNK)  # fmt: skip
        self.written: set[str] = set()

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.tar.close()

    def add_bytes(self, path: str, data: bytes) -> None:
        import io

        self.add_stream(path, io.BytesIO(data), len(data))

    def add_stream(self, path: str, src: BinaryIO, size: int) -> None:
        """Copy exactly `size` bytes of `src` (tarfile raises if the stream is shorter)."""
        self._dirs(path)
        self.tar.addfile(self._info(path, tarfile.REGTYPE, size), src)
        self.written.add(path)

    def _dirs(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.written:
                self.tar.addfile(self._info(d, tarfile.DIRTYPE, 0))
                self.written.add(d)

    @staticmethod
    def _info(path: str, kind: bytes, size: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(path)
        ti.type = kind
        ti.size = size
        ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        ti.mtime = 0  # fixed: saving the same image twice gives the same bytes
        ti.uid = ti.gid = 0
        return ti
