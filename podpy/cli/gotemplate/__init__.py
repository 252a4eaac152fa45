"""A Go text/template subset for `--format`, executed on plain Python data.

    tmpl = parse("{{range .Names}}{{upper .}} {{end}}")
    tmpl.execute({"Names": ["a", "b"]})  # -> "A B "

Parse errors and execution errors are `podpy.errors.FormatError` with Go's
wording (`template: output:1: function "foo" not defined`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# The parser, executor and functions are imported by parse()/execute(): importing a light submodule
# (jsonshape, for `--format json`) does not pay for them.

__all__ = ["Template", "parse"]


class Template:
    """A parsed template; execute it any number of times."""

    __slots__ = ("source", "name", "nodes")

    def __init__(self, source: str, nodes: list[Any], name: str = "output") -> None:
        self.source, self.nodes, self.name = source, nodes, name

    def execute(self, data: Any) -> str:
        from .exec import State, execute

        return execute(State(self.source, self.name, data), self.nodes, data)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def parse(source: str, *, name: str = "output", shell_escapes: bool = False) -> Template:
    """Parse `source`; with shell_escapes, `\\t`/`\\n` typed in literal text become tab/newline."""
    from .funcs import FUNCS
    from .parser import parse as _parse

    nodes = _parse(source, FUNCS, name=name, shell_escapes=shell_escapes)
    return Template(source, nodes, name)
