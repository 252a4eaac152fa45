"""Container commands: ps, stop, kill, restart, rm, wait, logs, rename, port, inspect, prune,
and the `container` group with Docker's aliases (run, create, start, attach, exec live in run.py)."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from podpy.cli import common
from podpy.cli import ctr_select as sel
from podpy.cli.appkit import for_each as _each
from podpy.cli.common import engine
from podpy.cli.ps_rows import (  # command_text, status_text: imported from here by others
    PS_SORT,
    command_text,  # noqa: F401
    ps_listing,
    status_text,  # noqa: F401
)


def ps(
    all_: bool = typer.Option(False, "--all", "-a", help="Show all containers (default shows just running)"),
    external: bool = typer.Option(False, "--external", help="Show containers in storage not controlled by podpy (none)"),
    filter_: list[str] | None = typer.Option(
        None,
        "--filter",
        "-f",
        help="Filter output (id, name, label, status, ancestor, exited, before, since, health)",
    ),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    last: int = typer.Option(-1, "--last", "-n", help="Show n last created containers (includes all states)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Show the latest created container"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output"),
    noheading: bool = typer.Option(False, "--noheading", help="Do not print headers"),
    ns: bool = typer.Option(False, "--ns", help="Display namespace information"),
    pod: bool = typer.Option(False, "--pod", "-p", help="Show the pod (POD ID and PODNAME) of each container"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display container IDs"),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file sizes"),
    sort: str | None = typer.Option(None, "--sort", help="Sort output by: " + ", ".join(PS_SORT)),
    sync: bool = typer.Option(False, "--sync", help="Sync container state with the runtime (always done)"),
    watch: int = typer.Option(0, "--watch", "-w", help="Watch the ps output on an interval in seconds"),
) -> None:
    """List containers."""
    while True:
        text = ps_listing(all_, filter_, format_, last, latest, no_trunc, noheading, ns, pod, quiet, size, sort)
        if watch <= 0:
            common.out(text)
            return
        sys.stdout.write("\033[2J\033[H" + text)  # redrawn every --watch seconds, as Podman
        sys.stdout.flush()
        time.sleep(watch)


def stop(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to stop"),
    all_: bool = sel.all_opt("Stop all running containers"),
    cidfile: list[str] | None = sel.cidfile_opt(),
    filter_: list[str] | None = sel.filter_opt(),
    ignore: bool = sel.ignore_opt(),
    latest: bool = sel.latest_opt(),
    time_: int | None = typer.Option(
        None, "--time", "-t", "--timeout", help="Seconds to wait for stop before killing the container"
    ),
) -> None:
    """Stop one or more running containers (stop signal, then SIGKILL after the timeout)."""
    svc = engine().containers
    refs = sel.select(containers, all_=all_, filters=filter_, latest=latest, cidfiles=cidfile)
    sel.each(refs, lambda ref: (svc.stop(ref, time_), ref)[1], ignore_missing=ignore)


def kill(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to kill"),
    all_: bool = sel.all_opt("Signal all running containers"),
    cidfile: list[str] | None = sel.cidfile_opt(),
    filter_: list[str] | None = sel.filter_opt(short=False),
    ignore: bool = sel.ignore_opt(short=False),
    latest: bool = sel.latest_opt(),
    signal_: str = typer.Option("KILL", "--signal", "-s", help="Signal to send to the container"),
) -> None:
    """Kill one or more running containers with a signal."""
    svc = engine().containers
    refs = sel.select(containers, all_=all_, filters=filter_, latest=latest, cidfiles=cidfile, keep=sel.running)
    sel.each(refs, lambda ref: (svc.kill(ref, signal_), ref)[1], ignore_missing=ignore)


def restart(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to restart"),
    all_: bool = sel.all_opt("Restart all containers"),
    cidfile: list[str] | None = sel.cidfile_opt(),
    filter_: list[str] | None = sel.filter_opt(),
    ignore: bool = sel.ignore_opt(short=False),
    latest: bool = sel.latest_opt(),
    running: bool = typer.Option(False, "--running", help="Restart only running containers"),
    time_: int | None = typer.Option(
        None, "--time", "-t", "--timeout", help="Seconds to wait for stop before killing the container"
    ),
) -> None:
    """Restart one or more containers."""
    from podpy.engine import events as ev

    svc = engine().containers
    keep = sel.running if running else None
    refs = sel.select(containers, all_=all_, filters=filter_, latest=latest, cidfiles=cidfile, keep=keep)

    def one(ref: str) -> str:
        svc.stop(ref, time_)
        rec, launch = svc.start(ref, None)
        if launch is not None:
            launch.close()
        ev.container(svc, rec, "restart")
        return ref

    sel.each(refs, one, ignore_missing=ignore)


def rm(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to remove"),
    all_: bool = sel.all_opt("Remove all containers"),
    cidfile: list[str] | None = sel.cidfile_opt(),
    depend: bool = typer.Option(False, "--depend", help="Remove the container and all containers that depend on it"),
    filter_: list[str] | None = sel.filter_opt(short=False),
    force: bool = typer.Option(False, "--force", "-f", help="Force removal of a running or paused container"),
    ignore: bool = sel.ignore_opt(),
    latest: bool = sel.latest_opt(),
    time_: int | None = typer.Option(
        None, "--time", "-t", help="Seconds to wait for stop before killing the container (with --force)"
    ),
    volumes: bool = typer.Option(False, "--volumes", "-v", help="Remove anonymous volumes of the container"),
) -> None:
    """Remove one or more containers."""
    sel.remove(containers, all_=all_, cidfile=cidfile, depend=depend, filter_=filter_, force=force, ignore=ignore,
               latest=latest, time_=time_, volumes=volumes)  # fmt: skip


WAIT_STATES = {"configured": "created", "created": "created", "exited": "exited", "stopped": "exited",
               "paused": "paused", "running": "running"}  # fmt: skip


def wait(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to wait for"),
    condition: list[str] | None = typer.Option(
        None, "--condition", help="Condition to wait on: " + ", ".join(WAIT_STATES) + " (default stopped)"
    ),
    interval: str = typer.Option("250ms", "--interval", "-i", help="Time interval between polls (250ms; bare: ms)"),
    latest: bool = sel.latest_opt(),
) -> None:
    """Block until one or more containers stop (or meet --condition), then print their exit codes."""
    from podpy.errors import InvalidArgument

    svc = engine().containers
    wanted = {c.strip() for cond in condition or [] for c in cond.split(",") if c.strip()}
    for c in wanted - set(WAIT_STATES):
        raise InvalidArgument(f"unknown container state: {c}: invalid argument")
    pause = _interval(interval)
    refs = sel.select(containers, latest=latest)
    if not wanted or wanted <= {"exited", "stopped"}:
        _each(refs, svc.wait)
        return
    states = {WAIT_STATES[c] for c in wanted}

    def until(ref: str) -> int:
        while True:
            rec = svc.get(ref)
            now = "paused" if rec.state.paused else rec.state.status
            if now in states:
                return rec.state.exit_code if now == "exited" else -1  # Podman prints -1 for the others
            time.sleep(pause)

    _each(refs, until)


def _interval(text: str) -> float:
    """Podman's --interval: a Go duration (250ms, 1s) or a bare number of milliseconds."""
    if text.isdigit():
        return int(text) / 1000
    from podpy.engine.container_health import parse_duration

    return max(parse_duration(text, "--interval"), 0) / 1e9


def rename(
    container: str = typer.Argument(..., help="Container"),
    new_name: str = typer.Argument(..., help="New name"),
) -> None:
    """Rename a container."""
    engine().containers.rename(container, new_name)


def prune(
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
    filter_: list[str] | None = typer.Option(
        None, "--filter", help="Provide filter values (until=<timestamp>, label=<key>[=<value>], label!=...)"
    ),
) -> None:
    """Remove all stopped containers."""
    from podpy.cli import humanize

    if not force and sys.stdin.isatty():
        if not typer.confirm(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"
        ):
            return
    ids, size = engine().containers.prune(filter_ or [])
    if ids:
        common.out("Deleted Containers:\n" + "".join(i + "\n" for i in ids) + "\n")  # a blank line, as Docker
    common.out(f"Total reclaimed space: {humanize.size(size)}")


def exists(
    container: str = typer.Argument(..., help="Container"),
    external: bool = typer.Option(
        False, "--external", help="Check external (e.g. Buildah) containers too: podpy's store has none"
    ),
) -> None:
    """Check if a container exists (exit 0 if it does, 1 if not)."""
    from podpy.errors import NoSuchContainer

    try:
        engine().containers.resolve(container)
    except NoSuchContainer:
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    from podpy.cli import run as runmod
    from podpy.cli.appkit import SETTINGS, new_app
    from podpy.cli.container_info import container_inspect, inspect_any, logs, port

    verb_settings = {**SETTINGS, "allow_interspersed_args": False}  # `run IMG sh -c x`: -c is the command's

    def cmd(target: typer.Typer, name: str, fn: Any, hidden: bool = False) -> None:
        ctx = verb_settings if fn in (runmod.run, runmod.create, runmod.exec_) else SETTINGS
        target.command(name, context_settings=ctx, hidden=hidden)(fn)

    shared = (("run", runmod.run), ("create", runmod.create), ("start", runmod.start), ("stop", stop),
              ("kill", kill), ("restart", restart), ("rm", rm), ("wait", wait), ("attach", runmod.attach),
              ("exec", runmod.exec_), ("logs", logs), ("rename", rename), ("port", port))  # fmt: skip
    for name, fn in (*shared, ("ps", ps), ("inspect", inspect_any)):
        cmd(app, name, fn)
    group = new_app("Manage containers.")
    for name, fn in (*shared, ("ls", ps), ("list", ps), ("ps", ps), ("inspect", container_inspect),
                     ("prune", prune), ("exists", exists)):  # fmt: skip
        cmd(group, name, fn, hidden=name in ("list", "ps"))
    app.add_typer(group, name="container")
