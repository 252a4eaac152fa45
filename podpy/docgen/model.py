"""A plain, shell-neutral description of the CLI, read from the click command tree.

Every generator (bash, zsh, fish, man) works from these records only, so new commands and
flags show up in completions and man pages without touching docgen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

# Words in an argument's metavar (or name) that say which live objects it names.
# The kind is passed to `podpy __names KIND`. (COMMAND is not here: in `run IMAGE COMMAND` it
# is the container's command; only `podpy help COMMAND` gets the kind "commands", see from_click.)
ENTITY_WORDS = {
    "IMAGE": "images",
    "REPOSITORY": "images",
    "CONTAINER": "containers",
    "VOLUME": "volumes",
    "NETWORK": "networks",
    "POD": "pods",
}
# Words that mean "a path on the host": completed with file names.
FILE_WORDS = {"FILE", "PATH", "TARBALL", "ARCHIVE", "SOURCE", "SRC", "INPUT", "OUTPUT", "DEST"}
DIR_WORDS = {"DIR", "DIRECTORY", "CONTEXT"}
LIVE_KINDS = ("images", "containers", "volumes", "networks", "pods")


@dataclass(frozen=True)
class Value:
    """How to complete one value: fixed choices, live names, files/dirs, or nothing."""

    choices: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # live kinds and/or "commands"
    files: str = ""  # "", "file" or "dir"

    @property
    def empty(self) -> bool:
        return not (self.choices or self.kinds or self.files)


@dataclass(frozen=True)
class Opt:
    names: tuple[str, ...]  # long names first, then short ones
    help: str
    takes_value: bool
    metavar: str
    value: Value
    nargs: int = 1
    default: str = ""
    multiple: bool = False

    @property
    def longs(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n.startswith("--"))

    @property
    def shorts(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if not n.startswith("--"))


@dataclass(frozen=True)
class Arg:
    metavar: str  # as shown in the synopsis, e.g. IMAGE... or [REFERENCE]
    help: str
    required: bool
    variadic: bool
    value: Value


@dataclass
class Cmd:
    path: tuple[str, ...]  # () for the root
    help: str
    short: str
    hidden: bool
    options: list[Opt]
    args: list[Arg]
    subs: list[Cmd] = field(default_factory=list)
    aliases: list[tuple[str, ...]] = field(default_factory=list)  # other paths running the same code
    interspersed: bool = True  # False: everything after the first argument is an argument (run, exec)

    @property
    def is_group(self) -> bool:
        return bool(self.subs)

    @property
    def name(self) -> str:
        return " ".join(("podpy", *self.path))

    @property
    def page(self) -> str:
        return "-".join(("podpy", *self.path))

    def walk(self) -> list[Cmd]:
        out = [self]
        for s in self.subs:
            out.extend(s.walk())
        return out

    def visible_subs(self) -> list[Cmd]:
        return [s for s in self.subs if not s.hidden]


HELP_OPT = Opt(("--help",), "Show this message and exit.", False, "", Value())


def _words(text: str) -> list[str]:
    return [w[:-1] if w.endswith("S") and w[:-1] in ENTITY_WORDS else w for w in re.findall(r"[A-Z]+", text.upper())]


def value_for(text: str, ptype: Any, entities: bool = True) -> Value:
    """Completion for a value named `text` (a metavar or parameter name) of click type `ptype`."""
    # Duck-typed: typer vendors click privately, so its classes are not a stable import.
    if getattr(ptype, "choices", None):
        return Value(choices=tuple(str(c) for c in ptype.choices))
    words = _words(text)
    kinds = tuple(dict.fromkeys(ENTITY_WORDS[w] for w in words if w in ENTITY_WORDS)) if entities else ()
    if kinds:
        return Value(kinds=kinds)
    if getattr(ptype, "name", "") == "path":
        return Value(files="dir" if ptype.dir_okay and not ptype.file_okay else "file")
    if getattr(ptype, "name", "") == "filename" or any(w in FILE_WORDS for w in words):
        return Value(files="file")
    if any(w in DIR_WORDS for w in words):
        return Value(files="dir")
    return Value()


def _clean(text: str | None) -> str:
    import inspect

    return inspect.cleandoc(text or "").replace("\b\n", "")


def _opt(p: Any) -> Opt:
    takes_value = not (p.is_flag or p.count)
    longs = [n for n in (*p.opts, *p.secondary_opts) if n.startswith("--")]
    shorts = [n for n in (*p.opts, *p.secondary_opts) if not n.startswith("--")]
    explicit = p.metavar or ""
    base = (p.name or "value").rstrip("_").upper().replace("_", "-")
    value = Value()
    if takes_value:
        # Entities only from an explicit metavar: option names like --volumes-from mislead.
        value = value_for(explicit, p.type) if explicit else value_for(base, p.type, entities=False)
    metavar = explicit or ("|".join(value.choices) if value.choices else base)
    default = ""
    if takes_value and not p.multiple and isinstance(p.default, str | int | float) and p.default not in ("", None):
        default = str(p.default)
    return Opt(tuple(longs + shorts), _clean(p.help), takes_value, metavar if takes_value else "", value,
               max(p.nargs, 1), default, bool(p.multiple or p.count))  # fmt: skip


def _arg(p: Any) -> Arg:
    variadic = p.nargs == -1
    base = (p.metavar or p.name or "arg").strip("[].").rstrip("_").upper()
    metavar = p.metavar or (base + ("..." if variadic else ""))
    if not p.required and not metavar.startswith("["):
        metavar = f"[{metavar}]"
    return Arg(metavar, _clean(getattr(p, "help", None)), p.required, variadic, value_for(base, p.type))


def _key(callback: Any) -> Any:
    # typer wraps each registration of a function anew; the wrapped function identifies aliases.
    return getattr(callback, "__wrapped__", callback)


def children(c: Any) -> dict[str, Any]:
    """Sub-commands through click's public API, so lazily loading groups work too."""
    if not hasattr(c, "list_commands"):
        return {}
    ctx = c.context_class(c, info_name=c.name)
    subs = {n: c.get_command(ctx, n) for n in c.list_commands(ctx)}
    return {n: s for n, s in sorted(subs.items()) if s is not None}


def from_click(root: Any) -> Cmd:
    """Convert the click tree returned by podpy.cli.app.build() into Cmd records."""

    def conv(c: Any, path: tuple[str, ...]) -> Cmd:
        opts = [_opt(p) for p in c.params if p.param_type_name == "option" and not p.hidden]
        args = [_arg(p) for p in c.params if p.param_type_name == "argument"]
        if path == ("help",):  # its arguments are podpy's own commands
            args = [replace(a, value=Value(kinds=("commands",))) for a in args]
        help_text = _clean(c.help) or _clean(c.short_help)
        short = c.get_short_help_str(limit=80) if help_text else ""
        cmd = Cmd(path, help_text, short, bool(c.hidden), [*opts, HELP_OPT], args)
        cmd.interspersed = bool((c.context_settings or {}).get("allow_interspersed_args", c.allow_interspersed_args))
        cmd.subs = [conv(s, (*path, n)) for n, s in children(c).items()]
        return cmd

    tree = conv(root, ())
    _link_aliases(root, tree)
    return tree


def _link_aliases(root: Any, tree: Cmd) -> None:
    by_path = {c.path: c for c in tree.walk()}
    groups: dict[Any, list[tuple[str, ...]]] = {}

    def visit(c: Any, path: tuple[str, ...]) -> None:
        subs = children(c)
        if c.callback is not None and not subs:
            groups.setdefault(_key(c.callback), []).append(path)
        for n, s in subs.items():
            visit(s, (*path, n))

    visit(root, ())
    for paths in groups.values():
        for p in paths:
            by_path[p].aliases = [q for q in sorted(paths) if q != p and not by_path[q].hidden]


def load() -> Cmd:
    from podpy.cli.app import build

    return from_click(build())
