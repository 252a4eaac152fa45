"""OCI linux.resources.devices as rules, for the v1 devices controller and as a cgroup v2 eBPF program.

cgroup v2 has no devices files: the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE program attached to
the cgroup (runc and crun do the same). The program sees {access_type, major, minor} and returns 1
(allow) or 0 (deny, the opener gets EPERM). Rules are evaluated like the v1 lists: a type-"a" rule
resets everything to allow-all or deny-all; later rules override earlier ones, so the program tests
them last to first and the first match decides. An allow rule matches when every requested access is
in its set; a deny rule when any requested access is.
"""

from __future__ import annotations

import os
import struct

from podpy.errors import PodpyError
from podpy.record import record

TYPE_CHECKING = False  # typing's, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Any

# runc's implicit rules (after linux.resources.devices): the nodes every container has
DEFAULT_ALLOWED = (
    "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
    "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
)  # fmt: skip

ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4  # BPF_DEVCG_ACC_*
_ACCESS = {"m": ACC_MKNOD, "r": ACC_READ, "w": ACC_WRITE}
_DEV_TYPE = {"b": 1, "c": 2}  # BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
ALL = ACC_MKNOD | ACC_READ | ACC_WRITE


@record(frozen=True)
class Rule:
    """One device cgroup rule (linux.resources.devices)."""

    allow: bool
    kind: str  # "a", "c" or "b"
    major: int  # -1: any
    minor: int  # -1: any
    access: int  # ACC_* bits

    def v1(self) -> str:
        """The line for devices.allow / devices.deny."""
        acc = "".join(
            c for c, bit in (("r", ACC_READ), ("w", ACC_WRITE), ("m", ACC_MKNOD)) if self.access & bit
        )
        if self.kind == "a":
            return f"a *:* {acc}"
        num = "*" if self.major < 0 else str(self.major), "*" if self.minor < 0 else str(self.minor)
        return f"{self.kind} {num[0]}:{num[1]} {acc}"


def parse(oci: dict[str, Any]) -> Rule:
    """One OCI rule {allow, type, major, minor, access}; missing fields mean "all"."""
    kind = oci.get("type") or "a"
    access = oci.get("access") or "rwm"
    if kind not in ("a", "b", "c") or not set(access) <= set(_ACCESS):
        raise PodpyError(f"invalid device rule {oci!r}: type is a, b or c; access letters are r, w, m")
    major, minor = oci.get("major"), oci.get("minor")
    return Rule(bool(oci.get("allow")), kind, -1 if major is None else int(major),
                -1 if minor is None else int(minor), sum(_ACCESS[c] for c in set(access)))  # fmt: skip


def _default(line: str) -> Rule:
    kind, nums, access = line.split()
    major, minor = (-1 if n == "*" else int(n) for n in nums.split(":"))
    return Rule(True, kind, major, minor, sum(_ACCESS[c] for c in access))


def effective(oci_rules: list[dict[str, Any]]) -> list[Rule]:
    """The rules to enforce: the container's, then the default nodes unless it already allows all.
    Empty in, empty out (no device policy asked for, e.g. rootless)."""
    rules = [parse(r) for r in oci_rules]
    if rules and not any(r.allow and r.kind == "a" for r in rules):
        rules += [_default(line) for line in DEFAULT_ALLOWED]
    return rules


def reduce(rules: list[Rule]) -> tuple[bool, list[Rule]]:
    """(allow by default, the rules after the last reset), as the v1 controller keeps them."""
    default, kept = False, []
    for r in rules:
        if r.kind == "a":
            default, kept = r.allow, []
        else:
            kept.append(r)
    return default, kept


# --- eBPF encoding: struct bpf_insn {u8 code; u8 dst:4, src:4; s16 off; s32 imm} ------------------
LDXW, AND32_K, RSH32_K, MOV32_X, MOV64_K = 0x61, 0x54, 0x74, 0xBC, 0xB7
JEQ_K, JNE_K, EXIT = 0x15, 0x55, 0x95
NEXT = object()  # jump target placeholder: the start of the next rule's block


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    imm = imm - (1 << 32) if imm >= 1 << 31 else imm
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


# r2 = device type, r3 = requested access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx)
_PRELUDE = [(LDXW, 2, 1, 0, 0), (AND32_K, 2, 0, 0, 0xFFFF), (LDXW, 3, 1, 0, 0),
            (RSH32_K, 3, 0, 0, 16), (LDXW, 4, 1, 4, 0), (LDXW, 5, 1, 8, 0)]  # fmt: skip


def _block(rule: Rule) -> list[bytes]:
    """Instructions testing one rule: on a mismatch jump to the next block, else return its verdict."""
    raw: list[tuple[int, int, int, Any, int]] = []
    if rule.kind != "a":
        raw.append((JNE_K, 2, 0, NEXT, _DEV_TYPE[rule.kind]))
    if rule.access != ALL:
        raw.append((MOV32_X, 1, 3, 0, 0))
        if rule.allow:  # some requested access outside the rule's set: not this rule
            raw += [(AND32_K, 1, 0, 0, ~rule.access & 0xFFFFFFFF), (JNE_K, 1, 0, NEXT, 0)]
        else:  # none of the requested accesses is denied here: not this rule
            raw += [(AND32_K, 1, 0, 0, rule.access), (JEQ_K, 1, 0, NEXT, 0)]
    if rule.major >= 0:
        raw.append((JNE_K, 4, 0, NEXT, rule.major))
    if rule.minor >= 0:
        raw.append((JNE_K, 5, 0, NEXT, rule.minor))
    raw += [(MOV64_K, 0, 0, 0, int(rule.allow)), (EXIT, 0, 0, 0, 0)]
    n = len(raw)
    return [
        _insn(c, d, s, n - i - 1 if off is NEXT else off, imm) for i, (c, d, s, off, imm) in enumerate(raw)
    ]


def program(rules: list[Rule]) -> bytes:
    """The BPF_PROG_TYPE_CGROUP_DEVICE program enforcing `rules` (in v1 order)."""
    default, kept = reduce(rules)
    out = [_insn(*i) for i in _PRELUDE]
    for rule in reversed(kept):
        out += _block(rule)
    out += [_insn(MOV64_K, 0, 0, 0, int(default)), _insn(EXIT)]
    return b"".join(out)


# --- loading and attaching ------------------------------------------------------------------------
BPF_PROG_LOAD, BPF_PROG_ATTACH = 5, 8
BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI = 15, 6, 2
_ATTR_SIZE = 128  # union bpf_attr, zero past the fields we set


def load(insns: bytes) -> int:
    """BPF_PROG_LOAD; the program's fd. A verifier refusal carries the verifier's log."""
    import ctypes  # here: rules are parsed on every start and rm, programs loaded on cgroup v2 only

    from podpy.runtime import syscalls as sc

    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"Apache-2.0")
    log = ctypes.create_string_buffer(4096)
    for level in (0, 1):  # the log only on failure: a logged load is slower
        attr = bytearray(_ATTR_SIZE)
        struct.pack_into("<IIQQIIQ", attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE, len(insns) // 8,
                         ctypes.addressof(code), ctypes.addressof(lic), level,
                         len(log) if level else 0, ctypes.addressof(log) if level else 0)  # fmt: skip
        attr[48:58] = b"podpy_dev\0"
        try:
            return sc.bpf(BPF_PROG_LOAD, bytes(attr))
        except OSError as e:
            if level or e.errno != 22:  # EINVAL: ask again with the log to say why
                detail = log.value.decode(errors="replace").strip().splitlines()[-1:] if level else []
                raise OSError(e.errno, f"{e.strerror}{': ' + detail[0] if detail else ''}") from None
    raise AssertionError("unreachable")


def attach(cgroup_dir: str | os.PathLike[str], rules: list[Rule]) -> None:
    """Load the program for `rules` and attach it to the cgroup2 directory (ALLOW_MULTI: programs of
    ancestors, e.g. systemd's, keep applying too). The attachment lives as long as the cgroup."""
    from podpy.runtime import syscalls as sc

    prog = load(program(rules))
    try:
        cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            attr = struct.pack("<IIII", cg, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).ljust(
                _ATTR_SIZE, b"\0"
            )
            sc.bpf(BPF_PROG_ATTACH, attr)
        finally:
            os.close(cg)
    finally:
        os.close(prog)
