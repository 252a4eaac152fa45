"""The event log file: `<runroot>/events/events.log`, one JSON line per event (Podman's
`events_logger = "file"`, which keeps it under its tmpdir `/run/libpod/events/`: runtime state,
gone after a reboot, as Podman's).

Writing is one `O_APPEND` write of a whole line smaller than PIPE_BUF, so concurrent writers (every
podpy command, every supervisor) never interleave or tear lines, without a lock and without fsync
(events are not worth a disk flush on the hot path of `run --rm`). When the file passes
`MAX_SIZE` (Podman's `events_logfile_max_size`, 1 MB), the writer that notices renames it to
`events.log.1` under `events.log.lock` (one older generation is kept) and starts the new file with a
`system log-rotation` event. A writer still holding the old inode appends there: still whole lines,
and the readers drain the old file before the new one (a follower that has already moved on
misses such a late line: a window of one write, once per megabyte).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from podpy.events.record import Event, now

MAX_SIZE = 1_000_000  # bytes (Podman's events_logfile_max_size default "1m")
PIPE_BUF = 4096  # a write up to this size is one atomic append (and what Podman assumes)
_ENV_MAX = "PODPY_EVENTS_MAX_SIZE"  # tests shrink it to exercise the rotation


def log_path(runroot: Path) -> Path:
    return runroot / "events" / "events.log"


def max_size() -> int:
    try:
        return int(os.environ.get(_ENV_MAX) or MAX_SIZE)
    except ValueError:
        return MAX_SIZE


def encode(ev: Event) -> bytes:
    """The event's line, cut below PIPE_BUF: long attributes (labels) are dropped, longest first."""
    if not ev.time:
        ev.time = now()
    data = ev.line()
    while len(data) >= PIPE_BUF and ev.attributes:
        longest = max(ev.attributes, key=lambda k: len(k) + len(ev.attributes[k]))
        ev.attributes = {k: v for k, v in ev.attributes.items() if k != longest}
        data = ev.line()
    if len(data) >= PIPE_BUF:  # a huge name or image: keep the line a line
        ev.name, ev.image = ev.name[:1024], ev.image[:1024]
        data = ev.line()
    return data


def append(runroot: Path, ev: Event) -> None:
    """Write one event. Never raises: a command must not fail because its event could not be logged."""
    try:
        _append(log_path(runroot), encode(ev))
    except (OSError, ValueError):
        pass


def _append(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, data)
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if size > max_size():
        rotate(path)


def rotate(path: Path) -> bool:
    """Move a full log aside (once, whoever notices first); True when this call rotated it."""
    lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_size <= max_size():
                return False  # another writer rotated it while we waited
        except FileNotFoundError:
            return False
        os.replace(path, path.with_name(path.name + ".1"))
        note = Event("system", "log-rotation", name=str(path), time=now())
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, note.line())
        finally:
            os.close(fd)
        return True
    finally:
        os.close(lock)


def _decode(raw: bytes) -> Iterator[Event]:
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue  # a foreign or damaged line is skipped, never fatal
        if isinstance(doc, dict):
            yield Event.from_json(doc)


class Reader:
    """Reads the log incrementally: the rotated generation first, then the live file through an open
    descriptor; a rotation (a new inode at the path) is noticed and the old file drained first."""

    def __init__(self, runroot: Path) -> None:
        self.path = log_path(runroot)
        self.file: object | None = None
        self.ino = -1
        self.began = False
        self.carry = b""  # a line still being written (never happens with O_APPEND, but cheap)

    def read(self) -> list[Event]:
        raw = b""
        if not self.began:  # the first read: the kept generation, once
            self.began = True
            raw += _read_whole(self.path.with_name(self.path.name + ".1"))
        if self.file is None and not self._open():
            return self._parse(raw)
        raw += self.file.read()  # type: ignore[attr-defined]
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            ino = self.ino
        if ino != self.ino:
            raw += self.file.read()  # type: ignore[attr-defined]
            self.close()
            if self._open():
                raw += self.file.read()  # type: ignore[attr-defined]
        return self._parse(raw)

    def _open(self) -> bool:
        try:
            self.file = open(self.path, "rb")  # noqa: SIM115 - kept open between reads
        except FileNotFoundError:
            return False
        self.ino = os.fstat(self.file.fileno()).st_ino  # type: ignore[attr-defined]
        return True

    def _parse(self, raw: bytes) -> list[Event]:
        raw = self.carry + raw
        cut = raw.rfind(b"\n") + 1
        self.carry = raw[cut:]
        return list(_decode(raw[:cut]))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()  # type: ignore[attr-defined]
            self.file = None

    def follow(self, keep_going: Callable[[], bool] = lambda: True, interval: float = 0.1) -> Iterator[Event]:
        """New events as they are written (a poll every `interval`), while keep_going()."""
        while keep_going():
            events = self.read()
            if events:
                yield from events
                continue
            time.sleep(interval)


def _read_whole(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.EACCES):
            return b""
        raise
