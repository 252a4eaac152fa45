"""`logs`: the container's log records, selected by --since/--until/--tail, optionally followed."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podpy.engine import container_record as cr
from podpy.engine.log_options import no_logs_error
from podpy.errors import InvalidArgument, NoSuchContainer
from podpy.supervisor.logfile import LogConfig, LogEntry, LogReader
from podpy.timeutil import parse_time

if TYPE_CHECKING:
    from podpy.engine.containers import ContainerService

_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


@dataclass
class LogOptions:
    """What `logs` shows: follow, tail, since, until."""

    follow: bool = False
    tail: int | None = None  # None or negative: everything
    since: str | None = None
    until: str | None = None


def log_time(epoch: float) -> str:
    """Epoch seconds in the log's timestamp shape, so the two compare as strings."""
    secs = int(epoch)
    nanos = int(round((epoch - secs) * 1e9))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{min(nanos, 999999999):09d}Z"


def parse_time_arg(value: str, now: float | None = None) -> str:
    """Docker's --since/--until: a duration before now (10m, 1h30m), a Unix time, or RFC 3339."""
    now = time.time() if now is None else now
    v = value.strip()
    if _DURATION.fullmatch(v):
        return log_time(now - sum(float(n) * _UNIT[u] for n, u in _PART.findall(v)))
    if re.fullmatch(r"\d+(\.\d+)?", v):
        return log_time(float(v))
    epoch = parse_time(v if "T" in v or " " in v else v + "T00:00:00Z")
    if not epoch:
        raise InvalidArgument(f"invalid time {value!r}: use a duration (10m), a Unix time or RFC 3339")
    return log_time(epoch)


def logs(svc: ContainerService, ref: str, opts: LogOptions) -> Iterator[LogEntry]:
    rec = svc.get(ref)
    lc = LogConfig.from_json(rec.spec.get("log"))
    if (err := no_logs_error(lc)) is not None:
        raise err
    since = parse_time_arg(opts.since).encode() if opts.since else b""
    until = parse_time_arg(opts.until).encode() if opts.until else b""
    reader = LogReader(svc.log_path(rec.id, rec.spec))
    following = opts.follow and rec.state.status == cr.RUNNING
    entries: Iterable[LogEntry] = reader.stream(final=not following)  # never the whole log in memory
    if since or until:
        entries = (e for e in entries if (not since or e.time >= since) and (not until or e.time <= until))
    if opts.tail is not None and opts.tail >= 0:
        entries = deque(entries, maxlen=opts.tail)
    yield from entries
    if not following:
        return

    def still_running() -> bool:
        try:
            fresh = cr.load(svc.cdir(rec.id))
        except NoSuchContainer:
            return False
        cr.reconcile(fresh)
        return fresh.state.status == cr.RUNNING

    for e in reader.follow(still_running):
        if until and e.time > until:
            return
        yield e
