"""Container logs in Podman's k8s-file format, one record per line:

    2024-01-02T15:04:05.123456789Z stdout F a complete line
    2024-01-02T15:04:05.123456789Z stderr P the start of a line that continues in the next record

The timestamps all have the same shape (UTC, 9 fractional digits), so they compare as strings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from podpy.timeutil import now_rfc3339


class LogWriter:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, stream: bytes, data: bytes) -> None:
        """One record per line of `data`; a trailing piece without newline is a partial (P) record."""
        prefix = now_rfc3339().encode() + b" " + stream
        lines = data.split(b"\n")
        out = [b"%s F %s\n" % (prefix, line) for line in lines[:-1]]
        if lines[-1]:
            out.append(b"%s P %s\n" % (prefix, lines[-1]))
        buf = b"".join(out)
        while buf:
            n = os.write(self.fd, buf)
            buf = buf[n:]

    def close(self) -> None:
        os.close(self.fd)


class LogEntry(NamedTuple):
    """One line of output. A tuple, not a dataclass: `logs` makes hundreds of thousands of them."""

    time: bytes  # RFC 3339 with nanoseconds, as written
    stream: bytes  # b"stdout" | b"stderr"
    data: bytes  # the line, with its newline unless it was still partial at the end


def parse_records(raw: bytes, partial: dict[bytes, tuple[bytes, bytes]]) -> Iterator[LogEntry]:
    """Entries from whole record lines; partial records accumulate in `partial` per stream."""
    for line in raw.split(b"\n"):
        parts = line.split(b" ", 3)
        if len(parts) < 4:
            if len(parts) < 3:
                continue
            parts.append(b"")
        ts, stream, tag, text = parts
        if tag == b"F" and stream not in partial:  # the common case: a whole line in one record
            yield LogEntry(ts, stream, text + b"\n")
            continue
        first_ts, held = partial.pop(stream, (ts, b""))
        if tag == b"P":
            partial[stream] = (first_ts, held + text)
        else:
            yield LogEntry(first_ts, stream, held + text + b"\n")


class LogReader:
    """Reads a log file incrementally: whole records only, partial lines joined across reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial: dict[bytes, tuple[bytes, bytes]] = {}

    def read(self) -> list[LogEntry]:
        """The complete entries appended since the last read."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                raw = f.read()
        except FileNotFoundError:
            return []
        cut = raw.rfind(b"\n") + 1
        self.offset += cut
        return list(parse_records(raw[:cut], self.partial))

    def flush(self) -> list[LogEntry]:
        """Lines still partial (the container ended without a newline)."""
        out = [LogEntry(ts, s, data) for s, (ts, data) in self.partial.items()]
        self.partial = {}
        return out

    def follow(self, running: Callable[[], bool], interval: float = 0.05) -> Iterator[LogEntry]:
        """New entries as they are written, until the container stops and the file is drained."""
        while True:
            entries = self.read()
            if entries:
                yield from entries
                continue
            if not running():
                yield from self.read()  # written between the last read and the check
                yield from self.flush()
                return
            time.sleep(interval)
