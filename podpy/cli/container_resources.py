"""stats, top, pause, unpause: a running container's resources and processes."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine

STATS_TABLE = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}"
               "\t{{.BlockIO}}\t{{.PIDs}}")  # fmt: skip
STATS_HEADERS = {"ID": "CONTAINER ID", "Container": "CONTAINER", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
                 "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}  # fmt: skip
NO_STREAM_GAP = 0.5  # seconds between the two samples CPU % needs
CLEAR = "\x1b[2J\x1b[H"


def stats_row(s: Any, shown_as: str, no_trunc: bool) -> dict[str, Any]:
    from podpy.cli.humanize import binary_size, size

    row = {
        "ID": s.id if no_trunc else s.id[:12], "Container": shown_as, "Name": s.name,
        "CPUPerc": f"{s.cpu_percent:.2f}%",
        "MemUsage": f"{binary_size(s.mem_usage)} / {binary_size(s.mem_limit)}",
        "MemPerc": f"{s.mem_percent:.2f}%", "NetIO": f"{size(s.net_rx)} / {size(s.net_tx)}",
        "BlockIO": f"{size(s.blk_read)} / {size(s.blk_write)}", "PIDs": str(s.pids),
    }  # fmt: skip
    for figure in s.unreadable:
        for key in UNREADABLE_COLUMNS.get(figure, ()):
            row[key] = "--"
    return row


UNREADABLE_COLUMNS = {"CPU": ("CPUPerc",), "memory": ("MemUsage", "MemPerc"), "block I/O": ("BlockIO",),
                      "PIDs": ("PIDs",)}  # fmt: skip


def stats_notices(frame: list[Any]) -> list[str]:
    """What a container without a cgroup (rootless on cgroup v1) can and cannot show, said once."""
    out = []
    for s in frame:
        if s.no_cgroup:
            what = f"cannot read {', '.join(s.unreadable)} (shown as --)" if s.unreadable else "all were read"
            out.append(f"{s.id[:12]} has no cgroup (rootless on cgroup v1): CPU, memory, block I/O and PIDs are "
                       f"summed over its processes; {what}")  # fmt: skip
    return out


def stats(
    containers: list[str] | None = typer.Argument(None, metavar="[CONTAINER...]", help="Containers"),
    all_: bool = typer.Option(False, "--all", "-a", help="Show all containers (default shows just running)"),
    no_stream: bool = typer.Option(False, "--no-stream", help="Print one result and exit"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate output"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    interval: float = typer.Option(1.0, "--interval", "-i", help="Seconds between updates when streaming"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
    no_reset: bool = typer.Option(False, "--no-reset", help="Do not clear the screen between intervals"),
) -> None:
    """Display a live stream of container resource usage statistics."""
    from podpy.cli import format as fmtmod
    from podpy.engine.container_stats import Sampler
    from podpy.errors import InvalidArgument

    if interval <= 0:
        raise InvalidArgument("--interval must be more than 0 seconds")
    refs = _latest(containers) if latest else list(containers or [])
    sampler = Sampler(engine().containers, refs, all_)
    first = sampler.frame()
    shown = dict(zip((s.id for s in first), refs, strict=False)) if refs else {}
    for notice in stats_notices(first):
        common.warn(notice)
    clear = not no_stream and not no_reset and sys.stdout.isatty() and not (format_ or "").startswith(("json", "{{"))
    try:
        while True:
            time.sleep(NO_STREAM_GAP if no_stream else interval)
            rows = [
                stats_row(s, shown.get(s.id, s.id if no_trunc else s.id[:12]), no_trunc)
                for s in sampler.frame()
            ]
            text = fmtmod.render(rows, format_, STATS_TABLE, headers=STATS_HEADERS)
            sys.stdout.write((CLEAR if clear else "") + text)
            sys.stdout.flush()
            if no_stream:
                return
    except KeyboardInterrupt:
        return


def top(
    container: str | None = typer.Argument(None, metavar="CONTAINER", help="Container"),
    options: list[str] | None = typer.Argument(None, metavar="[ps OPTIONS]",
                                               help="Descriptors (user pid args ...) or ps options (-ef, aux)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
) -> None:  # fmt: skip
    """Display the running processes of a container."""
    from podpy.cli.format import align
    from podpy.engine.container_top import top as top_of
    from podpy.errors import InvalidArgument

    words = [*([container] if container is not None else []), *(options or [])]
    if latest:  # `top -l -ef`: every word is a ps option
        container, words = _latest(None)[0], words
    elif container is None:
        raise InvalidArgument("you must provide the name or ID of a running container or use --latest")
    else:
        words = words[1:]
    titles, rows = top_of(engine().containers, container, words)
    common.out("".join(line + "\n" for line in align([titles, *rows])))


def pause(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to pause"),
    all_: bool = typer.Option(False, "--all", "-a", help="Pause all running containers"),
    cidfile: list[str] | None = typer.Option(None, "--cidfile", help="Read the container ID from the file"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter based on conditions given"),
    ignore: bool = typer.Option(False, "--ignore", help="Ignore errors when a specified container is missing"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
) -> None:
    """Pause all processes within one or more containers."""
    _set_paused(containers, True, all_, cidfile, filter_, ignore, latest)


def unpause(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to unpause"),
    all_: bool = typer.Option(False, "--all", "-a", help="Unpause all paused containers"),
    cidfile: list[str] | None = typer.Option(None, "--cidfile", help="Read the container ID from the file"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter based on conditions given"),
    ignore: bool = typer.Option(False, "--ignore", help="Ignore errors when a specified container is missing"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
) -> None:
    """Unpause all processes within one or more containers."""
    _set_paused(containers, False, all_, cidfile, filter_, ignore, latest)


def _set_paused(refs: list[str] | None, paused: bool, all_: bool, cidfile: list[str] | None,
                filters: list[str] | None, ignore: bool, latest: bool) -> None:  # fmt: skip
    from podpy.cli import ctr_select as sel
    from podpy.engine.container_cgroups import set_paused

    svc = engine().containers

    def keep(rec: Any) -> bool:  # --all: the running ones to pause, the paused ones to unpause
        return rec.state.status == "running" and bool(rec.state.paused) != paused

    targets = sel.select(refs, all_=all_, filters=filters, latest=latest, cidfiles=cidfile, keep=keep)
    sel.each(targets, lambda ref: (set_paused(svc, ref, paused), ref)[1], ignore_missing=ignore)


def _latest(refs: list[str] | None) -> list[str]:
    """--latest: the newest container (never together with names)."""
    from podpy.cli.ctr_select import select

    return select(refs, latest=True)


COMMANDS = (("stats", stats), ("top", top), ("pause", pause), ("unpause", unpause))


def register(app: typer.Typer) -> None:
    """Top-level verbs, and the same under the `container` group (containers.register made it)."""
    from podpy.cli.appkit import SETTINGS

    passthrough = {**SETTINGS, "allow_interspersed_args": False, "ignore_unknown_options": True}
    groups = [g.typer_instance for g in app.registered_groups if g.name == "container"]
    for target in (app, *groups):
        for name, fn in COMMANDS:
            ctx = passthrough if fn is top else SETTINGS  # `top CTR -ef`: ps options are arguments
            target.command(name, context_settings=ctx)(fn)  # type: ignore[union-attr]
