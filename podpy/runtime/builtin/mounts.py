"""OCI mount entries -> mount(2) calls: option parsing, bind + remount, cgroup mounts, masking.

Runs inside the container's new mount namespace, before pivot_root, except the mask/readonly
helpers, which run after it. Before pivot_root every destination is resolved inside the rootfs
(podpy.inroot) and mounted onto `/proc/self/fd/N` of its O_PATH descriptor, as runc does: a symlink
in the image (or one swapped in through a shared volume meanwhile) cannot send a mount to the host.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from podpy.inroot import Root
from podpy.record import field, record
from podpy.runtime import syscalls as sc
from podpy.runtime.builtin import cgroups

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

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


@record
class Options:
    """An OCI mount's options as mount(2) flags, propagation changes and data."""

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


def fd_path(fd: int) -> str:
    """What mount(2) takes for a descriptor: the magic link names exactly that inode."""
    return f"/proc/self/fd/{fd}"


def _mount_at(fd: int, source: str | None, kind: str | None, flags: int, data: str | None = None) -> None:
    try:
        sc.mount(source, fd_path(fd), kind, flags, data)
    finally:
        os.close(fd)


def _remount_at(root: Root, dest: str, flags: int) -> None:
    """Looked up again: the new descriptor is the mount's root, which a remount needs."""
    fd = root.open(dest)
    try:
        remount(fd_path(fd), flags)
    finally:
        os.close(fd)


def _bind(src: str, root: Root, dest: str, opts: Options) -> None:
    fd = root.mkdirs(dest) if os.path.isdir(src) else root.make_file(dest)
    _mount_at(fd, src, None, opts.flags & (sc.MS_BIND | sc.MS_REC))
    extra = opts.flags & ~(sc.MS_BIND | sc.MS_REC | sc.MS_REMOUNT)
    if extra:
        _remount_at(root, dest, extra)


def _attach_tree(tree: int, root: Root, dest: str, opts: Options) -> None:
    """move_mount a detached mount (its fd is consumed) onto `dest`, then the bind's flags."""
    try:
        fd = root.mkdirs(dest) if stat.S_ISDIR(os.fstat(tree).st_mode) else root.make_file(dest)
        try:
            sc.move_mount(tree, "", fd, "", sc.MOVE_MOUNT_F_EMPTY_PATH | sc.MOVE_MOUNT_T_EMPTY_PATH)
        finally:
            os.close(fd)
    finally:
        os.close(tree)
    extra = opts.flags & ~(sc.MS_BIND | sc.MS_REC | sc.MS_REMOUNT)
    if extra:
        _remount_at(root, dest, extra)


def _cgroup_v1(root: Root, dest: str, opts: Options, cg: cgroups.CgroupSet | None) -> None:
    """A tmpfs with the container's cgroup bound from every v1 hierarchy (runc's layout on v1).
    The directories come from `cg` (we may not be in them yet), else from our own /proc/self/cgroup."""
    base = opts.flags & (sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    _mount_at(root.mkdirs(dest), "tmpfs", "tmpfs", base, "mode=755")
    own = cgroups.own_cgroups()
    tmp = root.open(dest)  # the fresh tmpfs: ours alone, names in it are used by descriptor
    try:
        for key, h in cgroups.hierarchies().items():
            if key == cgroups.UNIFIED:
                continue
            name = os.path.basename(h.mountpoint)
            os.mkdir(name, 0o755, dir_fd=tmp)
            if cg is not None and key in cg.paths:
                src = cg.paths[key]
            else:
                src = os.path.join(h.mountpoint, os.path.relpath(own[key], h.root))
            _mount_at(os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=tmp), src, None,
                      sc.MS_BIND | sc.MS_REC)  # fmt: skip
            _remount_at(root, f"{dest}/{name}", opts.flags & ~sc.MS_REC)
            for ctl in key.split(","):  # co-mounted controllers get a link per name (cpu -> cpu,cpuacct)
                if ctl != name and not ctl.startswith("name="):
                    os.symlink(name, ctl, dir_fd=tmp)
    finally:
        os.close(tmp)
    if opts.flags & sc.MS_RDONLY:
        _remount_at(root, dest, opts.flags)


def _cgroup(root: Root, dest: str, opts: Options, cg: cgroups.CgroupSet | None) -> None:
    if not cgroups.unified_mode():
        _cgroup_v1(root, dest, opts, cg)
        return
    try:
        _mount_at(root.mkdirs(dest), "cgroup2", "cgroup2", opts.flags)
    except OSError as e:  # no cgroup namespace of our own: show the host's tree read-only
        if e.errno not in (errno.EPERM, errno.EBUSY):
            raise
        _mount_at(root.mkdirs(dest), "/sys/fs/cgroup", None, sc.MS_BIND | sc.MS_REC)
        _remount_at(root, dest, opts.flags)


_HOST_BINDS = {"sysfs": "/sys", "proc": "/proc", "mqueue": "/dev/mqueue"}


def _fs(kind: str, source: str, root: Root, dest: str, opts: Options) -> None:
    data = ",".join(opts.data) or None
    try:
        _mount_at(root.mkdirs(dest), source, kind, opts.flags & ~sc.MS_REMOUNT, data)
    except OSError as e:
        host = _HOST_BINDS.get(kind)
        if host is None or e.errno != errno.EPERM:
            raise
        if not os.path.exists(host):
            if kind == "mqueue":  # mq_open(3) works without it: the host has none to show either
                return
            raise
        # sysfs, proc and mqueue cannot be mounted in a user namespace without owning the net, pid or
        # ipc namespace (--pid host, a joined one): bind the host's, as crun does
        _bind(host, root, dest, Options(opts.flags | sc.MS_BIND | sc.MS_REC))


def mount_entry(m: dict[str, Any], root: Root, bundle: Path, cg: cgroups.CgroupSet | None = None) -> None:
    """One element of config.json `mounts`, inside `root` (`cg`: the container's cgroups)."""
    dest = m["destination"]
    opts = parse_options(list(m.get("options") or []))
    kind = m.get("type") or ("bind" if opts.flags & sc.MS_BIND else "none")
    source = m.get("source") or kind
    try:
        if m.get("podpy.tree") is not None:  # an ID-mapped bind prepared by the launcher (idmap.prepare)
            _attach_tree(m["podpy.tree"], root, dest, opts)
        elif kind == "bind" or opts.flags & sc.MS_BIND:
            src = source if os.path.isabs(source) else str(bundle / source)
            opts.flags |= sc.MS_BIND
            _bind(src, root, dest, opts)
        elif kind == "cgroup":
            _cgroup(root, dest, opts, cg)
        else:
            _fs(kind, source, root, dest, opts)
        for prop in opts.propagation:
            _mount_at(root.open(dest), None, None, prop)
    except OSError as e:
        shown = m.get("podpy.source", source)  # a pinned source (idmap.pin_sources) by its name
        raise OSError(e.errno, f'mounting "{shown}" to rootfs at "{m["destination"]}": {os.strerror(e.errno or 0)}') from None


def _check_null() -> None:
    """The /dev/null masks are bound from must be the null device, not whatever the image put there."""
    st = os.stat("/dev/null", follow_symlinks=False)
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3):
        raise OSError(errno.EPERM, "/dev/null in the container is not the null device")


def mask_path(path: str) -> None:
    """/dev/null over a file, an empty read-only tmpfs over a directory (after pivot_root: every
    symlink resolves inside the container's root)."""
    try:
        if os.path.isdir(path):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
        else:
            _check_null()
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
