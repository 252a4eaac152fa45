"""Heredoc markers in RUN/COPY/ADD lines (`<<EOF`, `<<-EOF`, `3<<"EOF"`), as BuildKit finds them."""

from __future__ import annotations

import re

from podpy.build.shell_lex import ShellLex
from podpy.record import record

_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_RAW = ShellLex(raw_quotes=True, raw_escapes=True, skip_unset=True)
_NAME = ShellLex(skip_unset=True)
_NAME_RAW = ShellLex(skip_unset=True, raw_quotes=True)


@record(lean_init=True)
class Heredoc:
    """A heredoc body; `expand` is False when any part of the delimiter was quoted."""

    name: str
    fd: int = 0
    expand: bool = True
    chomp: bool = False
    content: str = ""

    def chomped(self) -> str:
        """The content as the instruction sees it (`<<-` strips leading tabs of every line)."""
        return re.sub(r"(?m)^\t+", "", self.content) if self.chomp else self.content

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "content": self.content}
        if self.fd:
            out["fd"] = self.fd
        if not self.expand:
            out["expand"] = False
        if self.chomp:
            out["chomp"] = True
        return out


def parse_heredoc(word: str) -> Heredoc | None:
    """The heredoc a lexed word introduces, or None when it is not a heredoc marker."""
    m = _HEREDOC.match(word)
    if not m or not m.group(3):
        return None
    rest = m.group(3)
    words = _NAME.process_words(rest, {})
    if len(words) != 1:
        return None
    raw = _NAME_RAW.process_words(rest, {})
    quotes = words[0].count("'") + words[0].count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"') if raw else -1
    return Heredoc(words[0], int(m.group(1) or 0), quotes == raw_quotes, m.group(2) == "-")


def heredocs_from_line(line: str) -> list[Heredoc]:
    """Every heredoc marker on an instruction line, in order."""
    from podpy.build.errors import ShellSyntaxError

    try:
        words = _RAW.process_words(line, {})
    except ShellSyntaxError:
        return []
    return [doc for word in words if (doc := parse_heredoc(word)) is not None]
