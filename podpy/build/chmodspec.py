"""COPY/ADD --chmod: an octal mode, or chmod(1)'s symbolic form (`u+x,go-w`, `a=rX`) that newer
BuildKit accepts, applied to each copied entry's own mode. A missing `who` means `a` (no umask:
the build has none)."""

from __future__ import annotations

import re
from collections.abc import Callable

ModeFn = Callable[[int, bool], int]  # (current permission bits, is a directory) -> new bits
_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=][rwxXst]*)+)$")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o0007}  # each class's rwx bits and its special bit


def mode_function(spec: str) -> ModeFn:
    """ValueError when `spec` is neither octal (0..07777) nor symbolic."""
    if spec.isdigit():
        value = int(spec, 8) if all(c in "01234567" for c in spec) else -1
        if not 0 <= value <= 0o7777:
            raise ValueError(f"invalid chmod parameter: {spec!r}")
        return lambda _mode, _is_dir: value
    clauses = []
    for part in spec.split(","):
        m = _CLAUSE.match(part)
        if m is None:
            raise ValueError(f"invalid chmod parameter: {spec!r}")
        clauses.append((m.group(1) or "a", re.findall(r"([-+=])([rwxXst]*)", m.group(2))))
    return lambda mode, is_dir: _apply(clauses, mode & 0o7777, is_dir)


def _mask(who: str) -> int:
    return sum(_WHO[c] for c in ("ugo" if "a" in who else who))


def _bits(who: str, perms: str, mode: int, is_dir: bool) -> int:
    mask = _mask(who)
    out = 0
    for p in perms:
        if p == "r":
            out |= 0o444
        elif p == "w":
            out |= 0o222
        elif p == "x" or (p == "X" and (is_dir or mode & 0o111)):
            out |= 0o111
        elif p == "s":
            out |= 0o6000
        elif p == "t":
            out |= 0o1000 if "a" in who or "o" in who else 0
    return out & (mask | (0o1000 if "t" in perms else 0))


def _apply(clauses: list[tuple[str, list[tuple[str, str]]]], mode: int, is_dir: bool) -> int:
    for who, actions in clauses:
        for op, perms in actions:
            bits = _bits(who, perms, mode, is_dir)
            if op == "+":
                mode |= bits
            elif op == "-":
                mode &= ~bits
            else:  # "=": the classes named lose everything else (directories keep setuid/setgid)
                keep = 0o6000 if is_dir else 0
                mode = (mode & ~(_mask(who) & ~keep)) | bits
    return mode & 0o7777
