"""Where podpy keeps things: root vs rootless paths (XDG), and the global options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from podpy.paths import config_dir, default_root, default_runroot, is_rootless, runtime_dir

__all__ = ["Options", "config_dir", "default_root", "default_runroot", "is_rootless", "runtime_dir"]

LOG_LEVELS = ("debug", "info", "warn", "warning", "error", "fatal", "panic")
STORAGE_DRIVERS = ("overlay", "vfs")


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
        """Defaults (PODPY_ROOT/PODPY_RUNROOT when set), then explicit overrides (the CLI flags)."""
        kw: dict[str, object] = {}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("root", "runroot"):
            if key in kw:
                kw[key] = Path(kw[key]).absolute()  # type: ignore[arg-type]
        return cls(**kw)  # type: ignore[arg-type]
