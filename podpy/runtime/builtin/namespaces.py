"""Namespaces: which to create or join (linux.namespaces), user namespace id maps, setns for exec."""

from __future__ import annotations

import fcntl
import os
import struct

from podpy.errors import PodpyError
from podpy.record import record
from podpy.runtime import syscalls as sc

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# OCI type -> (clone flag, name under /proc/<pid>/ns)
TYPES = {
    "user": (sc.CLONE_NEWUSER, "user"),
    "mount": (sc.CLONE_NEWNS, "mnt"),
    "pid": (sc.CLONE_NEWPID, "pid"),
    "uts": (sc.CLONE_NEWUTS, "uts"),
    "ipc": (sc.CLONE_NEWIPC, "ipc"),
    "network": (sc.CLONE_NEWNET, "net"),
    "cgroup": (sc.CLONE_NEWCGROUP, "cgroup"),
    "time": (sc.CLONE_NEWTIME, "time"),
}
# exec joins in this order: user first (it grants the rights for the rest), pid before the fork
JOIN_ORDER = ("user", "mount", "pid", "uts", "ipc", "network", "cgroup", "time")


@record(frozen=True)
class Plan:
    """Which namespaces to create (unshare) and which to join (setns)."""

    new_user: bool
    user_path: str | None
    unshare_flags: int  # everything but user
    join: tuple[tuple[str, str], ...]  # (type, path) to setns into, after the user namespace

    @property
    def in_userns(self) -> bool:
        return self.new_user or self.user_path is not None


def plan(cfg: dict[str, Any]) -> Plan:
    flags, join = 0, []
    new_user, user_path = False, None
    for ns in (cfg.get("linux") or {}).get("namespaces") or []:
        kind, path = ns.get("type"), ns.get("path")
        if kind not in TYPES:
            raise PodpyError(f"unknown namespace type {kind!r}")
        if kind == "user":
            new_user, user_path = path is None, path
        elif path:
            join.append((kind, path))
        else:
            flags |= TYPES[kind][0]
    return Plan(new_user, user_path, flags, tuple(join))


_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    """Bring `lo` up in the network namespace we are in (a new one starts with it down).

    Two ioctls on a throwaway socket: the ~150 ms pyroute2 import stays off the `run` path."""
    import socket  # start only (a new network namespace): exec does not need it

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        try:
            req = fcntl.ioctl(s, _SIOCGIFFLAGS, struct.pack("16sH22x", b"lo", 0))
            flags = struct.unpack("16sH22x", req)[1]
            if not flags & _IFF_UP:
                fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))
        except OSError as e:
            raise PodpyError(f"bringing up the loopback interface: {e.strerror}") from None


def setns_path(kind: str, path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        sc.setns(fd, TYPES[kind][0])
    except OSError as e:
        raise PodpyError(f"joining {kind} namespace {path}: {e.strerror}") from None
    finally:
        os.close(fd)


def _map_text(maps: list[dict[str, int]]) -> str:
    return "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in maps)


def _single_own(maps: list[dict[str, int]], own: int) -> bool:
    return len(maps) == 1 and maps[0]["hostID"] == own and maps[0]["size"] == 1


def _helper(tool: str, pid: int, maps: list[dict[str, int]]) -> None:
    import subprocess  # lazy: ~2.5 ms, and only rootless id maps need it

    args = [tool, str(pid)] + [str(m[k]) for m in maps for k in ("containerID", "hostID", "size")]
    try:
        res = subprocess.run(args, capture_output=True, text=True)
    except FileNotFoundError:
        raise PodpyError(f"{tool} not found: install uidmap, or use a single-id mapping") from None
    if res.returncode != 0:
        raise PodpyError(f"{tool}: {res.stderr.strip() or 'failed'}")


def write_id_maps(pid: int, uid_maps: list[dict[str, int]], gid_maps: list[dict[str, int]]) -> None:
    """From the parent namespace: root writes any map; an ordinary user writes its own single id
    itself and needs newuidmap/newgidmap (setuid, checking /etc/subuid) for anything more."""
    if not uid_maps or not gid_maps:
        raise PodpyError("a new user namespace needs linux.uidMappings and linux.gidMappings")
    root = os.geteuid() == 0
    try:
        if root or _single_own(uid_maps, os.geteuid()):
            with open(f"/proc/{pid}/uid_map", "w") as f:
                f.write(_map_text(uid_maps))
        else:
            _helper("newuidmap", pid, uid_maps)
        if root or _single_own(gid_maps, os.getegid()):
            if not root:  # an unprivileged gid_map requires giving up setgroups first
                with open(f"/proc/{pid}/setgroups", "w") as f:
                    f.write("deny")
            with open(f"/proc/{pid}/gid_map", "w") as f:
                f.write(_map_text(gid_maps))
        else:
            _helper("newgidmap", pid, gid_maps)
    except OSError as e:
        raise PodpyError(f"writing the user namespace mappings: {e.strerror}") from None


def open_pid_dir(pid: int, start_time: int | None) -> int:
    """An fd on /proc/<pid> of the container's init, checked against its recorded start time: it
    stays bound to that process, so a pid recycled after the check cannot be joined by mistake."""
    gone = PodpyError(f"container process {pid} is not running")
    try:
        fd = os.open(f"/proc/{pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        raise gone from None
    try:
        with open(os.open("stat", os.O_RDONLY | os.O_CLOEXEC, dir_fd=fd), "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        fields = []
    if not fields or fields[0] in (b"Z", b"X") or (start_time is not None and int(fields[19]) != start_time):
        os.close(fd)
        raise gone
    return fd


def open_for_join(pid_dir: int) -> list[tuple[str, int]]:
    """fds of every namespace of the process `pid_dir` (open_pid_dir) that differs from ours, in join
    order (opened before any setns: after joining the mount namespace /proc is the container's)."""
    out = []
    for kind in JOIN_ORDER:
        name = TYPES[kind][1]
        try:
            theirs = os.stat(f"ns/{name}", dir_fd=pid_dir)
            ours = os.stat(f"/proc/self/ns/{name}")
        except FileNotFoundError:
            continue
        if (theirs.st_dev, theirs.st_ino) != (ours.st_dev, ours.st_ino):
            out.append((kind, os.open(f"ns/{name}", os.O_RDONLY | os.O_CLOEXEC, dir_fd=pid_dir)))
    return out


def join_all(fds: list[tuple[str, int]]) -> None:
    for kind, fd in fds:
        try:
            sc.setns(fd, TYPES[kind][0])
        except OSError as e:
            raise PodpyError(f"joining the container's {kind} namespace: {e.strerror}") from None
        finally:
            os.close(fd)
