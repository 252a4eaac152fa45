"""The cgroup v2 device program: exact instruction encoding (golden, derived by hand from the eBPF
instruction set) and its decisions, run through a small eBPF interpreter, against the v1 rule model."""

from __future__ import annotations

import itertools
import struct

import pytest

from podpy.errors import PodpyError
from podpy.runtime.builtin import device_filter as df

PRELUDE = [
    "6112000000000000",  # ldxw r2, [r1+0]     access_type
    "54020000ffff0000",  # and32 r2, 0xffff   (type)
    "6113000000000000",  # ldxw r3, [r1+0]
    "7403000010000000",  # rsh32 r3, 16        (access)
    "6114040000000000",  # ldxw r4, [r1+4]     major
    "6115080000000000",  # ldxw r5, [r1+8]     minor
]


def _hex(prog: bytes) -> list[str]:
    return [prog[i : i + 8].hex() for i in range(0, len(prog), 8)]


def test_golden_deny_all_then_allow_one_node() -> None:
    rules = [df.parse({"allow": False, "access": "rwm"}), df.parse({"allow": True, "type": "c", "major": 1,
                                                                    "minor": 3, "access": "rw"})]  # fmt: skip
    assert _hex(df.program(rules)) == PRELUDE + [
        "5502070002000000",  # jne r2, 2 (char), +7
        "bc31000000000000",  # mov32 r1, r3
        "54010000f9ffffff",  # and32 r1, ~(r|w)
        "5501040000000000",  # jne r1, 0, +4     (asks for more than rw)
        "5504030001000000",  # jne r4, 1, +3
        "5505020003000000",  # jne r5, 3, +2
        "b700000001000000",  # mov r0, 1 (allow)
        "9500000000000000",  # exit
        "b700000000000000",  # mov r0, 0 (the default after "a": deny)
        "9500000000000000",  # exit
    ]


def test_golden_deny_rule_tests_overlap_and_wildcards_emit_nothing() -> None:
    rules = [df.parse({"allow": True}), df.parse({"allow": False, "type": "b", "minor": None, "major": 8,
                                                  "access": "w"})]  # fmt: skip
    assert _hex(df.program(rules)) == PRELUDE + [
        "5502060001000000",  # jne r2, 1 (block), +6
        "bc31000000000000",  # mov32 r1, r3
        "5401000004000000",  # and32 r1, w
        "1501030000000000",  # jeq r1, 0, +3     (no write asked: not denied here)
        "5504020008000000",  # jne r4, 8, +2     (minor: any)
        "b700000000000000",  # mov r0, 0 (deny)
        "9500000000000000",
        "b700000001000000",  # default: allow
        "9500000000000000",
    ]


def _run(prog: bytes, kind: str, access: int, major: int, minor: int) -> int:
    """Interpret the subset of eBPF the generator emits, on a bpf_cgroup_dev_ctx."""
    ctx = struct.pack("<III", (access << 16) | {"b": 1, "c": 2}[kind], major, minor)
    reg = [0] * 11
    pc = 0
    while True:
        code, regs, off, imm = struct.unpack_from("<BBhi", prog, pc * 8)
        dst, src = regs & 0xF, regs >> 4
        pc += 1
        if code == df.LDXW:
            assert src == 1
            reg[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif code == df.AND32_K:
            reg[dst] = reg[dst] & imm & 0xFFFFFFFF
        elif code == df.RSH32_K:
            reg[dst] = (reg[dst] & 0xFFFFFFFF) >> imm
        elif code == df.MOV32_X:
            reg[dst] = reg[src] & 0xFFFFFFFF
        elif code == df.MOV64_K:
            reg[dst] = imm
        elif code in (df.JNE_K, df.JEQ_K):
            if (reg[dst] != imm) == (code == df.JNE_K):
                pc += off
        elif code == df.EXIT:
            return reg[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


def _model(rules: list[df.Rule], kind: str, access: int, major: int, minor: int) -> bool:
    """The v1 lists, kept the way the kernel's devices controller keeps them (exact entries)."""
    allow_default, exceptions = True, {}
    for r in rules:
        if r.kind == "a":
            allow_default, exceptions = r.allow, {}
            continue
        key = (r.kind, r.major, r.minor)
        if r.allow != allow_default:  # an exception to the default: add access
            exceptions[key] = exceptions.get(key, 0) | r.access
        elif key in exceptions:  # same as the default: take access away from the exception
            exceptions[key] &= ~r.access
    def hits(k: tuple[str, int, int], acc: int, whole: bool) -> bool:
        return (k[0] == kind and k[1] in (-1, major) and k[2] in (-1, minor)
                and (access & ~acc == 0 if whole else access & acc != 0))  # fmt: skip
    if allow_default:  # blacklist: denied if any requested access is listed
        return not any(hits(k, a, whole=False) for k, a in exceptions.items())
    return any(hits(k, a, whole=True) for k, a in exceptions.items())  # one entry must cover it all


CASES = [
    [{"allow": False, "access": "rwm"}],
    [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"}],
    [{"allow": False, "access": "rwm"}, {"allow": True, "type": "b", "major": 8, "access": "r"}],
    [{"allow": True, "access": "rwm"}, {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}],
    [{"allow": True, "access": "rwm"}, {"allow": False, "type": "c", "access": "m"}],
]


@pytest.mark.parametrize("oci", CASES)
def test_program_decides_like_the_v1_controller(oci: list[dict]) -> None:
    rules = df.effective(oci)
    prog = df.program(rules)
    for kind, access, major, minor in itertools.product("bc", range(1, 8), (1, 5, 8, 10, 136), (0, 3, 200)):
        want = _model(rules, kind, access, major, minor)
        assert bool(_run(prog, kind, access, major, minor)) == want, (oci, kind, access, major, minor)


def test_default_nodes_follow_a_deny_all_and_v1_lines() -> None:
    rules = df.effective([{"allow": False, "access": "rwm"}])
    assert [r.v1() for r in rules] == ["a *:* rwm", *df.DEFAULT_ALLOWED]
    prog = df.program(rules)
    assert _run(prog, "c", df.ACC_READ | df.ACC_WRITE, 1, 3)  # /dev/null
    assert _run(prog, "c", df.ACC_MKNOD, 4, 4)  # mknod of anything: allowed (c *:* m)
    assert not _run(prog, "c", df.ACC_READ, 1, 11)  # /dev/kmsg
    assert not _run(prog, "b", df.ACC_READ, 8, 0)
    assert df.effective([]) == []
    assert df.effective([{"allow": True, "access": "rwm"}]) == [df.Rule(True, "a", -1, -1, df.ALL)]


def test_invalid_rules_are_refused() -> None:
    for bad in ({"allow": True, "type": "x"}, {"allow": True, "type": "c", "access": "rx"}):
        with pytest.raises(PodpyError, match="invalid device rule"):
            df.parse(bad)
