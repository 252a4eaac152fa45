"""The one ctypes seam: the few Linux syscalls Python's `os` module lacks (on 3.11).

Every wrapper raises OSError(errno) on failure. libc is loaded lazily and once:
`CDLL(None)` reuses the interpreter's own libc (find_library would cost ~40 ms).
"""

from __future__ import annotations

import ctypes
import os
from functools import cache

TYPE_CHECKING = False  # typing's, without importing typing (~2 ms) on the run/exec paths
if TYPE_CHECKING:
    from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}
_SYS_SETDOMAINNAME = {"x86_64": 171, "aarch64": 162, "ppc64le": 122, "s390x": 121, "riscv64": 162}
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277, "ppc64le": 358, "s390x": 348, "riscv64": 277}
SECCOMP_SET_MODE_FILTER = 1


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str, path: str | None = None) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        if path is not None:
            raise OSError(err, f"{what}: {os.strerror(err)}", path)
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _b(s: str | os.PathLike[str] | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    _check(_libc().unshare(ctypes.c_int(flags)), "unshare")


def syncfs(fd: int) -> None:
    _check(_libc().syncfs(ctypes.c_int(fd)), "syncfs")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def set_fs_ids(uid: int, gid: int) -> None:
    """setfsuid/setfsgid: the ids file access and new files use (the real and effective ids stay)."""
    libc = _libc()
    libc.setfsgid(ctypes.c_uint(gid))
    libc.setfsuid(ctypes.c_uint(uid))


def mount(
    source: str | None,
    target: str | os.PathLike[str],
    fstype: str | None,
    flags: int = 0,
    data: str | None = None,
) -> None:
    ret = _libc().mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    _check(ret, "mount", os.fspath(target))


def umount2(target: str | os.PathLike[str], flags: int = 0) -> None:
    _check(_libc().umount2(_b(target), ctypes.c_int(flags)), "umount2", os.fspath(target))


def pivot_root(new_root: str, put_old: str) -> None:
    nr = _SYS_PIVOT_ROOT[os.uname().machine]
    _check(_libc().syscall(ctypes.c_long(nr), _b(new_root), _b(put_old)), "pivot_root", new_root)


PERSONALITIES = {"LINUX": 0x0000, "LINUX32": 0x0008}  # PER_LINUX, PER_LINUX32 (OCI linux.personality)


def personality(domain: str) -> None:
    if domain not in PERSONALITIES:
        raise OSError(22, f"unknown personality domain {domain!r}")
    _check(_libc().personality(ctypes.c_ulong(PERSONALITIES[domain])), "personality")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc().sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


def setdomainname(name: str) -> None:
    raw = name.encode()
    nr = _SYS_SETDOMAINNAME[os.uname().machine]
    _check(_libc().syscall(ctypes.c_long(nr), raw, ctypes.c_size_t(len(raw))), "setdomainname")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    args = (ctypes.c_ulong(a) for a in (arg2, arg3, arg4, arg5))
    return _check(_libc().prctl(ctypes.c_int(option), *args), "prctl")


def capget(pid: int = 0) -> tuple[int, int, int]:
    """(effective, permitted, inheritable) as 64-bit masks."""
    hdr = _CapHeader(_LINUX_CAPABILITY_VERSION_3, pid)
    data = (_CapData * 2)()
    _check(_libc().capget(ctypes.byref(hdr), data), "capget")
    lo, hi = data[0], data[1]
    return (
        lo.effective | hi.effective << 32,
        lo.permitted | hi.permitted << 32,
        lo.inheritable | hi.inheritable << 32,
    )


def capset(effective: int, permitted: int, inheritable: int) -> None:
    hdr = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in (0, 1):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(_libc().capset(ctypes.byref(hdr), data), "capset")


_SYS_BPF = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351, "riscv64": 280}


def bpf(cmd: int, attr: bytes) -> int:
    """bpf(2) with `attr` as the raw union bpf_attr (zero-padded by the caller); returns the result
    (an fd for BPF_PROG_LOAD). A writable copy is passed: some commands write back into it."""
    buf = ctypes.create_string_buffer(attr, len(attr))
    nr = _SYS_BPF[os.uname().machine]
    return _check(_libc().syscall(ctypes.c_long(nr), ctypes.c_int(cmd), buf, ctypes.c_uint(len(attr))), "bpf")


def seccomp_set_filter(program: bytes, flags: int = 0) -> None:
    """seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): `program` is struct sock_filter[] in native
    byte order. Needs no_new_privs or CAP_SYS_ADMIN in the caller's user namespace."""
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
    nr = _SYS_SECCOMP[os.uname().machine]
    args = (ctypes.c_uint(SECCOMP_SET_MODE_FILTER), ctypes.c_uint(flags), ctypes.byref(prog))
    _check(_libc().syscall(ctypes.c_long(nr), *args), "seccomp")


# openat2(2) (Linux 5.6): RESOLVE_IN_ROOT treats the dirfd as "/" for every symlink and "..".
_SYS_OPENAT2 = 437  # the same number on every architecture (added after the syscall table unification)
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dir_fd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
    """A new fd for `path` below `dir_fd`; OSError(ENOSYS) on kernels before 5.6."""
    how = _OpenHow(flags, mode, resolve)
    ret = _libc().syscall(ctypes.c_long(_SYS_OPENAT2), ctypes.c_int(dir_fd), os.fsencode(path),
                          ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))  # fmt: skip
    return _check(ret, "openat2", path)


# The new mount API (Linux 5.2; mount_setattr 5.12): a filesystem mounted detached, cloned, ID-mapped
# (MOUNT_ATTR_IDMAP with a user namespace fd) and attached. The numbers are the same everywhere.
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_FSOPEN, _SYS_FSCONFIG, _SYS_FSMOUNT = 428, 429, 430, 431, 432
_SYS_MOUNT_SETATTR = 442
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_EMPTY_PATH = 0x40
FSOPEN_CLOEXEC = 1
FSMOUNT_CLOEXEC = 1
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
MOUNT_ATTR_IDMAP = 0x00100000


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]  # fmt: skip


def _sys(nr: int, what: str, *args: Any) -> int:
    return _check(_libc().syscall(ctypes.c_long(nr), *args), what)


def open_tree(dir_fd: int, path: str, flags: int) -> int:
    return _sys(_SYS_OPEN_TREE, "open_tree", ctypes.c_int(dir_fd), os.fsencode(path), ctypes.c_uint(flags))


def move_mount(from_fd: int, from_path: str, to_fd: int, to_path: str, flags: int) -> None:
    _sys(_SYS_MOVE_MOUNT, "move_mount", ctypes.c_int(from_fd), os.fsencode(from_path), ctypes.c_int(to_fd),
         os.fsencode(to_path), ctypes.c_uint(flags))  # fmt: skip


def fsopen(fstype: str) -> int:
    return _sys(_SYS_FSOPEN, "fsopen", fstype.encode(), ctypes.c_uint(FSOPEN_CLOEXEC))


def fsconfig(fs_fd: int, cmd: int, key: str | None = None, value: str | None = None) -> None:
    what = f"fsconfig {key}" if key else "fsconfig"
    _sys(_SYS_FSCONFIG, what, ctypes.c_int(fs_fd), ctypes.c_uint(cmd), _b(key), _b(value), ctypes.c_int(0))


def fsmount(fs_fd: int, attr_flags: int = 0) -> int:
    return _sys(_SYS_FSMOUNT, "fsmount", ctypes.c_int(fs_fd), ctypes.c_uint(FSMOUNT_CLOEXEC), ctypes.c_uint(attr_flags))


def mount_setattr_idmap(tree_fd: int, userns_fd: int, recursive: bool = False) -> None:
    """Make the detached mount `tree_fd` ID-mapped through the user namespace `userns_fd`."""
    attr = _MountAttr(MOUNT_ATTR_IDMAP, 0, 0, userns_fd)
    flags = AT_EMPTY_PATH | (AT_RECURSIVE if recursive else 0)
    _sys(_SYS_MOUNT_SETATTR, "mount_setattr", ctypes.c_int(tree_fd), b"", ctypes.c_uint(flags), ctypes.byref(attr),
         ctypes.c_size_t(ctypes.sizeof(attr)))  # fmt: skip
