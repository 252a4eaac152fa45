"""Docker's human forms: sizes (4.26MB) and durations (About a minute, 3 weeks)."""

from __future__ import annotations

import time
from datetime import datetime

from podpy.timeutil import parse_time


def _scaled(n: float, base: float, units: tuple[str, ...], digits: int) -> str:
    i = 0
    while n >= base and i < len(units) - 1:
        n /= base
        i += 1
    return f"{n:.{digits}g}{units[i]}"


def size(n: float) -> str:
    """Decimal units with 3 significant digits, like Docker's units.HumanSize."""
    return _scaled(n, 1000.0, ("B", "kB", "MB", "GB", "TB", "PB"), 3)


def duration(seconds: float) -> str:
    """Docker's units.HumanDuration."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"


def ago(ts: str) -> str:
    t = parse_time(ts)
    if not t:
        return "N/A"
    return duration(time.time() - t) + " ago"


def local_time(ts: str) -> str:
    """Docker's CreatedAt column: 2024-01-02 15:04:05 +0000 UTC."""
    t = parse_time(ts)
    if not t:
        return ""
    dt = datetime.fromtimestamp(t).astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S %z %Z")


def binary_size(n: float) -> str:
    """Binary units with 4 significant digits, like Docker's units.BytesSize (stats' MEM USAGE)."""
    return _scaled(n, 1024.0, ("B", "KiB", "MiB", "GiB", "TiB", "PiB"), 4)
