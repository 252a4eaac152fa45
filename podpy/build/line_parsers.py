"""How each instruction's rest-of-line becomes argument words (BuildKit's line parsers).

The split is purely syntactic: quotes stay in ENV/LABEL/ARG values (expansion removes them later),
and a shell-form command is one string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from podpy.record import record

WHITESPACE = re.compile(r"[\t\v\f\r ]+")


class NotStringArray(ValueError):
    def __init__(self) -> None:
        super().__init__("when using JSON array syntax, arrays must be comprised of strings only")


@record(lean_init=True)
class Parsed:
    """The argument words of one line, whether they were a JSON array, and ONBUILD's trigger text."""

    args: list[str]
    json: bool = False
    sub: str | None = None


def split_command(line: str) -> tuple[str, list[str], str]:
    """(instruction word, leading --flags, the rest) of a logical line."""
    parts = WHITESPACE.split(line.strip(), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    rest, flags = extract_flags(parts[1])
    return parts[0], flags, rest.strip()


def extract_flags(line: str) -> tuple[str, list[str]]:
    """Leading `--name[=value]` words (quotes and backslashes honoured); `--` ends them."""
    flags: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n:
            return "", flags
        if not line.startswith("--", pos):
            return line[pos:], flags
        word, pos, blank_ok = _flag_word(line, pos)
        if word == "--":
            return line[pos:], flags
        if word or blank_ok:
            flags.append(word)


def _flag_word(line: str, pos: int) -> tuple[str, int, bool]:
    word: list[str] = []
    quote, blank_ok, n = "", False, len(line)
    while pos < n:
        ch = line[pos]
        if not quote and ch.isspace():
            break
        if not quote and ch in "'\"":
            quote, blank_ok = ch, True
        elif quote and ch == quote:
            quote = ""
        elif ch == "\\":
            pos += 1
            if pos < n:
                word.append(line[pos])
        else:
            word.append(ch)
        pos += 1
    return "".join(word), pos, blank_ok


def parse_words(rest: str, escape: str) -> list[str]:
    """Whitespace-separated words; quotes and escapes are kept verbatim for later expansion."""
    words: list[str] = []
    word, in_word, quote, blank_ok = "", False, "", False
    i, n = 0, len(rest)
    while i < n:
        ch = rest[i]
        if not in_word:
            if ch.isspace():
                i += 1
                continue
            in_word = True
        if not quote:
            if ch.isspace():
                if blank_ok or word:
                    words.append(word)
                word, in_word, blank_ok = "", False, False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok = ch, True
            if ch == escape:
                if i + 1 == n:
                    break
                word += ch
                i += 1
                ch = rest[i]
        else:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if i + 1 == n:
                    break
                word += ch
                i += 1
                ch = rest[i]
        word += ch
        i += 1
    if in_word and (blank_ok or word):
        words.append(word)
    return words


def _no_constants(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


def parse_json(rest: str) -> list[str] | None:
    """The strings of a JSON array (text after the array is ignored, as Go's decoder does)."""
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    try:
        value, _ = json.JSONDecoder(parse_constant=_no_constants).raw_decode(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise NotStringArray()
    return value


def maybe_json(rest: str, escape: str) -> Parsed:
    if not rest:
        return Parsed([])
    arr = parse_json(rest)
    return Parsed(arr, True) if arr is not None else Parsed([rest])


def maybe_json_to_list(rest: str, escape: str) -> Parsed:
    arr = parse_json(rest)
    return Parsed(arr, True) if arr is not None else strings_ws(rest, escape)


def strings_ws(rest: str, escape: str) -> Parsed:
    return Parsed(WHITESPACE.split(rest) if rest else [])


def string(rest: str, escape: str) -> Parsed:
    return Parsed([rest] if rest else [])


def name_or_name_val(rest: str, escape: str) -> Parsed:
    return Parsed(parse_words(rest, escape))


def _name_val(key: str) -> Callable[[str, str], Parsed]:
    def parse(rest: str, escape: str) -> Parsed:
        words = parse_words(rest, escape)
        if not words:
            return Parsed([])
        if "=" not in words[0]:  # the legacy `ENV name value...` form
            parts = WHITESPACE.split(rest, maxsplit=1)
            if len(parts) < 2:
                raise ValueError(f"{key} must have two arguments")
            return Parsed(parts)
        out: list[str] = []
        for word in words:
            if "=" not in word:
                raise ValueError(f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value')
            out.extend(word.split("=", 1))
        return Parsed(out)

    return parse


def health(rest: str, escape: str) -> Parsed:
    parts = rest.split(None, 1)
    if not parts:
        return Parsed([])
    inner = maybe_json(parts[1] if len(parts) > 1 else "", escape)
    return Parsed([parts[0], *inner.args], inner.json)


def sub_command(rest: str, escape: str) -> Parsed:
    return Parsed([], sub=rest or None)


def ignore(rest: str, escape: str) -> Parsed:
    return Parsed([])


DISPATCH: dict[str, Callable[[str, str], Parsed]] = {
    "ADD": maybe_json_to_list,
    "ARG": name_or_name_val,
    "CMD": maybe_json,
    "COPY": maybe_json_to_list,
    "ENTRYPOINT": maybe_json,
    "ENV": _name_val("ENV"),
    "EXPOSE": strings_ws,
    "FROM": strings_ws,
    "HEALTHCHECK": health,
    "LABEL": _name_val("LABEL"),
    "MAINTAINER": string,
    "ONBUILD": sub_command,
    "RUN": maybe_json,
    "SHELL": maybe_json,
    "STOPSIGNAL": string,
    "USER": string,
    "VOLUME": maybe_json_to_list,
    "WORKDIR": string,
}
