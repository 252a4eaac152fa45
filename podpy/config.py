"""Where podpy keeps things: root vs rootless paths (XDG), the global options, and the defaults it
takes from Podman's containers.conf."""

from __future__ import annotations

import os
from pathlib import Path

from podpy.paths import config_dir, default_root, default_runroot, is_rootless, runtime_dir
from podpy.record import record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ContainersConf", "Options", "config_dir", "containers_conf", "default_root", "default_runroot",
           "is_rootless", "runtime_dir"]  # fmt: skip

LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")
CGROUP_MANAGERS = ("cgroupfs", "systemd")  # accepted; podpy manages cgroups through the filesystem either way
EVENTS_BACKENDS = ("file", "journald", "none")
STORAGE_DRIVERS = ("overlay", "vfs")


@record(frozen=True)
class Options:
    """The global options every command shares (`--root`, `--runroot`, ...)."""

    root: Path
    runroot: Path
    storage_driver: str | None  # None: recorded in the store or auto-detected
    log_level: str
    runtime: str | None  # None: built-in runtime
    runtime_flags: tuple[str, ...]  # --runtime-flag: given to an external runtime before each command
    cgroup_manager: str  # cgroupfs or systemd
    events_backend: str  # --events-backend: file, journald or none (no events written)
    tmpdir: Path | None  # --tmpdir: podpy's own temporary files

    def __init__(self, root: Path | None = None, runroot: Path | None = None, storage_driver: str | None = None,
                 log_level: str = "warn", runtime: str | None = None, runtime_flags: tuple[str, ...] = (),
                 cgroup_manager: str = "cgroupfs", events_backend: str = "file", tmpdir: Path | None = None) -> None:  # fmt: skip
        self.__dict__.update(root=default_root() if root is None else root,
                             runroot=default_runroot() if runroot is None else runroot, storage_driver=storage_driver,
                             log_level=log_level, runtime=runtime, runtime_flags=runtime_flags,
                             cgroup_manager=cgroup_manager, events_backend=events_backend, tmpdir=tmpdir)  # fmt: skip

    @property
    def rootless(self) -> bool:
        return is_rootless()

    @classmethod
    def from_env(cls, **overrides: object) -> Options:
        """Defaults (PODPY_ROOT/PODPY_RUNROOT when set), then explicit overrides (the CLI flags)."""
        kw: dict[str, object] = {}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("root", "runroot", "tmpdir"):
            if key in kw:
                kw[key] = Path(kw[key]).absolute()  # type: ignore[arg-type]
        return cls(**kw)  # type: ignore[arg-type]


@record(frozen=True)
class ContainersConf:
    """The `[containers]` keys podpy honours (containers.conf(5)); None/() when not configured."""

    log_driver: str | None = None
    log_size_max: int | None = None  # bytes; -1 unlimited
    default_ulimits: tuple[str, ...] | None = None  # "nofile=1024:2048"


def containers_conf_files() -> list[Path]:
    """Podman's order: $CONTAINERS_CONF alone when set; else the system files, their .d drop-ins and
    (rootless) the user's; $CONTAINERS_CONF_OVERRIDE last. Later files override earlier keys."""
    if env := os.environ.get("CONTAINERS_CONF"):
        files = [Path(env)]
    else:
        dirs = [Path("/usr/share/containers"), Path("/etc/containers")]
        if is_rootless():
            xdg = os.environ.get("XDG_CONFIG_HOME")
            dirs.append((Path(xdg) if xdg else Path.home() / ".config") / "containers")
        files = []
        for d in dirs:
            files.append(d / "containers.conf")
            try:
                files += sorted((d / "containers.conf.d").glob("*.conf"))
            except OSError:
                continue
    if override := os.environ.get("CONTAINERS_CONF_OVERRIDE"):
        files.append(Path(override))
    return files


def containers_conf(cache: Path | None = None) -> ContainersConf:
    """The merged `[containers]` table (only `create`/`run` ask: tomllib is imported when a file exists).

    With `cache` (a file under the runroot) the result is kept there, keyed by each file's path, mtime,
    size and inode: tomllib's import and the parse (5-15 ms per create) are paid once per change."""
    files = containers_conf_files()
    if cache is None:
        return _parse_conf(files)
    key = [[str(p), *_stamp(p)] for p in files]
    hit = _cached_conf(cache, key)
    if hit is not None:
        return hit
    conf = _parse_conf(files)
    try:
        from podpy.state.atomic import atomic_write_json

        doc = {"log_driver": conf.log_driver, "log_size_max": conf.log_size_max,
               "default_ulimits": None if conf.default_ulimits is None else list(conf.default_ulimits)}  # fmt: skip
        atomic_write_json(cache, {"key": key, "conf": doc}, durable=False)  # a cache: no fsync
    except OSError:
        pass
    return conf


def _stamp(path: Path) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return []
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _cached_conf(cache: Path, key: list[list[Any]]) -> ContainersConf | None:
    import json

    try:
        doc = json.loads(cache.read_bytes())
        if doc.get("key") != key:
            return None
        conf = doc["conf"]
        ulimits = conf["default_ulimits"]
        return ContainersConf(log_driver=conf["log_driver"], log_size_max=conf["log_size_max"],
                              default_ulimits=None if ulimits is None else tuple(ulimits))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _parse_conf(files: list[Path]) -> ContainersConf:
    table: dict[str, Any] = {}
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        import tomllib

        from podpy.errors import InvalidArgument

        try:
            doc = tomllib.loads(raw.decode())
        except (ValueError, UnicodeDecodeError) as e:
            raise InvalidArgument(f"reading {path}: {e}") from None
        table.update(doc.get("containers") or {})
    ulimits = table.get("default_ulimits")
    size = table.get("log_size_max")
    return ContainersConf(
        log_driver=str(table["log_driver"]) if table.get("log_driver") else None,
        log_size_max=int(size) if isinstance(size, int) else None,
        default_ulimits=tuple(str(u) for u in ulimits) if isinstance(ulimits, list) else None,
    )
