"""Tar-split: an uncompressed layer tar kept as its extracted tree plus the bytes that are not file data.

A layer that arrives uncompressed (`load` of a docker-archive) is needed twice: as a tree (to run
containers) and as its exact tar (`save`, `push`: its digest is the image's diff ID). Storing both
doubles the disk use. Instead, the one extraction pass records every byte of the stream that is
not the content of a regular file it wrote (tar headers, pax/GNU extension records, padding, the
end-of-archive blocks, whatever follows them) and, for each file, the path it wrote it to. The tar
is then rebuilt from the tree byte for byte (containers/storage keeps the same "tar-split").

Record stream (zlib-compressed, after a one-line JSON header {"v", "digest", "chain", "size"}):
    b"R" u32 n, n raw bytes            bytes of the tar that are not file content
    b"F" u32 n, n path bytes, u64 size  `size` bytes read from the file at `path` (below the layer's
                                        tree, components joined by "/", as the extractor wrote it)

Rebuilding never trusts the tree: every file is opened through inroot.Root with no symlink on the
way (its real path must be the recorded one) and O_NOFOLLOW, must be a regular file of the
recorded size, and the whole stream must hash to the layer's digest; the read that would return
its last byte raises CorruptContent instead when it does not.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from podpy.errors import CorruptContent, StorageError
from podpy.storage.readahead import ReadAhead

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import BinaryIO

VERSION = 1
CHUNK = 1 << 20
_RAW_MAX = 1 << 20  # raw bytes buffered before they become a record
_U32, _U64 = struct.Struct(">I"), struct.Struct(">Q")
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a planted FIFO must not hang us


class SplitWriter:
    """Collects the records while a layer is extracted (see TarTap)."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(1)
        self._out: list[bytes] = []
        self._raw = bytearray()

    def raw(self, data: bytes) -> None:
        self._raw += data
        if len(self._raw) >= _RAW_MAX:
            self._flush()

    def file(self, parts: tuple[str, ...], size: int) -> None:
        self._flush()
        path = b"/".join(os.fsencode(p) for p in parts)
        self._emit(b"F" + _U32.pack(len(path)) + path + _U64.pack(size))

    def _flush(self) -> None:
        if self._raw:
            self._emit(b"R" + _U32.pack(len(self._raw)))
            self._emit(bytes(self._raw))
            self._raw.clear()

    def _emit(self, data: bytes) -> None:
        out = self._z.compress(data)
        if out:
            self._out.append(out)

    def finish(self) -> bytes:
        self._flush()
        self._out.append(self._z.flush())
        return b"".join(self._out)


class TarTap:
    """The uncompressed layer stream as tarfile reads it in "r:" mode (exact reads, forward seeks):
    hashes every byte (the diff ID in the same pass) and, with a SplitWriter, records the bytes
    tarfile reads as raw; file content read with `content` is recorded as a reference instead."""

    def __init__(self, src: BinaryIO, split: SplitWriter | None, as_corrupt: Callable[[Exception], Exception]) -> None:
        self.src = src
        self.split = split
        self.h = hashlib.sha256()
        self.size = 0
        self._as_corrupt = as_corrupt

    def _read(self, n: int) -> bytes:
        try:
            data = self.src.read(n)
        except Exception as e:
            mapped = self._as_corrupt(e)
            if mapped is e:
                raise
            raise mapped from e
        self.h.update(data)
        self.size += len(data)
        return data

    def read(self, n: int = -1) -> bytes:
        data = self._read(n)
        if self.split is not None and data:
            self.split.raw(data)
        return data

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return True  # forward only: tarfile skips the data of entries it is not asked to read

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or offset < self.size:
            raise io.UnsupportedOperation("a layer stream only seeks forward")
        while self.size < offset and self.read(min(CHUNK, offset - self.size)):
            pass
        return self.size

    def content(self, size: int, parts: tuple[str, ...], write: Callable[[bytes], object]) -> None:
        """Pass a regular file's `size` bytes (at the current position) to `write`; the split names
        the file `parts` instead of keeping them."""
        if self.split is not None and size:
            self.split.file(parts, size)
        left = size
        while left:
            data = self._read(min(left, CHUNK))
            if not data:
                raise CorruptContent("corrupt layer tar: unexpected end of data")
            write(data)
            left -= len(data)

    def drain(self) -> None:
        """tarfile stops at the end-of-archive blocks; the diff ID covers the padding after them too."""
        while self.read(CHUNK):
            pass


# ---- the stored form ------------------------------------------------------------------------------


def encode(digest: str, chain: str, size: int, records: bytes) -> bytes:
    head = json.dumps({"v": VERSION, "digest": digest, "chain": chain, "size": size}, separators=(",", ":"))
    return head.encode() + b"\n" + records


class _Records:
    """Decodes the record stream incrementally (a big layer's split is never held whole)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._z = zlib.decompressobj()
        self._buf = b""

    def _need(self, n: int) -> bytes:
        while len(self._buf) < n:
            data = self._z.unconsumed_tail or self._f.read(CHUNK)
            if not data:
                raise StorageError("tar-split record stream ends early")
            self._buf += self._z.decompress(data, max(n - len(self._buf), CHUNK))
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _at_end(self) -> bool:
        while not self._buf:
            if self._z.eof:
                return True
            data = self._z.unconsumed_tail or self._f.read(CHUNK)
            if not data:
                return True
            self._buf = self._z.decompress(data, CHUNK)
        return False

    def __iter__(self) -> Iterator[tuple[bytes, bytes | None, int]]:
        """(kind, raw bytes or path, size)."""
        while not self._at_end():
            kind = self._need(1)
            n = _U32.unpack(self._need(4))[0]
            if kind == b"R":
                data = self._need(n)
                yield kind, data, n
            elif kind == b"F":
                path = self._need(n)
                yield kind, path, _U64.unpack(self._need(8))[0]
            else:
                raise StorageError(f"tar-split: unknown record {kind!r}")


class RebuiltTar(ReadAhead):
    """The layer tar, read back from its tree and its tar-split (in a thread, ahead of the reader):
    read, tell, seek back to the start, close. No fileno: there is no file to hand to sendfile."""

    def __init__(self, split: Path, tree: Path, digest: str, size: int) -> None:
        self._split, self._tree, self.digest, self.size = split, tree, digest, size
        super().__init__(lambda: _held_back(_batched(self._chunks())))

    # ---- the stream
    def _chunks(self) -> Iterator[bytes]:
        from podpy.inroot import Root

        h = hashlib.sha256()
        total = 0
        with open(self._split, "rb") as f, Root(self._tree) as root:
            f.readline(4096)  # the header
            files = _Files(root, self)
            try:
                for kind, data, size in _Records(f):
                    if kind == b"R":
                        assert data is not None
                        h.update(data)
                        total += size
                        yield data
                        continue
                    assert data is not None
                    for chunk in files.read(data, size):
                        h.update(chunk)
                        total += len(chunk)
                        yield chunk
            finally:
                files.close()
        got = "sha256:" + h.hexdigest()
        if total != self.size or got != self.digest:
            raise CorruptContent(f"layer {self.digest}: the tar rebuilt from its stored tree is {got} "
                                 f"({total} bytes): the layer's files were changed since it was stored")  # fmt: skip

    def altered(self, path: bytes, why: str) -> CorruptContent:
        return CorruptContent(f"layer {self.digest}: {os.fsdecode(path)} in its stored tree {why}: "
                              f"the layer's files were changed since it was stored")  # fmt: skip


def _batched(chunks: Iterator[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """The stream in pieces of exactly `size` (the last one shorter): few hand-overs between the
    threads, and a reader copying `size` at a time (tarfile's copy in save) takes them as they are."""
    buf = bytearray()
    for chunk in chunks:
        if not buf and len(chunk) == size:
            yield chunk
            continue
        buf += chunk
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def _held_back(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, each one only once the next exists: the last one once `chunks` has finished
    (and so has checked the digest)."""
    prev: bytes | None = None
    for chunk in chunks:
        if prev is not None:
            yield prev
        prev = chunk
    if prev is not None:
        yield prev


class _Files:
    """Opens the files a split names, inside the tree only (the last directory stays open)."""

    def __init__(self, root: object, owner: RebuiltTar) -> None:
        self.root = root
        self.owner = owner
        self._dir: tuple[tuple[str, ...], int] | None = None

    def close(self) -> None:
        if self._dir is not None:
            os.close(self._dir[1])
            self._dir = None

    def _dirfd(self, path: bytes, parts: tuple[str, ...]) -> int:
        from podpy.errors import UnsafeArchive

        if self._dir is not None and self._dir[0] == parts:
            return self._dir[1]
        self.close()
        try:
            d = self.root.resolve_dir(parts, create=False)  # type: ignore[attr-defined]
        except (OSError, UnsafeArchive):
            raise self.owner.altered(path, "cannot be reached") from None
        if d.real != parts:  # a symlink on the way now: not the directory the file was written to
            os.close(d.fd)
            raise self.owner.altered(path, "is behind a symlink")
        self._dir = (parts, d.fd)
        return d.fd

    def read(self, path: bytes, size: int) -> Iterator[bytes]:
        parts = tuple(os.fsdecode(p) for p in path.split(b"/"))
        if not parts or any(p in ("", ".", "..") for p in parts):
            raise StorageError(f"tar-split names an invalid path {os.fsdecode(path)!r}")
        dfd = self._dirfd(path, parts[:-1])
        try:
            fd = os.open(parts[-1], _OPEN, dir_fd=dfd)
        except OSError:
            raise self.owner.altered(path, "cannot be opened") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise self.owner.altered(path, "is no longer a regular file")
            if st.st_size != size:
                raise self.owner.altered(path, f"has {st.st_size} bytes, not {size}")
            left = size
            while left:
                data = os.read(fd, min(left, CHUNK))
                if not data:
                    raise self.owner.altered(path, "ended early")
                left -= len(data)
                yield data
        finally:
            os.close(fd)
