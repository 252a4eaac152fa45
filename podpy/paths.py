"""Default paths, root vs rootless (XDG). Only `os` and `pathlib`: completion imports this."""

from __future__ import annotations

import os
from pathlib import Path


def is_rootless() -> bool:
    return os.geteuid() != 0


def _xdg_data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env) if env else Path.home() / ".local" / "share"


def runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR when usable, else a private directory under /tmp (like podman)."""
    if not is_rootless():
        return Path("/run")
    env = os.environ.get("XDG_RUNTIME_DIR")
    if env and os.path.isdir(env) and os.access(env, os.W_OK):
        return Path(env)
    fallback = Path(f"/tmp/podpy-run-{os.geteuid()}")
    fallback.mkdir(mode=0o700, exist_ok=True)
    st = fallback.lstat()
    if st.st_uid != os.geteuid() or st.st_mode & 0o077 or not fallback.is_dir():
        raise PermissionError(f"{fallback} is not a private directory owned by you")
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
