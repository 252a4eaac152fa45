"""OCI mount entries -> mount(2) calls: option parsing, bind + remount, cgroup mounts, masking.

Runs inside the container's new mount namespace, before pivot_root (paths are host paths under the
rootfs) except mask/readonly helpers, which run after it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.runtime import syscalls as sc
from podpy.runtime.builtin import cgroups
from podpy.runtime.securejoin import secure_join

# option -> (flag, set?) ; "set" False clears the flag
_FLAGS: dict[str, tuple[int, bool]] = {
    "ro": (sc.MS_RDONLY, True), "rw": (sc.MS_RDONLY, False),
    "nosuid": (sc.MS_NOSUID, True), "suid": (sc.MS_NOSUID, False),
    "nodev": (sc.MS_NODEV, True), "dev": (sc.MS_NODEV, False),
    "noexec": (sc.MS_NOEXEC, True), "exec": (sc.MS_NOEXEC, False),
    "sync": (sc.MS_SYNCHRONOUS, True), "async": (sc.MS_SYNCHRONOUS, False),
    "dirsync": (sc.MS_DIRSYNC, True), "remount": (sc.MS_REMOUNT, True),
    "mand": (sc.MS_MANDLOCK, True), "nomand": (sc.MS_MANDLOCK, False),
    "noatime": (sc.MS_NOATIME, True), "atime": (sc.MS_NOATIME, False),
    "nodiratime": (sc.MS_NODIRATIME, True), "diratime": (sc.MS_NODIRATIME, False),
    "relatime": (sc.MS_RELATIME, True), "norelatime": (sc.MS_RELATIME, False),
    "strictatime": (sc.MS_STRICTATIME, True), "nostrictatime": (sc.MS_STRICTATIME, False),
    "nosymfollow": (sc.MS_NOSYMFOLLOW, True), "symfollow": (sc.MS_NOSYMFOLLOW, False),
    "bind": (sc.MS_BIND, True), "rbind": (sc.MS_BIND | sc.MS_REC, True), "defaults": (0, True),
}  # fmt: skip
_PROPAGATION = {
    "private": sc.MS_PRIVATE, "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "shared": sc.MS_SHARED, "rshared": sc.MS_SHARED | sc.MS_REC,
    "slave": sc.MS_SLAVE, "rslave": sc.MS_SLAVE | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE, "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}  # fmt: skip
_IGNORED = {"tmpcopyup", "idmap", "ridmap", "copy", "nocopy", "z", "Z", "U", "O"}
_ATIME = sc.MS_NOATIME | sc.MS_RELATIME | sc.MS_STRICTATIME | sc.MS_NODIRATIME
# statvfs f_flag -> MS_* (ST_RELATIME differs; the others share values)
_ST_TO_MS = ((1, sc.MS_RDONLY), (2, sc.MS_NOSUID), (4, sc.MS_NODEV), (8, sc.MS_NOEXEC),
             (1024, sc.MS_NOATIME), (2048, sc.MS_NODIRATIME), (4096, sc.MS_RELATIME))  # fmt: skip
_LOCKABLE = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC


@dataclass
class Options:
    flags: int = 0
    propagation: list[int] = field(default_factory=list)
    data: list[str] = field(default_factory=list)


def parse_options(options: list[str]) -> Options:
    out = Options()
    for opt in options:
        if opt in _FLAGS:
            flag, on = _FLAGS[opt]
            out.flags = out.flags | flag if on else out.flags & ~flag
        elif opt in _PROPAGATION:
            out.propagation.append(_PROPAGATION[opt])
        elif opt not in _IGNORED:
            out.data.append(opt)
    return out


def current_flags(path: str | Path) -> int:
    st = os.statvfs(path).f_flag
    return sum(ms for bit, ms in _ST_TO_MS if st & bit)


def remount(path: str | Path, flags: int) -> None:
    """Remount a bind with `flags`, keeping flags the kernel may lock (in a user namespace a locked
    nosuid/nodev/noexec or atime flag cannot be cleared, so ask for them again)."""
    cur = current_flags(path)
    keep = cur & _LOCKABLE
    if not flags & _ATIME:
        keep |= cur & _ATIME
    sc.mount(None, path, None, sc.MS_REMOUNT | sc.MS_BIND | flags | keep)


def _make_target(dest: Path, is_dir: bool) -> None:
    if is_dir:
        dest.mkdir(parents=True, exist_ok=True)
    elif not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.touch()


def _bind(src: str, dest: Path, opts: Options) -> None:
    _make_target(dest, os.path.isdir(src))
    sc.mount(src, dest, None, opts.flags & (sc.MS_BIND | sc.MS_REC))
    extra = opts.flags & ~(sc.MS_BIND | sc.MS_REC | sc.MS_REMOUNT)
    if extra:
        remount(dest, extra)


def _cgroup_v1(dest: Path, opts: Options, cg: cgroups.CgroupSet | None) -> None:
    """A tmpfs with the container's cgroup bound from every v1 hierarchy (runc's layout on v1).
    The directories come from `cg` (we may not be in them yet), else from our own /proc/self/cgroup."""
    dest.mkdir(parents=True, exist_ok=True)
    base = opts.flags & (sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    sc.mount("tmpfs", dest, "tmpfs", base, "mode=755")
    own = cgroups.own_cgroups()
    for key, h in cgroups.hierarchies().items():
        if key == cgroups.UNIFIED:
            continue
        name = os.path.basename(h.mountpoint)
        target = dest / name
        target.mkdir()
        if cg is not None and key in cg.paths:
            src = cg.paths[key]
        else:
            src = os.path.join(h.mountpoint, os.path.relpath(own[key], h.root))
        sc.mount(src, target, None, sc.MS_BIND | sc.MS_REC)
        remount(target, opts.flags & ~sc.MS_REC)
        for ctl in key.split(","):  # co-mounted controllers get a link per name (cpu -> cpu,cpuacct)
            if ctl != name and not ctl.startswith("name="):
                os.symlink(name, dest / ctl)
    if opts.flags & sc.MS_RDONLY:
        remount(dest, opts.flags)


def _cgroup(dest: Path, opts: Options, cg: cgroups.CgroupSet | None) -> None:
    if not cgroups.unified_mode():
        _cgroup_v1(dest, opts, cg)
        return
    dest.mkdir(parents=True, exist_ok=True)
    try:
        sc.mount("cgroup2", dest, "cgroup2", opts.flags)
    except OSError as e:  # no cgroup namespace of our own: show the host's tree read-only
        if e.errno not in (errno.EPERM, errno.EBUSY):
            raise
        sc.mount("/sys/fs/cgroup", dest, None, sc.MS_BIND | sc.MS_REC)
        remount(dest, opts.flags)


def _fs(kind: str, source: str, dest: Path, opts: Options) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    data = ",".join(opts.data) or None
    try:
        sc.mount(source, dest, kind, opts.flags & ~sc.MS_REMOUNT, data)
    except OSError as e:
        if kind != "sysfs" or e.errno != errno.EPERM:
            raise
        # sysfs cannot be mounted in a user namespace without owning a net ns: bind the host's
        _bind("/sys", dest, Options(opts.flags | sc.MS_BIND | sc.MS_REC))


def mount_entry(m: dict[str, Any], rootfs: Path, bundle: Path, cg: cgroups.CgroupSet | None = None) -> None:
    """One element of config.json `mounts`, below `rootfs` (`cg`: the container's cgroups)."""
    dest = secure_join(rootfs, m["destination"])
    opts = parse_options(list(m.get("options") or []))
    kind = m.get("type") or ("bind" if opts.flags & sc.MS_BIND else "none")
    source = m.get("source") or kind
    try:
        if kind == "bind" or opts.flags & sc.MS_BIND:
            src = source if os.path.isabs(source) else str(bundle / source)
            opts.flags |= sc.MS_BIND
            _bind(src, dest, opts)
        elif kind == "cgroup":
            _cgroup(dest, opts, cg)
        else:
            _fs(kind, source, dest, opts)
        for prop in opts.propagation:
            sc.mount(None, dest, None, prop)
    except OSError as e:
        raise OSError(e.errno, f'mounting "{source}" to rootfs at "{m["destination"]}": {os.strerror(e.errno or 0)}') from None


def mask_path(path: str) -> None:
    """/dev/null over a file, an empty read-only tmpfs over a directory (after pivot_root)."""
    try:
        if os.path.isdir(path):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
        else:
            sc.mount("/dev/null", path, None, sc.MS_BIND)
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise


def readonly_path(path: str) -> None:
    try:
        sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return
        raise
    remount(path, sc.MS_RDONLY | sc.MS_REC)
