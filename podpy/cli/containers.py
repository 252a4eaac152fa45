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

PS_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
PS_TABLE_SIZE = PS_TABLE + "\t{{.Size}}"


def status_text(rec: Any, now: float | None = None) -> str:
    """Docker's STATUS column: Created, Up 10 seconds, Exited (0) 4 minutes ago."""
    from podpy.cli import humanize
    from podpy.timeutil import parse_time

    now = time.time() if now is None else now
    st = rec.state
    if st.status == "running":
        up = "Up " + humanize.duration(now - parse_time(st.started_at))
        return up + " (Paused)" if getattr(st, "paused", False) else up + _health_suffix(rec)
    if st.status == "restarting":
        return f"Restarting ({st.exit_code}) {humanize.duration(now - parse_time(st.finished_at))} ago"
    if st.status == "exited":
        return f"Exited ({st.exit_code}) {humanize.duration(now - parse_time(st.finished_at))} ago"
    if st.status == "removing":
        return "Removal In Progress"
    return st.status.capitalize()


def _health_suffix(rec: Any) -> str:
    """Docker: (health: starting), (healthy), (unhealthy); nothing without a health check."""
    if not getattr(rec, "healthcheck", None):
        return ""
    from podpy.engine.container_health import NONE, STARTING, status_of

    status = status_of(engine().containers, rec)
    return "" if status == NONE else " (health: starting)" if status == STARTING else f" ({status})"


def command_text(args: list[str], trunc: bool) -> str:
    """Quoted like Docker, truncated to 20 characters with an ellipsis unless --no-trunc."""
    import json

    cmd = " ".join(args)
    if trunc and len(cmd) > 20:
        cmd = cmd[:19] + "…"
    return json.dumps(cmd, ensure_ascii=False)


def ps_row(rec: Any, no_trunc: bool, size: bool, now: float, created_at: bool = True) -> dict[str, Any]:
    from podpy.cli import humanize
    from podpy.storage.fsutil import disk_usage

    labels = rec.spec.get("labels") or {}
    status = status_text(rec, now)
    row = {
        "ID": rec.id if no_trunc else rec.short_id,
        "Image": rec.image_name,
        "Command": command_text(rec.args, not no_trunc),
        "CreatedAt": humanize.local_time(rec.created) if created_at else "",
        "RunningFor": humanize.ago(rec.created),
        "Ports": _ports(rec),
        "Status": status,
        "State": "paused" if "(Paused)" in status else rec.state.status,
        "Names": rec.name,
        "Labels": ",".join(f"{k}={v}" for k, v in labels.items()),
        "Mounts": "",
        "Networks": "",
        "Size": "",
    }
    if size:
        rw = disk_usage(engine().containers.cdir(rec.id) / "rw")
        row["Size"] = f"{humanize.size(rw)} (virtual {humanize.size(rw + _image_size(rec))})"
    return row


def _ports(rec: Any) -> str:
    """Published ports of a running container (its live bindings: random host ports resolved)."""
    if not rec.spec.get("ports") or rec.state.status != "running":
        return ""
    from podpy.network.ports import load, ps_text

    return ps_text(load(engine().layout, rec.id))


def _image_size(rec: Any) -> int:
    from podpy.errors import PodpyError

    try:
        return engine().images.get(rec.image).size if rec.image else 0
    except PodpyError:
        return 0


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
