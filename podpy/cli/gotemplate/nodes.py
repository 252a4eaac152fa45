"""Parse tree of a Go template. Nodes are plain data; exec.py walks them.

Plain __slots__ classes rather than dataclasses: importing and building
dataclasses costs ~15 ms, which `podpy ps` would pay on every run.
"""

from __future__ import annotations

from typing import Any


class Node:
    __slots__: tuple[str, ...] = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class FieldNode(Node):
    """`.A.B`: field chain on dot."""

    __slots__ = ("names", "pos", "text")

    def __init__(self, names: list[str], pos: int, text: str) -> None:
        self.names, self.pos, self.text = names, pos, text


class VarNode(Node):
    """`$x` or `$x.A.B`."""

    __slots__ = ("name", "names", "pos", "text")

    def __init__(self, name: str, names: list[str], pos: int, text: str) -> None:
        self.name, self.names, self.pos, self.text = name, names, pos, text


class ChainNode(Node):
    """`(pipeline).A.B`: field chain on a parenthesised value."""

    __slots__ = ("node", "names", "pos", "text")

    def __init__(self, node: Any, names: list[str], pos: int, text: str) -> None:
        self.node, self.names, self.pos, self.text = node, names, pos, text


class DotNode(Node):
    __slots__ = ("pos", "text")

    def __init__(self, pos: int) -> None:
        self.pos, self.text = pos, "."


class NilNode(Node):
    __slots__ = ("pos", "text")

    def __init__(self, pos: int) -> None:
        self.pos, self.text = pos, "nil"


class LitNode(Node):
    """A string, number or bool constant."""

    __slots__ = ("value", "pos", "text")

    def __init__(self, value: Any, pos: int, text: str) -> None:
        self.value, self.pos, self.text = value, pos, text


class IdentNode(Node):
    """A function name."""

    __slots__ = ("name", "pos", "text")

    def __init__(self, name: str, pos: int, text: str) -> None:
        self.name, self.pos, self.text = name, pos, text


class Command(Node):
    __slots__ = ("args", "pos", "text")

    def __init__(self, args: list[Any], pos: int, text: str) -> None:
        self.args, self.pos, self.text = args, pos, text


class Pipe(Node):
    """`$x := cmd | cmd`; also a parenthesised argument."""

    __slots__ = ("decl", "assign", "cmds", "pos", "text")

    def __init__(self, decl: list[str], assign: bool, cmds: list[Command], pos: int, text: str) -> None:
        self.decl, self.assign, self.cmds, self.pos, self.text = decl, assign, cmds, pos, text


class ActionNode(Node):
    __slots__ = ("pipe",)

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe


class BranchNode(Node):
    """`if` or `with` (kind), with its else list (an else-if is a nested BranchNode)."""

    __slots__ = ("kind", "pipe", "body", "else_")

    def __init__(self, kind: str, pipe: Pipe, body: list[Any], else_: list[Any]) -> None:
        self.kind, self.pipe, self.body, self.else_ = kind, pipe, body, else_


class RangeNode(Node):
    __slots__ = ("pipe", "body", "else_")

    def __init__(self, pipe: Pipe, body: list[Any], else_: list[Any]) -> None:
        self.pipe, self.body, self.else_ = pipe, body, else_


class BreakNode(Node):
    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos


class ContinueNode(Node):
    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos


def first_field(nodes: list[Any]) -> list[str] | None:
    """Names of the first field chain (`.A.B`, `$.A`) used by these nodes, for table headers."""
    for node in nodes:
        found = _field_in(node)
        if found:
            return found
    return None


def _field_in(node: Any) -> list[str] | None:
    if isinstance(node, FieldNode):
        return node.names
    if isinstance(node, (VarNode, ChainNode)) and node.names:
        return node.names
    if isinstance(node, ChainNode):
        return _field_in(node.node)
    if isinstance(node, ActionNode):
        return _field_in(node.pipe)
    if isinstance(node, Pipe):
        return first_field([a for c in node.cmds for a in c.args])
    if isinstance(node, (BranchNode, RangeNode)):
        return _field_in(node.pipe) or first_field(node.body)
    return None
