"""Dockerfile text → a list of syntax nodes (BuildKit's frontend/dockerfile/parser semantics).

Parser directives, line continuations (with comments and blank lines inside), heredocs, and the
per-instruction split into flags and argument words. Nothing is expanded here.
"""

from __future__ import annotations

import re
from pathlib import Path

from podpy.build import line_parsers as lp
from podpy.build.errors import BuildError, ShellSyntaxError
from podpy.build.heredoc import Heredoc, heredocs_from_line
from podpy.record import field, record

_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_KNOWN_DIRECTIVES = ("escape", "syntax", "check")
_HEREDOC_INSTRUCTIONS = ("ADD", "COPY", "RUN")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@record(lean_init=True)
class Node:
    """One instruction as written: upper-cased name, raw flags, argument words, heredoc bodies."""

    instruction: str
    original: str
    start_line: int
    end_line: int
    flags: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    json: bool = False
    heredocs: list[Heredoc] = field(default_factory=list)
    sub: Node | None = None  # ONBUILD's trigger
    comments: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out: dict = {"instruction": self.instruction, "lines": [self.start_line, self.end_line]}
        if self.flags:
            out["flags"] = self.flags
        out["args"] = self.args
        if self.json:
            out["json"] = True
        if self.heredocs:
            out["heredocs"] = [h.to_dict() for h in self.heredocs]
        if self.sub is not None:
            out["trigger"] = self.sub.to_dict()
        return out


@record(lean_init=True)
class Dockerfile:
    nodes: list[Node]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    file: str = "Dockerfile"


class _Directives:
    def __init__(self, file: str) -> None:
        self.file, self.escape, self.done = file, "\\", False
        self.seen: dict[str, str] = {}

    def consume(self, line: str, lineno: int) -> bool:
        """True if `line` is a parser directive (only before anything else in the file)."""
        if self.done:
            return False
        m = _DIRECTIVE.match(line)
        if not m or m.group(1).lower() not in _KNOWN_DIRECTIVES:
            self.done = True
            return False
        key, value = m.group(1).lower(), m.group(2)
        if key in self.seen:
            raise BuildError(f"only one {key} parser directive can be used", file=self.file, line=lineno)
        if key == "escape" and value not in ("\\", "`"):
            raise BuildError(f"invalid escape token '{value}' does not match ` or \\", file=self.file, line=lineno)
        self.seen[key] = value
        if key == "escape":
            self.escape = value
        return True


def _trim_newline(line: str) -> str:
    return line[:-1].removesuffix("\r") if line.endswith("\n") else line


def _is_comment(line: str) -> bool:
    return _trim_newline(line).lstrip().startswith("#")


class _Lines:
    """The source as lines with their newlines, numbered from 1."""

    def __init__(self, text: str) -> None:
        self.lines = _LINE.findall(text.removeprefix("\ufeff"))
        self.pos = 0

    def next(self) -> str | None:
        if self.pos >= len(self.lines):
            return None
        self.pos += 1
        return self.lines[self.pos - 1]


def parse_file(path: Path, name: str | None = None) -> Dockerfile:
    """Read and parse a Dockerfile (UTF-8, an optional BOM); BuildError when it cannot be read.

    Bytes that are not UTF-8 pass through as surrogates (BuildKit takes any bytes): encode text
    back with errors="surrogateescape" when writing it out (heredoc files)."""
    label = name or path.name
    try:
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise BuildError(f"no such file or directory: {path}", file=label) from None
    except OSError as e:
        raise BuildError(f"cannot read the Dockerfile: {e}", file=label) from None
    return parse(text, label)


def parse(text: str, file: str = "Dockerfile") -> Dockerfile:
    """Parse a whole Dockerfile; BuildError names the file and line of the first problem."""
    d = _Directives(file)
    src = _Lines(text)
    result = Dockerfile([], file=file)
    comments: list[str] = []
    while (raw := src.next()) is not None:
        lineno = src.pos
        line = _trim_newline(raw).lstrip()
        if line.startswith("#"):
            if d.consume(line, lineno):
                continue
            comment = line[1:].strip()
            comments = [*comments, comment] if comment else []
            continue
        d.done = True
        body, ended = _trim_continuation(line, d.escape)
        if ended and not body:
            continue
        logical, empty_cont = _join_continuations(src, body, ended, d.escape)
        if not logical.strip():
            continue
        if empty_cont:
            result.warnings.append(f"Empty continuation line found in: {logical}")
        node = _node(logical, d.escape, lineno, file, comments)
        _read_heredocs(node, src, logical, lineno, file)
        node.end_line = src.pos
        result.nodes.append(node)
        comments = []
    if not result.nodes:
        raise BuildError("file with no instructions", file=file, line=src.pos)
    result.escape, result.directives = d.escape, dict(d.seen)
    return result


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    stripped = line.rstrip(" \t")
    # an escaped escape (`a\\`) at the end is text, not a continuation
    if stripped.endswith(escape) and (len(stripped) == 1 or stripped[-2] != escape):
        return stripped[:-1], False
    return line, True


def _join_continuations(src: _Lines, body: str, ended: bool, escape: str) -> tuple[str, bool]:
    parts, empty_cont = [body], False
    while not ended and (raw := src.next()) is not None:
        if _is_comment(raw):
            continue
        line = _trim_newline(raw)
        if not line.strip():
            empty_cont = True
            continue
        line, ended = _trim_continuation(line, escape)
        parts.append(line)
    return "".join(parts), empty_cont


def _node(line: str, escape: str, lineno: int, file: str, comments: list[str]) -> Node:
    cmd, flags, rest = lp.split_command(line)
    name = cmd.upper()
    fn = lp.DISPATCH.get(name, lp.ignore)
    try:
        parsed = fn(rest, escape)
    except ValueError as e:
        raise BuildError(str(e), file=file, line=lineno, instruction=name) from None
    node = Node(name, line, lineno, lineno, flags, parsed.args, parsed.json, comments=comments)
    if parsed.sub is not None:
        sub = _node(parsed.sub, escape, lineno, file, [])
        node.sub = sub
    return node


def _can_contain_heredoc(node: Node) -> bool:
    target = node.sub if node.instruction == "ONBUILD" and node.sub is not None else node
    return target.instruction in _HEREDOC_INSTRUCTIONS and not target.json


def _read_heredocs(node: Node, src: _Lines, line: str, lineno: int, file: str) -> None:
    if "<<" not in line or not _can_contain_heredoc(node):
        return
    try:
        docs = heredocs_from_line(line)
    except ShellSyntaxError as e:
        raise BuildError(str(e), file=file, line=lineno, instruction=node.instruction) from None
    for doc in docs:
        content: list[str] = []
        while (raw := src.next()) is not None:
            candidate = _trim_newline(raw)
            if doc.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == doc.name:
                break
            content.append(raw)
        else:
            raise BuildError("unterminated heredoc", file=file, line=lineno, instruction=node.instruction)
        doc.content = "".join(content)
    target = node.sub if node.sub is not None else node
    target.heredocs = docs
    if target is not node:
        node.heredocs = docs
