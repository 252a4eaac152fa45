"""Safe, streaming, one-pass extraction of a layer tar (Python 3.11.2 has no tarfile filters).

What is refused or neutralised, per case:
- names with `..` climbing above the root: UnsafeArchive. Absolute names: the leading `/` is dropped.
- symlinks are stored as they are (their target may be anything); *writing through* one is
  resolved inside the target as if it were `/` (Root), so `link/file` with `link -> /etc`
  writes `<target>/etc/file`. Loops and chains longer than 40 links: UnsafeArchive.
- hard links: the link target is resolved the same way (never outside), must exist in the
  target and must not be a directory, else UnsafeArchive.
- a non-directory met as a parent component (`file/x`): UnsafeArchive.
- whiteouts naming "", "." or "..": UnsafeArchive. aufs metadata (`.wh..wh.*` other than the
  opaque marker) is skipped. xattrs in the overlay namespaces are dropped (a layer must not forge
  overlayfs metadata); xattrs the filesystem or our privileges refuse are ignored (as Docker does).
- character/block devices only when `allow_devices`, else skipped (listed in stats.skipped).
  FIFOs are always created: that needs no privilege.
- ownership: lchown to the archive's numeric ids. Rootless, our own id is the container's root; the
  other ids are set at the end from inside the user's subordinate mapping (storage/userns.py), or
  collapse to our id when there is none.
Same-layer rule (OCI): a whiteout only hides what lower layers hold; entries of this layer
written before it stay.
"""

from __future__ import annotations

import base64
import errno
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from podpy.errors import CorruptContent, StorageError, UnsafeArchive
from podpy.inroot import ResolvedDir, Root, clean_parts
from podpy.storage import userns
from podpy.storage.compress import CHUNK, as_corrupt
from podpy.storage.fsutil import force_rmtree, is_overlay_xattr, is_whiteout, opaque_xattr, proc_fd_path
from podpy.storage.tarsplit import SplitWriter, TarTap
from podpy.storage.userns import Owner

WH_PREFIX = ".wh."
WH_META_PREFIX = ".wh..wh."
WH_OPAQUE = ".wh..wh..opq"
_DIR_CACHE = 64  # resolved parent directories kept open at most
_IGNORED_XATTR_ERRNOS = (errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EINVAL)


@dataclass
class ExtractStats:
    diff_id: str  # "sha256:<hex>" of the uncompressed tar stream
    tar_size: int  # bytes of the uncompressed tar
    content_size: int  # sum of the sizes of the regular files written
    entries: int
    skipped: list[str] = field(default_factory=list)  # entries deliberately not created
    split: bytes | None = None  # the tar-split records (record_split and the tree holds every file)


def extract_layer(
    fileobj: BinaryIO, target: Path, *, whiteouts: str, allow_devices: bool, rootless: bool,
    record_split: bool = False,
) -> ExtractStats:  # fmt: skip
    """Extract an uncompressed layer tar read from `fileobj` into the existing directory `target`.

    whiteouts="overlay": `.wh.NAME` becomes a 0/0 char device, the opaque marker an xattr.
    whiteouts="vfs": `target` holds the parent's full tree; whiteouts delete from it.
    record_split: also return the tar-split (storage/tarsplit.py) that rebuilds the tar from the
    tree, unless an entry replaced a file this layer wrote (then its first content is gone).
    """
    if whiteouts not in ("overlay", "vfs"):
        raise StorageError(f"unknown whiteout mode {whiteouts!r}")
    tap = TarTap(fileobj, SplitWriter() if record_split else None, as_corrupt)
    with Root(target) as root:
        ex = _Extractor(root, whiteouts, allow_devices, rootless, tap)
        try:
            # "r:" on the tap, not "r|": tarfile then reads exactly what it parses, so the tap sees
            # headers and padding apart from file content (which _file reads through the tap)
            tf = tarfile.open(fileobj=tap, mode="r:")  # type: ignore[call-overload]
            while (m := tf.next()) is not None:
                ex.entry(m, tf)
                tf.members.clear()  # the reader keeps every header otherwise
            tf.close()
        except tarfile.TarError as e:
            raise CorruptContent(f"corrupt layer tar: {e}") from None
        finally:
            ex.forget_dirs()
        ex.finish()
    if ex.mapping is not None:
        userns.apply_owners(ex.mapping, target, list(ex.owners.values()))
    tap.drain()
    split = tap.split.finish() if tap.split is not None and ex.exact else None
    return ExtractStats(f"sha256:{tap.h.hexdigest()}", tap.size, ex.content_size, ex.entries, ex.skipped, split)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _lstat_at(dfd: int, name: str) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=dfd)
    except FileNotFoundError:
        return None


def _ns(mtime: float) -> tuple[int, int]:
    t = int(mtime * 1_000_000_000)
    return (t, t)


class _Extractor:
    def __init__(self, root: Root, mode: str, allow_devices: bool, rootless: bool, tap: TarTap) -> None:
        self.root = root
        self.tap = tap
        self.exact = True  # every file whose content the tap referenced is still where it was written
        self.mode = mode
        self.allow_devices = allow_devices
        self.rootless = rootless
        # vfs copies each parent layer as our own user, which files of other ids would defeat: collapse
        mapping = userns.current() if rootless and mode == "overlay" else None
        self.mapping = mapping if mapping is not None and mapping.full else None  # None: collapses
        self.owners: dict[tuple[str, ...], Owner] = {}  # rootless: set inside the mapping at the end
        self.written: set[tuple[str, ...]] = set()  # real paths this layer wrote
        self.ancestors: set[tuple[str, ...]] = set()  # and their parents
        self.dirs: dict[tuple[str, ...], tarfile.TarInfo] = {}  # mode/mtime applied at the end
        self.unlocked: dict[tuple[str, ...], int] = {}  # read-only lower dirs opened up (rootless)
        self._dirs: dict[tuple[str, ...], ResolvedDir] = {}  # entry parents resolved (see _parent_dir)
        self._drop_dirs_soon = False
        self.entries = 0
        self.content_size = 0
        self.skipped: list[str] = []

    def entry(self, m: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        self.entries += 1
        parts = clean_parts(m.name)
        if not parts and m.isdir():  # "./": the layer root's own owner, mode and times
            self._root_dir(m)
            return
        if not parts or not self._wanted(m):
            self.skipped.append(m.name)  # sockets, devices when not allowed, a non-dir root
            return
        try:
            if parts[-1].startswith(WH_PREFIX):
                self._whiteout(parts, m.name)
                return
            d = self._parent_dir(parts[:-1])
            self._writable(d, lambda: self._create(d, parts[-1], m, tf))
            self._mark(d.real + (parts[-1],))
        except OSError as e:
            raise StorageError(f"extracting {m.name!r}: {e}") from None

    def _parent_dir(self, parts: tuple[str, ...]) -> ResolvedDir:
        """The directory an entry goes into, resolved once for all the entries in it (tars list a
        directory's files together). Every removal forgets them all (`_remove`): nothing else
        this extractor does can change what a path resolves to."""
        if self._drop_dirs_soon:  # not at the removal itself: that entry still uses its directory
            self._drop_dirs_soon = False
            self.forget_dirs()
        d = self._dirs.get(parts)
        if d is None:
            if len(self._dirs) >= _DIR_CACHE:
                self.forget_dirs()
            d = self._dirs[parts] = self.root.resolve_dir(parts, create=True)
        return d

    def forget_dirs(self) -> None:
        dirs, self._dirs = self._dirs, {}
        for d in dirs.values():
            os.close(d.fd)

    def _wanted(self, m: tarfile.TarInfo) -> bool:
        if m.ischr() or m.isblk():
            return self.allow_devices
        return m.isdir() or m.isreg() or m.issym() or m.islnk() or m.isfifo()

    def _create(self, d: ResolvedDir, name: str, m: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        if m.isdir():
            self._mkdir(d, name, m)
        elif m.isreg():
            self._file(d, name, m, tf)
        elif m.issym():
            self._clear(d, name)
            os.symlink(m.linkname, name, dir_fd=d.fd)
            self._chown(d.real + (name,), m, lambda: os.chown(name, m.uid, m.gid, dir_fd=d.fd, follow_symlinks=False))
            self._xattrs(proc_fd_path(d.fd, name), m)
            os.utime(name, ns=_ns(m.mtime), dir_fd=d.fd, follow_symlinks=False)
        elif m.islnk():
            self._hardlink(d, name, m)
        else:
            self._special(d, name, m)

    def _writable(self, d: ResolvedDir, fn: Callable[[], object]) -> None:
        """Run `fn`; if a read-only directory (from a lower layer) refused it, unlock and retry.

        Without privileges, a directory like 0555 cannot be written into even by its owner.
        """
        try:
            fn()
            return
        except PermissionError:
            if not self.rootless or d.real in self.unlocked:
                raise
        mode = stat.S_IMODE(os.stat(proc_fd_path(d.fd)).st_mode)
        self.unlocked[d.real] = mode
        os.chmod(proc_fd_path(d.fd), mode | 0o700)
        fn()

    def _mark(self, real: tuple[str, ...]) -> None:
        self.written.add(real)
        for i in range(1, len(real)):
            self.ancestors.add(real[:i])

    def _chown(self, real: tuple[str, ...], m: tarfile.TarInfo, fn: Callable[[], object]) -> None:
        """Set the entry's owner; rootless with subordinate ids, noted for userns.apply_owners at the
        end instead (our own id is the container's root, other ids need the mapping)."""
        if self.mapping is not None:
            if (m.uid, m.gid) == (0, 0):
                self.owners.pop(real, None)
            else:
                setid = m.isreg() and m.mode & 0o6000
                self.owners[real] = Owner(real, m.uid, m.gid, m.mode & 0o7777 if setid else None)
            return
        try:
            fn()
        except OSError as e:
            if not self.rootless:  # rootless with a single id mapping: ownership collapses, as expected
                raise StorageError(f"chown: {e}") from None

    def _xattrs(self, target: int | str, m: tarfile.TarInfo) -> None:
        for key, value in m.pax_headers.items():
            if key.startswith("SCHILY.xattr."):
                name, data = key[13:], value.encode("utf-8", "surrogateescape")
            elif key.startswith("LIBARCHIVE.xattr."):  # bsdtar: url-encoded name, base64 value
                name, data = unquote(key[17:]), base64.b64decode(value + "=" * (-len(value) % 4))
            else:
                continue
            if is_overlay_xattr(name):
                continue
            try:
                if isinstance(target, int):
                    os.setxattr(target, name, data)
                else:
                    os.setxattr(target, name, data, follow_symlinks=False)
            except OSError as e:
                if e.errno not in _IGNORED_XATTR_ERRNOS:
                    raise

    def _clear(self, d: ResolvedDir, name: str) -> os.stat_result | None:
        """Remove whatever is at `name` (a directory with its content); return what was there."""
        st = _lstat_at(d.fd, name)
        if st is not None:
            self._remove(d.fd, name, st, d.real + (name,))
        return st

    def _remove(self, dfd: int, name: str, st: os.stat_result, real: tuple[str, ...]) -> None:
        if real in self.written or real in self.ancestors:
            self.exact = False  # this layer's own entry (or one below it) goes: the tar-split lost it
        if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
            self._drop_dirs_soon = True  # a resolved directory may have gone: resolve again
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=dfd)
            return
        try:
            shutil.rmtree(name, dir_fd=dfd)  # fd-based: never follows symlinks inside
        except PermissionError:
            force_rmtree(Path(proc_fd_path(dfd, name)))  # rootless: read-only dirs from lower layers

    def _mkdir(self, d: ResolvedDir, name: str, m: tarfile.TarInfo) -> None:
        st = _lstat_at(d.fd, name)
        if st is None or not stat.S_ISDIR(st.st_mode):
            if st is not None:
                self._remove(d.fd, name, st, d.real + (name,))
            os.mkdir(name, 0o700, dir_fd=d.fd)  # writable until finish() sets the real mode
            if self.mode == "overlay" and st is not None and is_whiteout(st):
                # a directory recreated where this layer whited one out: hide the lower one's content
                os.setxattr(proc_fd_path(d.fd, name), opaque_xattr(self.rootless), b"y")
        self._chown(d.real + (name,), m, lambda: os.chown(name, m.uid, m.gid, dir_fd=d.fd, follow_symlinks=False))
        self._xattrs(proc_fd_path(d.fd, name), m)
        self.dirs[d.real + (name,)] = m

    def _root_dir(self, m: tarfile.TarInfo) -> None:
        root = proc_fd_path(self.root.fd)
        self._chown((), m, lambda: os.chown(root, m.uid, m.gid))
        self._xattrs(root, m)
        self.dirs[()] = m

    def _file(self, d: ResolvedDir, name: str, m: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:  # a new name (the usual case) needs no lstat first; O_EXCL never follows a symlink
            fd = os.open(name, flags, 0o600, dir_fd=d.fd)
        except FileExistsError:
            self._clear(d, name)
            fd = os.open(name, flags, 0o600, dir_fd=d.fd)
        try:
            if m.sparse is not None:  # tarfile maps the holes; its reads go into the split as raw bytes
                src = tf.extractfile(m)
                if src is not None:
                    with open(fd, "wb", buffering=CHUNK, closefd=False) as f:
                        shutil.copyfileobj(src, f, CHUNK)
            elif m.size:
                self.tap.content(m.size, d.real + (name,), lambda b: _write_all(fd, b))
            self._chown(d.real + (name,), m, lambda: os.chown(fd, m.uid, m.gid))
            os.chmod(fd, m.mode & 0o7777)  # after chown, which clears setuid/setgid
            self._xattrs(fd, m)  # after chown, which drops security.capability
            os.utime(fd, ns=_ns(m.mtime))
        finally:
            os.close(fd)
        self.content_size += m.size

    def _hardlink(self, d: ResolvedDir, name: str, m: tarfile.TarInfo) -> None:
        src = clean_parts(m.linkname)
        if not src:
            raise UnsafeArchive(f"refusing hard link {m.name!r} to the layer root")
        try:
            s = self.root.resolve_dir(src[:-1], create=False)
        except FileNotFoundError:
            raise UnsafeArchive(f"hard link {m.name!r}: target {m.linkname!r} not in the layer") from None
        try:
            sst = _lstat_at(s.fd, src[-1])
            if sst is None or stat.S_ISDIR(sst.st_mode):
                raise UnsafeArchive(f"hard link {m.name!r}: target {m.linkname!r} missing or a directory")
            dst = _lstat_at(d.fd, name)
            if dst is not None and (dst.st_dev, dst.st_ino) == (sst.st_dev, sst.st_ino):
                return
            self._clear(d, name)
            os.link(src[-1], name, src_dir_fd=s.fd, dst_dir_fd=d.fd, follow_symlinks=False)
        finally:
            os.close(s.fd)

    def _special(self, d: ResolvedDir, name: str, m: tarfile.TarInfo) -> None:
        self._clear(d, name)
        if m.isfifo():
            os.mkfifo(name, 0o600, dir_fd=d.fd)
        else:
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            try:
                os.mknod(name, kind | 0o600, os.makedev(m.devmajor, m.devminor), dir_fd=d.fd)
            except PermissionError:
                self.skipped.append(m.name)
                return
        self._chown(d.real + (name,), m, lambda: os.chown(name, m.uid, m.gid, dir_fd=d.fd, follow_symlinks=False))
        os.chmod(name, m.mode & 0o7777, dir_fd=d.fd)  # just created here: not a symlink
        os.utime(name, ns=_ns(m.mtime), dir_fd=d.fd, follow_symlinks=False)

    # --- whiteouts -------------------------------------------------------------------------

    def _whiteout(self, parts: tuple[str, ...], raw: str) -> None:
        base = parts[-1]
        if base == WH_OPAQUE:
            self._opaque(parts[:-1])
            return
        if base.startswith(WH_META_PREFIX):
            self.skipped.append(raw)
            return
        victim = base[len(WH_PREFIX) :]
        if victim in ("", ".", ".."):
            raise UnsafeArchive(f"refusing whiteout {raw!r}: it names no sibling")
        if self.mode == "vfs":
            self._vfs_whiteout(parts[:-1], victim)
        else:
            self._overlay_whiteout(parts[:-1], victim)

    def _vfs_whiteout(self, dirparts: tuple[str, ...], victim: str) -> None:
        try:
            d = self.root.resolve_dir(dirparts, create=False)
        except (FileNotFoundError, UnsafeArchive):
            return  # no such directory below: nothing to hide
        try:
            if d.real + (victim,) not in self.written:
                self._writable(d, lambda: self._clear(d, victim))
        finally:
            os.close(d.fd)

    def _overlay_whiteout(self, dirparts: tuple[str, ...], victim: str) -> None:
        with self.root.dir(dirparts, create=True) as d:
            if d.real + (victim,) in self.written:
                return
            self._clear(d, victim)
            try:
                os.mknod(victim, stat.S_IFCHR, os.makedev(0, 0), dir_fd=d.fd)
            except PermissionError:
                raise StorageError(
                    "cannot create an overlay whiteout (kernel < 5.8 without privileges?): "
                    "use the vfs storage driver"
                ) from None

    def _opaque(self, dirparts: tuple[str, ...]) -> None:
        with self.root.dir(dirparts, create=True) as d:
            if self.mode == "overlay":
                try:
                    os.setxattr(proc_fd_path(d.fd), opaque_xattr(self.rootless), b"y")
                except OSError as e:
                    raise StorageError(f"cannot mark {'/'.join(dirparts) or '/'} opaque: {e}") from None
            else:
                self._clear_lower(d.fd, d.real)

    def _clear_lower(self, dfd: int, real: tuple[str, ...]) -> None:
        """vfs opaque: drop everything under the directory that this layer did not write."""
        lfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dfd)
        try:
            names = os.listdir(lfd)
        finally:
            os.close(lfd)
        for name in names:
            p = real + (name,)
            st = _lstat_at(dfd, name)
            if st is None:
                continue
            if p not in self.written and p not in self.ancestors:
                self._remove(dfd, name, st, p)
            elif stat.S_ISDIR(st.st_mode):
                with self.root.dir(p, create=False) as sub:
                    self._clear_lower(sub.fd, sub.real)

    def finish(self) -> None:
        """Directory modes and times last: children written earlier changed them."""
        for real, mode in self.unlocked.items():
            if real not in self.dirs:
                self._set_dir(real, mode, None)
        for real, m in reversed(self.dirs.items()):
            self._set_dir(real, m.mode & 0o7777, m.mtime)

    def _set_dir(self, real: tuple[str, ...], mode: int, mtime: float | None) -> None:
        try:
            d = self.root.resolve_dir(real, create=False)
        except (FileNotFoundError, UnsafeArchive):
            return
        try:
            if d.real == real:  # still that directory, not replaced by a symlink since
                os.chmod(proc_fd_path(d.fd), mode)
                if mtime is not None:
                    os.utime(proc_fd_path(d.fd), ns=_ns(mtime))
        finally:
            os.close(d.fd)
