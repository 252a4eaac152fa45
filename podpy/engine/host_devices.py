"""The host's device nodes as OCI linux.devices entries: what --privileged passes in (Podman and
runc's rule: every char and block device under /dev, not in the pseudo-filesystems mounted there)."""

from __future__ import annotations

import os
import stat
from typing import Any

SKIP_DIRS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"})
# the container's own /dev has these (its own console, pty master and the default nodes)
SKIP_NODES = frozenset({"/dev/console", "/dev/ptmx", "/dev/tty", "/dev/null", "/dev/zero", "/dev/full",
                        "/dev/random", "/dev/urandom"})  # fmt: skip


def host_devices(top: str = "/dev") -> list[dict[str, Any]]:
    """Every char/block node under `top` (symlinks not followed), sorted by path."""
    found: list[dict[str, Any]] = []
    try:
        entries = list(os.scandir(top))
    except OSError:
        return found  # vanished or unreadable: nothing to pass
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if entry.name not in SKIP_DIRS:
                found += host_devices(entry.path)
        elif (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) and entry.path not in SKIP_NODES:
            found.append({
                "path": entry.path, "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
                "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
                "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
            })  # fmt: skip
    return sorted(found, key=lambda d: d["path"])


def _node(path: str, dest: str) -> dict[str, Any] | None:
    st = os.stat(path)  # follows symlinks: the device's own numbers (as Docker and Podman do)
    if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        return None
    return {"path": dest, "type": "c" if stat.S_ISCHR(st.st_mode) else "b", "major": os.major(st.st_rdev),
            "minor": os.minor(st.st_rdev), "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid,
            "gid": st.st_gid}  # fmt: skip


def parse_device(arg: str) -> list[dict[str, Any]]:
    """--device HOST[:CONTAINER][:PERMISSIONS] (permissions: r, w, m; default rwm) -> linux.devices
    entries, each with "access" and "hostPath" added. A directory adds every device beneath it."""
    from podpy.errors import InvalidArgument

    parts = arg.split(":")
    if len(parts) > 1 and parts[-1] and set(parts[-1]) <= set("rwm"):
        access = parts.pop()
    else:
        access = "rwm"
    if len(parts) > 2 or not all(p.startswith("/") for p in parts):
        raise InvalidArgument(f"invalid device specification: {arg}")
    host = parts[0]
    dest = parts[1] if len(parts) == 2 else host
    try:
        if os.path.isdir(host):
            found = [dict(d, path=dest + d["path"][len(host.rstrip("/")):], hostPath=d["path"])
                     for d in host_devices(host)]  # fmt: skip
        else:
            node = _node(host, dest)
            if node is None:
                raise InvalidArgument(f"{host} is not a device node: --device needs a char or block device")
            found = [dict(node, hostPath=host)]
    except OSError as e:
        raise InvalidArgument(f"error gathering device information while adding custom device "
                              f'"{host}": {(e.strerror or str(e)).lower()}') from None  # fmt: skip
    return [dict(d, access=access) for d in found]
