"""Template functions: Go's builtins plus the ones Docker and Podman add
(json, upper, lower, title, split, join, pad, truncate).

Each entry is (function, min args, max args or None for variadic). `and`/`or`
are listed for the parser but evaluated lazily by exec.py, as Go does.
String functions accept any value and print it first (Go would reject a
non-string); the rest follow Go's type rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .gofmt import sprint, sprint_value, sprintf, sprintln, type_name
from .jsonshape import jsonable


class FuncError(Exception):
    """A function failed; exec.py reports it as `error calling NAME: ...`."""


def truth(value: Any) -> bool:
    """Go template truthiness: false, 0, nil and empty string/list/map are false."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else sprint_value(value)


def _int_arg(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FuncError(f"wrong type for value; expected int; got {type_name(value)} for {what}")
    return value


# -- JSON -------------------------------------------------------------------
def to_json(value: Any) -> str:
    """Compact JSON, unescaped HTML and Unicode (Docker's `json` template function)."""
    import json  # ~8 ms to import: only pay it when a template uses json

    return json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":"), default=str)


# -- Docker/Podman string helpers ---------------------------------------------
_WORD_START = r"(?<!\w)\w"


def f_title(value: Any) -> str:
    return re.sub(_WORD_START, lambda m: m.group().upper(), _text(value))


def f_split(value: Any, sep: Any) -> list[str]:
    text, sep = _text(value), _text(sep)
    return list(text) if sep == "" else text.split(sep)


def f_join(items: Any, sep: Any) -> str:
    if items is None:
        return ""
    if isinstance(items, str):
        return items
    if not isinstance(items, (list, tuple)):
        raise FuncError(f"wrong type for value; expected []string; got {type_name(items)}")
    return _text(sep).join(_text(v) for v in items)


def f_pad(value: Any, prefix: Any, suffix: Any) -> str:
    text = _text(value)
    if not text:
        return text
    return " " * _int_arg(prefix, "pad") + text + " " * _int_arg(suffix, "pad")


def f_truncate(value: Any, length: Any) -> str:
    return _text(value)[: max(_int_arg(length, "truncate"), 0)]


# -- Go builtins ----------------------------------------------------------------
def f_len(value: Any) -> int:
    if value is None:
        raise FuncError("len of nil pointer")
    if isinstance(value, str):
        return len(value.encode())  # Go counts bytes
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    raise FuncError(f"len of type {type_name(value)}")


def _zero_of(mapping: dict) -> Any:
    """Zero value of a map's element type when a key is missing: "" for string maps."""
    values = mapping.values()
    if all(isinstance(v, str) for v in values):
        return ""
    return None


def f_index(item: Any, *indexes: Any) -> Any:
    for idx in indexes:
        if item is None:
            raise FuncError("index of untyped nil")
        if isinstance(item, dict):
            try:
                item = item[idx] if idx in item else _zero_of(item)
            except TypeError:  # unhashable key
                raise FuncError(f"value has type {type_name(idx)}; should be string") from None
            continue
        if not isinstance(item, (list, tuple, str)):
            raise FuncError(f"can't index item of type {type_name(item)}")
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise FuncError(f"cannot index slice/array with type {type_name(idx)}")
        seq = item.encode() if isinstance(item, str) else item
        if not 0 <= idx < len(seq):
            raise FuncError(f"index out of range: {idx}")
        item = seq[idx]
    return item


def f_slice(item: Any, *indexes: Any) -> Any:
    if not isinstance(item, (list, tuple, str)):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    if len(indexes) > (2 if isinstance(item, str) else 3):
        raise FuncError("too many slice indexes")
    bounds = [_int_arg(i, "slice") for i in indexes]
    low = bounds[0] if bounds else 0
    high = bounds[1] if len(bounds) > 1 else len(item)
    if not 0 <= low <= high <= len(item):
        raise FuncError(f"index out of range: {low}:{high}")
    return item[low:high]


def _kind(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"  # lenient: Go would refuse int vs float64
    if isinstance(value, str):
        return "string"
    return "other"


def _equal(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        if "nil" in (ka, kb):
            return False
        raise FuncError("incompatible types for comparison")
    return a == b


def f_eq(a: Any, *others: Any) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    return any(_equal(a, b) for b in others)


def f_ne(a: Any, b: Any) -> bool:
    return not _equal(a, b)


def _less(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka not in ("number", "string") or kb not in ("number", "string"):
        raise FuncError("invalid type for comparison")
    if ka != kb:
        raise FuncError("incompatible types for comparison")
    return a < b


def _one_string(args: tuple[Any, ...]) -> str:
    return args[0] if len(args) == 1 and isinstance(args[0], str) else sprint(*args)


_HTML = {"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "\0": "\ufffd"}
_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def f_html(*args: Any) -> str:
    return "".join(_HTML.get(ch, ch) for ch in _one_string(args))


def f_js(*args: Any) -> str:
    out = []
    for ch in _one_string(args):
        if ch in _JS:
            out.append(_JS[ch])
        elif ch < " " or not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def f_urlquery(*args: Any) -> str:
    from urllib.parse import quote_plus  # rarely used: keep it off the import path

    return quote_plus(_one_string(args), safe="")


def _printf(fmt: Any, *args: Any) -> str:
    return sprintf(_text(fmt), *args)


FUNCS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    # Go builtins
    "and": (lambda *a: a[-1], 1, None),
    "or": (lambda *a: a[-1], 1, None),
    "not": (lambda v: not truth(v), 1, 1),
    "len": (f_len, 1, 1),
    "index": (f_index, 1, None),
    "slice": (f_slice, 1, None),
    "print": (sprint, 0, None),
    "println": (sprintln, 0, None),
    "printf": (_printf, 1, None),
    "eq": (f_eq, 1, None),
    "ne": (f_ne, 2, 2),
    "lt": (_less, 2, 2),
    "le": (lambda a, b: _less(a, b) or _equal(a, b), 2, 2),
    "gt": (lambda a, b: not (_less(a, b) or _equal(a, b)), 2, 2),
    "ge": (lambda a, b: not _less(a, b), 2, 2),
    "html": (f_html, 0, None),
    "js": (f_js, 0, None),
    "urlquery": (f_urlquery, 0, None),
    # Docker / Podman additions
    "json": (to_json, 1, 1),
    "upper": (lambda v: _text(v).upper(), 1, 1),
    "lower": (lambda v: _text(v).lower(), 1, 1),
    "title": (f_title, 1, 1),
    "split": (f_split, 2, 2),
    "join": (f_join, 2, 2),
    "pad": (f_pad, 3, 3),
    "truncate": (f_truncate, 2, 2),
}
