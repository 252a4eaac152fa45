"""/dev in the container: the standard nodes, the usual links, linux.devices and the console pty."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import struct
from pathlib import Path

from podpy.inroot import Root
from podpy.runtime import syscalls as sc
from podpy.runtime.builtin.mounts import fd_path

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# (name, major, minor): what every container gets (the OCI "default devices")
DEFAULT_DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0))
LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
         ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"))  # fmt: skip

TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430
TIOCGPTPEER = 0x5441
TIOCSCTTY = 0x540E
TIOCSWINSZ = 0x5414
_KINDS = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def _node(dir_fd: int, name: str, kind: int, major: int, minor: int, mode: int, bind: bool, host: str) -> None:
    """mknod as real root; in a user namespace mknod is refused, so bind the host's node. `name` is
    made in the directory `dir_fd`, replacing what is there (never followed)."""
    if _exists(dir_fd, name) and (not bind or not _bindable(dir_fd, name)):
        os.unlink(name, dir_fd=dir_fd)
    if bind:
        if not _exists(dir_fd, name):
            flags = os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(name, flags, 0o644, dir_fd=dir_fd))
        target = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            sc.mount(host, fd_path(target), None, sc.MS_BIND)
        finally:
            os.close(target)
        return
    old = os.umask(0)  # mknod is filtered by the umask
    try:
        os.mknod(name, kind | mode, os.makedev(major, minor), dir_fd=dir_fd)
    finally:
        os.umask(old)


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


def _bindable(dir_fd: int, name: str) -> bool:
    """A file or a node (perhaps a bind of the host's node already, e.g. a default device listed
    again with --device): bind over it; unlinking a mount point would fail with EBUSY."""
    mode = os.lstat(name, dir_fd=dir_fd).st_mode
    return stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def populate(dev: int, bind: bool) -> None:
    """Fill a fresh /dev tmpfs (called when config.json mounts one on /dev); `dev`: its descriptor."""
    for name, major, minor in DEFAULT_DEVICES:
        _node(dev, name, stat.S_IFCHR, major, minor, 0o666, bind, f"/dev/{name}")
    for name, target in LINKS:
        if not _exists(dev, name):
            os.symlink(target, name, dir_fd=dev)
    if os.path.exists("/proc/kcore") and not _exists(dev, "core"):
        os.symlink("/proc/kcore", "core", dir_fd=dev)


def create_listed(root: Root, devices: list[dict[str, Any]], bind: bool) -> None:
    """linux.devices entries: {path, type, major, minor, fileMode, uid, gid}, made inside `root`."""
    for d in devices:
        parent, _, name = d["path"].strip("/").rpartition("/")
        if name in ("", ".", ".."):
            raise OSError(errno.EINVAL, f"invalid device path {d['path']!r}")
        dir_fd = root.mkdirs(parent)
        try:
            mode = d.get("fileMode", 0o666) & 0o7777
            _node(dir_fd, name, _KINDS[d.get("type", "c")], d.get("major", 0), d.get("minor", 0), mode, bind,
                  d["path"])  # fmt: skip
            if not bind:
                os.chown(name, d.get("uid", 0), d.get("gid", 0), dir_fd=dir_fd, follow_symlinks=False)
        finally:
            os.close(dir_fd)


def open_pty(pts_dir: Path | int) -> tuple[int, int]:
    """A pty pair from the container's own devpts instance (a path, or its descriptor): (master, slave),
    both close-on-exec."""
    flags = os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC
    if isinstance(pts_dir, int):
        master = os.open("ptmx", flags | os.O_NOFOLLOW, dir_fd=pts_dir)
    else:
        master = os.open(pts_dir / "ptmx", flags)
    try:
        if not stat.S_ISCHR(os.fstat(master).st_mode):
            raise OSError(errno.ENOTTY, "ptmx in the container's devpts is not a device")
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
        slave = fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        os.close(master)
        raise
    return master, slave


def set_size(master: int, size: dict[str, int] | None) -> None:
    """process.consoleSize {height, width}, so the first screen is drawn right."""
    if size and size.get("height") and size.get("width"):
        fcntl.ioctl(master, TIOCSWINSZ, struct.pack("HHHH", size["height"], size["width"], 0, 0))


def pty_number(master: int) -> int:
    return struct.unpack("i", fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"))[0]


def bind_console(root: Root, master: int) -> None:
    """/dev/console is the container's pty slave (what runc does for terminal containers)."""
    src = root.open(f"dev/pts/{pty_number(master)}")
    try:
        console = root.make_file("dev/console", 0o600)
        try:
            sc.mount(fd_path(src), fd_path(console), None, sc.MS_BIND)
        finally:
            os.close(console)
    finally:
        os.close(src)


def make_controlling(slave: int) -> None:
    """Become session leader with `slave` as controlling terminal and as stdin/stdout/stderr."""
    os.setsid()
    fcntl.ioctl(slave, TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
