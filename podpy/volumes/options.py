"""Small value parsers shared by `volume create -o` and the mount flags: sizes, modes, driver options."""

from __future__ import annotations

import re

from podpy.errors import InvalidArgument

DRIVERS = ("local",)
# The local driver's options (Docker's type/device/o, Podman's uid/gid for the _data directory).
LOCAL_OPTS = ("type", "device", "o", "uid", "gid")
_SIZE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgtp])?i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_size(value: str, what: str = "size") -> int:
    """Docker's RAMInBytes: `64m`, `1.5g`, `512k`, `1024`, `2GiB` (binary units) -> bytes."""
    m = _SIZE.fullmatch(value.strip())
    if not m:
        raise InvalidArgument(
            f"invalid {what} {value!r}: expected a number with an optional unit (k, m, g, t)"
        )
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def parse_mode(value: str, what: str = "mode") -> int:
    """An octal file mode such as `1777` or `0o755`."""
    text = value.strip().lower().removeprefix("0o")
    if not text or any(c not in "01234567" for c in text) or int(text, 8) > 0o7777:
        raise InvalidArgument(f"invalid {what} {value!r}: expected an octal mode such as 1777")
    return int(text, 8)


def parse_key_values(items: list[str], what: str) -> dict[str, str]:
    """`KEY=VALUE` items (the value may contain '='); a bare `KEY` means an empty value."""
    out: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key.strip():
            raise InvalidArgument(f"invalid {what} {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def validate_driver(driver: str) -> str:
    if driver not in DRIVERS:
        raise InvalidArgument(
            f"volume driver {driver!r} is not supported: only the local driver is available"
        )
    return driver


def validate_local_options(opts: dict[str, str]) -> dict[str, str]:
    """Check the local driver's options; fill in tmpfs's device (any name works for tmpfs)."""
    out = dict(opts)
    for key in out:
        if key not in LOCAL_OPTS:
            raise InvalidArgument(f"invalid option key {key!r} for the local volume driver "
                                  f"(valid: {', '.join(LOCAL_OPTS)})")  # fmt: skip
    for key in ("uid", "gid"):
        if key in out and not out[key].isdigit():
            raise InvalidArgument(f"invalid volume option {key}={out[key]!r}: must be a number")
    kind = out.get("type", "")
    if kind == "tmpfs" and not out.get("device"):
        out["device"] = "tmpfs"
    if (kind or out.get("o")) and not out.get("device"):
        raise InvalidArgument('missing required option: "device"')
    if out.get("device") and not kind:
        raise InvalidArgument('missing required option: "type"')
    if _is_bind(out) and not out["device"].startswith("/"):
        raise InvalidArgument(
            f"invalid volume option device={out['device']!r}: a bind needs an absolute path"
        )
    return out


def _is_bind(opts: dict[str, str]) -> bool:
    return "bind" in opts.get("o", "").split(",") or "rbind" in opts.get("o", "").split(",")


def device_mount(opts: dict[str, str]) -> tuple[str, str, list[str]] | None:
    """(type, source, options) of the filesystem a local volume with `type`/`device` stands for.

    None for a plain volume (its _data directory is bound). `o=bind` makes a bind of `device`.
    """
    kind, device = opts.get("type", ""), opts.get("device", "")
    if not kind or not device:
        return None
    o = [x for x in opts.get("o", "").split(",") if x]
    return ("bind" if _is_bind(opts) else kind), device, o
