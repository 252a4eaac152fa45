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
