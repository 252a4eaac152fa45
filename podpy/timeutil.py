"""RFC 3339 timestamps as Docker and the OCI specs write them."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_rfc3339() -> str:
    """UTC with nanoseconds: 2024-01-02T15:04:05.123456789Z."""
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def parse_time(ts: str) -> float:
    """RFC 3339 (nanoseconds, Z or offset) -> epoch seconds; 0.0 when empty or unparsable."""
    if not ts:
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
