"""A tiny classic-BPF assembler for seccomp filters: symbolic forward jumps, shared return
instructions, and far conditional jumps rewritten through `ja` trampolines (cBPF's conditional
offsets are 8 bits; `ja` has 32)."""

from __future__ import annotations

import struct

LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
JA = 0x05  # BPF_JMP | BPF_JA
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGT = 0x25
JGE = 0x35
RET_K = 0x06  # BPF_RET | BPF_K
MAX_INSNS = 4096  # BPF_MAXINSNS

_FMT = struct.Struct("=HBBI")  # struct sock_filter, native byte order


class Label:
    """A position in the program; placed once with Asm.place, jumped to from before it."""

    __slots__ = ()


class Insn:
    """jt/jf: conditional targets (None = the next instruction); `ja` keeps its target in jt."""

    __slots__ = ("code", "k", "jt", "jf")

    def __init__(self, code: int, k: int = 0, jt: Label | None = None, jf: Label | None = None) -> None:
        self.code, self.k, self.jt, self.jf = code, k, jt, jf


class Asm:
    def __init__(self) -> None:
        self.items: list[Insn | Label] = []
        self._rets: dict[int, Label] = {}

    def place(self, label: Label) -> None:
        self.items.append(label)

    def emit(self, code: int, k: int = 0, jt: Label | None = None, jf: Label | None = None) -> None:
        self.items.append(Insn(code, k & 0xFFFFFFFF, jt, jf))

    def load(self, offset: int) -> None:
        self.emit(LD_W_ABS, offset)

    def jump(self, target: Label) -> None:
        self.emit(JA, jt=target)

    def ret(self, value: int) -> Label:
        """The label of a shared `ret value`, emitted once at the end of the program."""
        if value not in self._rets:
            self._rets[value] = Label()
        return self._rets[value]

    def flush_rets(self) -> None:
        """Emit the pending `ret`s here (after an unconditional jump): near the code using them."""
        for value, label in self._rets.items():
            self.items += [label, Insn(RET_K, value)]
        self._rets = {}

    def assemble(self) -> bytes:
        self.flush_rets()
        items = self.items
        while _add_trampolines(items):
            pass
        pos = _positions(items)
        out = bytearray()
        insns = [i for i in items if isinstance(i, Insn)]
        if len(insns) > MAX_INSNS:
            raise ValueError(
                f"seccomp filter too long: {len(insns)} instructions (the kernel takes {MAX_INSNS})"
            )
        for n, insn in enumerate(insns):
            if insn.code == JA:
                out += _FMT.pack(JA, 0, 0, _offset(pos, n, insn.jt))
            elif insn.code in (JEQ, JGT, JGE):
                out += _FMT.pack(insn.code, _offset(pos, n, insn.jt), _offset(pos, n, insn.jf), insn.k)
            else:
                out += _FMT.pack(insn.code, 0, 0, insn.k)
        return bytes(out)


def _positions(items: list[Insn | Label]) -> dict[Label, int]:
    pos, n = {}, 0
    for item in items:
        if isinstance(item, Label):
            pos[item] = n
        else:
            n += 1
    return pos


def _offset(pos: dict[Label, int], n: int, target: Label | None) -> int:
    if target is None:
        return 0
    off = pos[target] - n - 1
    if off < 0:
        raise ValueError("seccomp filter: backward jump")
    return off


def _add_trampolines(items: list[Insn | Label]) -> bool:
    """Point too-far conditional targets at `ja`s placed right after their jumps; True if any was.
    A "next instruction" target of such a jump then needs a label past the trampolines."""
    pos = _positions(items)
    out: list[Insn | Label] = []
    n, changed = 0, False
    for insn in items:
        out.append(insn)
        if not isinstance(insn, Insn):
            continue
        n += 1
        if insn.code not in (JEQ, JGT, JGE):
            continue
        far = [a for a in ("jt", "jf") if getattr(insn, a) is not None and pos[getattr(insn, a)] - n > 255]
        if not far:
            continue
        changed = True
        for attr in far:
            near = Label()
            out += [near, Insn(JA, jt=getattr(insn, attr))]
            setattr(insn, attr, near)
        for attr in ("jt", "jf"):
            if getattr(insn, attr) is None:
                nxt = Label()
                out.append(nxt)
                setattr(insn, attr, nxt)
    items[:] = out
    return changed
