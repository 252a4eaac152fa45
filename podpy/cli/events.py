"""`events` / `system events`: the engine's event log, filtered, formatted, followed live."""

from __future__ import annotations

import sys
from typing import Any

import typer

from podpy.cli import common


def events(
    filter_: list[str] | None = typer.Option(
        None,
        "--filter",
        "-f",
        help="Filter output (container=, image=, "
        "event=, type=, label=, volume=, network=, pod=, since=, until=)",
    ),
    format_: str | None = typer.Option(
        None, "--format", help="json or a Go template ({{json .}}, {{.Status}}...)"
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Show events created since this time (RFC 3339, Unix time, date or duration such as 10m)",
    ),
    until: str | None = typer.Option(None, "--until", help="Show events created until this time"),
    stream: bool = typer.Option(
        True,
        "--stream/--no-stream",
        help="Stream new events; --stream=false prints the past events and exits",
    ),
    no_trunc: bool = typer.Option(
        True, "--no-trunc/--trunc", help="Do not truncate the output (default true)"
    ),
) -> None:
    """Show podpy events (follows new events until interrupted unless --stream=false)."""
    from podpy.errors import InvalidArgument
    from podpy.events import Reader
    from podpy.events.query import QueryError, build

    follow, truncate = stream, not no_trunc
    try:
        query = build(list(filter_ or []), since, until)
    except QueryError as e:
        raise InvalidArgument(str(e)) from None
    show = _printer(format_, truncate)
    reader = Reader(common.engine().layout.runroot)
    past = reader.read()  # a stream shows only new events unless --since/--until ask for the past (Podman)
    replay = not follow or query.since_ns is not None or query.until_ns is not None
    for ev in past if replay else ():
        if query.matches(ev):
            show(ev)
    sys.stdout.flush()
    if not follow:
        return
    import time

    def keep_going() -> bool:
        return query.until_ns is None or time.time_ns() < query.until_ns

    try:
        for ev in reader.follow(keep_going):
            if query.matches(ev):
                show(ev)
                sys.stdout.flush()
    except KeyboardInterrupt:
        return  # Ctrl-C ends a stream normally (exit 0), as Podman


def _printer(fmt: str | None, truncate: bool) -> Any:
    """One function printing an event: Podman's text line, its JSON line, or a Go template."""
    fmt = (fmt or "").strip()
    write = sys.stdout.write
    if not fmt:
        return lambda ev: write(ev.human(truncate) + "\n")
    if fmt == "json" or fmt.replace(" ", "") == "{{json.}}":
        return lambda ev: write(ev.line().decode())
    from podpy.cli import format as fmtmod

    if fmt.startswith("table"):
        fmt = fmt[len("table") :].strip() or "{{.Time}} {{.Type}} {{.Status}} {{.ID}}"
    tmpl = fmtmod.compile_template(fmt)
    return lambda ev: write(tmpl.execute(ev.template_view()) + "\n")


def register(app: typer.Typer, system: typer.Typer) -> None:
    from podpy.cli.appkit import SETTINGS

    app.command("events", context_settings=SETTINGS)(events)
    system.command("events", context_settings=SETTINGS)(events)
