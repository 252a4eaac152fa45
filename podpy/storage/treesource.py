"""Describe a directory tree as tar entries, walking it through directory descriptors (cp, export).

Every directory is opened with O_NOFOLLOW relative to its parent's descriptor and every file
relative to its directory's, so a tree that changes while it is read (a running container) cannot
send the walk through a symlink: it reads what is there, or skips what vanished, but never a file
outside the tree. With several layers (overlay diffs, top first) the walk shows their merged view
the way overlayfs does: whiteouts hide lower entries and an opaque directory ends the lookup.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from podpy.storage.fsutil import OPAQUE_XATTRS, is_overlay_xattr, is_whiteout, proc_fd_path, tar_header

if TYPE_CHECKING:
    import tarfile

OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: if a FIFO replaced the file since lstat, opening it must not hang
OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


class ExactReader:
    """Exactly `size` bytes of a file: a tar header promised them, whatever the file does now
    (a file that shrank since lstat is padded with zeros, one that grew is cut)."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.left = size

    def read(self, n: int = -1) -> bytes:
        want = self.left if n is None or n < 0 else min(n, self.left)
        parts, got = [], 0
        while got < want and self.fd >= 0:
            chunk = os.read(self.fd, min(want - got, 1 << 20))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        self.left -= want
        return b"".join(parts) + b"\0" * (want - got)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> ExactReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Item:
    """One tar entry and where its content lives (valid until the walk moves on)."""

    info: tarfile.TarInfo
    dir_fd: int
    name: str
    st: os.stat_result

    def open(self) -> ExactReader:
        """The regular file's content; zeros if it is no longer the file that was stat'ed."""
        try:
            fd = os.open(self.name, OPEN_FILE, dir_fd=self.dir_fd)
        except OSError:
            return ExactReader(-1, self.info.size)
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (self.st.st_dev, self.st.st_ino):
            os.close(fd)
            fd = -1
        return ExactReader(fd, self.info.size)


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in _GONE:
            return None
        raise


@dataclass
class Walker:
    """`overlay`: the directories are overlay layers (whiteouts, opaque markers), top first."""

    overlay: bool = False
    opaque_devs: frozenset[int] = frozenset()  # directories on these devices are not entered (/proc)
    skipped: list[str] = field(default_factory=list)  # sockets and entries that vanished
    _links: dict[tuple[int, int], str] = field(default_factory=dict)

    def tree(self, dir_fd: int, name: str, arcname: str) -> Iterator[Item]:
        """`name` in `dir_fd` ("." for the directory itself) and all below it, named `arcname`/..."""
        yield from self._entry(dir_fd, name, os.lstat(name, dir_fd=dir_fd), arcname, [])

    def merged(self, layer_fds: list[int]) -> Iterator[Item]:
        """The merged view of overlay layers (their root descriptors, top first), root left out."""
        fds = []
        for fd in layer_fds:
            fds.append(fd)
            if _opaque(fd):
                break
        yield from self._children(fds, "")

    def _entry(self, fd: int, name: str, st: os.stat_result, arc: str, lowers: list[int]) -> Iterator[Item]:
        info = self._info(arc, st, fd, name)
        if info is None:
            self.skipped.append(arc)
            return
        yield Item(info, fd, name, st)
        if not stat.S_ISDIR(st.st_mode) or st.st_dev in self.opaque_devs:
            return
        try:
            fds = self._subdirs(fd, name, lowers)
        except OSError as e:
            if e.errno not in _GONE:
                raise
            self.skipped.append(arc)  # replaced or removed since lstat
            return
        try:
            yield from self._children(fds, arc)
        finally:
            for sub in fds:
                os.close(sub)

    def _subdirs(self, fd: int, name: str, lowers: list[int]) -> list[int]:
        """The directory in this layer and, merged, in the lower ones down to an opaque one."""
        out = [os.open(name, OPEN_DIR, dir_fd=fd)]
        if not self.overlay or _opaque(out[0]):
            return out
        for low in lowers:
            st = lstat_at(low, name)
            if st is None:
                continue
            if not stat.S_ISDIR(st.st_mode):
                break  # a whiteout or a file hides whatever lies below
            try:
                out.append(os.open(name, OPEN_DIR, dir_fd=low))
            except OSError as e:
                if e.errno in _GONE:
                    break
                raise
            if _opaque(out[-1]):
                break
        return out

    def _children(self, fds: list[int], arc: str) -> Iterator[Item]:
        found: dict[str, tuple[int, os.stat_result]] = {}
        for i, fd in enumerate(fds):
            for name in os.listdir(fd):
                if name not in found:
                    st = lstat_at(fd, name)
                    if st is not None:
                        found[name] = (i, st)
        for name in sorted(found):
            i, st = found[name]
            if self.overlay and is_whiteout(st):
                continue
            yield from self._entry(fds[i], name, st, f"{arc}/{name}" if arc else name, fds[i + 1 :])

    def _info(self, arc: str, st: os.stat_result, fd: int, name: str) -> tarfile.TarInfo | None:
        ti = tar_header(arc, st, self._links, lambda: os.readlink(name, dir_fd=fd))
        if ti is None:
            return None
        _add_xattrs(ti, proc_fd_path(fd, name))
        return ti


def _opaque(fd: int) -> bool:
    """An overlay directory that hides the lower layers' content (asked through its descriptor)."""
    for name in OPAQUE_XATTRS:
        try:
            if os.getxattr(fd, name) == b"y":
                return True
        except OSError:
            continue
    return False


def _add_xattrs(ti: tarfile.TarInfo, path: str) -> None:
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        return
    for attr in names:
        if is_overlay_xattr(attr):
            continue  # overlayfs bookkeeping, not content
        try:
            value = os.getxattr(path, attr, follow_symlinks=False)
        except OSError:
            continue
        ti.pax_headers[f"SCHILY.xattr.{attr}"] = value.decode("utf-8", "surrogateescape")


def write_items(items: Iterator[Item], out: BinaryIO) -> None:
    """`items` as an uncompressed POSIX tar stream on `out`."""
    import tarfile

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        for item in items:
            if item.info.isreg() and item.info.size:
                with item.open() as data:
                    tf.addfile(item.info, data)  # type: ignore[arg-type]
            else:
                tf.addfile(item.info)
