"""The last execve goes through a sealed in-memory stub, never from the host's interpreter.

While podpy's init runs Python, /proc/self/exe is the host's python binary. The kernel resolves a
`#!/proc/self/exe` script line, an ELF interpreter or the command `/proc/self/exe` itself during
that execve, so an image could make the container run the host's interpreter and reach it through
/proc/<pid>/exe (the CVE-2019-5736 pattern). runc re-executes itself from a sealed memfd copy; a
copy of the interpreter (and a second start of Python) would cost tens of milliseconds. Instead
podpy execs a 280-byte static stub from a sealed memfd, and the stub execs the command: during the
command's execve /proc/self/exe is that memfd, which cannot be written and leads nowhere.

The stub's protocol: argv = [argv0, path, *command argv], envp passed through; fd 3 is the sync
channel's message pipe, which it marks close-on-exec before the execve. If the execve fails it
writes b"!" + errno + b"\\n" to fd 3 and exits 127, so the caller still gets a typed error.
"""

from __future__ import annotations

import fcntl
import os
import struct

STUB_FD = 3
FAILED = b"!"

# x86_64: if argc < 3: exit_group(127) (a script naming /proc/self/exe as its interpreter lands here
# again: no loop); fcntl(3, F_SETFD, FD_CLOEXEC); execve(argv[1], &argv[2], envp); on failure
# write(3, "!" errno "\n", 3); exit_group(127). Assembled with GNU as (intel syntax); behaviour
# checked by tests/unit/test_execstub.py.
_CODE = {
    "x86_64": bytes.fromhex(
        "48833c24037253bf03000000be02000000ba01000000b8480000000f05488b0424488b7c2410488d742418"
        "488d54c410b83b0000000f05f7d8c604242188442401c64424020abf030000004889e6ba03000000b801"
        "0000000f05bf7f000000b8e70000000f05"
    ),
}
_MACHINE = {"x86_64": 0x3E}
_BASE = 0x400000
_PT_LOAD, _PT_GNU_STACK = 1, 0x6474E551
_PF_X, _PF_W, _PF_R = 1, 2, 4


def image(arch: str | None = None, report_fd: int = STUB_FD) -> bytes | None:
    """The stub as a static ELF executable for `arch` (this machine's by default); None if podpy has
    no stub for it (then the command is exec'd directly). `report_fd` replaces fd 3 in its code
    (--preserve-fds gives fds 3.. to the command)."""
    arch = arch or os.uname().machine
    arch = {"i686": "x86_64"}.get(arch, arch) if arch not in _CODE and _is_64bit() else arch  # --personality LINUX32
    code = _CODE.get(arch)
    if code is None:
        return None
    if report_fd != STUB_FD:  # `mov edi, 3` (the fd of fcntl and write) -> `mov edi, report_fd`
        code = code.replace(b"\xbf" + struct.pack("<I", STUB_FD), b"\xbf" + struct.pack("<I", report_fd))
    ehsize, phsize, phnum = 64, 56, 2
    entry_off = ehsize + phsize * phnum
    total = entry_off + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian, version 1, SysV
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, _MACHINE[arch], 1, _BASE + entry_off, ehsize, 0, 0,
                                 ehsize, phsize, phnum, 0, 0, 0)  # fmt: skip
    load = struct.pack("<IIQQQQQQ", _PT_LOAD, _PF_R | _PF_X, 0, _BASE, _BASE, total, total, 0x1000)
    stack = struct.pack("<IIQQQQQQ", _PT_GNU_STACK, _PF_R | _PF_W, 0, 0, 0, 0, 0, 16)
    return header + load + stack + code


def _is_64bit() -> bool:
    return struct.calcsize("P") == 8


def sealed_fd(report_fd: int = STUB_FD) -> int | None:
    """A close-on-exec memfd holding the stub, sealed against any change; None when unavailable
    (no stub for this machine, memfd_create refused by a seccomp profile or a noexec policy)."""
    data = image(report_fd=report_fd)
    if data is None:
        return None
    try:
        fd = os.memfd_create("podpy-exec", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    except OSError:
        return None
    try:
        os.write(fd, data)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW
                    | fcntl.F_SEAL_WRITE)  # fmt: skip
    except OSError:
        os.close(fd)
        return None
    return fd


def exec_via_stub(path: str, args: list[str], env: dict[str, str], report_fd: int, at: int = STUB_FD) -> None:
    """execve(path, args, env) through the stub; returns only if the stub itself could not be
    exec'd (the caller then execs directly). `report_fd` becomes the stub's fd `at` (3, or the first
    fd after those --preserve-fds passes on)."""
    stub = sealed_fd(at)
    if stub is None:
        return
    if stub == at:  # that fd is taken by the stub: move it away first
        stub = fcntl.fcntl(stub, fcntl.F_DUPFD_CLOEXEC, at + 1)
        os.close(at)
    if report_fd != at:
        os.dup2(report_fd, at, inheritable=True)
    else:
        os.set_inheritable(at, True)
    try:
        os.execve(stub, [args[0], path, *args], env)
    except OSError:
        os.set_inheritable(at, False)
        os.close(stub)
