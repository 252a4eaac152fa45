"""Shell patterns (`*`, `?`, `[...]`, `\\x`) for `${V#p}`, `${V%p}` and `${V/p/r}`."""

from __future__ import annotations

import re
from functools import lru_cache

from podpy.build.errors import ShellSyntaxError


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """Translate the bracket expression starting at pattern[i] == '['; (regex, next index)."""
    j = i + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    if j >= len(pattern):
        return re.escape("["), i + 1  # no closing bracket: a literal '['
    body = pattern[i + 1 : j]
    neg = body[:1] in ("!", "^")
    if neg:
        body = body[1:]
    chars: list[str] = []
    k = 0
    while k < len(body):
        if body[k] == "\\" and k + 1 < len(body):
            k += 1
            chars.append(re.escape(body[k]))
        else:
            chars.append(body[k] if body[k] == "-" else re.escape(body[k]))
        k += 1
    return "[" + ("^" if neg else "") + "".join(chars) + "]", j + 1


@lru_cache(maxsize=256)
def shell_regex(pattern: str) -> re.Pattern[str]:
    """The regex matching what `pattern` matches (greedy `*`)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            part, i = _bracket(pattern, i)
            out.append(part)
            continue
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error as e:
        raise ShellSyntaxError(f"invalid pattern ({pattern}) in substitution: {e}") from None


def trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    """`${V#p}` (shortest) / `${V##p}` (longest)."""
    rx = shell_regex(pattern)
    ends = range(len(value), -1, -1) if greedy else range(len(value) + 1)
    for end in ends:
        if rx.fullmatch(value, 0, end):
            return value[end:]
    return value


def trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    """`${V%p}` (shortest) / `${V%%p}` (longest)."""
    rx = shell_regex(pattern)
    starts = range(len(value) + 1) if greedy else range(len(value), -1, -1)
    for start in starts:
        if rx.fullmatch(value, start):
            return value[:start]
    return value


def replace_pattern(value: str, pattern: str, replacement: str, replace_all: bool) -> str:
    """`${V/p/r}` (first match) / `${V//p/r}` (every match); the replacement is literal."""
    rx = shell_regex(pattern)
    return rx.sub(lambda _m: replacement, value, count=0 if replace_all else 1)
