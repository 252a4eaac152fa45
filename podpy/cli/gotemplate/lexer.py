"""Tokenizer for the Go text/template language (the subset podpy supports).

The lexer turns the whole template into one flat token list: TEXT tokens for
literal text and, for each action, LEFT ... RIGHT with the action's tokens in
between. Trim markers (`{{- `, ` -}}`) and comments are resolved here so the
parser never sees them.
"""

from __future__ import annotations

import re
from typing import Any

from podpy.errors import FormatError

TEXT, LEFT, RIGHT, EOF = "text", "{{", "}}", "EOF"
PIPE, LPAREN, RPAREN, COMMA = "|", "(", ")", ","
DECLARE, ASSIGN = ":=", "="
STRING, NUMBER, BOOL, NIL = "string", "number", "bool", "nil"
DOT, FIELD, VAR, IDENT, KEYWORD = ".", "field", "variable", "identifier", "keyword"

KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)
_WS = " \t\r\n"
_SINGLE = {"|": PIPE, "(": LPAREN, ")": RPAREN, ",": COMMA, "=": ASSIGN}
# Patterns are compiled on first use (re caches them): compiling at import costs
# milliseconds on every podpy run.
_NUMBER = (
    r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
)
_ESCAPE = r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)"
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'",
}


class Token:
    """kind, value, source span [pos, end), and whether whitespace precedes it in the action."""

    __slots__ = ("kind", "val", "pos", "end", "spaced")

    def __init__(self, kind: str, val: Any, pos: int, end: int, spaced: bool = False) -> None:
        self.kind, self.val, self.pos, self.end, self.spaced = kind, val, pos, end, spaced

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.val!r}, {self.pos})"

    def describe(self, src: str) -> str:
        return "EOF" if self.kind == EOF else f'"{src[self.pos:self.end]}"'


def syntax_error(src: str, pos: int, msg: str, name: str = "output") -> FormatError:
    line = src.count("\n", 0, pos) + 1
    return FormatError(f"template: {name}:{line}: {msg}")


def unescape_shell(text: str) -> str:
    """`\\t`/`\\n` typed on a shell mean tab/newline in literal text (Docker does this)."""
    if "\\" not in text:
        return text
    return text.replace("\\t", "\t").replace("\\n", "\n")


def lex(src: str, *, shell_escapes: bool = False) -> list[Token]:
    toks: list[Token] = []
    pos, trim_next, n = 0, False, len(src)
    while True:
        i = src.find("{{", pos)
        end = n if i < 0 else i
        text = src[pos:end]
        if shell_escapes:
            text = unescape_shell(text)
        trim_left = i >= 0 and src.startswith("-", i + 2) and i + 3 < n and src[i + 3] in _WS
        if trim_next:
            text = text.lstrip(_WS)
        if trim_left:
            text = text.rstrip(_WS)
        if text:
            toks.append(Token(TEXT, text, pos, end))
        if i < 0:
            break
        pos, trim_next = _lex_action(src, i, trim_left, toks)
    toks.append(Token(EOF, None, n, n))
    return toks


def _ident_end(src: str, j: int) -> int:
    n = len(src)
    while j < n and (src[j].isalnum() or src[j] == "_"):
        j += 1
    return j


def _right_delim(src: str, j: int) -> int:
    """Length of the right delimiter at j: 2 for `}}`, 4 for ` -}}`, else 0."""
    if src.startswith("}}", j):
        return 2
    if src[j] in _WS and src.startswith("-}}", j + 1):
        return 4
    return 0


def _lex_action(src: str, start: int, trim_left: bool, toks: list[Token]) -> tuple[int, bool]:
    j = start + (4 if trim_left else 2)
    if src.startswith("/*", j):
        return _lex_comment(src, j)
    toks.append(Token(LEFT, None, start, j))
    n, depth, spaced = len(src), 0, False
    while True:
        if j >= n:
            raise syntax_error(src, n, "unclosed action")
        delim = _right_delim(src, j)
        if delim:
            if depth:
                raise syntax_error(src, j, "unclosed left paren")
            toks.append(Token(RIGHT, None, j, j + delim))
            return j + delim, delim == 4
        c = src[j]
        if c in _WS:
            j, spaced = j + 1, True
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise syntax_error(src, j, "unexpected right paren")
        kind, val, end = _lex_token(src, j)
        toks.append(Token(kind, val, j, end, spaced))
        j, spaced = end, False


def _lex_comment(src: str, j: int) -> tuple[int, bool]:
    k = src.find("*/", j + 2)
    if k < 0:
        raise syntax_error(src, j, "unclosed comment")
    k += 2
    delim = _right_delim(src, k) if k < len(src) else 0
    if not delim:
        raise syntax_error(src, k, "comment ends before closing delimiter")
    return k + delim, delim == 4


def _lex_token(src: str, j: int) -> tuple[str, Any, int]:
    """One token starting at src[j] (not whitespace, not a delimiter)."""
    c = src[j]
    nxt = src[j + 1] if j + 1 < len(src) else ""
    if c in _SINGLE:
        return _SINGLE[c], c, j + 1
    if c == ":":
        if nxt != "=":
            raise syntax_error(src, j, "expected :=")
        return DECLARE, ":=", j + 2
    if c == '"':
        return _lex_quote(src, j)
    if c == "`":
        k = src.find("`", j + 1)
        if k < 0:
            raise syntax_error(src, j, "unterminated raw quoted string")
        return STRING, src[j + 1 : k], k + 1
    if c == "'":
        return _lex_char(src, j)
    if c == "$":
        end = _ident_end(src, j + 1)
        return VAR, src[j:end], end
    if c == "." and (nxt.isalpha() or nxt == "_"):
        end = _ident_end(src, j + 1)
        return FIELD, src[j + 1 : end], end
    if c.isdigit() or (c in "+-." and (nxt.isdigit() or (c != "." and nxt == "."))):
        return _lex_number(src, j)
    if c == ".":
        return DOT, ".", j + 1
    if c.isalpha() or c == "_":
        end = _ident_end(src, j)
        word = src[j:end]
        if word in ("true", "false"):
            return BOOL, word == "true", end
        if word == "nil":
            return NIL, None, end
        return (KEYWORD if word in KEYWORDS else IDENT), word, end
    raise syntax_error(src, j, f"unrecognized character in action: U+{ord(c):04X} {c!r}")


def _scan_quoted(src: str, j: int, quote: str, what: str) -> int:
    """Index just past the closing quote of the literal opening at j."""
    k, n = j + 1, len(src)
    while k < n:
        ch = src[k]
        if ch == "\\":
            k += 1
            if k < n and src[k] == "\n":
                break
        elif ch == "\n":
            break
        elif ch == quote:
            return k + 1
        k += 1
    raise syntax_error(src, j, f"unterminated {what}")


def _lex_quote(src: str, j: int) -> tuple[str, Any, int]:
    end = _scan_quoted(src, j, '"', "quoted string")
    return STRING, unquote(src, j, src[j + 1 : end - 1]), end


def _lex_char(src: str, j: int) -> tuple[str, Any, int]:
    end = _scan_quoted(src, j, "'", "character constant")
    val = unquote(src, j, src[j + 1 : end - 1])
    if len(val) != 1:
        raise syntax_error(src, j, f"malformed character constant: {src[j:end]}")
    return NUMBER, ord(val), end


def unquote(src: str, pos: int, body: str) -> str:
    """Decode Go escapes; \\x and octal escapes are bytes, so decode via UTF-8."""
    if "\\" not in body:
        return body
    parts: list[bytes] = []
    last = 0
    for m in re.finditer(_ESCAPE, body, re.S):
        parts.append(body[last : m.start()].encode())
        parts.append(_escape_bytes(src, pos, m.group(1)))
        last = m.end()
    parts.append(body[last:].encode())
    return b"".join(parts).decode("utf-8", "replace")


def _escape_bytes(src: str, pos: int, esc: str) -> bytes:
    head = esc[0]
    if head == "x":
        return bytes([int(esc[1:], 16)])
    if head in "uU" and len(esc) > 1:
        return chr(int(esc[1:], 16)).encode("utf-8", "surrogatepass")
    if head in "01234567" and len(esc) == 3:
        return bytes([int(esc, 8) & 0xFF])
    if head in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[head].encode()
    raise syntax_error(src, pos, f"invalid syntax: unknown escape sequence \\{head}")


def _lex_number(src: str, j: int) -> tuple[str, Any, int]:
    m = re.compile(_NUMBER).match(src, j)
    end = m.end() if m else j
    if not m or (end < len(src) and (src[end].isalnum() or src[end] in "._")):
        stop = _ident_end(src, end) if m else j + 1
        raise syntax_error(src, j, f"bad number syntax: {src[j:max(stop, end)]!r}")
    try:
        return NUMBER, parse_number(m.group().replace("_", "")), end
    except ValueError:
        raise syntax_error(src, j, f"bad number syntax: {m.group()!r}") from None


def parse_number(text: str) -> int | float:
    body = text.lstrip("+-")
    if body[:2].lower() in ("0x", "0b", "0o"):
        return int(text, 0)
    if any(ch in body for ch in ".eE"):
        return float(text)
    if len(body) > 1 and body.startswith("0"):  # Go: leading zero means octal
        return int(text, 8)
    return int(text)
