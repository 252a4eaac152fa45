"""`config --variables`: the variables a project's files use, with how each is used (compose-go's
ExtractVariables): required (`:?`/`?`), a default (`:-`/`-`) or an alternate value (`:+`/`+`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podpy.compose.yamlio import Override, read_yaml

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")


@dataclass
class Variable:
    name: str
    required: bool = False
    default: str = ""
    alternate: str = ""


def project_variables(config_files: list[str]) -> dict[str, Variable]:
    """Every variable the (readable) compose files mention, by name; the first use of a name wins."""
    out: dict[str, Variable] = {}
    for f in config_files:
        path = Path(f)
        if path.is_file():
            _walk(read_yaml(path), out)
    return dict(sorted(out.items()))


def _walk(value: Any, out: dict[str, Variable]) -> None:
    if isinstance(value, str):
        for var in extract(value):
            out.setdefault(var.name, var)
    elif isinstance(value, dict):
        for v in value.values():
            _walk(v, out)
    elif isinstance(value, list):
        for v in value:
            _walk(v, out)
    elif isinstance(value, Override):
        _walk(value.value, out)


def extract(text: str) -> list[Variable]:
    """The variables of one string, nested ones (in defaults and alternates) included."""
    found: list[Variable] = []
    i = 0
    while (j := text.find("$", i)) >= 0:
        nxt = text[j + 1 : j + 2]
        if nxt == "$":
            i = j + 2
        elif nxt == "{":
            end = _closing(text, j + 2)
            if end < 0:
                return found
            found.extend(_braced(text[j + 2 : end]))
            i = end + 1
        elif m := _NAME.match(text, j + 1):
            found.append(Variable(m.group(0)))
            i = m.end()
        else:
            i = j + 1
    return found


def _braced(inner: str) -> list[Variable]:
    m = _NAME.match(inner)
    if not m:
        return []
    rest = inner[m.end() :]
    op = next((o for o in _OPS if rest.startswith(o)), None)
    var = Variable(m.group(0))
    if op is None:
        return [var]
    arg = rest[len(op) :]
    if op in (":?", "?"):
        var.required = True
    elif op in (":-", "-"):
        var.default = arg
    else:
        var.alternate = arg
    return [var, *extract(arg)]


def _closing(text: str, start: int) -> int:
    depth, i = 1, start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
        elif text.startswith("${", i):
            depth, i = depth + 1, i + 2
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
            i += 1
        else:
            i += 1
    return -1


def table(variables: dict[str, Variable]) -> list[str]:
    """Compose's table: NAME, REQUIRED, DEFAULT VALUE, ALTERNATE VALUE."""
    rows = [("NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE")]
    rows += [(v.name, str(v.required).lower(), v.default, v.alternate) for v in variables.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return [("".join(c.ljust(w + 3) for c, w in zip(r, widths, strict=False)) + r[3]).rstrip() for r in rows]
