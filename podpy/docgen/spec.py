"""A compact per-command table shared by the bash and fish scripts.

Both scripts walk the command line the same way: they need, per command path, the
subcommands, every flag, the flags that take a value, how to complete each flag value and
each positional argument. Values are encoded as short tokens so the scripts stay static:
  c:a,b        fixed choices
  k:images     live names from `podpy __names images` (several kinds: k:containers,images)
  k:commands   the top-level commands (resolved at generation time into c:...)
  f:file f:dir host paths
  -            nothing
Parts combine with `;` (c:bridge,host;k:networks: fixed choices and live names).
A trailing * marks a variadic argument (it completes every later position too).
Commands that take no flags after their first argument (run IMAGE CMD -l) have _inter=0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podpy.docgen.model import Cmd, Value

_SAFE = re.compile(r"^[A-Za-z0-9_.:/@+{}-]+$")


@dataclass(frozen=True)
class Row:
    path: str  # "" for the root, "image ls" for a sub-command
    subs: tuple[str, ...]  # visible sub-commands
    hidden_subs: tuple[str, ...]
    flags: tuple[str, ...]
    value_flags: tuple[str, ...]
    flag_values: tuple[tuple[str, str], ...]  # (flag, token) for flags whose values complete
    args: tuple[str, ...]  # one token per positional argument
    interspersed: bool = True  # False: flags end at the first positional argument
    sub_help: tuple[str, ...] = ()  # one line per visible sub-command
    flag_help: tuple[str, ...] = ()  # one line per flag


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def token(v: Value, root: Cmd) -> str:
    """The value's parts joined by `;` (choices, then live kinds, then files): `c:bridge,host;k:networks`."""
    parts = []
    if v.choices:
        choices = [c for c in v.choices if _SAFE.match(c)]
        parts += ["c:" + ",".join(choices)] if choices else []
    if v.kinds == ("commands",):
        parts.append("c:" + ",".join(s.path[-1] for s in root.visible_subs()))
    kinds = [k for k in v.kinds if k != "commands"]
    if kinds:
        parts.append("k:" + ",".join(kinds))
    if v.files:
        parts.append(f"f:{v.files}")
    return ";".join(parts) or "-"


def rows(root: Cmd) -> list[Row]:
    out = []
    for c in root.walk():
        flags = tuple(n for o in c.options for n in o.names)
        vflags = tuple(n for o in c.options if o.takes_value for n in o.names)
        fvals = tuple((n, token(o.value, root)) for o in c.options if o.takes_value and not o.value.empty
                      for n in o.names)  # fmt: skip
        args = tuple(token(a.value, root) + ("*" if a.variadic else "") for a in c.args)
        subs = c.visible_subs()
        out.append(Row(" ".join(c.path), tuple(s.path[-1] for s in subs),
                       tuple(s.path[-1] for s in c.subs if s.hidden), flags, vflags, fvals, args, c.interspersed,
                       tuple(s.short for s in subs), tuple(first_line(o.help) for o in c.options for _ in o.names)))  # fmt: skip
    return out
