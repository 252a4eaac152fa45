"""Default paths, root vs rootless (XDG). Only `os`, `stat` and `pathlib`: completion imports this."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def is_rootless() -> bool:
    return os.geteuid() != 0


def is_cgroup_v2() -> bool:
    """Unified mode: /sys/fs/cgroup itself is cgroup2 (hybrid hosts use their v1 controllers)."""
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def _xdg_data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env) if env else Path.home() / ".local" / "share"


def runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR when usable, else /run/user/UID, else /tmp/podpy-run-UID (Podman's order; `su -`
    and `sudo -u` leave XDG_RUNTIME_DIR unset). The /tmp fallback must be the user's own 0700 dir."""
    if not is_rootless():
        return Path("/run")
    uid = os.geteuid()
    env = os.environ.get("XDG_RUNTIME_DIR")
    for cand in (env, f"/run/user/{uid}"):
        if cand and os.path.isdir(cand) and os.access(cand, os.W_OK | os.X_OK) and os.stat(cand).st_uid == uid:
            return Path(cand)
    fallback = Path(f"/tmp/podpy-run-{uid}")
    try:
        fallback.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = fallback.lstat()
    if st.st_uid != uid or not stat.S_ISDIR(st.st_mode):
        raise PermissionError(f"{fallback} is not a directory owned by you (uid {uid}): refusing to keep "
                              "runtime state there; set XDG_RUNTIME_DIR to a private directory")  # fmt: skip
    if st.st_mode & 0o077:
        os.chmod(fallback, 0o700)
    return fallback


def default_root() -> Path:
    if env := os.environ.get("PODPY_ROOT"):
        return Path(env)
    if not is_rootless():
        return Path("/var/lib/podpy")
    return _xdg_data_home() / "podpy"


def default_runroot() -> Path:
    if env := os.environ.get("PODPY_RUNROOT"):
        return Path(env)
    if not is_rootless():
        return Path("/run/podpy")
    return runtime_dir() / "podpy"


def config_dir() -> Path:
    if not is_rootless():
        return Path("/etc/podpy")
    env = os.environ.get("XDG_CONFIG_HOME")
    return (Path(env) if env else Path.home() / ".config") / "podpy"
