"""`logs` (the typer command and the fast path): one or several containers, prefixes, following.
No typer here."""

from __future__ import annotations

import sys

from podpy.cli.common import engine

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

COLORS = ("\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m")  # one per container
RESET = "\x1b[0m"


def targets(names: list[str] | None, latest: bool, what: str = "container") -> list[str]:
    from podpy.errors import InvalidArgument

    if latest:
        if names:
            raise InvalidArgument(f"--latest and {what}s cannot be used together")
        return [engine().containers.latest()]
    if not names:
        raise InvalidArgument(f"specify at least one {what} name or ID, or --latest")
    return list(names)


def show_logs(containers: list[str] | None, *, follow: bool = False, timestamps: bool = False,
              tail: str | None = None, since: str | None = None, until: str | None = None, names: bool = False,
              color: bool = False, latest: bool = False) -> None:  # fmt: skip
    """Print the logs; with several containers each line starts with the container's short ID (or
    its name with --names), interleaved by time."""
    from podpy.engine.container_logs import LogOptions
    from podpy.errors import InvalidArgument

    if names and tail is None and containers and len(containers) > 1 and containers[0].isdigit():
        tail, names, containers = containers[0], False, containers[1:]  # Docker's `-n N` (--tail)
    if tail not in (None, "all") and not tail.lstrip("-").isdigit():
        raise InvalidArgument(f"invalid --tail {tail!r}: a number or all")
    refs = targets(containers, latest)
    opts = LogOptions(follow, None if tail in (None, "all") else int(tail), since, until)
    svc = engine().containers
    recs = [svc.get(r) for r in refs]
    prefixes = [b""] * len(recs)
    if len(recs) > 1:
        prefixes = [_prefix(rec, names, color, i) for i, rec in enumerate(recs)]
    if follow and len(recs) > 1:
        _follow_all(recs, prefixes, opts, timestamps)
        return
    if len(recs) > 1:  # interleaved by time, as they were written
        out = _Writer(timestamps, follow)
        entries = [(e, p) for rec, p in zip(recs, prefixes, strict=True) for e in _read(rec, opts)]
        for e, p in sorted(entries, key=lambda x: x[0][0]):
            out.write(p, e)
        return
    if follow:
        out = _Writer(timestamps, True)
        for e in _read(recs[0], opts):
            out.write(b"", e)
        return
    _write_batched(_read(recs[0], opts), timestamps)


BATCH = 1 << 16


def _write_batched(entries: Any, timestamps: bool) -> None:
    """One container, not following: consecutive lines of one stream go out in one write (up to 64
    KiB), not a write per line; the order between stdout and stderr lines is kept."""
    current, pending, size = None, [], 0
    for ts, stream, data in entries:
        if stream != current or size >= BATCH:
            if pending:
                _emit(current, pending)
            current, pending, size = stream, [], 0
        pending.append(ts + b" " + data if timestamps else data)
        size += len(data)
    if pending:
        _emit(current, pending)


def _emit(stream: bytes | None, parts: list[bytes]) -> None:
    (sys.stdout.buffer if stream == b"stdout" else sys.stderr.buffer).write(b"".join(parts))


def _prefix(rec: Any, names: bool, color: bool, index: int) -> bytes:
    text = rec.name if names else rec.short_id
    if color:
        text = f"{COLORS[index % len(COLORS)]}{text}{RESET}"
    return (text + " ").encode()


def _read(rec: Any, opts: Any) -> Any:
    from podpy.engine.container_logs import logs as read_logs

    return read_logs(engine().containers, rec.id, opts)


class _Writer:
    def __init__(self, timestamps: bool, flush: bool) -> None:
        import threading  # only logs of several containers: inspect/rm use targets() without it

        self.timestamps, self.flush = timestamps, flush
        self.lock = threading.Lock()

    def write(self, prefix: bytes, entry: Any) -> None:
        ts, stream, data = entry
        target = sys.stdout.buffer if stream == b"stdout" else sys.stderr.buffer
        with self.lock:
            target.write(prefix + (ts + b" " if self.timestamps else b"") + data)
            if self.flush:
                target.flush()


def _follow_all(recs: list[Any], prefixes: list[bytes], opts: Any, timestamps: bool) -> None:
    """Several containers followed at once: a thread each, lines written whole as they come."""
    import threading

    out = _Writer(timestamps, True)
    errors: list[BaseException] = []

    def pump(rec: Any, prefix: bytes) -> None:
        try:
            for e in _read(rec, opts):
                out.write(prefix, e)
        except Exception as e:  # noqa: BLE001 - reported once the others are done
            errors.append(e)

    threads = [threading.Thread(target=pump, args=(r, p), daemon=True) for r, p in zip(recs, prefixes, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    if errors:
        raise errors[0]
