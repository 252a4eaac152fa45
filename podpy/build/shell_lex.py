"""BuildKit's shell-word lexer: quotes, escapes and `$VAR` / `${VAR...}` expansion.

Semantics follow moby/buildkit frontend/dockerfile/shell (lex.go): no command substitution, no
arithmetic, unset variables expand to "" (or stay verbatim with `skip_unset`), and `process_words`
splits on whitespace that did not come from quotes or escapes.
"""

from __future__ import annotations

from collections.abc import Mapping

from podpy.build.errors import ShellSyntaxError
from podpy.build.shell_pattern import replace_pattern, trim_prefix, trim_suffix
from podpy.record import field, record

_SPECIAL_PARAMS = set("@*#?-$!0")


@record(lean_init=True)
class _Words:
    """Word splitting that knows which characters came from quotes/escapes (never split)."""

    word: str = ""
    words: list[str] = field(default_factory=list)
    in_word: bool = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word, self.in_word = "", False
        else:
            self.add_raw(ch)

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def result(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


class _Scan:
    """One pass over one source string with the lexer's options."""

    def __init__(self, lex: ShellLex, source: str, env: Mapping[str, str]) -> None:
        self.lex, self.src, self.env, self.pos = lex, source, env, 0
        self.used: set[str] = set()

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def getenv(self, name: str) -> tuple[str, bool]:
        self.used.add(name)
        if name in self.env:
            return self.env[name], True
        return "", False

    def stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        esc = self.lex.escape
        while self.peek():
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                return "".join(out), words.result()
            if ch == "$" or (ch in ("'", '"') and not self.lex.skip_process_quotes):
                tmp = {"'": self.single_quote, '"': self.double_quote, "$": self.dollar}[ch]()
                out.append(tmp)
                words.add_string(tmp) if ch == "$" else words.add_raw(tmp)
                continue
            ch = self.next()
            if ch == esc:
                if raw_escapes:
                    words.add_raw(ch)
                    out.append(ch)
                ch = self.next()
                if not ch:
                    break
                words.add_raw(ch)
            else:
                words.add_char(ch)
            out.append(ch)
        if stop:
            raise ShellSyntaxError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.result()

    def single_quote(self) -> str:
        raw = self.lex.raw_quotes
        ch = self.next()
        out = [ch] if raw else []
        while True:
            ch = self.next()
            if not ch:
                raise ShellSyntaxError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if raw:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        raw, esc = self.lex.raw_quotes, self.lex.escape
        ch = self.next()
        out = [ch] if raw else []
        while True:
            ch = self.peek()
            if not ch:
                raise ShellSyntaxError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                if raw:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == esc:
                if self.lex.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", esc):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        ch = self.peek()
        if ch.isdecimal():
            start = self.pos
            while self.peek().isdecimal():
                self.next()
            return self.src[start : self.pos]
        if ch and ch in _SPECIAL_PARAMS:
            return self.next()
        start = self.pos
        while (c := self.peek()) and (c.isalnum() or c == "_"):
            self.next()
        return self.src[start : self.pos]

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.getenv(name)
            return "$" + name if not found and self.lex.skip_unset else value
        self.next()
        ch = self.peek()
        if not ch:
            raise ShellSyntaxError("syntax error: missing '}'")
        if ch in "{}:":
            raise ShellSyntaxError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if not ch:
            raise ShellSyntaxError("syntax error: missing '}'")
        if ch == "}":
            value, found = self.getenv(name)
            return "${" + name + "}" if not found and self.lex.skip_unset else value
        if ch == "/":
            return self.substitute(name)
        return self.modifier(name, ch)

    def braced_word(self, stop: str, raw_escapes: bool, missing: str) -> str:
        try:
            return self.stop_on(stop, raw_escapes)[0]
        except ShellSyntaxError:
            if not self.peek():
                raise ShellSyntaxError(missing) from None
            raise

    def modifier(self, name: str, ch: str) -> str:
        mod, null_is_unset = ch, False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            mod += ch
        if ch not in ("+", "-", "?", "#", "%"):
            raise ShellSyntaxError(f"unsupported modifier ({mod}) in substitution")
        if null_is_unset and ch in "#%":
            raise ShellSyntaxError(f"unsupported modifier ({mod}) in substitution")
        word = self.braced_word("}", ch in "#%", "syntax error: missing '}'")
        value, found = self.getenv(name)
        if self.lex.skip_unset and not found:
            return "${" + name + mod + word + "}"
        empty = not found or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if empty:
                why = "is not allowed to be unset" if not found else "is not allowed to be empty"
                raise ShellSyntaxError(f"{name}: {word or why}")
            return value
        greedy = word.startswith(ch)
        if greedy:
            word = word[1:]
        return trim_suffix(word, value, greedy) if ch == "%" else trim_prefix(word, value, greedy)

    def substitute(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        pattern = self.braced_word("/", True, "syntax error: missing '/' in ${}")
        replacement = self.braced_word("}", True, "syntax error: missing '}'")
        value, found = self.getenv(name)
        if self.lex.skip_unset and not found:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        return replace_pattern(value, pattern, replacement, replace_all)


@record(frozen=True, lean_init=True)
class ShellLex:
    """Options of one lexer; `escape` is the Dockerfile's escape token (`\\` or a backtick)."""

    escape: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_unset: bool = False
    skip_process_quotes: bool = False  # quotes are plain characters (heredoc bodies)

    def _run(self, word: str, env: Mapping[str, str]) -> tuple[str, list[str], set[str]]:
        scan = _Scan(self, word, env)
        try:
            out, words = scan.stop_on("", self.raw_escapes)
        except ShellSyntaxError as e:
            raise ShellSyntaxError(f"failed to process {word!r}: {e}") from None
        return out, words, scan.used

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        return self._run(word, env)[0]

    def process_word_with_matches(self, word: str, env: Mapping[str, str]) -> tuple[str, set[str]]:
        """The expansion and the variable names it referred to (set or not)."""
        out, _, used = self._run(word, env)
        return out, used

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        return self._run(word, env)[1]
