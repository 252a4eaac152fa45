"""Copy-up: fill a new volume with what the image has at the mount point, as Docker does.

The source is the image's layer diffs read as one merged tree (top first, overlay whiteouts and
opaque directories honoured), never a mounted rootfs. Symlinks in the image are resolved inside
that tree as if it were `/`, and copied as symlinks, never followed. The destination is written
through directory descriptors with O_NOFOLLOW and O_EXCL, so nothing a container put in the volume
(a symlink to /etc, say) can redirect a write outside it; existing names are left alone.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from podpy.errors import StorageError
from podpy.inroot import walk_links
from podpy.storage.fsutil import is_opaque, is_overlay_xattr, is_whiteout, lstat_or_none

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class MergedTree:
    """Layer diffs (top first) seen as one tree, without mounting them."""

    def __init__(self, diffs: list[Path]) -> None:
        self.diffs = diffs

    def _probe(self, diff: Path, parts: list[str]) -> tuple[Path | None, bool, bool]:
        """(entry in this layer, hidden, blocked): hidden = a layer above the lower ones ends the
        path here (whiteout or non-directory on the way); blocked = an opaque directory on the way."""
        cur = diff
        blocked = False
        for name in parts[:-1]:
            cur = cur / name
            st = lstat_or_none(cur)
            if st is None:
                return None, False, blocked
            if is_whiteout(st) or not stat.S_ISDIR(st.st_mode):
                return None, True, blocked
            blocked = blocked or is_opaque(cur)
        path = cur / parts[-1] if parts else cur
        return (path if lstat_or_none(path) is not None else None), False, blocked

    def lookup(self, parts: list[str]) -> Path | None:
        """The host path of the visible entry `parts` (no symlink followed), None if absent."""
        for diff in self.diffs:
            path, hidden, blocked = self._probe(diff, parts)
            if path is not None:
                return None if is_whiteout(os.lstat(path)) else path
            if hidden or blocked:
                return None
        return None

    def listdir(self, parts: list[str]) -> list[str]:
        seen: dict[str, bool] = {}
        for diff in self.diffs:
            path, hidden, blocked = self._probe(diff, parts)
            if path is None:
                if hidden or blocked:
                    break
                continue
            st = os.lstat(path)
            if is_whiteout(st) or not stat.S_ISDIR(st.st_mode):
                break
            for name in os.listdir(path):
                if name not in seen:
                    seen[name] = not is_whiteout(os.lstat(path / name))
            if blocked or is_opaque(path):
                break
        return sorted(n for n, visible in seen.items() if visible)

    def resolve(self, path: str) -> list[str] | None:
        """`path` with every symlink resolved inside the tree (podpy.inroot's rules); None when missing."""

        def link_of(parts: tuple[str, ...]) -> str | None:
            entry = self.lookup(list(parts))
            if entry is None:
                raise FileNotFoundError(path)
            return os.readlink(entry) if entry.is_symlink() else None

        try:
            return list(walk_links(path, link_of))
        except OSError:  # missing, or a loop
            return None


def copy_up(diffs: list[Path], container_path: str, dest: Path) -> bool:
    """Copy the image's tree at `container_path` into the directory `dest`; True if it was a directory.

    The mount point's own owner and mode go to `dest` too (a volume on /var/lib/mysql must stay
    writable by mysql). `dest` itself must not be a symlink.
    """
    tree = MergedTree(diffs)
    parts = tree.resolve(container_path)
    src = tree.lookup(parts) if parts is not None else None
    if src is None or not stat.S_ISDIR(os.lstat(src).st_mode):
        return False
    try:
        fd = os.open(dest, _DIR_FLAGS)
    except OSError as e:
        raise StorageError(f"copy-up into {dest}: {e.strerror}") from None
    try:
        _copy_dir(tree, parts or [], fd)
        _copy_meta(src, os.lstat(src), fd)
    finally:
        os.close(fd)
    return True


def _copy_dir(tree: MergedTree, parts: list[str], dst_fd: int) -> None:
    for name in tree.listdir(parts):
        src = tree.lookup([*parts, name])
        if src is None:
            continue
        try:
            _copy_entry(tree, [*parts, name], src, name, dst_fd)
        except FileExistsError:
            continue  # already in the volume: the volume's data wins
        except OSError as e:
            raise StorageError(f"copy-up of /{'/'.join([*parts, name])}: {e.strerror or e}") from None


def _copy_entry(tree: MergedTree, parts: list[str], src: Path, name: str, dst_fd: int) -> None:
    st = os.lstat(src)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        os.mkdir(name, 0o700, dir_fd=dst_fd)
        fd = os.open(name, _DIR_FLAGS, dir_fd=dst_fd)
        try:
            _copy_dir(tree, parts, fd)
            _copy_meta(src, st, fd)
        finally:
            os.close(fd)
    elif stat.S_ISREG(mode):
        _copy_file(src, st, name, dst_fd)
    elif stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), name, dir_fd=dst_fd)
        _chown(lambda: os.chown(name, st.st_uid, st.st_gid, dir_fd=dst_fd, follow_symlinks=False))
    elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        try:
            os.mknod(name, mode, st.st_rdev, dir_fd=dst_fd)
        except PermissionError:
            return  # devices need root: a rootless copy leaves them out, as extraction does
        _chown(lambda: os.chown(name, st.st_uid, st.st_gid, dir_fd=dst_fd, follow_symlinks=False))
    # sockets are not copied (they cannot be)


def _copy_file(src: Path, st: os.stat_result, name: str, dst_fd: int) -> None:
    sfd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        dfd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                      dir_fd=dst_fd)  # fmt: skip
        try:
            _copy_data(sfd, dfd, st.st_size)
            _copy_meta(src, st, dfd)
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)


def _copy_data(sfd: int, dfd: int, size: int) -> None:
    offset = 0
    while offset < size:
        try:
            n = os.copy_file_range(sfd, dfd, size - offset)
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            n = os.write(dfd, os.pread(sfd, min(1 << 20, size - offset), offset))
        if n == 0:
            break  # the source shrank: take what there is
        offset += n


def _copy_meta(src: Path, st: os.stat_result, fd: int) -> None:
    """Owner, mode, xattrs and times, through the open descriptor (never a path)."""
    _chown(lambda: os.fchown(fd, st.st_uid, st.st_gid))
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        names = []
    for attr in names:
        if is_overlay_xattr(attr):
            continue
        try:
            os.setxattr(fd, attr, os.getxattr(src, attr, follow_symlinks=False))
        except OSError:
            continue  # e.g. security.* without the privilege: the data matters, not this
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _chown(fn) -> None:  # type: ignore[no-untyped-def]
    try:
        fn()
    except PermissionError:
        pass  # rootless: the ids of the image are not ours to give
