"""`.env` and `env_file` parsing as Docker Compose reads them.

`KEY=value` (or `KEY: value`), optional `export `, `#` comments, single quotes literal, double quotes with escapes and
multi-line values, unquoted values with ` #` comments; values interpolate earlier keys and the
environment. A bare `KEY` takes the environment's value (None when unset). `raw` keeps text as is.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path

from podpy.compose.errors import ComposeError
from podpy.compose.interpolate import Interpolator, interpolate_string

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$$"}


def parse_dotenv(text: str, source: str, lookup: Mapping[str, str] | None = None,
                 raw: bool = False) -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    lookup = lookup or {}
    pos, line_no = 0, 1
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].strip()
        if not line or line.startswith("#"):
            pos, line_no = end + 1, line_no + 1
            continue
        if line.startswith("export ") and "=" in line:
            line = line[len("export ") :].lstrip()
            pos = text.index("export ", pos) + len("export ")
        m = _KEY.match(text, _skip_ws(text, pos))
        if not m:
            raise ComposeError(f"{source}: line {line_no}: unexpected character in variable name {line!r}")
        key, after = m.group(0), _skip_blank(text, m.end())
        if after >= len(text) or text[after] in "\n#":
            env[key] = lookup.get(key)
            pos, line_no = end + 1, line_no + 1
            continue
        if text[after] not in "=:":  # `KEY: value` is accepted too, as Compose's parser does
            raise ComposeError(f"{source}: line {line_no}: unexpected character {text[after]!r} after {key}")
        value, nxt = _value(text, _skip_blank(text, after + 1), source, line_no, raw)
        if not raw and value is not None:
            known = {k: v for k, v in env.items() if v is not None}
            value = interpolate_string(value, Interpolator(ChainMap(dict(lookup), known)), f"{source}:{key}")
        env[key] = value
        line_no += text.count("\n", pos, nxt) + 1
        pos = nxt + 1
    return env


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r":
        pos += 1
    return pos


def _value(text: str, pos: int, source: str, line_no: int, raw: bool) -> tuple[str, int]:
    """Parse the value at `pos`; return it (still to interpolate) and the index of the line end."""
    eol = text.find("\n", pos)
    eol = len(text) if eol < 0 else eol
    if raw:
        return text[pos:eol].rstrip("\r").rstrip(), eol
    quote = text[pos : pos + 1]
    if quote == "'":
        close = text.find("'", pos + 1)
        if close < 0:
            raise ComposeError(f"{source}: line {line_no}: unterminated quoted value")
        return text[pos + 1 : close].replace("$", "$$"), _line_end(text, close + 1)
    if quote == '"':
        out, i = [], pos + 1
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                out.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
                continue
            out.append(text[i])
            i += 1
        if i >= len(text):
            raise ComposeError(f"{source}: line {line_no}: unterminated quoted value")
        return "".join(out), _line_end(text, i + 1)
    value = text[pos:eol].rstrip("\r")
    comment = re.search(r"\s#", value)
    if comment:
        value = value[: comment.start()]
    return value.strip(), eol


def _line_end(text: str, pos: int) -> int:
    eol = text.find("\n", pos)
    return len(text) if eol < 0 else eol


def read_env_file(path: Path, lookup: Mapping[str, str] | None = None, raw: bool = False) -> dict[str, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComposeError(f"env file {path} not found: {exc.strerror or exc}") from None
    return parse_dotenv(text, str(path), lookup, raw)
