"""Where podpy keeps things: root vs rootless paths (XDG), and the global options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

LOG_LEVELS = ("debug", "info", "warn", "warning", "error", "fatal", "panic")
STORAGE_DRIVERS = ("overlay", "vfs")


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
    st = fallback.stat()
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise PermissionError(f"{fallback} is not a private directory owned by you")
    return fallback


def default_root() -> Path:
    if not is_rootless():
        return Path("/var/lib/podpy")
    return _xdg_data_home() / "podpy"


def default_runroot() -> Path:
    if not is_rootless():
        return Path("/run/podpy")
    return runtime_dir() / "podpy"


def config_dir() -> Path:
    if not is_rootless():
        return Path("/etc/podpy")
    env = os.environ.get("XDG_CONFIG_HOME")
    return (Path(env) if env else Path.home() / ".config") / "podpy"


@dataclass(frozen=True)
class Options:
    """The global options every command shares (`--root`, `--runroot`, ...)."""

    root: Path = field(default_factory=default_root)
    runroot: Path = field(default_factory=default_runroot)
    storage_driver: str | None = None  # None: recorded in the store or auto-detected
    log_level: str = "warn"
    runtime: str | None = None  # None: built-in runtime

    @property
    def rootless(self) -> bool:
        return is_rootless()

    @classmethod
    def from_env(cls, **overrides: object) -> Options:
        """Defaults, then PODPY_ROOT/PODPY_RUNROOT, then explicit overrides (the CLI flags)."""
        kw: dict[str, object] = {}
        if os.environ.get("PODPY_ROOT"):
            kw["root"] = Path(os.environ["PODPY_ROOT"])
        if os.environ.get("PODPY_RUNROOT"):
            kw["runroot"] = Path(os.environ["PODPY_RUNROOT"])
        kw.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("root", "runroot"):
            if key in kw:
                kw[key] = Path(kw[key]).absolute()  # type: ignore[arg-type]
        return cls(**kw)  # type: ignore[arg-type]
