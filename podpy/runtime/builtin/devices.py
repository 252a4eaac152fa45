"""/dev in the container: the standard nodes, the usual links, linux.devices and the console pty."""

from __future__ import annotations

import fcntl
import os
import stat
import struct
from pathlib import Path
from typing import Any

from podpy.runtime import syscalls as sc

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


def _node(path: Path, kind: int, major: int, minor: int, mode: int, bind: bool, host: str) -> None:
    """mknod as real root; in a user namespace mknod is refused, so bind the host's node."""
    if bind:
        if not path.exists():
            path.touch(mode=0o644)
        sc.mount(host, path, None, sc.MS_BIND)
        return
    if path.exists():
        path.unlink()
    os.mknod(path, kind | mode, os.makedev(major, minor))
    os.chmod(path, mode)  # mknod is filtered by the umask


def populate(dev: Path, bind: bool) -> None:
    """Fill a fresh /dev tmpfs (called when config.json mounts one on /dev)."""
    for name, major, minor in DEFAULT_DEVICES:
        _node(dev / name, stat.S_IFCHR, major, minor, 0o666, bind, f"/dev/{name}")
    for name, target in LINKS:
        if not os.path.lexists(dev / name):
            os.symlink(target, dev / name)
    if os.path.exists("/proc/kcore") and not os.path.lexists(dev / "core"):
        os.symlink("/proc/kcore", dev / "core")


def create_listed(rootfs: Path, devices: list[dict[str, Any]], bind: bool) -> None:
    """linux.devices entries: {path, type, major, minor, fileMode, uid, gid}."""
    for d in devices:
        path = rootfs / d["path"].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = d.get("fileMode", 0o666) & 0o7777
        _node(path, _KINDS[d.get("type", "c")], d.get("major", 0), d.get("minor", 0), mode, bind, d["path"])
        if not bind:
            os.chown(path, d.get("uid", 0), d.get("gid", 0))


def open_pty(pts_dir: Path) -> tuple[int, int]:
    """A pty pair from the container's own devpts instance: (master, slave), both close-on-exec."""
    master = os.open(pts_dir / "ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
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


def bind_console(rootfs: Path, master: int) -> None:
    """/dev/console is the container's pty slave (what runc does for terminal containers)."""
    console = rootfs / "dev" / "console"
    if not console.exists():
        console.touch(mode=0o600)
    sc.mount(str(rootfs / "dev" / "pts" / str(pty_number(master))), console, None, sc.MS_BIND)


def make_controlling(slave: int) -> None:
    """Become session leader with `slave` as controlling terminal and as stdin/stdout/stderr."""
    os.setsid()
    fcntl.ioctl(slave, TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
