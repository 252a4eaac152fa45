"""-v/--volume, --mount, --tmpfs and --volumes-from: pure parsers into MountRequest values
(podpy.engine.mount_resolution turns them into OCI mounts: volumes looked up or created,
precedence, ordering).
"""

from __future__ import annotations

import csv
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from podpy.errors import InvalidArgument
from podpy.volumes.options import parse_mode, parse_size, validate_driver
from podpy.volumes.store import NAME_RE

BIND, VOLUME, TMPFS = "bind", "volume", "tmpfs"
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
# Flags that may be given on binds, volumes and tmpfs alike (passed to mount(2)).
FS_FLAGS = ("nosuid", "suid", "nodev", "dev", "noexec", "exec")
_IGNORED = ("z", "Z", "cached", "delegated", "consistent")  # SELinux labels, macOS consistency
_BOOL_TRUE = ("1", "t", "true", "yes", "")
_BOOL_FALSE = ("0", "f", "false", "no")
TMPFS_DEFAULTS = ("rw", "noexec", "nosuid", "nodev")


@dataclass(frozen=True)
class MountRequest:
    """One mount the user (or the image) asked for, before volumes are looked up or created."""

    type: str  # bind | volume | tmpfs
    target: str  # absolute, cleaned
    source: str = ""  # bind: host path; volume: name ("" = anonymous); tmpfs: ""
    readonly: bool = False
    options: tuple[str, ...] = ()  # extra mount(2) options: propagation, nosuid, "bind" (non-recursive) ...
    nocopy: bool = False  # volume: do not fill it from the image
    create_source: bool = False  # -v /host/dir: make the directory if missing (Docker); --mount refuses
    volume_opts: tuple[tuple[str, str], ...] = ()  # for a volume this mount creates
    volume_labels: tuple[tuple[str, str], ...] = ()
    mode: str = ""  # the option text as given (inspect's Mode)
    origin: str = "-v"  # -v | --mount | --tmpfs | --volumes-from | image: for error messages

    @property
    def propagation(self) -> str:
        return next((o for o in self.options if o in PROPAGATIONS), "")


# ---- shared helpers ------------------------------------------------------------------------------


def clean_target(path: str, flag: str) -> str:
    if not path:
        raise InvalidArgument(f"{flag}: missing the path in the container")
    if not path.startswith("/"):
        raise InvalidArgument(f'{flag}: invalid container path "{path}", must be an absolute path')
    clean = posixpath.normpath(path)
    clean = "/" + clean.lstrip("/")  # normpath keeps a leading "//"
    if clean == "/":
        raise InvalidArgument(f"{flag}: invalid specification: destination can't be '/'")
    return clean


def parse_bool(value: str, key: str, flag: str = "--mount") -> bool:
    v = value.strip().lower()
    if v in _BOOL_TRUE:
        return True
    if v in _BOOL_FALSE:
        return False
    raise InvalidArgument(f"{flag}: invalid value for {key}: {value!r} (expected true or false)")


def _host_path(src: str, cwd: str | None) -> str | None:
    """An absolute host path for `src` if it names one (absolute, or ./, ../, ~/), else None."""
    if src.startswith("/"):
        return posixpath.normpath(src)
    if src in (".", "..") or src.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(cwd or os.getcwd(), src))
    if src == "~" or src.startswith("~/"):
        return posixpath.normpath(os.path.expanduser(src))
    return None


def _volume_name(src: str, flag: str) -> str:
    if not NAME_RE.fullmatch(src):
        raise InvalidArgument(
            f'{flag}: "{src}" includes invalid characters for a local volume name, only '
            f'"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'
        )
    return src


# ---- -v / --volume -------------------------------------------------------------------------------


def _volume_options(text: str, spec: str) -> tuple[bool, tuple[str, ...], bool]:
    """`ro,z,rshared,nocopy` -> (readonly, mount options, nocopy); errors name the bad option."""
    readonly: bool | None = None
    opts: list[str] = []
    nocopy = False
    for opt in (o.strip() for o in text.split(",")):
        if opt in ("ro", "rw"):
            if readonly is not None and readonly != (opt == "ro"):
                raise InvalidArgument(f'-v {spec}: "ro" and "rw" cannot both be given')
            readonly = opt == "ro"
        elif opt in PROPAGATIONS:
            if any(o in PROPAGATIONS for o in opts):
                raise InvalidArgument(f"-v {spec}: only one propagation mode may be given")
            opts.append(opt)
        elif opt in FS_FLAGS:
            opts.append(opt)
        elif opt in ("bind", "rbind"):
            opts.append(opt)
        elif opt in ("nocopy", "copy"):
            nocopy = opt == "nocopy"
        elif opt in _IGNORED or opt == "":
            continue
        elif opt == "idmap":  # an ID-mapped bind (with --uidmap: the runtime's idmap module)
            opts.append(opt)
        elif opt in ("O", "U") or opt.startswith("idmap="):
            raise InvalidArgument(f"-v {spec}: option {opt!r} is not supported by podpy")
        else:
            raise InvalidArgument(f'-v {spec}: invalid option "{opt}" (valid: ro, rw, z, Z, nocopy, '
                                  f"[r]shared, [r]slave, [r]private, [no]exec, [no]suid, [no]dev)")  # fmt: skip
    return bool(readonly), tuple(opts), nocopy


def _looks_like_options(text: str) -> bool:
    if not text or text.startswith("/"):
        return False
    try:
        _volume_options(text, text)
    except InvalidArgument:
        return False
    return True


def parse_volume(spec: str, cwd: str | None = None) -> MountRequest:
    """`-v [SRC:]DEST[:OPTS]`: SRC a host path (bind) or a volume name; no SRC = anonymous volume."""
    if spec.startswith(":"):
        raise InvalidArgument(f"invalid volume specification: {spec!r}: empty source")
    parts = spec.split(":")
    if len(parts) == 2 and parts[0].startswith("/") and _looks_like_options(parts[1]):
        parts = ["", parts[0], parts[1]]  # /dest:ro, an anonymous volume with options
    elif len(parts) == 1:
        parts = ["", parts[0], ""]
    elif len(parts) == 2:
        parts.append("")
    if len(parts) != 3:
        raise InvalidArgument(f"invalid volume specification: {spec!r}: expected [SOURCE:]DEST[:OPTIONS]")
    src, dest, opt_text = parts
    target = clean_target(dest, f"-v {spec}")
    readonly, opts, nocopy = _volume_options(opt_text, spec) if opt_text else (False, (), False)
    host = _host_path(src, cwd) if src else None
    if host is not None:
        if nocopy:
            raise InvalidArgument(f"-v {spec}: nocopy applies to volumes, not to host directories")
        return MountRequest(BIND, target, host, readonly, opts, create_source=True, mode=opt_text)
    name = _volume_name(src, f"-v {spec}") if src else ""
    if any(o in ("bind", "rbind") for o in opts):
        raise InvalidArgument(f"-v {spec}: bind/rbind apply to host directories, not to volumes")
    return MountRequest(VOLUME, target, name, readonly, opts, nocopy, mode=opt_text)


# ---- --tmpfs -------------------------------------------------------------------------------------


def tmpfs_options(extra: list[str], readonly: bool = False) -> tuple[str, ...]:
    """Docker's tmpfs defaults (rw,noexec,nosuid,nodev) with the user's options winning."""
    opposite = {"rw": "ro", "ro": "rw", "exec": "noexec", "noexec": "exec", "suid": "nosuid",
                "nosuid": "suid", "dev": "nodev", "nodev": "dev"}  # fmt: skip
    given = set(extra) | ({"ro"} if readonly else set())
    out = [o for o in TMPFS_DEFAULTS if opposite[o] not in given and o not in given]
    for o in [*extra, *(["ro"] if readonly else [])]:
        if o not in out:
            out.append(o)
    return tuple(out)


def parse_tmpfs(spec: str) -> MountRequest:
    """`--tmpfs /path[:size=64m,mode=1777,ro,exec,...]` (the options go to the kernel as given)."""
    dest, _, text = spec.partition(":")
    target = clean_target(dest, f"--tmpfs {spec}")
    extra = [o.strip() for o in text.split(",") if o.strip()]
    for o in extra:
        key, eq, value = o.partition("=")
        if not eq:
            continue  # flags (ro, exec, noatime, ...) are the kernel's to judge
        if key == "mode":
            parse_mode(value, f"--tmpfs {spec}: mode")
        elif key in ("size", "nr_blocks", "nr_inodes"):
            if not value.rstrip("%kKmMgG").isdigit():
                raise InvalidArgument(f"--tmpfs {spec}: invalid {key} {value!r}")
        elif key not in ("uid", "gid", "mpol", "huge"):
            raise InvalidArgument(f"--tmpfs {spec}: invalid option {o!r}")
    extra = [o for o in extra if o not in ("tmpcopyup", "notmpcopyup")]
    readonly = "ro" in extra and "rw" not in extra
    return MountRequest(TMPFS, target, "", readonly, tmpfs_options(extra), mode=text, origin="--tmpfs")


# ---- --volumes-from ------------------------------------------------------------------------------


def parse_volumes_from(spec: str) -> tuple[str, str]:
    """`CTR[:ro|rw][,z]` -> (container, "ro" | "rw" | "" = as in that container)."""
    ref, _, text = spec.partition(":")
    if not ref:
        raise InvalidArgument(f"--volumes-from {spec!r}: missing the container name")
    mode = ""
    for opt in (o.strip() for o in text.split(",") if o.strip()):
        if opt in ("ro", "rw"):
            if mode and mode != opt:
                raise InvalidArgument(f'--volumes-from {spec}: "ro" and "rw" cannot both be given')
            mode = opt
        elif opt not in ("z", "Z"):
            raise InvalidArgument(f'--volumes-from {spec}: invalid option "{opt}" (valid: ro, rw, z)')
    return ref, mode


def apply_mode(req: MountRequest, mode: str) -> MountRequest:
    """--volumes-from's ro/rw over a mount copied from another container."""
    if not mode:
        return replace(req, origin="--volumes-from")
    return replace(req, readonly=mode == "ro", mode=mode, origin="--volumes-from")


# ---- --mount -------------------------------------------------------------------------------------


@dataclass
class _MountFields:
    """The fields of one --mount value, parsed."""

    type: str = VOLUME  # Docker's default when type= is missing
    source: str = ""
    target: str = ""
    readonly: bool = False
    options: list[str] = field(default_factory=list)
    nocopy: bool = False
    tmpfs_size: int | None = None
    tmpfs_mode: int | None = None
    volume_opts: dict[str, str] = field(default_factory=dict)
    volume_labels: dict[str, str] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)  # key group ("bind-", "volume-", "tmpfs-") -> key


def _split_csv(spec: str) -> list[str]:
    try:
        return next(csv.reader([spec]))
    except (csv.Error, StopIteration):
        raise InvalidArgument(f"--mount {spec!r}: cannot parse the comma-separated fields") from None


def _mount_flag_field(f: _MountFields, key: str) -> bool:
    """Fields given without a value (`readonly`, `nosuid`, ...); False if `key` is not one."""
    if key in ("readonly", "ro"):
        f.readonly = True
    elif key == "volume-nocopy":
        f.nocopy = True
        f.used.setdefault("volume-", key)
    elif key == "bind-nonrecursive":
        f.options.append("bind")
        f.used.setdefault("bind-", key)
    elif key in FS_FLAGS:
        f.options.append(key)
    elif key in _IGNORED or key in ("tmpcopyup", "notmpcopyup"):
        pass
    else:
        return False
    return True


def _mount_field(f: _MountFields, key: str, value: str, spec: str) -> None:
    """One key=value of --mount (key order is free; each error names the key)."""
    if key == "type":
        if value not in (BIND, VOLUME, TMPFS):
            raise InvalidArgument(f'--mount {spec}: invalid type "{value}" (valid: bind, volume, tmpfs)')
        f.type = value
    elif key in ("source", "src"):
        f.source = value
    elif key in ("target", "dst", "destination"):
        f.target = value
    elif key in ("readonly", "ro"):
        f.readonly = parse_bool(value, key)
    elif key.startswith("bind-"):
        _bind_field(f, key, value, spec)
    elif key.startswith("volume-"):
        _volume_field(f, key, value, spec)
    elif key == "tmpfs-size":
        f.tmpfs_size = parse_size(value, f"--mount {spec}: tmpfs-size")
    elif key == "tmpfs-mode":
        f.tmpfs_mode = parse_mode(value, f"--mount {spec}: tmpfs-mode")
    elif key not in ("consistency", "relabel"):
        raise InvalidArgument(f"--mount {spec}: unexpected key '{key}' in '{key}={value}'")
    for group in ("bind-", "volume-", "tmpfs-"):
        if key.startswith(group):
            f.used.setdefault(group, key)


def _bind_field(f: _MountFields, key: str, value: str, spec: str) -> None:
    if key == "bind-propagation":
        if value not in PROPAGATIONS:
            raise InvalidArgument(f'--mount {spec}: invalid bind-propagation "{value}" '
                                  f"(valid: {', '.join(PROPAGATIONS)})")  # fmt: skip
        f.options.append(value)
    elif key == "bind-nonrecursive":
        if parse_bool(value, key):
            f.options.append("bind")
    elif key == "bind-recursive":
        if value not in ("enabled", "disabled", "writable", "readonly"):
            raise InvalidArgument(f'--mount {spec}: invalid bind-recursive "{value}" '
                                  f"(valid: enabled, disabled, writable, readonly)")  # fmt: skip
        if value == "disabled":
            f.options.append("bind")
    else:
        raise InvalidArgument(f"--mount {spec}: unexpected key '{key}' in '{key}={value}'")


def _volume_field(f: _MountFields, key: str, value: str, spec: str) -> None:
    if key == "volume-driver":
        validate_driver(value)
    elif key == "volume-nocopy":
        f.nocopy = parse_bool(value, key)
    elif key in ("volume-opt", "volume-label"):
        k, eq, v = value.partition("=")
        if not k or (key == "volume-opt" and not eq):
            raise InvalidArgument(f"--mount {spec}: invalid {key} {value!r}: expected KEY=VALUE")
        (f.volume_opts if key == "volume-opt" else f.volume_labels)[k] = v
    else:
        raise InvalidArgument(f"--mount {spec}: unexpected key '{key}' in '{key}={value}'")


def parse_mount(spec: str, cwd: str | None = None) -> MountRequest:
    """`--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...` (Docker's and Podman's keys)."""
    f = _MountFields()
    for item in _split_csv(spec):
        key, eq, value = item.strip().partition("=")
        key = key.strip().lower()
        if not key:
            continue
        if not eq:
            if not _mount_flag_field(f, key):
                raise InvalidArgument(f"--mount {spec}: invalid field '{key}' must be a key=value pair")
            continue
        _mount_field(f, key, value.strip(), spec)
    return _mount_request(f, spec, cwd)


def _mount_request(f: _MountFields, spec: str, cwd: str | None) -> MountRequest:
    if not f.target:
        raise InvalidArgument(f"--mount {spec}: target is required")
    target = clean_target(f.target, f"--mount {spec}")
    for group, key in f.used.items():
        if group != f.type + "-":
            raise InvalidArgument(f"--mount {spec}: cannot mix '{key}' with mount type '{f.type}'")
    opts = tuple(f.options)
    if sum(o in PROPAGATIONS for o in opts) > 1:
        raise InvalidArgument(f"--mount {spec}: only one bind-propagation may be given")
    if f.type == TMPFS:
        if f.source:
            raise InvalidArgument(
                f'--mount {spec}: invalid mount config for type "tmpfs": source is not allowed'
            )
        extra = [*opts]
        if f.tmpfs_size is not None:
            extra.append(f"size={f.tmpfs_size}")
        if f.tmpfs_mode is not None:
            extra.append(f"mode={f.tmpfs_mode:o}")
        return MountRequest(TMPFS, target, "", f.readonly, tmpfs_options(extra, f.readonly), origin="--mount")
    if f.type == BIND:
        if not f.source:
            raise InvalidArgument(f'--mount {spec}: invalid mount config for type "bind": source is required')
        host = _host_path(f.source, cwd)
        if host is None:
            raise InvalidArgument(f"--mount {spec}: bind source {f.source!r} must be an absolute path")
        return MountRequest(BIND, target, host, f.readonly, opts, origin="--mount")
    name = _volume_name(f.source, f"--mount {spec}") if f.source else ""
    return MountRequest(VOLUME, target, name, f.readonly, opts, f.nocopy,
                        volume_opts=tuple(sorted(f.volume_opts.items())),
                        volume_labels=tuple(sorted(f.volume_labels.items())), origin="--mount")  # fmt: skip


def parse_all(volume_flags: Iterable[str] = (), mount_flags: Iterable[str] = (), tmpfs_flags: Iterable[str] = (),
              cwd: str | None = None) -> list[MountRequest]:  # fmt: skip
    """Every explicit mount flag, parsed (all errors before anything is created)."""
    return ([parse_volume(v, cwd) for v in volume_flags] + [parse_mount(m, cwd) for m in mount_flags]
            + [parse_tmpfs(t) for t in tmpfs_flags])  # fmt: skip
