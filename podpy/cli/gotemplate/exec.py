"""Executes a parsed template (nodes.py) against Python data.

Variables live on one stack of [name, value] pairs; control structures pop
what they pushed, as Go's executor does. Errors carry Go's location prefix:
`template: output:LINE:COL: executing "output" at <NODE>: ...`.
"""

from __future__ import annotations

from typing import Any

from podpy.errors import FormatError

from . import nodes as nd
from .funcs import FUNCS, FuncError, truth
from .gofmt import is_struct, print_value, sort_keys, sprint_value, type_name

_NO_FINAL = object()  # no value piped in from a previous command
_SCALARS = (str, int, float, bool, list, tuple)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
    __slots__ = ("src", "name", "vars")

    def __init__(self, src: str, name: str, data: Any) -> None:
        self.src, self.name = src, name
        self.vars: list[list[Any]] = [["$", data]]

    def error(self, node: Any, msg: str) -> FormatError:
        pos = node.pos
        line = self.src.count("\n", 0, pos) + 1
        col = pos - (self.src.rfind("\n", 0, pos) + 1)
        context = node.text if len(node.text) <= 20 else node.text[:20] + "..."
        return FormatError(
            f'template: {self.name}:{line}:{col}: executing "{self.name}" at <{context}>: {msg}'
        )

    def lookup(self, name: str) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise KeyError(name)  # the parser rejects undefined variables

    def assign(self, name: str, value: Any) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return


def execute(st: State, nodes: list[Any], data: Any) -> str:
    out: list[str] = []
    walk(st, nodes, data, out)
    return "".join(out)


def walk(st: State, nodes: list[Any], dot: Any, out: list[str]) -> None:
    for node in nodes:
        kind = type(node)
        if kind is nd.TextNode:
            out.append(node.text)
        elif kind is nd.ActionNode:
            value = eval_pipe(st, node.pipe, dot)
            if not node.pipe.decl:
                out.append(print_value(value))
        elif kind is nd.BranchNode:
            _walk_branch(st, node, dot, out)
        elif kind is nd.RangeNode:
            _walk_range(st, node, dot, out)
        elif kind is nd.BreakNode:
            raise _Break
        elif kind is nd.ContinueNode:
            raise _Continue


def _walk_branch(st: State, node: nd.BranchNode, dot: Any, out: list[str]) -> None:
    mark = len(st.vars)
    try:
        value = eval_pipe(st, node.pipe, dot)
        if truth(value):
            walk(st, node.body, value if node.kind == "with" else dot, out)
        else:
            walk(st, node.else_, dot, out)
    finally:
        del st.vars[mark:]


def _range_items(st: State, node: nd.RangeNode, value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return enumerate(value)
    if isinstance(value, dict):
        return ((k, value[k]) for k in sort_keys(value))
    if isinstance(value, int) and not isinstance(value, bool):
        if len(node.pipe.decl) > 1:
            raise st.error(node.pipe, f"can't use {value} to iterate over more than one variable")
        return ((i, i) for i in range(value))
    raise st.error(node.pipe, f"range can't iterate over {sprint_value(value)}")


def _walk_range(st: State, node: nd.RangeNode, dot: Any, out: list[str]) -> None:
    value = eval_pipe(st, node.pipe, dot, declare=False)
    mark, ran = len(st.vars), False
    for key, elem in _range_items(st, node, value):
        ran = True
        _bind_range_vars(st, node.pipe, key, elem)
        try:
            walk(st, node.body, elem, out)
        except _Break:
            break
        except _Continue:
            continue
        finally:
            del st.vars[mark:]
    if not ran:
        walk(st, node.else_, dot, out)


def _bind_range_vars(st: State, pipe: nd.Pipe, key: Any, elem: Any) -> None:
    """One variable gets the element; two get index/key and element."""
    values = [elem] if len(pipe.decl) == 1 else [key, elem]
    for name, value in zip(pipe.decl, values, strict=False):
        if pipe.assign:
            st.assign(name, value)
        else:
            st.vars.append([name, value])


def eval_pipe(st: State, pipe: nd.Pipe, dot: Any, declare: bool = True) -> Any:
    value: Any = _NO_FINAL
    for cmd in pipe.cmds:
        value = _eval_command(st, cmd, dot, value)
    if declare and pipe.decl:
        if pipe.assign:
            st.assign(pipe.decl[0], value)
        else:
            st.vars.append([pipe.decl[0], value])
    return value


def _eval_command(st: State, cmd: nd.Command, dot: Any, final: Any) -> Any:
    first = cmd.args[0]
    kind = type(first)
    if kind is nd.IdentNode:
        return _call(st, cmd, first, dot, final)
    if len(cmd.args) > 1 or final is not _NO_FINAL:
        if kind is nd.FieldNode:
            method = _method(st, first, dot)
            if method is not None:
                args = [eval_arg(st, a, dot) for a in cmd.args[1:]]
                return method(*args, *([] if final is _NO_FINAL else [final]))
        if kind in (nd.FieldNode, nd.ChainNode) or (kind is nd.VarNode and first.names):
            raise st.error(first, f"{first.names[-1]} has arguments but cannot be invoked as function")
        raise st.error(first, f"can't give argument to non-function {first.text}")
    return eval_arg(st, first, dot)


def _method(st: State, node: Any, dot: Any) -> Any:
    """`{{.Label "app"}}`: a record offering methods (format.TemplateView) answers the last name."""
    receiver = _fields(st, node, dot, node.names[:-1]) if len(node.names) > 1 else dot
    lookup = getattr(receiver, "template_method", None)
    return lookup(node.names[-1]) if lookup is not None else None


def eval_arg(st: State, node: Any, dot: Any) -> Any:
    kind = type(node)
    if kind is nd.FieldNode:
        return _fields(st, node, dot, node.names)
    if kind is nd.LitNode:
        return node.value
    if kind is nd.DotNode:
        return dot
    if kind is nd.VarNode:
        value = st.lookup(node.name)
        return _fields(st, node, value, node.names) if node.names else value
    if kind is nd.Pipe:
        return eval_pipe(st, node, dot)
    if kind is nd.ChainNode:
        return _fields(st, node, eval_arg(st, node.node, dot), node.names)
    if kind is nd.IdentNode:
        return _call(st, nd.Command([node], node.pos, node.text), node, dot, _NO_FINAL)
    return None  # NilNode


def _fields(st: State, node: Any, value: Any, names: list[str]) -> Any:
    for name in names:
        if value is None:
            return None  # Go: a field of a missing value is no value
        if isinstance(value, dict):
            try:
                value = value[name]
            except KeyError:
                if is_struct(value):
                    raise st.error(node, f"can't evaluate field {name}") from None
                value = None
        elif isinstance(value, _SCALARS) or name.startswith("_") or not hasattr(value, name):
            raise st.error(node, f"can't evaluate field {name} in type {type_name(value)}")
        else:
            value = getattr(value, name)  # dataclass records
    return value


def _call(st: State, cmd: nd.Command, ident: nd.IdentNode, dot: Any, final: Any) -> Any:
    name = ident.name
    fn, lo, hi = FUNCS[name]
    arg_nodes = cmd.args[1:]
    count = len(arg_nodes) + (final is not _NO_FINAL)
    if count < lo or (hi is not None and count > hi):
        want = f"at least {lo}" if hi is None else str(lo)
        raise st.error(ident, f"wrong number of args for {name}: want {want} got {count}")
    if name in ("and", "or"):
        return _and_or(st, name == "and", arg_nodes, dot, final)
    args = [eval_arg(st, a, dot) for a in arg_nodes]
    if final is not _NO_FINAL:
        args.append(final)
    try:
        return fn(*args)
    except (FuncError, ValueError, TypeError, OverflowError) as exc:  # Go turns panics into errors too
        raise st.error(cmd, f"error calling {name}: {exc}") from None


def _and_or(st: State, is_and: bool, arg_nodes: list[Any], dot: Any, final: Any) -> Any:
    """Go 1.18+: stop at the first false (and) / true (or) argument and return it."""
    value: Any = None
    for arg in arg_nodes:
        value = eval_arg(st, arg, dot)
        if truth(value) != is_and:
            return value
    if final is not _NO_FINAL:
        value = final
    return value
