"""`--log-driver` and `--log-opt` (Docker/Podman syntax) with containers.conf defaults -> LogConfig."""

from __future__ import annotations

import os
import re
from pathlib import Path

from podpy.config import ContainersConf
from podpy.errors import InvalidArgument
from podpy.supervisor.logfile import DRIVERS, K8S_FILE, NONE, PASSTHROUGH, LogConfig

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

ALIASES = {"json-file": K8S_FILE}  # Podman accepts Docker's default name for scripts
OPTS = ("max-size", "max-file", "path", "tag")
# Docker and Podman read max-size with units.FromHumanSize: decimal units (10k = 10000 bytes)
_SIZE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgtp])?i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}


def parse_log_size(value: str) -> int:
    if value.strip() == "-1":
        return -1  # unlimited, as Docker accepts
    m = _SIZE.fullmatch(value.strip())
    if not m:
        raise InvalidArgument(f"invalid log option max-size={value!r}: expected a size such as 10k or 1m")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def parse_log_config(driver: str | None, opts: list[str], conf: ContainersConf) -> LogConfig:
    name = driver or conf.log_driver or K8S_FILE
    name = ALIASES.get(name, name)
    if name not in DRIVERS:
        raise InvalidArgument(f"invalid log driver {name!r}: podpy supports {', '.join(DRIVERS)} (and json-file)")
    given: dict[str, str] = {}
    for item in opts:
        key, eq, value = item.partition("=")
        if not eq or key not in OPTS:
            raise InvalidArgument(f"invalid log option {item!r}: expected one of {', '.join(o + '=...' for o in OPTS)}")
        given[key] = value
    size = parse_log_size(given["max-size"]) if "max-size" in given else conf.log_size_max
    if size is None or size <= 0:
        size = -1
    max_file = _max_file(given.get("max-file"))
    if max_file > 1 and size < 0:  # Docker's rule: nothing would ever rotate
        raise InvalidArgument("invalid log option max-file: it cannot be greater than 1 when max-size is not set")
    return LogConfig(driver=name, path=_path(given.get("path")), max_size=size, max_file=max_file,
                     options=given)  # fmt: skip


def _max_file(value: str | None) -> int:
    if value is None:
        return 1  # Docker's default: the live file only
    if not value.strip().isdigit() or int(value) < 1:
        raise InvalidArgument(f"invalid log option max-file={value!r}: expected a number of files >= 1")
    return int(value)


def _path(value: str | None) -> str:
    if not value:
        return ""
    path = Path(value)
    if not path.is_absolute():
        raise InvalidArgument(f"invalid log option path={value!r}: must be an absolute path")
    if not path.parent.is_dir():
        raise InvalidArgument(f"invalid log option path={value!r}: {path.parent} is not a directory")
    return value


def check_for_run(driver: str | None, detach: bool, tty: bool, handed: tuple[int, ...]) -> None:
    """passthrough hands the container the CLI's own stdio (`handed`): there must be a CLI that
    stays, and never a terminal (a process holding one can push input into it with TIOCSTI)."""
    if driver != PASSTHROUGH:
        return
    if detach:
        raise InvalidArgument("the passthrough log driver cannot be used with --detach: it needs the caller's stdio")
    if tty or any(os.isatty(fd) for fd in handed):
        raise InvalidArgument("the passthrough log driver cannot be used on a terminal (--tty, or stdio is a tty)")


def human_size(n: float) -> str:
    """go-units HumanSize (4 significant digits, decimal units), as Podman's inspect shows LogConfig.Size."""
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000
        i += 1
    return f"{n:.4g}{units[i]}"


def inspect_log_config(lc: LogConfig, path: Path) -> dict[str, Any]:
    """HostConfig.LogConfig as Podman shows it (Config: the --log-opt values, null when none)."""
    return {"Type": lc.driver, "Config": dict(lc.options) or None,
            "Path": "" if lc.driver == NONE or lc.driver == PASSTHROUGH else str(path),
            "Tag": lc.options.get("tag", ""), "Size": human_size(lc.max_size)}  # fmt: skip


def no_logs_error(lc: LogConfig) -> InvalidArgument | None:
    """Podman's answer for a container whose output was not kept."""
    if lc.driver in (NONE, PASSTHROUGH):
        return InvalidArgument(f"this container is using the '{lc.driver}' log driver, cannot read logs: "
                               "this container is not logging output")  # fmt: skip
    return None
