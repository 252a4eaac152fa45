"""Service logs multiplexed with `web-1  | ` prefixes: `compose logs` and attached `compose up`
(which stops the project on Ctrl-C, or when a container exits with --abort-on-container-exit)."""

from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from podpy.cli import common
from podpy.cli.common import engine
from podpy.cli.compose_common import colors

COLORS = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94)
_END = object()


def short_name(project: str, name: str) -> str:
    return name.removeprefix(f"{project}-")


class Prefixer:
    def __init__(self, names: list[str], enabled: bool = True) -> None:
        self.width = max((len(n) for n in names), default=0)
        self.enabled = enabled
        self.color = colors()
        self.index: dict[str, int] = {}

    def __call__(self, name: str) -> bytes:
        if not self.enabled:
            return b""
        text = f"{name.ljust(self.width)}  | "
        if self.color:
            n = self.index.setdefault(name, len(self.index))
            text = f"\x1b[{COLORS[n % len(COLORS)]}m{text}\x1b[0m"
        return text.encode()


@dataclass
class _Exited:
    """A container exited and its restart policy started it again: its stream goes on."""

    code: int | None  # None: it ran again before its exit code was seen


def _pump(cid: str, name: str, opts: Any, out: queue.Queue) -> None:
    """One container's records; when followed, across the restarts its restart policy makes (an
    `_Exited` for each, however quickly they came, before the first record of the next run)."""
    from podpy.engine.container_logs import LogOptions, log_time, logs
    from podpy.errors import PodpyError

    last = log_time(time.time()).encode() if opts.follow and opts.tail == 0 else b""
    # From the start of its log, every restart is news; from now on, only the coming ones.
    restarts = [0 if opts.tail is None else engine().containers.get(cid).state.restart_count] if opts.follow else []

    def put(entries: Any) -> None:
        nonlocal last
        for entry in entries:
            if entry.time > last or not opts.follow:
                if restarts:
                    _exits(engine().containers.get(cid), restarts, name, out)
                last = entry.time
                out.put((name, entry))

    try:
        while True:
            put(logs(engine().containers, cid, opts))
            if not opts.follow:
                break
            rec = _settled(cid)
            if rec.state.status != "running":  # what it wrote after the stream stopped following
                put(logs(engine().containers, cid, LogOptions()))
                _exits(rec, restarts, name, out)
                break
            opts = LogOptions(follow=True)  # the whole log again: what was printed is skipped by time
    except PodpyError:
        pass  # removed meanwhile: its stream simply ends
    finally:
        out.put((name, _END))


def _exits(rec: Any, restarts: list[int], name: str, out: queue.Queue) -> None:
    """An `_Exited` per restart since the last look: the record keeps the code of the last exit only
    while the container is down (it is reset when it starts again)."""
    code = None if rec.state.status == "running" else rec.state.exit_code
    for _ in range(rec.state.restart_count - restarts[0]):
        out.put((name, _Exited(code)))
    restarts[0] = rec.state.restart_count


def _settled(cid: str) -> Any:
    """The container's record once it is not waiting out a restart back-off."""
    from podpy.engine import container_record as cr

    while (rec := engine().containers.get(cid)).state.status == cr.RESTARTING:
        time.sleep(0.1)
    return rec


def stream(containers: list[tuple[str, str, Any]], prefix: Prefixer, timestamps: bool,
           on_end: Any = None) -> None:
    """Print the logs of (id, display name, LogOptions) as they come; `on_end(name)` when one ends (it
    may return True to stop everything)."""
    q: queue.Queue = queue.Queue()
    for cid, name, opts in containers:
        threading.Thread(target=_pump, args=(cid, name, opts, q), daemon=True).start()
    left = len(containers)
    out = sys.stdout.buffer
    while left:
        try:
            name, entry = q.get(timeout=0.2)
        except queue.Empty:
            continue
        if entry is _END:
            left -= 1
            if on_end is not None and on_end(name):
                return
            continue
        if isinstance(entry, _Exited):
            if on_end is not None:
                how = "restarted" if entry.code is None else f"exited with code {entry.code}"
                common.out(f"{name} {how}")
            continue
        data = entry.data if entry.data.endswith(b"\n") else entry.data + b"\n"
        out.write(prefix(name) + (entry.time + b" " if timestamps else b"") + data)
        out.flush()


def attached(project: Any, services: list[str], abort: bool, exit_code_from: str | None,
             timeout: int | None, log_prefix: bool, timestamps: bool, started: set[str]) -> int:
    """Follow the services' logs: from their start for the containers `up` just started, from now for
    the ones that were already running."""
    from podpy.compose.observe import observe
    from podpy.engine.container_logs import LogOptions

    found = [c for c in observe(engine(), project.name).project_containers(project.name) if c.service in services]
    names = {short_name(project.name, c.name): c for c in found}
    prefix = Prefixer(list(names), log_prefix)
    common.out("Attaching to " + ", ".join(names))
    result: dict[str, int] = {}

    def ended(name: str) -> bool:
        code = engine().containers.get(names[name].id).state.exit_code
        common.out(f"{name} exited with code {code}")
        result.setdefault(names[name].service, code)
        if abort:
            common.out("Aborting on container exit...")
            return True
        return False

    try:
        pairs = [(c.id, n, LogOptions(follow=True, tail=None if c.name in started else 0)) for n, c in names.items()]
        stream(pairs, prefix, timestamps, ended)
    except KeyboardInterrupt:
        common.err("Gracefully stopping... (press Ctrl+C again to force)")
        _stop_all(project, timeout)
        return 130
    if abort:
        _stop_all(project, timeout)
        if exit_code_from:
            if exit_code_from not in result:
                mine = [c for c in names.values() if c.service == exit_code_from]
                return engine().containers.get(mine[0].id).state.exit_code if mine else 0
            return result[exit_code_from]
        return next(iter(result.values()), 0)
    return 0


def _stop_all(project: Any, timeout: int | None) -> None:
    from podpy.cli.compose_common import Events
    from podpy.compose import project_ops

    project_ops.run_plan(engine(), project, "stop", [], Events(), timeout)
