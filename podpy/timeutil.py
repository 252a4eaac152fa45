"""RFC 3339 timestamps as Docker and the OCI specs write them."""

from __future__ import annotations

import time


def now_rfc3339() -> str:
    """UTC with nanoseconds: 2024-01-02T15:04:05.123456789Z."""
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def parse_time(ts: str) -> float:
    """RFC 3339 (nanoseconds, Z or offset) -> epoch seconds; 0.0 when empty or unparsable."""
    if not ts:
        return 0.0
    from datetime import UTC, datetime  # lazy: most commands only write timestamps (~1-3 ms import)

    if len(ts) == 30 and ts[29] == "Z" and ts[19] == "." and ts[20:29].isdigit():  # now_rfc3339's shape
        try:  # whole seconds exactly, then the nanoseconds (`ps -a` parses one per container)
            return datetime.fromisoformat(ts[:19]).replace(tzinfo=UTC).timestamp() + int(ts[20:29]) / 1e9
        except ValueError:
            return 0.0
    t = ts.replace("Z", "+00:00")
    if "." in t:  # fromisoformat takes at most 6 fractional digits on 3.11
        head, frac = t.split(".", 1)
        digits = "".join(c for c in frac if c.isdigit())
        t = f"{head}.{digits[:6].ljust(6, '0')}{frac[len(digits):]}"

    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return 0.0
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_input_time(value: str, now: float | None = None) -> float:
    """Podman's --since/--until (pkg/util ParseInputTime) → epoch seconds: RFC 3339 (with or without
    fraction and zone: local time when none), a date (2006-01-02), a Unix time (1700000000.5) or a Go
    duration before now (10m, 1h30m, 1.5h). Raises ValueError."""
    import re

    v = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", v):
        return float(v)
    if m := re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+", v):
        parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", m[0])
        secs = sum(float(n) * _GO_UNITS[u] for n, u in parts)
        return (time.time() if now is None else now) - secs
    if re.fullmatch(r"\d{4}-\d\d-\d\d(Z|[+-]\d\d:\d\d)?", v):
        v = v[:10] + "T00:00:00" + v[10:]
    t = v.replace("Z", "+00:00").replace(" ", "T", 1) if "T" not in v else v.replace("Z", "+00:00")
    if "." in t:
        head, frac = t.split(".", 1)
        digits = "".join(c for c in frac if c.isdigit())
        t = f"{head}.{digits[:6].ljust(6, '0')}{frac[len(digits):]}"
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"unable to parse time {value!r}") from None
    if dt.tzinfo is None:
        return time.mktime(dt.timetuple()) + dt.microsecond / 1e6  # local time, as Go's ParseInLocation
    return dt.timestamp()
