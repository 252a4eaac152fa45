"""The init layer: the paths every runtime mounts on or writes to are real directories and files in a
container's rootfs, whatever the image (or a previous run of the container) put there.

An image whose /dev is a symlink to a host directory made runc 1.1.5 create device nodes and links
on the host (it joins "/dev/ptmx" to the rootfs as a string). Docker is immune because it stacks a
read-only init layer holding these paths between the image and the container's writable layer;
podpy does the same for overlay (`make`, the topmost lowerdir; one per store, shared by every
container, as its content never differs), and for vfs, whose rootfs is a copy,
replaces such symlinks in place (`sanitize`). A container that made one of them a symlink in its
writable layer gets it removed at its next start (`unshadow`), so the init layer shows through.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
from pathlib import Path

from podpy.errors import StorageError
from podpy.storage.fsutil import force_rmtree

DIRS = ("dev", "dev/pts", "dev/shm", "dev/mqueue", "proc", "sys", "etc")
FILES = ("dev/console", "etc/hosts", "etc/hostname", "etc/resolv.conf")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def make(path: Path) -> None:
    """Create the init layer at `path` once (built aside and renamed: never half made). Concurrent
    callers each build their own copy; the first rename wins, the others drop theirs."""
    if path.is_dir():
        return
    _drop_stale(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.mkdir(0o755)
    try:
        for d in DIRS:
            (tmp / d).mkdir(0o755, parents=True, exist_ok=True)
            os.chmod(tmp / d, 0o755)
        for f in FILES:
            (tmp / f).touch(0o644)
        os.rename(tmp, path)
    except OSError:
        force_rmtree(tmp)
        if not path.is_dir():  # not a lost race: a real failure
            raise


def _drop_stale(path: Path) -> None:
    """Remove copies that killed processes left half made (`.NAME.PID.tmp`, or `.NAME.tmp` of old)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*tmp"):
        pid = tmp.name[len(path.name) + 2 : -len(".tmp")].rstrip(".")
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # its maker is still at work
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        force_rmtree(tmp)


def unshadow(upper: Path) -> None:
    """Remove symlinks on these paths from an overlay writable layer (the init layer shows through)."""
    _walk_all(upper, replace=False)


def sanitize(rootfs: Path) -> None:
    """Replace symlinks on these paths in a full rootfs copy with real directories and empty files."""
    _walk_all(rootfs, replace=True)


def _walk_all(top: Path, replace: bool) -> None:
    root = os.open(top, _DIR_FLAGS)
    try:
        for path in (*DIRS, *FILES):
            try:
                _fix(root, path.split("/"), path in FILES, replace)
            except OSError as e:
                raise StorageError(f"cannot replace the symlink at /{path} in the container's rootfs: "
                                   f"{e.strerror or e}") from None  # fmt: skip
    finally:
        os.close(root)


def _fix(root: int, parts: list[str], last_is_file: bool, replace: bool) -> None:
    """Walk `parts` below `root` without following anything; a symlink met is removed (and replaced)."""
    cur = os.dup(root)
    try:
        for i, name in enumerate(parts):
            try:
                st = os.lstat(name, dir_fd=cur)
            except FileNotFoundError:
                return  # nothing here: the runtime makes it, inside the root
            if stat.S_ISLNK(st.st_mode):
                os.unlink(name, dir_fd=cur)
                if not replace:
                    return
                if i == len(parts) - 1 and last_is_file:
                    os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=cur))
                    return
                os.mkdir(name, 0o755, dir_fd=cur)
            elif not stat.S_ISDIR(st.st_mode):
                return  # a file where a directory belongs: the runtime refuses it, nothing escapes
            if i == len(parts) - 1:
                return
            try:
                nxt = os.open(name, _DIR_FLAGS, dir_fd=cur)
            except OSError as e:
                if e.errno in (errno.ENOTDIR, errno.ELOOP):  # swapped meanwhile: the next start looks again
                    return
                raise
            os.close(cur)
            cur = nxt
    finally:
        os.close(cur)
