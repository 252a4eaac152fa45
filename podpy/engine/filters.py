"""`--filter key=value` parsing and matching shared by images, ps, volumes, networks."""

from __future__ import annotations

import fnmatch
from collections import defaultdict

from podpy.errors import InvalidArgument, PodpyError
from podpy.timeutil import parse_time


def parse_filters(raw: list[str] | None, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """['label=a', 'label=b=c'] -> {'label': ['a', 'b=c']}; unknown keys name themselves in the error."""
    out: dict[str, list[str]] = defaultdict(list)
    for item in raw or []:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise InvalidArgument(f"invalid filter {item!r}: expected KEY=VALUE")
        if key not in allowed:
            raise InvalidArgument(f"invalid filter {key!r} (valid filters: {', '.join(allowed)})")
        out[key].append(value)
    return dict(out)


def match_labels(labels: dict[str, str] | None, wanted: list[str]) -> bool:
    """Every `key` or `key=value` in `wanted` must be present (Docker: AND across label filters)."""
    labels = labels or {}
    for w in wanted:
        k, sep, v = w.partition("=")
        if k not in labels or (sep and labels[k] != v):
            return False
    return True


def match_bool(value: bool, wanted: list[str], key: str) -> bool:
    for w in wanted:
        if w.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"invalid {key} filter value {w!r}: must be true or false")
        if value != (w.lower() in ("true", "1")):
            return False
    return True


def match_reference(names: list[str], patterns: list[str]) -> bool:
    """Docker's reference filter: a glob on the familiar name, with or without the tag."""
    for pat in patterns:
        for n in names:
            repo = n.rsplit(":", 1)[0] if ":" in n.rsplit("/", 1)[-1] else n
            if fnmatch.fnmatchcase(n, pat) or fnmatch.fnmatchcase(repo, pat):
                return True
    return False


def until_time(values: list[str]) -> float | None:
    """`until=` (10m, a Unix time, RFC 3339) as epoch seconds; the last one given wins."""
    if not values:
        return None
    from podpy.engine.container_logs import parse_time_arg

    try:
        return parse_time(parse_time_arg(values[-1]))
    except PodpyError as e:
        raise InvalidArgument(f"invalid until filter: {e}") from None
