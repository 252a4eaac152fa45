"""Variable interpolation as the Compose Specification defines it.

`$$` is a literal `$`; `$NAME` and `${NAME}` substitute; inside braces `:-`/`-` give a default (when
unset or empty / when unset), `:?`/`?` fail with a message, `:+`/`+` give a replacement when set.
Defaults, messages and replacements are interpolated themselves, and only when used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from podpy.compose.errors import ComposeError
from podpy.compose.yamlio import Override

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")

Lookup = Callable[[str], "str | None"]


class InterpolationError(ComposeError):
    pass


class _Invalid(Exception):
    pass


class Interpolator:
    """Substitutes variables from `env`; unset variables without default are reported to `warn`."""

    def __init__(self, env: Mapping[str, str], warn: Callable[[str], None] | None = None) -> None:
        self.env = env
        self.warn = warn
        self.missing: list[str] = []

    def substitute(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            i = self._one(text, j, out)
        return "".join(out)

    def _one(self, text: str, j: int, out: list[str]) -> int:
        """Expand the `$` construct at `j`, append it and return the index after it."""
        nxt = text[j + 1 : j + 2]
        if nxt == "$":
            out.append("$")
            return j + 2
        if nxt == "{":
            end = _closing(text, j + 2)
            out.append(self._braced(text[j + 2 : end]))
            return end + 1
        m = _NAME.match(text, j + 1)
        if not m:  # a lone `$` is kept as it is, as Compose does (only `${...}` must be well formed)
            out.append("$")
            return j + 1
        out.append(self._value(m.group(0)))
        return m.end()

    def _value(self, name: str) -> str:
        value = self.env.get(name)
        if value is None:
            if name not in self.missing:
                self.missing.append(name)
                if self.warn:
                    self.warn(f'The "{name}" variable is not set. Defaulting to a blank string.')
            return ""
        return value

    def _braced(self, inner: str) -> str:
        m = _NAME.match(inner)
        if not m:
            raise _Invalid()
        name, rest = m.group(0), inner[m.end() :]
        if not rest:
            return self._value(name)
        op = next((o for o in _OPS if rest.startswith(o)), None)
        if op is None:
            raise _Invalid()
        arg = rest[len(op) :]
        value = self.env.get(name)
        is_set, non_empty = value is not None, bool(value)
        if op in (":-", "-"):
            use_default = not non_empty if op == ":-" else not is_set
            return self.substitute(arg) if use_default else (value or "")
        if op in (":?", "?"):
            if (op == ":?" and not non_empty) or (op == "?" and not is_set):
                message = self.substitute(arg)
                raise InterpolationError(f"required variable {name} is missing a value"
                                         + (f": {message}" if message else ""))
            return value or ""
        wanted = non_empty if op == ":+" else is_set
        return self.substitute(arg) if wanted else ""


def _closing(text: str, start: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `start` (nested `${...}` allowed)."""
    depth, i = 1, start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise _Invalid()


def interpolate_string(text: str, interp: Interpolator, path: str) -> str:
    try:
        return interp.substitute(text)
    except _Invalid:
        raise InterpolationError(
            f'invalid interpolation format for {path}: "{text}"; you may need to escape any $ with another $'
        ) from None
    except InterpolationError as exc:
        raise InterpolationError(f"error while interpolating {path}: {exc}") from None


def interpolate_tree(value: Any, interp: Interpolator, path: str = "") -> Any:
    """Interpolate every string value (never keys) of a parsed compose document."""
    if isinstance(value, str):
        return interpolate_string(value, interp, path)
    if isinstance(value, dict):
        return {k: interpolate_tree(v, interp, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate_tree(v, interp, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Override):
        return Override(interpolate_tree(value.value, interp, path))
    return value
