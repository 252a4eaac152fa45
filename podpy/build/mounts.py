"""`RUN --mount=...` values as BuildKit defines them (bind, cache, tmpfs, secret, ssh)."""

from __future__ import annotations

import posixpath

from podpy.record import record

_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_BOOL_KEYS = {"readonly": "readonly", "ro": "readonly", "rw": "readwrite", "readwrite": "readwrite", "required": "required"}
_SHARING = ("shared", "private", "locked")


@record(frozen=True, lean_init=True)
class Mount:
    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""  # a stage or image (bind/cache), empty for the build context
    readonly: bool = True
    id: str = ""
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    required: bool = False
    size: int = 0  # tmpfs bytes, 0 = unlimited
    env: str = ""  # secret exposed as an environment variable

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None, 0, False) or k == "readonly"}


def _fields(raw: str) -> list[str]:
    if not raw:
        return []
    import csv

    return next(csv.reader([raw]))


def mount_from(raw: str) -> str:
    """The `from=` of a raw --mount value (before expansion), or ""."""
    for f in _fields(raw):
        key, _, value = f.partition("=")
        if key.strip().lower() == "from":
            return value
    return ""


def _int(key: str, value: str, base: int = 10) -> int:
    try:
        return int(value, base)
    except ValueError:
        raise ValueError(f"invalid value for {key}: {value}") from None


def parse_mount(raw: str) -> Mount:
    """One expanded --mount value; ValueError says what is wrong."""
    opts: dict = {}
    kind = "bind"
    flags: dict[str, bool] = {}
    for f in _fields(raw):
        key, eq, value = f.partition("=")
        key = key.strip().lower()
        if key in _BOOL_KEYS and (not eq or value.lower() in ("true", "false")):
            flags[_BOOL_KEYS[key]] = not eq or value.lower() == "true"
            continue
        if not eq:
            raise ValueError(f"invalid field '{f}' must be a key=value pair")
        if key == "type":
            if value.lower() not in _TYPES:
                raise ValueError(f"unsupported mount type {value!r}")
            kind = value.lower()
        elif key in ("target", "dst", "destination"):
            opts["target"] = value
        elif key in ("source", "src"):
            opts["source"] = value
        elif key in ("from", "id", "env"):
            opts["from_" if key == "from" else key] = value
        elif key == "sharing":
            if value not in _SHARING:
                raise ValueError(f"unsupported sharing value {value!r}")
            opts["sharing"] = value
        elif key == "mode":
            opts["mode"] = _int(key, value, 8)
        elif key in ("uid", "gid", "size"):
            opts[key] = _int(key, value)
        else:
            raise ValueError(f"unexpected key '{key}' in '{f}'")
    return _finish(kind, opts, flags)


def _finish(kind: str, opts: dict, flags: dict[str, bool]) -> Mount:
    readonly = kind == "bind"
    if "readonly" in flags:
        readonly = flags["readonly"]
    if "readwrite" in flags:
        readonly = not flags["readwrite"]
    target = opts.get("target", "")
    if kind == "secret":
        opts.setdefault("id", posixpath.basename(target) if target else "")
        if not opts["id"]:
            raise ValueError("secret mount requires an id or a target")
        if not target and not opts.get("env"):
            target = "/run/secrets/" + opts["id"]
    elif kind == "ssh":
        opts.setdefault("id", "default")
        target = target or "/run/buildkit/ssh_agent.0"
    elif not target:
        raise ValueError(f"mount type {kind} requires a target")
    if kind == "cache":
        opts.setdefault("id", target)
    if kind != "cache" and opts.get("sharing"):
        raise ValueError(f"sharing is only supported for cache mounts, not {kind}")
    if kind != "tmpfs" and opts.get("size"):
        raise ValueError(f"size is only supported for tmpfs mounts, not {kind}")
    opts["target"] = target  # a relative target is under the working directory (expand.py joins it)
    return Mount(type=kind, readonly=readonly, required=flags.get("required", False), **opts)
