"""Test helpers: a classic-BPF interpreter for seccomp programs (what the kernel would return for a
syscall), a disassembler for golden checks, and libseccomp's own compilation of an OCI config (ctypes;
only for a differential test, podpy never loads libseccomp)."""

from __future__ import annotations

import ctypes
import os
import struct
from functools import lru_cache
from typing import Any

from podpy.runtime.seccomp.compiler import ACTIONS, EPERM, RET_ERRNO, RET_TRACE

INSN = struct.Struct("=HBBI")
NAMES = {
    0x20: "ld",
    0x54: "and",
    0x05: "ja",
    0x15: "jeq",
    0x25: "jgt",
    0x35: "jge",
    0x45: "jset",
    0x06: "ret",
}


@lru_cache(maxsize=8)
def insns(prog: bytes) -> list[tuple[int, int, int, int]]:
    return [INSN.unpack_from(prog, i) for i in range(0, len(prog), 8)]


def disasm(prog: bytes) -> list[str]:
    out = []
    for code, jt, jf, k in insns(prog):
        name = NAMES[code]
        if name in ("jeq", "jgt", "jge", "jset"):
            out.append(f"{name} {k:#x} {jt} {jf}")
        else:
            out.append(f"{name} {k:#x}")
    return out


def run(prog: bytes, nr: int, arch: int, args: tuple[int, ...] = (0,) * 6) -> int:
    """The filter's return value for seccomp_data {nr, arch, ip=0, args}."""
    data = struct.pack("=iIQ6Q", nr - (1 << 32) if nr >= 1 << 31 else nr, arch, 0,
                       *(list(args) + [0] * 6)[:6])  # fmt: skip
    code_, pc, acc = insns(prog), 0, 0
    for _ in range(len(code_) + 1):
        code, jt, jf, k = code_[pc]
        pc += 1
        if code == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
        elif code == 0x54:
            acc &= k
        elif code == 0x05:
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):
            hit = (
                acc == k
                if code == 0x15
                else acc > k
                if code == 0x25
                else acc >= k
                if code == 0x35
                else acc & k
            )
            pc += jt if hit else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")
    raise AssertionError("no return")


# --- libseccomp ---------------------------------------------------------------------------------

_ARCH_TOKENS = {"SCMP_ARCH_X86": 0x40000003, "SCMP_ARCH_X32": 0x4000003E, "SCMP_ARCH_X86_64": 0xC000003E}
_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
        "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}  # fmt: skip


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


def libseccomp() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    for fn in ("seccomp_arch_add", "seccomp_export_bpf", "seccomp_release", "seccomp_rule_add_array"):
        getattr(lib, fn).argtypes = [ctypes.c_void_p, ctypes.c_uint32][: 1 if fn == "seccomp_release" else 2]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]  # fmt: skip
    return lib


def _ret(action: str, errno: Any) -> int:
    base = ACTIONS[action]
    return base | ((EPERM if errno is None else errno) & 0xFFFF) if base in (RET_ERRNO, RET_TRACE) else base


def libseccomp_program(lib: ctypes.CDLL, doc: dict[str, Any]) -> bytes:
    """libseccomp's BPF for an OCI config on x86_64, rules added the way runc adds them."""
    default = _ret(doc["defaultAction"], doc.get("defaultErrnoRet"))
    ctx = lib.seccomp_init(default)
    try:
        for arch in doc.get("architectures") or []:
            if arch != "SCMP_ARCH_X86_64":
                assert lib.seccomp_arch_add(ctx, _ARCH_TOKENS[arch]) == 0
        for entry in doc["syscalls"]:
            ret = _ret(entry["action"], entry.get("errnoRet"))
            if ret == default:
                continue
            conds = [
                _ArgCmp(a["index"], _OPS[a["op"]], a["value"], a.get("valueTwo", 0))
                for a in entry.get("args") or []
            ]
            for name in entry["names"]:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr == -1:  # __NR_SCMP_ERROR: unknown everywhere (negative others are per-arch names)
                    continue
                arr = (_ArgCmp * len(conds))(*conds) if conds else None
                assert lib.seccomp_rule_add_array(ctx, ret, nr, len(conds), arr) == 0, name
        r, w = os.pipe()
        try:
            assert lib.seccomp_export_bpf(ctx, w) == 0
            os.close(w)
            w = -1
            chunks = []
            while chunk := os.read(r, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)
    finally:
        lib.seccomp_release(ctx)
