"""The OCI linux.seccomp -> classic-BPF compiler: golden output of a small filter, and what the
programs return for given syscalls (run by a BPF interpreter), checked against libseccomp's own
compilation of the same configs where libseccomp is installed."""

from __future__ import annotations

import itertools

import pytest

from podpy.errors import InvalidArgument
from podpy.runtime.builtin.capabilities import DEFAULT_CAPS
from podpy.runtime.seccomp.compiler import (
    ENOSYS,
    RET_ALLOW,
    RET_ERRNO,
    RET_KILL_PROCESS,
    RET_KILL_THREAD,
    X32_BIT,
    compile_filter,
    syscall_numbers,
)
from podpy.runtime.seccomp.default_profile import default_profile
from podpy.runtime.seccomp.profile import to_oci
from tests.unit.seccomp_bpf import disasm, libseccomp, libseccomp_program, run

X86_64, I386, AARCH64 = 0xC000003E, 0x40000003, 0xC00000B7
EPERM = RET_ERRNO | 1
NOSYS = RET_ERRNO | ENOSYS
CLONE_NEWUSER, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x00020000, 17
ALL_ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def nr(name: str, arch: str = "SCMP_ARCH_X86_64") -> int:
    return syscall_numbers(arch)[name]


def program(doc: dict, machine: str = "x86_64") -> bytes:  # type: ignore[type-arg]
    return compile_filter(doc, machine).program


def default_program(caps=DEFAULT_CAPS, kernel: str = "6.1.0") -> bytes:  # type: ignore[no-untyped-def]
    return program(to_oci(default_profile(), caps, machine="x86_64", kernel=kernel))


def test_golden_small_filter() -> None:
    doc = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
    assert disasm(program(doc)) == [
        "ld 0x4",  # seccomp_data.arch
        "jeq 0xc000003e 1 0",
        "ja 0x4",  # any other architecture: kill
        "ld 0x0",  # nr
        "jge 0x40000000 2 0",  # x32 is not in the filter: kill
        "jge 0x1 0 2",  # read (0): allow
        "jge 0x1b3 2 3",  # clone3 (435) and anything newer than read: ENOSYS, else the default
        "ret 0x80000000",
        "ret 0x7fff0000",
        "ret 0x50026",
        "ret 0x50001",  # the default, EPERM
    ]


def test_default_profile_x86_64() -> None:
    p = default_program()
    allowed = [
        "read",
        "write",
        "execve",
        "mkdir",
        "setresuid",
        "capset",
        "prctl",
        "chroot",
        "ptrace",
        "seccomp",
    ]
    for name in allowed:
        assert run(p, nr(name), X86_64) == RET_ALLOW, name
    denied = ["unshare", "setns", "mount", "umount2", "keyctl", "add_key", "bpf", "perf_event_open", "kexec_load",
              "init_module", "finit_module", "delete_module", "open_by_handle_at", "fsopen", "pivot_root",
              "reboot", "swapon", "acct", "iopl", "io_uring_setup", "userfaultfd"]  # fmt: skip
    for name in denied:
        assert run(p, nr(name), X86_64) == EPERM, name
    clone = nr("clone")
    assert run(p, clone, X86_64, (SIGCHLD,)) == RET_ALLOW
    assert run(p, clone, X86_64, (0x003D0F00,)) == RET_ALLOW  # pthread_create's flags
    assert run(p, clone, X86_64, (CLONE_NEWUSER | SIGCHLD,)) == EPERM
    assert run(p, clone, X86_64, (CLONE_NEWNS,)) == EPERM
    assert run(p, nr("clone3"), X86_64) == NOSYS  # libc falls back to clone
    assert run(p, nr("socket"), X86_64, (2,)) == RET_ALLOW
    assert run(p, nr("socket"), X86_64, (40,)) == EPERM  # AF_VSOCK
    for persona in (0, 8, 0x20000, 0x20008, 0xFFFFFFFF):
        assert run(p, nr("personality"), X86_64, (persona,)) == RET_ALLOW
    assert run(p, nr("personality"), X86_64, (0x0040000,)) == EPERM  # ADDR_NO_RANDOMIZE
    assert run(p, 452, X86_64) == NOSYS  # fchmodat2: newer than the profile, so libc may fall back
    assert run(p, nr("read"), AARCH64) == RET_KILL_PROCESS


def test_default_profile_compat_arches() -> None:
    p = default_program()
    assert run(p, nr("read", "SCMP_ARCH_X86"), I386) == RET_ALLOW
    assert run(p, nr("socketcall", "SCMP_ARCH_X86"), I386) == RET_ALLOW
    assert run(p, nr("unshare", "SCMP_ARCH_X86"), I386) == EPERM
    assert run(p, nr("clone", "SCMP_ARCH_X86"), I386, (CLONE_NEWUSER,)) == EPERM
    assert run(p, nr("read", "SCMP_ARCH_X32"), X86_64) == RET_ALLOW
    assert nr("read", "SCMP_ARCH_X32") == X32_BIT
    assert run(p, nr("unshare", "SCMP_ARCH_X32"), X86_64) == EPERM
    assert run(p, nr("keyctl", "SCMP_ARCH_X32"), X86_64) == EPERM


def test_capability_conditional_rules() -> None:
    admin = default_program([*DEFAULT_CAPS, "CAP_SYS_ADMIN"])
    for name in ("unshare", "setns", "mount", "bpf", "perf_event_open", "sethostname"):
        assert run(admin, nr(name), X86_64) == RET_ALLOW, name
    assert run(admin, nr("clone"), X86_64, (CLONE_NEWUSER,)) == RET_ALLOW
    assert run(admin, nr("clone3"), X86_64) == RET_ALLOW
    assert run(admin, nr("keyctl"), X86_64) == EPERM
    ptrace = default_program([*DEFAULT_CAPS, "CAP_SYS_PTRACE"], kernel="4.4.0")
    assert run(ptrace, nr("kcmp"), X86_64) == RET_ALLOW and run(ptrace, nr("ptrace"), X86_64) == RET_ALLOW
    old = default_program(kernel="4.4.0")  # ptrace only from 4.8 without CAP_SYS_PTRACE
    assert run(old, nr("ptrace"), X86_64) == EPERM
    no_chroot = default_program([c for c in DEFAULT_CAPS if c != "CAP_SYS_CHROOT"])
    assert run(no_chroot, nr("chroot"), X86_64) == EPERM


def _holds(op: str, arg: int, value: int, value2: int, bits: int) -> bool:
    if bits == 32:
        arg, value, value2 = arg & 0xFFFFFFFF, value & 0xFFFFFFFF, value2 & 0xFFFFFFFF
    return {
        "SCMP_CMP_EQ": arg == value, "SCMP_CMP_NE": arg != value, "SCMP_CMP_LT": arg < value,
        "SCMP_CMP_LE": arg <= value, "SCMP_CMP_GT": arg > value, "SCMP_CMP_GE": arg >= value,
        "SCMP_CMP_MASKED_EQ": arg & value == value2,
    }[op]  # fmt: skip


VALUES = [0, 1, 40, 0x7FFFFFFF, 0xFFFFFFFF, 0x100000000, 0x100000028, 0xFFFFFFFF00000000, 2**64 - 1]


@pytest.mark.parametrize("op", ["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT",
                                "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"])  # fmt: skip
def test_argument_comparisons_64_and_32_bit(op: str) -> None:
    """Every operator against Python's arithmetic, on 64-bit x86_64 and (low word only) on i386."""
    args = sorted({v + d for v in VALUES for d in (-1, 0, 1) if 0 <= v + d < 2**64})
    for value in VALUES:
        value2 = (value & 0xFFFF0000FFFF0000) if op == "SCMP_CMP_MASKED_EQ" else 0
        doc = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_ARCHES,
               "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7,
                             "args": [{"index": 2, "value": value, "valueTwo": value2, "op": op}]}]}  # fmt: skip
        p = program(doc)
        for arg, (audit, arch, bits) in itertools.product(args, [(X86_64, "SCMP_ARCH_X86_64", 64),
                                                                  (I386, "SCMP_ARCH_X86", 32)]):  # fmt: skip
            want = RET_ERRNO | 7 if _holds(op, arg, value, value2, bits) else RET_ALLOW
            assert run(p, nr("read", arch), audit, (0, 0, arg)) == want, (hex(value), hex(arg), bits)


def test_conditions_and_within_a_rule_or_across_rules() -> None:
    read = nr("read")
    both = {
        "names": ["read"],
        "action": "SCMP_ACT_ERRNO",
        "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"},
        ],
    }
    p = program({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [both]})
    assert run(p, read, X86_64, (1, 2)) == EPERM
    assert run(p, read, X86_64, (1, 3)) == RET_ALLOW and run(p, read, X86_64, (0, 2)) == RET_ALLOW
    # the same index twice: runc adds one rule per condition, so either one matches
    same = {
        **both,
        "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 5, "op": "SCMP_CMP_EQ"},
        ],
    }
    p = program({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [same]})
    assert [run(p, read, X86_64, (a,)) for a in (1, 5, 3)] == [EPERM, EPERM, RET_ALLOW]


def test_most_restrictive_matching_rule_wins() -> None:
    read = nr("read")
    rules = [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
        {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
        {"names": ["write"], "action": "SCMP_ACT_KILL"},
    ]  # fmt: skip
    p = program({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": rules})
    assert run(p, read, X86_64, (3,)) == RET_ERRNO | 13
    assert run(p, read, X86_64, (4,)) == RET_ALLOW
    assert run(p, nr("write"), X86_64) == RET_KILL_THREAD
    # a rule with the default's action is dropped (libseccomp refuses it): the allow rule decides
    rules = [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
        {
            "names": ["read"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}],
        },
    ]
    p = program({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": rules})
    assert run(p, read, X86_64, (0,)) == RET_ALLOW and run(p, read, X86_64, (1,)) == EPERM


def test_architectures_and_unknown_names() -> None:
    doc = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "no_such_call", "chown32"], "action": "SCMP_ACT_ERRNO"}]}  # fmt: skip
    native = program(doc)  # no architectures: the native one only, the others are killed
    assert run(native, nr("mkdir"), X86_64) == EPERM and run(native, nr("rmdir"), X86_64) == RET_ALLOW
    assert run(native, nr("mkdir", "SCMP_ARCH_X86"), I386) == RET_KILL_PROCESS
    assert run(native, nr("read", "SCMP_ARCH_X32"), X86_64) == RET_KILL_PROCESS
    assert run(native, 999, X86_64) == RET_ALLOW  # no ENOSYS stub under an allowing default
    every = program({**doc, "architectures": ALL_ARCHES})
    assert run(every, nr("chown32", "SCMP_ARCH_X86"), I386) == EPERM  # an i386-only name
    assert run(every, nr("mkdir", "SCMP_ARCH_X32"), X86_64) == EPERM
    # an aarch64 machine reads the same config with its own numbers and arches
    arm = program({**doc, "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]}, machine="aarch64")
    assert run(arm, nr("mkdirat", "SCMP_ARCH_AARCH64"), AARCH64) == RET_ALLOW  # mkdir != mkdirat
    assert run(arm, nr("mkdir", "SCMP_ARCH_ARM"), 0x40000028) == EPERM
    assert run(arm, 0, X86_64) == RET_KILL_PROCESS


def test_far_jumps_stay_correct() -> None:
    """Hundreds of conditional rules: jumps past 255 instructions go through `ja` trampolines."""
    names = [n for n, _ in sorted(syscall_numbers("SCMP_ARCH_X86_64").items(), key=lambda kv: kv[1])][:250]
    rules = [{"names": [n], "action": "SCMP_ACT_ERRNO", "errnoRet": i % 100 + 1,
              "args": [{"index": i % 6, "value": i, "op": "SCMP_CMP_EQ"}]} for i, n in enumerate(names)]  # fmt: skip
    p = program({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules})
    assert 1000 < len(p) // 8 < 4096
    with pytest.raises(InvalidArgument, match="too long"):
        program({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_ARCHES, "syscalls": rules * 2})
    for i, name in enumerate(names):
        args = [0] * 6
        args[i % 6] = i
        assert run(p, nr(name), X86_64, tuple(args)) == RET_ERRNO | (i % 100 + 1), name
        args[i % 6] = i + 1
        assert run(p, nr(name), X86_64, tuple(args)) == RET_ALLOW, name


@pytest.mark.parametrize(("doc", "message"), [
    ({"defaultAction": "SCMP_ACT_FOO"}, "unknown action"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]},
     "seccomp agent"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                                                        "args": [{"index": 6, "op": "SCMP_CMP_EQ"}]}]}, "index 6"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}, "unknown architecture"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}, "unsupported flag"),
])  # fmt: skip
def test_errors(doc, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument, match=message):
        compile_filter(doc, "x86_64")
    with pytest.raises(InvalidArgument, match="not supported"):
        compile_filter({"defaultAction": "SCMP_ACT_ALLOW"}, "mips64")


def test_flags() -> None:
    doc = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    }
    assert compile_filter(doc, "x86_64").flags == 6


@pytest.mark.skipif(libseccomp() is None, reason="libseccomp is not installed")
@pytest.mark.parametrize("extra", [[], ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]])
def test_same_answers_as_libseccomp(extra) -> None:  # type: ignore[no-untyped-def]
    """Docker's default profile compiled by libseccomp (as runc does) and by podpy answer alike for
    every syscall number the profile covers, on x86_64, i386 and x32, for a set of arguments."""
    lib = libseccomp()
    assert lib is not None
    doc = to_oci(default_profile(), [*DEFAULT_CAPS, *extra], machine="x86_64", kernel="6.1.0")
    ours, theirs = program(doc), libseccomp_program(lib, doc)
    argsets = [(0,) * 6, (SIGCHLD,), (CLONE_NEWUSER | SIGCHLD,), (40, 1), (2, 1), (0xFFFFFFFF,), (0x0040000,),
               (1 << 40,), (0x7E020000, 0x7E020000)]  # fmt: skip

    def same(a: int, b: int) -> bool:
        kill = (RET_KILL_PROCESS, RET_KILL_THREAD)
        return a == b or (a in kill and b in kill)

    for arch, audit, base in (("SCMP_ARCH_X86_64", X86_64, 0), ("SCMP_ARCH_X86", I386, 0),
                              ("SCMP_ARCH_X32", X86_64, X32_BIT)):  # fmt: skip
        named = {
            syscall_numbers(arch)[n]
            for s in doc["syscalls"]
            for n in s["names"]
            if n in syscall_numbers(arch)
        }
        clone3 = syscall_numbers(arch)["clone3"]
        for number in range(base, max(named) + 1):
            for args in argsets:
                a, b = run(ours, number, audit, args), run(theirs, number, audit, args)
                if number == clone3 and a == NOSYS and not extra:
                    assert b == NOSYS
                    continue
                assert same(a, b), (arch, number - base, args, hex(a), hex(b))
    assert same(run(ours, 0, AARCH64), run(theirs, 0, AARCH64))
