"""OCI `linux.seccomp` -> a classic-BPF program for seccomp(2), with the semantics runc gets from
libseccomp:

- every architecture this machine can execute is dispatched on `seccomp_data.arch`; those the
  config lists get their rules, the native one always, any other is killed (x32 shares x86_64's
  audit arch: its syscalls carry bit 30 and are split off first);
- a syscall's rules are tried most restrictive action first (the kernel's order: kill, trap, errno,
  trace, log, allow), the first whose argument conditions all hold decides; no rule: the default
  action. Rules that repeat an argument index are split into one rule per condition, as runc does;
  rules whose action is the default one are dropped (libseccomp refuses them);
- names this table does not know for an architecture are skipped;
- like runc, syscalls newer than any the config names (and clone3 when it is not named) return
  ENOSYS instead of a restrictive default, so that libc falls back to the older call.

Each architecture's numbers go through a binary search over ranges of equal outcome.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

from podpy.errors import InvalidArgument
from podpy.runtime.seccomp import Filter
from podpy.runtime.seccomp.arches import ARCHES, machine_arches
from podpy.runtime.seccomp.bpf import AND_K, JEQ, JGE, JGT, Asm, Label

RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000
ENOSYS, EPERM = 38, 1
X32_BIT = 0x40000000
OFF_NR, OFF_ARCH, OFF_ARGS = 0, 4, 16

ACTIONS = {
    "SCMP_ACT_KILL": RET_KILL_THREAD, "SCMP_ACT_KILL_THREAD": RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": RET_KILL_PROCESS, "SCMP_ACT_TRAP": RET_TRAP, "SCMP_ACT_ERRNO": RET_ERRNO,
    "SCMP_ACT_TRACE": RET_TRACE, "SCMP_ACT_LOG": RET_LOG, "SCMP_ACT_ALLOW": RET_ALLOW,
}  # fmt: skip
FLAGS = {"SECCOMP_FILTER_FLAG_TSYNC": 1, "SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}
OPS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
       "SCMP_CMP_MASKED_EQ")  # fmt: skip


class Cond:
    """One argument condition (plain classes: a dataclass costs ~0.4 ms to define at import)."""

    __slots__ = ("index", "op", "value", "value2")

    def __init__(self, index: int, op: str, value: int, value2: int = 0) -> None:
        self.index, self.op, self.value, self.value2 = index, op, value, value2


class Rule:
    __slots__ = ("ret", "conds")

    def __init__(self, ret: int, conds: tuple[Cond, ...] = ()) -> None:
        self.ret, self.conds = ret, conds


@cache
def syscall_numbers(arch: str) -> dict[str, int]:
    from podpy.runtime.seccomp.syscall_table import TABLES

    out, nr = {}, 0
    for word in TABLES[arch].split():
        if word.startswith("@"):
            nr = int(word[1:], 16)
            continue
        out.setdefault(word, nr)
        nr += 1
    return out


def action_ret(action: str, errno: int | None) -> int:
    if action == "SCMP_ACT_NOTIFY":
        raise InvalidArgument("seccomp: SCMP_ACT_NOTIFY needs a seccomp agent, which podpy does not support")
    if action not in ACTIONS:
        raise InvalidArgument(f"seccomp: unknown action {action!r}")
    base = ACTIONS[action]
    if base in (RET_ERRNO, RET_TRACE):
        return base | ((EPERM if errno is None else int(errno)) & 0xFFFF)
    return base


def _precedence(ret: int) -> int:
    """The kernel's order of actions: lower is more restrictive (the action bits, signed)."""
    action = ret & 0xFFFF0000
    return action - (1 << 32) if action & 0x80000000 else action


def _restrictive(ret: int) -> bool:
    return _precedence(ret) < _precedence(RET_TRACE)


def _conditions(args: list[dict[str, Any]] | None) -> list[tuple[Cond, ...]]:
    """One rule's conditions; runc's rule for an index given twice: one rule per condition."""
    conds = []
    for a in args or []:
        op = a.get("op")
        if op not in OPS:
            raise InvalidArgument(f"seccomp: unknown argument operator {op!r}")
        index = int(a.get("index", 0))
        if not 0 <= index <= 5:
            raise InvalidArgument(f"seccomp: argument index {index} out of range")
        conds.append(
            Cond(index, op, int(a.get("value", 0)) & (2**64 - 1), int(a.get("valueTwo", 0)) & (2**64 - 1))
        )
    if len({c.index for c in conds}) < len(conds):
        return [(c,) for c in conds]
    return [tuple(conds)]


def collect(
    doc: dict[str, Any], arches: tuple[str, ...], default: int
) -> tuple[dict[str, dict[int, list[Rule]]], dict[str, int]]:
    """Rules by architecture and syscall number in the config's order, and per architecture the
    highest number the config names (rules or not)."""
    rules: dict[str, dict[int, list[Rule]]] = {a: {} for a in arches}
    last: dict[str, int] = {}
    for entry in doc.get("syscalls") or []:
        ret = action_ret(entry.get("action", ""), entry.get("errnoRet"))
        names = list(entry.get("names") or []) + ([entry["name"]] if entry.get("name") else [])
        for conds in _conditions(entry.get("args")):
            rule = Rule(ret, conds)
            for arch in arches:
                table = syscall_numbers(arch)
                nrs = [table[n] for n in names if n in table]
                if nrs:
                    last[arch] = max(last.get(arch, -1), *nrs)
                if ret != default:
                    bucket = rules[arch]
                    for nr in nrs:
                        bucket.setdefault(nr, []).append(rule)
    return rules, last


def compile_filter(doc: dict[str, Any], machine: str | None = None) -> Filter:
    group = machine_arches(machine)
    wanted = set(doc.get("architectures") or ())
    unknown = wanted - set(ARCHES)
    if unknown:
        raise InvalidArgument(f"seccomp: unknown architecture {sorted(unknown)[0]!r}")
    arches = (group[0], *(a for a in group[1:] if a in wanted))
    default = action_ret(doc.get("defaultAction", ""), doc.get("defaultErrnoRet"))
    rules, last = collect(doc, arches, default)
    if _restrictive(default):  # what libc may try first and must see ENOSYS for: see the docstring
        named = {n for e in doc.get("syscalls") or [] for n in [*(e.get("names") or []), e.get("name")] if n}
        for arch in arches:
            clone3 = syscall_numbers(arch).get("clone3")
            if "clone3" not in named and clone3 is not None:
                rules[arch][clone3] = [Rule(RET_ERRNO | ENOSYS)]
    flags = 0
    for flag in doc.get("flags") or []:
        if flag not in FLAGS:
            raise InvalidArgument(f"seccomp: unsupported flag {flag!r}")
        flags |= FLAGS[flag]
    plans = {a: _ranges(a, rules[a], default, last.get(a) if _restrictive(default) else None) for a in arches}
    return Filter(_program(arches, plans, default), flags)


# One architecture's plan: ranges of nr [start, next start) with their target (an int is a `ret`
# value), and the blocks of syscalls with argument conditions.
_Plan = tuple[list[tuple[int, "Label | int"]], list[tuple[Label, list[Rule]]]]


def _ranges(arch: str, rules: dict[int, list[Rule]], default: int, last: int | None) -> _Plan:
    base = X32_BIT if arch == "SCMP_ARCH_X32" else 0
    ranges: list[tuple[int, Label | int]] = [(base, default)]
    blocks = []
    for nr in sorted(rules):
        rs = rules[nr]
        if len(rs) > 1:
            rs = _ordered(rs)
        if len(rs) == 1 and not rs[0].conds:
            target: Label | int = rs[0].ret
        else:
            target = Label()
            blocks.append((target, rs))
        ranges += [(nr, target), (nr + 1, default)]
    if last is not None:
        ranges.append((max(last, *rules, base - 1) + 1, RET_ERRNO | ENOSYS))
    return _merged(ranges), blocks


def _program(arches: tuple[str, ...], plans: dict[str, _Plan], default: int) -> bytes:
    asm = Asm()
    kill = asm.ret(RET_KILL_PROCESS)
    audits = list(dict.fromkeys(ARCHES[a][0] for a in arches))
    sections = {audit: Label() for audit in audits}
    asm.load(OFF_ARCH)
    for audit in audits:
        asm.emit(JEQ, audit, sections[audit])
    asm.jump(kill)
    for audit in audits:
        asm.place(sections[audit])
        asm.load(OFF_NR)
        mine = [a for a in arches if ARCHES[a][0] == audit]
        if audit == ARCHES["SCMP_ARCH_X86_64"][0]:  # native x86_64, x32 above bit 30
            x32 = Label() if "SCMP_ARCH_X32" in mine else kill
            asm.emit(JGE, X32_BIT, x32)
            _tree(asm, plans["SCMP_ARCH_X86_64"][0])
            asm.flush_rets()
            if x32 is not kill:
                asm.place(x32)
                _tree(asm, plans["SCMP_ARCH_X32"][0])
        else:
            _tree(asm, plans[mine[0]][0])
        asm.flush_rets()
    for arch in arches:
        for label, rs in plans[arch][1]:
            asm.place(label)
            _block(asm, rs, default, ARCHES[arch][1])
    try:
        return asm.assemble()
    except ValueError as e:
        raise InvalidArgument(f"seccomp: {e}") from None


def _ordered(rs: list[Rule]) -> list[Rule]:
    """Most restrictive first (stable); nothing after the first unconditional rule can match."""
    out = []
    for r in sorted(rs, key=lambda r: _precedence(r.ret)):
        out.append(r)
        if not r.conds:
            break
    return out


def _merged(starts: list[tuple[int, Label | int]]) -> list[tuple[int, Label | int]]:
    """Drop empty ranges (a later start at the same number wins) and join equal neighbours."""
    out: list[tuple[int, Label | int]] = []
    for start, target in starts:
        if out and out[-1][0] == start:
            out.pop()
        if out and out[-1][1] == target:
            continue
        out.append((start, target))
    return out


def _tree(asm: Asm, ranges: list[tuple[int, Label | int]]) -> None:
    """Binary search on nr: `jge start(mid)` splits the ranges; a single range is its target."""

    def label(target: Label | int) -> Label:
        return asm.ret(target) if isinstance(target, int) else target

    if len(ranges) == 1:
        asm.jump(label(ranges[0][1]))
        return
    pending: list[tuple[Label | None, list[tuple[int, Label | int]]]] = [(None, ranges)]
    while pending:
        here, rs = pending.pop(0)
        if here is not None:
            asm.place(here)
        mid = len(rs) // 2
        sides = []
        for part in (rs[mid:], rs[:mid]):
            if len(part) == 1:
                sides.append(label(part[0][1]))
            else:
                sides.append(Label())
                pending.append((sides[-1], part))
        asm.emit(JGE, rs[mid][0], sides[0], sides[1])


def _block(asm: Asm, rs: list[Rule], default: int, bits: int) -> None:
    for rule in rs:
        nxt = Label()
        for cond in rule.conds:
            ok = Label()
            _condition(asm, cond, ok, nxt, bits)
            asm.place(ok)
        asm.jump(asm.ret(rule.ret))
        asm.place(nxt)
    if rs[-1].conds:
        asm.jump(asm.ret(default))


def _condition(asm: Asm, c: Cond, ok: Label, fail: Label, bits: int) -> None:
    """Jump to `ok` when argument c.index satisfies c, else to `fail` (64-bit: high word first)."""
    lo_off = OFF_ARGS + 8 * c.index + (0 if sys.byteorder == "little" else 4)
    hi_off = OFF_ARGS + 8 * c.index + (4 if sys.byteorder == "little" else 0)
    lo, hi = c.value & 0xFFFFFFFF, c.value >> 32
    if c.op == "SCMP_CMP_MASKED_EQ":
        want_lo, want_hi = c.value2 & 0xFFFFFFFF, c.value2 >> 32
        if bits == 64 and (hi or want_hi):
            asm.load(hi_off)
            asm.emit(AND_K, hi)
            asm.emit(JEQ, want_hi, None, fail)
        asm.load(lo_off)
        asm.emit(AND_K, lo)
        asm.emit(JEQ, want_lo, ok, fail)
        return
    op = c.op.removeprefix("SCMP_CMP_")
    if bits == 64:
        asm.load(hi_off)
        _high_word(asm, op, hi, ok, fail)
    asm.load(lo_off)
    # the low word decides (unsigned), given equal high words
    final = {"EQ": (JEQ, ok, fail), "NE": (JEQ, fail, ok), "GT": (JGT, ok, fail), "GE": (JGE, ok, fail),
             "LT": (JGE, fail, ok), "LE": (JGT, fail, ok)}[op]  # fmt: skip
    asm.emit(final[0], lo, final[1], final[2])


def _high_word(asm: Asm, op: str, hi: int, ok: Label, fail: Label) -> None:
    """Decide on the high word when it differs; fall through to the low word when equal."""
    if op in ("EQ", "NE"):
        asm.emit(JEQ, hi, None, fail if op == "EQ" else ok)
    elif op in ("GT", "GE"):
        asm.emit(JGT, hi, ok, None)
        asm.emit(JEQ, hi, None, fail)
    else:  # LT, LE
        asm.emit(JGT, hi, fail, None)
        asm.emit(JEQ, hi, None, ok)
