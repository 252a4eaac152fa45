"""Write tar entries (from a walk or a tar stream) beneath a directory, never outside it (cp).

Each entry's parent is resolved through Root (symlinks interpreted inside the root, `..`
never above it) and the entry itself is created relative to that directory's descriptor with
O_NOFOLLOW/O_EXCL, so neither the archive nor symlinks already in the destination (a container's
`/evil -> /`) can make a write land outside. Unlike layer extraction there are no whiteouts:
`.wh.x` is an ordinary name here.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from podpy.errors import InvalidArgument, UnsafeArchive
from podpy.inroot import ResolvedDir, Root, clean_parts
from podpy.storage.fsutil import is_overlay_xattr, proc_fd_path
from podpy.storage.treesource import lstat_at
from podpy.storage.userns import Owner

if TYPE_CHECKING:
    import tarfile

CHUNK = 1 << 20


@dataclass(frozen=True)
class WriteOptions:
    keep_ids: bool = False  # -a: the entries' own uid/gid (and their xattrs)
    ids: tuple[int, int] | None = None  # otherwise chown to these; None: whoever we are
    strict_ids: bool = True  # a refused chown is an error (not when rootless)
    devices: bool = False  # create device nodes (else they are skipped)
    strip_setid: bool = False  # drop setuid/setgid bits (copying out of a container without -a)
    overwrite: bool = False  # a directory may replace a non-directory and vice versa (cp --overwrite)
    defer_ids: bool = False  # rootless with subordinate ids: record owners (in `owners`) to set them
    # from inside the mapping (storage/userns.py) instead of chowning here, where we cannot


def _ns(mtime: float) -> tuple[int, int]:
    t = int(mtime * 1_000_000_000)
    return (t, t)


@dataclass
class TreeWriter:
    """Entries named relative to `prefix` (a real path below `root`, which must exist)."""

    root: Root
    prefix: tuple[str, ...]
    opts: WriteOptions
    skipped: list[str] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)  # with defer_ids: non-root owners to set
    _dirs: dict[tuple[str, ...], tarfile.TarInfo] = field(default_factory=dict)

    def put(self, ti: tarfile.TarInfo, data: BinaryIO | None) -> None:
        rel = clean_parts(ti.name)
        if not rel:
            return  # the destination directory itself: it exists and keeps its own metadata
        if not self._wanted(ti):
            self.skipped.append(ti.name)
            return
        parts = self.prefix + rel
        with self.root.dir(parts[:-1], create=True) as d:
            self._create(d, parts[-1], ti, data)

    def _wanted(self, ti: tarfile.TarInfo) -> bool:
        if ti.ischr() or ti.isblk():
            return self.opts.devices
        return ti.isdir() or ti.isreg() or ti.issym() or ti.islnk() or ti.isfifo()

    def _create(self, d: ResolvedDir, name: str, ti: tarfile.TarInfo, data: BinaryIO | None) -> None:
        old = lstat_at(d.fd, name)
        shown = "/" + "/".join((*d.real, name))
        if ti.isdir():
            if old is not None and not stat.S_ISDIR(old.st_mode):
                if not self.opts.overwrite:
                    raise InvalidArgument(f'cannot overwrite non-directory "{shown}" with directory')
                os.unlink(name, dir_fd=d.fd)
                old = None
            if old is None:
                os.mkdir(name, 0o700, dir_fd=d.fd)  # writable while we fill it; finish() sets its mode
            self._own(d.fd, name, ti, (*d.real, name))
            self._xattrs(proc_fd_path(d.fd, name), ti)
            self._dirs[(*d.real, name)] = ti
            return
        if old is not None:
            if stat.S_ISDIR(old.st_mode):
                if not self.opts.overwrite:
                    raise InvalidArgument(f'cannot overwrite directory "{shown}" with non-directory')
                import shutil

                shutil.rmtree(name, dir_fd=d.fd)  # fd-relative, never follows a symlink out of d
            else:
                os.unlink(name, dir_fd=d.fd)
        if ti.isreg():
            self._file(d.fd, name, ti, data, (*d.real, name))
        elif ti.issym():
            os.symlink(ti.linkname, name, dir_fd=d.fd)
            self._own(d.fd, name, ti, (*d.real, name))
            os.utime(name, ns=_ns(ti.mtime), dir_fd=d.fd, follow_symlinks=False)
        elif ti.islnk():
            self._hardlink(d, name, ti)
        else:
            self._special(d.fd, name, ti, (*d.real, name))

    def _ids(self, ti: tarfile.TarInfo) -> tuple[int, int] | None:
        return (ti.uid, ti.gid) if self.opts.keep_ids else self.opts.ids

    def _defer(self, real: tuple[str, ...], ti: tarfile.TarInfo) -> bool:
        """With defer_ids: note a non-root owner for later; True when the chown is left to that."""
        if not self.opts.defer_ids:
            return False
        ids = self._ids(ti)
        if ids is not None and ids != (0, 0):
            mode = self._mode(ti)
            self.owners.append(Owner(real, ids[0], ids[1], mode if ti.isreg() and mode & 0o6000 else None))
        return True

    def _own(self, dfd: int, name: str, ti: tarfile.TarInfo, real: tuple[str, ...]) -> None:
        ids = self._ids(ti)
        if ids is None or self._defer(real, ti):
            return
        try:
            os.chown(name, ids[0], ids[1], dir_fd=dfd, follow_symlinks=False)
        except OSError:
            if self.opts.strict_ids:
                raise

    def _mode(self, ti: tarfile.TarInfo) -> int:
        mode = ti.mode & 0o7777
        return mode & ~0o6000 if self.opts.strip_setid else mode

    def _file(self, dfd: int, name: str, ti: tarfile.TarInfo, data: BinaryIO | None,
              real: tuple[str, ...]) -> None:  # fmt: skip
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(name, flags, 0o600, dir_fd=dfd)
        try:
            left = ti.size if data is not None else 0
            while left > 0:
                chunk = data.read(min(CHUNK, left))  # type: ignore[union-attr]
                if not chunk:
                    break
                _write_all(fd, chunk)
                left -= len(chunk)
            ids = self._ids(ti)
            if ids is not None and not self._defer(real, ti):
                try:
                    os.fchown(fd, *ids)
                except OSError:
                    if self.opts.strict_ids:
                        raise
            os.fchmod(fd, self._mode(ti))  # after chown, which clears setuid/setgid
            self._xattrs(fd, ti)  # after chown, which drops security.capability
            os.utime(fd, ns=_ns(ti.mtime))
        finally:
            os.close(fd)

    def _hardlink(self, d: ResolvedDir, name: str, ti: tarfile.TarInfo) -> None:
        target = clean_parts(ti.linkname)
        if not target:
            raise UnsafeArchive(f"refusing hard link {ti.name!r} to the destination itself")
        parts = self.prefix + target
        try:
            src = self.root.resolve_dir(parts[:-1], create=False)
        except FileNotFoundError:
            raise UnsafeArchive(f"hard link {ti.name!r}: {ti.linkname!r} is not in the copy") from None
        try:
            st = lstat_at(src.fd, parts[-1])
            if st is None or stat.S_ISDIR(st.st_mode):
                raise UnsafeArchive(f"hard link {ti.name!r}: {ti.linkname!r} is missing or a directory")
            os.link(parts[-1], name, src_dir_fd=src.fd, dst_dir_fd=d.fd, follow_symlinks=False)
        finally:
            os.close(src.fd)

    def _special(self, dfd: int, name: str, ti: tarfile.TarInfo, real: tuple[str, ...]) -> None:
        if ti.isfifo():
            os.mkfifo(name, 0o600, dir_fd=dfd)
        else:
            kind = stat.S_IFCHR if ti.ischr() else stat.S_IFBLK
            try:
                os.mknod(name, kind | 0o600, os.makedev(ti.devmajor, ti.devminor), dir_fd=dfd)
            except PermissionError:
                self.skipped.append(ti.name)
                return
        self._own(dfd, name, ti, real)
        os.chmod(name, self._mode(ti), dir_fd=dfd)  # just made here: not a symlink
        os.utime(name, ns=_ns(ti.mtime), dir_fd=dfd, follow_symlinks=False)

    def _xattrs(self, target: int | str, ti: tarfile.TarInfo) -> None:
        """Only with -a: a capability or other xattr from an untrusted tree is not carried by default."""
        if not self.opts.keep_ids:
            return
        for key, value in ti.pax_headers.items():
            if not key.startswith("SCHILY.xattr.") or is_overlay_xattr(key[13:]):
                continue
            try:
                if isinstance(target, int):
                    os.setxattr(target, key[13:], value.encode("utf-8", "surrogateescape"))
                else:
                    os.setxattr(target, key[13:], value.encode("utf-8", "surrogateescape"), follow_symlinks=False)
            except OSError:
                continue  # the filesystem or our privileges refuse it: as tar does, go on

    def finish(self) -> None:
        """Directory modes and times last (writing their children changed the times)."""
        for real, ti in reversed(self._dirs.items()):
            try:
                d = self.root.resolve_dir(real, create=False)
            except (FileNotFoundError, UnsafeArchive):
                continue
            try:
                if d.real == real:  # still that directory, not swapped for a symlink since
                    os.chmod(proc_fd_path(d.fd), self._mode(ti))
                    os.utime(proc_fd_path(d.fd), ns=_ns(ti.mtime))
            finally:
                os.close(d.fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
