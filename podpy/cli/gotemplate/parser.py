"""Recursive-descent parser: token list (lexer.py) → node list (nodes.py).

Mirrors Go's text/template/parse checks that happen before execution:
unknown functions, undefined variables, misplaced {{end}}/{{else}}/{{break}}.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from podpy.errors import FormatError

from . import lexer as lx
from . import nodes as nd

_CONTROL_NAMES = {"if": "if", "with": "with", "range": "range"}
_LITERAL_NODES = (nd.LitNode, nd.DotNode, nd.NilNode)


class Parser:
    def __init__(self, src: str, toks: list[lx.Token], funcs: Container[str], name: str) -> None:
        self.src, self.toks, self.funcs, self.name = src, toks, funcs, name
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0

    # -- token helpers ------------------------------------------------------
    def peek(self, ahead: int = 0) -> lx.Token:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def next(self) -> lx.Token:
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, tok: lx.Token | int, msg: str) -> FormatError:
        pos = tok if isinstance(tok, int) else tok.pos
        return lx.syntax_error(self.src, pos, msg, self.name)

    def unexpected(self, tok: lx.Token, context: str) -> FormatError:
        if tok.kind == lx.EOF:
            return self.error(tok, "unexpected EOF")
        return self.error(tok, f"unexpected {tok.describe(self.src)} in {context}")

    def expect_right(self, context: str) -> None:
        tok = self.next()
        if tok.kind != lx.RIGHT:
            raise self.unexpected(tok, context)

    # -- lists and control structures ---------------------------------------
    def parse(self) -> list[Any]:
        nodes, term = self.item_list()
        if term.kind != lx.EOF:
            raise self.error(term, f"unexpected {{{{{term.val}}}}}")
        return nodes

    def item_list(self) -> tuple[list[Any], lx.Token]:
        """Nodes up to EOF or an `{{end}}`/`{{else` (returned as the terminator)."""
        nodes: list[Any] = []
        while True:
            tok = self.next()
            if tok.kind == lx.TEXT:
                nodes.append(nd.TextNode(tok.val))
                continue
            if tok.kind == lx.EOF:
                return nodes, tok
            kw = self.peek()
            if kw.kind == lx.KEYWORD:
                self.next()
                if kw.val in ("end", "else"):
                    if kw.val == "end":
                        self.expect_right("end")
                    return nodes, kw
                nodes.append(self.keyword(kw))
                continue
            pipe = self.pipeline("command", lx.RIGHT)
            nodes.append(nd.ActionNode(pipe))

    def keyword(self, kw: lx.Token) -> Any:
        if kw.val in _CONTROL_NAMES:
            return self.control(kw)
        if kw.val in ("break", "continue"):
            if not self.range_depth:
                raise self.error(kw, f"{{{{{kw.val}}}}} outside {{{{range}}}}")
            self.expect_right(kw.val)
            return nd.BreakNode(kw.pos) if kw.val == "break" else nd.ContinueNode(kw.pos)
        raise self.error(kw, f"{{{{{kw.val}}}}} is not supported")

    def control(self, kw: lx.Token) -> Any:
        mark = len(self.vars)
        pipe = self.pipeline(kw.val, lx.RIGHT)
        if kw.val == "range":
            self.range_depth += 1
        body, term = self.item_list()
        if kw.val == "range":
            self.range_depth -= 1
        else_: list[Any] = []
        if term.kind == lx.EOF:
            raise self.error(term, "unexpected EOF")
        if term.val == "else":
            else_ = self.else_branch(kw)
        del self.vars[mark:]
        if kw.val == "range":
            return nd.RangeNode(pipe, body, else_)
        return nd.BranchNode(kw.val, pipe, body, else_)

    def else_branch(self, kw: lx.Token) -> list[Any]:
        nxt = self.peek()
        # `{{else if ...}}` / `{{else with ...}}` nest a control that owns the shared {{end}}.
        if nxt.kind == lx.KEYWORD and nxt.val == kw.val and kw.val in ("if", "with"):
            self.next()
            return [self.control(nxt)]
        self.expect_right("else")
        else_, term = self.item_list()
        if term.kind == lx.EOF:
            raise self.error(term, "unexpected EOF")
        if term.val != "end":
            raise self.error(term, f"expected end; found {{{{else}}}} in {kw.val}")
        return else_

    # -- pipelines, commands, operands --------------------------------------
    def pipeline(self, context: str, end: str) -> nd.Pipe:
        start = self.peek().pos
        decl, assign = self.declarations(context)
        cmds: list[nd.Command] = []
        while True:
            tok = self.peek()
            if tok.kind == end and not cmds:
                raise self.error(tok, f"missing value for {context}")
            cmds.append(self.command())
            tok = self.next()
            if tok.kind == lx.PIPE:
                continue
            if tok.kind == end:
                break
            raise self.unexpected(tok, context)
        for idx, cmd in enumerate(cmds[1:], start=2):
            if isinstance(cmd.args[0], _LITERAL_NODES):
                raise self.error(cmd.pos, f"non executable command in pipeline stage {idx}")
        text = self.src[start : self.toks[self.i - 1].pos].strip()
        return nd.Pipe(decl, assign, cmds, start, text)

    def declarations(self, context: str) -> tuple[list[str], bool]:
        t0, t1 = self.peek(), self.peek(1)
        if t0.kind != lx.VAR:
            return [], False
        if t1.kind in (lx.DECLARE, lx.ASSIGN):
            names, op = [t0], t1
        elif t1.kind == lx.COMMA and self.peek(2).kind == lx.VAR:
            if context != "range":
                raise self.error(t1, f"too many declarations in {context}")
            names, op = [t0, self.peek(2)], self.peek(3)
            if op.kind not in (lx.DECLARE, lx.ASSIGN):
                raise self.unexpected(op, "range declaration")
        else:
            return [], False
        self.i += 2 * len(names)
        assign = op.kind == lx.ASSIGN
        for tok in names:
            if assign and tok.val not in self.vars:
                raise self.error(tok, f'undefined variable "{tok.val}"')
            if not assign:
                self.vars.append(tok.val)
        return [t.val for t in names], assign

    def command(self) -> nd.Command:
        args: list[Any] = []
        start = self.peek()
        while True:
            tok = self.peek()
            if tok.kind in (lx.RIGHT, lx.RPAREN, lx.PIPE, lx.EOF):
                break
            if args and not tok.spaced:
                raise self.unexpected(tok, "operand")
            args.append(self.operand())
        if not args:
            raise self.error(start, "missing value for command")
        if isinstance(args[0], nd.NilNode):
            raise self.error(start, "nil is not a command")
        text = self.src[start.pos : self.toks[self.i - 1].end]
        return nd.Command(args, start.pos, text)

    def operand(self) -> Any:
        node = self.term()
        names: list[str] = []
        while self.peek().kind == lx.FIELD and not self.peek().spaced:
            names.append(self.next().val)
        if not names:
            return node
        if isinstance(node, _LITERAL_NODES):
            raise self.error(node.pos, f"unexpected . after term {node.text!r}")
        text = self.src[node.pos : self.toks[self.i - 1].end]
        if isinstance(node, nd.FieldNode):
            return nd.FieldNode(node.names + names, node.pos, text)
        if isinstance(node, nd.VarNode):
            return nd.VarNode(node.name, node.names + names, node.pos, text)
        return nd.ChainNode(node, names, node.pos, text)

    def term(self) -> Any:
        tok = self.next()
        text = self.src[tok.pos : tok.end]
        kind = tok.kind
        if kind == lx.FIELD:
            return nd.FieldNode([tok.val], tok.pos, text)
        if kind == lx.IDENT:
            if tok.val not in self.funcs:
                raise self.error(tok, f'function "{tok.val}" not defined')
            return nd.IdentNode(tok.val, tok.pos, text)
        if kind == lx.VAR:
            if tok.val not in self.vars:
                raise self.error(tok, f'undefined variable "{tok.val}"')
            return nd.VarNode(tok.val, [], tok.pos, text)
        if kind in (lx.STRING, lx.NUMBER, lx.BOOL):
            return nd.LitNode(tok.val, tok.pos, text)
        if kind == lx.DOT:
            return nd.DotNode(tok.pos)
        if kind == lx.NIL:
            return nd.NilNode(tok.pos)
        if kind == lx.LPAREN:
            pipe = self.pipeline("parenthesized pipeline", lx.RPAREN)
            pipe.text = self.src[tok.pos : self.toks[self.i - 1].end]
            return pipe
        raise self.unexpected(tok, "operand")


def parse(src: str, funcs: Container[str], *, name: str = "output", shell_escapes: bool = False) -> list[Any]:
    toks = lx.lex(src, shell_escapes=shell_escapes)
    return Parser(src, toks, funcs, name).parse()
