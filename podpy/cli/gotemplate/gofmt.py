"""Go's fmt package, as far as templates need it: %v printing of Python data
(dict → `map[k:v]` or `{v1 v2}`, list → `[a b]`), Sprint/Sprintln, Sprintf verbs
and strconv.Quote.

Python data stands in for Go values: a dict whose keys are all CamelCase names
plays a Go struct (unknown fields are errors, prints as `{...}` in field order),
any other dict plays a map (missing keys give no value, sorted when printed).
"""

from __future__ import annotations

import re
from typing import Any

from .jsonshape import is_struct

_VERB = r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.)?"  # compiled on first printf, not at import
_QUOTE_ESCAPES = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
    "\\": "\\\\", '"': '\\"',
}


def type_name(value: Any) -> str:
    """Go's name for the type a Python value stands in for (used in error text)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, dict):
        return "struct" if is_struct(value) else "map[string]interface {}"
    return type(value).__name__


def sort_keys(keys: Any) -> list[Any]:
    try:
        return sorted(keys)
    except TypeError:  # mixed key types: Go would not allow them; be deterministic anyway
        return sorted(keys, key=str)


def sprint_value(value: Any) -> str:
    """fmt's %v of one value."""
    if value is None:
        return "<nil>"
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return format_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(sprint_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if is_struct(value):
            return "{" + " ".join(sprint_value(v) for v in value.values()) + "}"
        keys = sort_keys(value)
        return "map[" + " ".join(f"{sprint_value(k)}:{sprint_value(value[k])}" for k in keys) + "]"
    # subclasses such as StrEnum/IntEnum print their plain value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return format_float(value)
    fields = getattr(value, "__record_fields__", None) or getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return "{" + " ".join(sprint_value(getattr(value, f)) for f in fields) + "}"
    return str(value)


def print_value(value: Any) -> str:
    """How an action prints its value: nil (a missing key or JSON null) is `<no value>`."""
    return "<no value>" if value is None else sprint_value(value)


def format_float(value: float) -> str:
    """Go's %v for float64: shortest digits, exponent form when exp < -4 or >= 6."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    sign = "-" if value < 0 else ""
    mant, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac = mant.partition(".")
    digits_all = int_part + (frac if frac != "0" else "")
    stripped = digits_all.lstrip("0")
    point = len(int_part) + int(exp_text or 0) - (len(digits_all) - len(stripped))
    digits = stripped.rstrip("0") or "0"
    exp = point - 1
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def sprint(*args: Any) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(arg))
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


def quote(text: str) -> str:
    """strconv.Quote: printable characters kept, others escaped."""
    out = ['"']
    for ch in text:
        if ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def sprintf(fmt: str, *args: Any) -> str:
    out: list[str] = []
    argi, last = 0, 0
    for m in re.finditer(_VERB, fmt, re.S):
        out.append(fmt[last : m.start()])
        last = m.end()
        flags, width, prec, verb = m.groups()
        if verb is None:
            out.append("%!(NOVERB)")
            continue
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width, argi = (args[argi] if argi < len(args) else 0), argi + 1
        if prec == "*":
            prec, argi = (args[argi] if argi < len(args) else 0), argi + 1
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_arg(verb, flags, _to_int(width), _to_int(prec), args[argi]))
        argi += 1
    out.append(fmt[last:])
    if argi < len(args):
        extra = ", ".join(f"{type_name(a)}={sprint_value(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None if value is None else 0
    return int(value)


def _format_arg(verb: str, flags: str, width: int | None, prec: int | None, arg: Any) -> str:
    text = _format_verb(verb, flags, prec, arg)
    if text is None:
        shown = "<nil>" if arg is None else f"{type_name(arg)}={sprint_value(arg)}"
        return f"%!{verb}({shown})"
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    numeric = verb in "dboxXeEfFgG" and not isinstance(arg, str)
    if "0" in flags and numeric:
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _format_verb(verb: str, flags: str, prec: int | None, arg: Any) -> str | None:
    """The text for one verb, or None when the verb does not fit the value (Go's %!v(...))."""
    is_int = type(arg) is int or (isinstance(arg, int) and not isinstance(arg, bool))
    if verb == "v":
        if prec is not None and isinstance(arg, float):
            return format(arg, f".{prec}g")
        return sprint_value(arg)
    if verb == "s":
        if isinstance(arg, str):
            return arg if prec is None else arg[:prec]
        return sprint_value(arg) if isinstance(arg, (list, tuple, dict)) else None
    if verb == "q":
        if isinstance(arg, str):
            return quote(arg)
        return "'" + quote(chr(arg))[1:-1].replace("'", "\\'") + "'" if is_int else None
    if verb == "t":
        return ("true" if arg else "false") if isinstance(arg, bool) else None
    if is_int:
        return _format_int(verb, flags, arg)
    if isinstance(arg, float) and verb in "eEfFgG":
        if verb in "gG" and prec is None:
            text = format_float(arg)
            return text.upper() if verb == "G" else text
        return format(arg, f"{'+' if '+' in flags else ''}.{6 if prec is None else prec}{verb}")
    if isinstance(arg, str) and verb in "xX":
        hexed = arg.encode().hex()
        return hexed.upper() if verb == "X" else hexed
    return None


def _format_int(verb: str, flags: str, arg: int) -> str | None:
    spec = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}.get(verb)
    if spec:
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "") if "#" in flags else ""
        sign = "-" if arg < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
        return sign + prefix + format(abs(arg), spec)
    if verb == "O":
        return ("-" if arg < 0 else "") + "0o" + format(abs(arg), "o")
    if verb == "c":
        return chr(arg)
    if verb == "U":
        return f"U+{arg:04X}"
    return None
