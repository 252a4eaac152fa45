"""Container logs in Podman's k8s-file format, one record per line:

    2024-01-02T15:04:05.123456789Z stdout F a complete line
    2024-01-02T15:04:05.123456789Z stderr P the start of a line that continues in the next record

The timestamps all have the same shape (UTC, 9 fractional digits), so they compare as strings.

Rotation (`--log-opt max-size/max-file`, Docker's json-file semantics): when the next records would
take the file past max-size it is renamed to `<path>.1` (older ones shift to `.2`, ...; `max-file`
counts the live file too) and a new file is started; records are never split across files. A failed
write (ENOSPC, EIO) drops that output and is reported once per run of failures: the container keeps
running, as with conmon.
"""

from __future__ import annotations

import os
import time
from collections import namedtuple
from collections.abc import Callable, Iterator
from pathlib import Path

from podpy.record import field, record
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

K8S_FILE, NONE, PASSTHROUGH = "k8s-file", "none", "passthrough"
DRIVERS = (K8S_FILE, NONE, PASSTHROUGH)


@record(frozen=True, lean_init=True)
class LogConfig:
    """What a container logs, where, and how much is kept (stored in the container's spec)."""

    driver: str = K8S_FILE
    path: str = ""  # "" = the store's default (<container>/userdata/ctr.log)
    max_size: int = -1  # bytes per file; <= 0: unlimited
    max_file: int = 1  # files kept, the live one included
    options: dict[str, str] = field(default_factory=dict)  # --log-opt as given (inspect's Config)

    @classmethod
    def from_json(cls, doc: dict[str, Any] | None) -> LogConfig:
        doc = doc or {}
        return cls(driver=doc.get("driver") or K8S_FILE, path=doc.get("path") or "",
                   max_size=int(doc.get("max_size", -1)), max_file=max(1, int(doc.get("max_file", 1))),
                   options=dict(doc.get("options") or {}))  # fmt: skip


def rotated_paths(path: Path) -> list[Path]:
    """The rotated files of `path` that exist, oldest first (`.N` ... `.1`)."""
    out = []
    n = 1
    while (older := path.with_name(f"{path.name}.{n}")).exists():
        out.append(older)
        n += 1
    return out[::-1]


class LogWriter:
    def __init__(self, path: Path, max_size: int = -1, max_file: int = 1,
                 on_error: Callable[[OSError], None] | None = None) -> None:  # fmt: skip
        self.path = path
        self.max_size = max_size if max_size > 0 else 0
        self.max_file = max(1, max_file)
        self.on_error = on_error
        self.failing = False  # inside a run of failed writes: reported once
        self.fd = -1
        self._open()

    def _open(self) -> None:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self.size = os.fstat(self.fd).st_size

    def write(self, stream: bytes, data: bytes) -> None:
        """One record per line of `data`; a trailing piece without newline is a partial (P) record."""
        prefix = now_rfc3339().encode() + b" " + stream
        lines = data.split(b"\n")
        out = [b"%s F %s\n" % (prefix, line) for line in lines[:-1]]
        if lines[-1]:
            out.append(b"%s P %s\n" % (prefix, lines[-1]))
        buf = b"".join(out)
        try:
            if self.max_size:
                self._write_rotating(buf)
            else:
                self._write_all(buf)
        except OSError as e:  # the output is dropped; the container must not notice
            if not self.failing and self.on_error is not None:
                self.on_error(e)
            self.failing = True
        else:
            self.failing = False

    def _write_rotating(self, buf: bytes) -> None:
        while buf:
            room = max(0, self.max_size - self.size)
            if len(buf) <= room:
                self._write_all(buf)
                return
            cut = buf.rfind(b"\n", 0, room) + 1  # whole records only
            if cut == 0 and self.size == 0:  # one record larger than a file: it gets a file of its own
                cut = buf.find(b"\n") + 1 or len(buf)
            if cut:
                self._write_all(buf[:cut])
                buf = buf[cut:]
            if buf:
                self._rotate()

    def _write_all(self, buf: bytes) -> None:
        if self.fd < 0:
            self._open()  # a rotation failed to reopen: try again
        view = memoryview(buf)
        while view:
            n = os.write(self.fd, view)
            self.size += n
            view = view[n:]

    def _rotate(self) -> None:
        """`path` -> `path.1` (-> `.2` ...); with max-file 1 the old records are simply dropped."""
        os.close(self.fd)
        self.fd = -1
        name = self.path.name
        for n in range(self.max_file - 1, 0, -1):
            src = self.path.with_name(f"{name}.{n - 1}" if n > 1 else name)
            try:
                os.replace(src, self.path.with_name(f"{name}.{n}"))
            except FileNotFoundError:
                continue
        if self.max_file == 1:
            self.path.unlink(missing_ok=True)  # a new inode: a follower sees the switch
        self._open()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class LogEntry(namedtuple("LogEntry", ("time", "stream", "data"))):  # noqa: PYI024
    """One line of output. A tuple, not a dataclass: `logs` makes hundreds of thousands of them.
    (collections.namedtuple: typing.NamedTuple's behaviour without importing typing on inspect.)"""

    __slots__ = ()
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
    """Reads a log incrementally across rotations: whole records only, partial lines joined across
    reads. The first read takes the rotated files too (oldest first); then the live file is read
    through an open descriptor, so a rotation (a new inode at `path`) is noticed: the old file is
    drained before the new one is read from its start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: Any = None
        self.ino = -1
        self.carry = b""  # bytes after the last newline: a record still being written
        self.partial: dict[bytes, tuple[bytes, bytes]] = {}

    def read(self) -> list[LogEntry]:
        """The complete entries appended since the last read."""
        raw = b""
        if self.file is None:
            for older in rotated_paths(self.path):
                raw += _read_whole(older)
            if not self._open():
                return self._parse(raw)
        raw += self.file.read()
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            ino = self.ino  # between a rotation's rename and the new file: read it next time
        if ino != self.ino:
            raw += self.file.read()  # what was appended just before the rotation
            self.file.close()
            self.file = None
            for newer in self._rotated_since():  # more than one rotation since the last read
                raw += _read_whole(newer)
            if self._open():
                raw += self.file.read()
        return self._parse(raw)

    def stream(self, final: bool, chunk: int = 1 << 20) -> Iterator[LogEntry]:
        """What read() returns (then flush() when `final`), parsed one chunk at a time: memory stays
        flat however long the log. Not final: the live file stays open for follow()."""
        if self.file is None:
            for older in rotated_paths(self.path):
                yield from self._stream_path(older, chunk)
            if not self._open():
                yield from self._final(final)
                return
        yield from self._stream_file(self.file, chunk)
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            ino = self.ino
        if ino != self.ino:
            yield from self._stream_file(self.file, chunk)
            self.file.close()
            self.file = None
            for newer in self._rotated_since():
                yield from self._stream_path(newer, chunk)
            if self._open():
                yield from self._stream_file(self.file, chunk)
        yield from self._final(final)

    def _final(self, final: bool) -> Iterator[LogEntry]:
        if final:
            yield from self.flush()
            self.close()

    def _stream_path(self, path: Path, chunk: int) -> Iterator[LogEntry]:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below (a generator)
        except FileNotFoundError:  # rotated away meanwhile
            return
        try:
            yield from self._stream_file(f, chunk)
        finally:
            f.close()

    def _stream_file(self, f: Any, chunk: int) -> Iterator[LogEntry]:
        while raw := f.read(chunk):
            yield from self._parse(raw)

    def _rotated_since(self) -> list[Path]:
        """Rotated files newer than the one just drained (all of them if it was dropped already)."""
        paths = rotated_paths(self.path)
        for i, path in enumerate(paths):
            try:
                if os.stat(path).st_ino == self.ino:
                    return paths[i + 1 :]
            except FileNotFoundError:
                continue
        return paths

    def _open(self) -> bool:
        try:
            self.file = open(self.path, "rb")  # noqa: SIM115 - kept open between reads
        except FileNotFoundError:
            return False
        self.ino = os.fstat(self.file.fileno()).st_ino
        return True

    def _parse(self, raw: bytes) -> list[LogEntry]:
        raw = self.carry + raw
        cut = raw.rfind(b"\n") + 1
        self.carry = raw[cut:]
        return list(parse_records(raw[:cut], self.partial))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

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
                self.close()
                return
            time.sleep(interval)


def _read_whole(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # rotated away meanwhile
        return b""
