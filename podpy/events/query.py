"""Which events `events` shows: --since/--until and --filter with Docker's and Podman's keys.

Values of one key are alternatives (OR), different keys must all match (AND), as Podman."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from podpy.events.record import Event

KEYS = (
    "container",
    "image",
    "event",
    "status",
    "type",
    "label",
    "volume",
    "network",
    "pod",
    "since",
    "until",
)
# Docker's action names for the statuses Podman spells differently.
DOCKER_STATUS = {"die": "died", "destroy": "remove", "delete": "remove", "exec_die": "exec_died",
                 "exec_create": "exec", "exec_start": "exec", "load": "loadfromarchive",
                 "health_status": "health_status"}  # fmt: skip


class QueryError(ValueError):
    """A bad filter or time (the CLI turns it into `Error: ...`, exit 125)."""


@dataclass
class Query:
    since_ns: int | None = None
    until_ns: int | None = None
    tests: list[Callable[[Event], bool]] = field(default_factory=list)

    def matches(self, ev: Event) -> bool:
        ns = ev.ns
        if self.since_ns is not None and ns <= self.since_ns:
            return False
        if self.until_ns is not None and ns >= self.until_ns:
            return False
        return all(test(ev) for test in self.tests)


def parse_time_ns(value: str, what: str) -> int:
    from podpy.timeutil import parse_input_time

    try:
        return int(parse_input_time(value) * 1e9)
    except ValueError:
        raise QueryError(f"unable to convert {what} time of {value}: {value!r} is not a valid time") from None


def build(filters: list[str], since: str | None = None, until: str | None = None) -> Query:
    q = Query()
    groups: dict[str, list[str]] = {}
    for f in filters:
        key, sep, value = f.partition("=")
        key = key.strip().lower()
        if not sep or key not in KEYS:
            raise QueryError(f"{f} is an invalid filter")
        groups.setdefault("event" if key == "status" else key, []).append(value)
    since = groups.pop("since", [since])[-1] if "since" in groups else since
    until = groups.pop("until", [until])[-1] if "until" in groups else until
    if since:
        q.since_ns = parse_time_ns(since, "since")
    if until:
        q.until_ns = parse_time_ns(until, "until")
    for key, values in groups.items():
        preds = [_predicate(key, v) for v in values]
        q.tests.append(lambda ev, preds=preds: any(p(ev) for p in preds))
    return q


def _predicate(key: str, value: str) -> Callable[[Event], bool]:
    match key:
        case "container":
            return lambda ev: ev.type == "container" and _ref(ev, value)
        case "image":
            return lambda ev: ev.type == "image" and (_ref(ev, value) or _image_name(ev.name, value))
        case "pod":
            return lambda ev: ev.type == "pod" and _ref(ev, value)
        case "volume":
            return lambda ev: ev.type == "volume" and (ev.name == value or ev.id.startswith(value))
        case "network":
            return lambda ev: ev.type == "network" and (ev.network == value or ev.id.startswith(value))
        case "event":
            status = DOCKER_STATUS.get(value, value)
            return lambda ev: ev.status == status
        case "type":
            return lambda ev: ev.type == value
        case "label":
            k, sep, v = value.partition("=")
            return lambda ev: k in ev.attributes and (not sep or ev.attributes[k] == v)
    raise QueryError(f"{key}={value} is an invalid filter")


def _ref(ev: Event, value: str) -> bool:
    return bool(value) and (ev.name == value or ev.id.startswith(value.removeprefix("sha256:")))


def _image_name(name: str, value: str) -> bool:
    """`busybox` names `localhost/busybox:latest` and `docker.io/library/busybox:latest` too."""
    if not name or not value:
        return False
    full = value if ":" in value.rsplit("/", 1)[-1] else value + ":latest"
    return name in (value, full) or name.endswith("/" + full)
