"""Container commands: ps, stop, kill, restart, rm, wait, logs, rename, port, inspect, prune,
and the `container` group with Docker's aliases (run, create, start, attach, exec live in run.py)."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.appkit import for_each as _each
from podpy.cli.common import engine
from podpy.cli.ps_rows import (  # command_text, status_text: imported from here by others
    PS_TABLE,
    PS_TABLE_SIZE,
    _image_size,
    command_text,  # noqa: F401
    ps_row,
    status_text,  # noqa: F401
)


def ps(
    all_: bool = typer.Option(False, "--all", "-a", help="Show all containers (default shows just running)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display container IDs"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Show the latest created container"),
    last: int = typer.Option(-1, "--last", "-n", help="Show n last created containers (includes all states)"),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file sizes"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output"),
    filter_: list[str] | None = typer.Option(
        None,
        "--filter",
        "-f",
        help="Filter output (id, name, label, status, ancestor, exited, before, since, health)",
    ),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    pod: bool = typer.Option(False, "--pod", "-p", help="Show the pod (POD ID and PODNAME) of each container"),
) -> None:
    """List containers."""
    recs = engine().containers.ps(all_ or latest or last >= 0, filter_ or [])
    if latest:
        recs = recs[:1]
    elif last >= 0:
        recs = recs[:last]
    if quiet:
        common.out("\n".join(r.id if no_trunc else r.short_id for r in recs))
        return
    now = time.time()
    created_at = bool(format_) and ("CreatedAt" in format_ or "json" in format_)  # costly: only when shown
    rows = [ps_row(r, no_trunc, size, now, created_at) for r in recs]
    table = PS_TABLE_SIZE if size else PS_TABLE
    if pod:  # the pods code is only imported when asked for
        from podpy.engine.container_views import pod_columns

        pod_columns(engine(), recs, rows, no_trunc)
        table += "\t{{.Pod}}\t{{.PodName}}"
    common.render(rows, format_, table, headers={"ID": "CONTAINER ID", "RunningFor": "CREATED",
                                                 "Pod": "POD ID", "PodName": "PODNAME"})  # fmt: skip




def stop(
    containers: list[str] = typer.Argument(..., metavar="CONTAINER...", help="Containers to stop"),
    time_: int | None = typer.Option(
        None, "--time", "-t", help="Seconds to wait before killing the container"
    ),
) -> None:
    """Stop one or more running containers (stop signal, then SIGKILL after the timeout)."""
    svc = engine().containers
    _each(containers, lambda ref: (svc.stop(ref, time_), ref)[1])


def kill(
    containers: list[str] = typer.Argument(..., metavar="CONTAINER...", help="Containers to kill"),
    signal_: str = typer.Option("KILL", "--signal", "-s", help="Signal to send to the container"),
) -> None:
    """Kill one or more running containers with a signal."""
    svc = engine().containers
    _each(containers, lambda ref: (svc.kill(ref, signal_), ref)[1])


def restart(
    containers: list[str] = typer.Argument(..., metavar="CONTAINER...", help="Containers to restart"),
    time_: int | None = typer.Option(
        None, "--time", "-t", help="Seconds to wait before killing the container"
    ),
) -> None:
    """Restart one or more containers."""
    svc = engine().containers

    def one(ref: str) -> str:
        svc.stop(ref, time_)
        _rec, launch = svc.start(ref, None)
        if launch is not None:
            launch.close()
        return ref

    _each(containers, one)


def rm(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to remove"),
    force: bool = typer.Option(False, "--force", "-f", help="Force removal of running containers"),
    volumes: bool = typer.Option(False, "--volumes", "-v", help="Remove anonymous volumes of the container"),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all containers"),
) -> None:
    """Remove one or more containers."""
    from podpy.errors import InvalidArgument

    svc = engine().containers
    refs = list(containers or [])
    if all_:
        refs = [r.id for r in svc.list(all_=True)]
    elif not refs:
        raise InvalidArgument("must specify at least one container name or ID (or --all)")
    _each(refs, lambda ref: (svc.remove(ref, force, volumes), ref)[1])


def wait(
    containers: list[str] = typer.Argument(..., metavar="CONTAINER...", help="Containers to wait for"),
) -> None:
    """Block until one or more containers stop, then print their exit codes."""
    svc = engine().containers
    _each(containers, svc.wait)


def logs(
    container: str = typer.Argument(..., help="Container"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output"),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps"),
    tail: str | None = typer.Option(
        None, "--tail", "-n", help='Number of lines to show from the end ("all")'
    ),
    since: str | None = typer.Option(
        None, "--since", help="Show logs since a timestamp or relative time (10m)"
    ),
    until: str | None = typer.Option(None, "--until", help="Show logs before a timestamp or relative time"),
) -> None:
    """Fetch the logs of a container (stdout and stderr kept apart)."""
    from podpy.engine.container_logs import LogOptions
    from podpy.engine.container_logs import logs as read_logs
    from podpy.errors import InvalidArgument

    if tail not in (None, "all") and not tail.lstrip("-").isdigit():
        raise InvalidArgument(f"invalid --tail {tail!r}: a number or all")
    opts = LogOptions(follow, None if tail in (None, "all") else int(tail), since, until)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for ts, stream, data in read_logs(engine().containers, container, opts):
        target = out if stream == b"stdout" else err
        target.write(ts + b" " + data if timestamps else data)
        if follow:
            target.flush()


def rename(
    container: str = typer.Argument(..., help="Container"),
    new_name: str = typer.Argument(..., help="New name"),
) -> None:
    """Rename a container."""
    engine().containers.rename(container, new_name)


def port(
    container: str = typer.Argument(..., help="Container"),
    private_port: str | None = typer.Argument(None, metavar="[PRIVATE_PORT[/PROTO]]", help="Only this port"),
) -> None:
    """List port mappings or a specific mapping for the container."""
    lines = engine().containers.port(container, private_port or "")
    if private_port and not lines:
        from podpy.errors import PodpyError

        raise PodpyError(f"No public port '{private_port if '/' in private_port else private_port + '/tcp'}' "
                         "published for " + container)  # fmt: skip
    if lines:
        common.out("\n".join(lines))


def container_inspect(
    names: list[str] = typer.Argument(..., metavar="CONTAINER...", help="Containers to inspect"),
    format_: str | None = typer.Option(
        None, "--format", "-f", help="Format the output using a Go template or json"
    ),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file sizes"),
) -> None:
    """Display the configuration of one or more containers (JSON)."""
    from podpy.storage.fsutil import disk_usage

    svc = engine().containers
    docs = [svc.inspect(n) for n in names]
    if size:  # Docker's SizeRw / SizeRootFs
        for doc in docs:
            rw = disk_usage(svc.cdir(doc["Id"]) / "rw")
            doc["SizeRw"], doc["SizeRootFs"] = rw, rw + _image_size(svc.get(doc["Id"]))
    common.render_one(docs, format_)


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


def exists(container: str = typer.Argument(..., help="Container")) -> None:
    """Check if a container exists (exit 0 if it does, 1 if not)."""
    from podpy.errors import NoSuchContainer

    try:
        engine().containers.resolve(container)
    except NoSuchContainer:
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    from podpy.cli import run as runmod
    from podpy.cli.appkit import SETTINGS, new_app

    verb_settings = {**SETTINGS, "allow_interspersed_args": False}  # `run IMG sh -c x`: -c is the command's

    def cmd(target: typer.Typer, name: str, fn: Any, hidden: bool = False) -> None:
        ctx = verb_settings if fn in (runmod.run, runmod.create, runmod.exec_) else SETTINGS
        target.command(name, context_settings=ctx, hidden=hidden)(fn)

    shared = (("run", runmod.run), ("create", runmod.create), ("start", runmod.start), ("stop", stop),
              ("kill", kill), ("restart", restart), ("rm", rm), ("wait", wait), ("attach", runmod.attach),
              ("exec", runmod.exec_), ("logs", logs), ("rename", rename), ("port", port))  # fmt: skip
    for name, fn in (*shared, ("ps", ps)):
        cmd(app, name, fn)
    group = new_app("Manage containers.")
    for name, fn in (*shared, ("ls", ps), ("list", ps), ("ps", ps), ("inspect", container_inspect),
                     ("prune", prune), ("exists", exists)):  # fmt: skip
        cmd(group, name, fn, hidden=name in ("list", "ps"))
    app.add_typer(group, name="container")
