"""Volume commands: volume create, ls, inspect, rm, prune, exists."""

from __future__ import annotations

import sys

import typer

from podpy.cli import common
from podpy.cli.common import engine


def create(
    name: str | None = typer.Argument(None, help="Volume name (default: a random 64-hex name)"),
    driver: str = typer.Option("local", "--driver", "-d", help="Volume driver (only local)"),
    label: list[str] | None = typer.Option(None, "--label", "-l", help="Set metadata (KEY=VALUE)"),
    opt: list[str] | None = typer.Option(
        None, "--opt", "-o", help="Driver options: type, device, o, uid, gid"
    ),
    ignore: bool = typer.Option(False, "--ignore", help="Don't fail if the volume already exists"),
) -> None:
    """Create a volume."""
    from podpy.volumes.options import parse_key_values

    labels = parse_key_values(label or [], "label")
    options = parse_key_values(opt or [], "volume option")
    rec = engine().volumes.create(name, driver, labels, options, ignore=ignore)
    common.out(rec.name)


def ls(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display volume names"),
    filter_: list[str] | None = typer.Option(
        None, "--filter", "-f", help="Filter output (name, label, dangling, driver, anonymous)"
    ),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    noheading: bool = typer.Option(False, "--noheading", help="Do not print headers"),
) -> None:
    """List volumes."""
    from podpy.cli.fastcmds import list_volumes

    list_volumes(quiet, filter_, format_, noheading)


def inspect(
    names: list[str] | None = typer.Argument(None, metavar="VOLUME...", help="Volumes to inspect"),
    format_: str | None = typer.Option(
        None, "--format", "-f", help="Format the output using a Go template or json"
    ),
    all_: bool = typer.Option(False, "--all", "-a", help="Inspect all volumes"),
) -> None:
    """Display detailed information on one or more volumes (JSON)."""
    from podpy.errors import InvalidArgument

    svc = engine().volumes
    targets = [v.name for v in svc.list()] if all_ else list(names or [])
    if not targets and not all_:
        raise InvalidArgument("provide one or more volume names or use --all")
    common.render_one([svc.inspect(n) for n in targets], format_)


def rm(
    names: list[str] | None = typer.Argument(None, metavar="VOLUME...", help="Volumes to remove"),
    force: bool = typer.Option(
        False, "--force", "-f", help="Remove the containers using the volume first; no error for a missing volume"
    ),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all volumes not in use"),
    time_: int | None = typer.Option(
        None, "--time", "-t", help="With -f: seconds to wait for running containers to stop before killing them"
    ),
) -> None:
    """Remove one or more volumes (one a container uses only with -f, which removes the container, as Podman)."""
    from podpy.errors import InvalidArgument, PodpyError

    svc = engine().volumes
    targets = list(names or [])
    if all_:
        used = svc.users()
        targets = [v.name for v in svc.list() if v.name not in used]
    elif not targets:
        raise InvalidArgument("provide one or more volume names or use --all")
    failed: PodpyError | None = None
    for name in targets:
        try:
            if svc.remove_with_users(name, time_) if force else svc.remove(name):
                common.out(name)
        except PodpyError as e:
            common.err(f"Error: {e}")
            failed = e
    if failed:
        raise typer.Exit(failed.exit_code)


def prune(
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
    all_: bool = typer.Option(
        False, "--all", "-a", help="Remove all unused volumes, not just anonymous ones"
    ),
    filter_: list[str] | None = typer.Option(None, "--filter", help="Filter (label, label!, until, all)"),
) -> None:
    """Remove unused volumes: anonymous ones, or every unused volume with --all."""
    from podpy.cli import humanize

    if not force and sys.stdin.isatty():
        what = "all local volumes" if all_ else "anonymous local volumes"
        if not typer.confirm(f"WARNING! This will remove {what} not used by at least one container.\n"
                             "Are you sure you want to continue?"):  # fmt: skip
            return
    report = engine().volumes.prune(filter_ or [], all_)
    if report.deleted:
        common.out("Deleted Volumes:\n" + "".join(n + "\n" for n in report.deleted) + "\n")
    common.out(f"Total reclaimed space: {humanize.size(report.size)}")


def exists(name: str = typer.Argument(..., metavar="VOLUME", help="Volume")) -> None:
    """Check if a volume exists (exit 0 if it does, 1 if not)."""
    raise typer.Exit(0 if engine().volumes.exists(name) else 1)


def register(app: typer.Typer) -> None:
    from podpy.cli.appkit import SETTINGS, new_app

    group = new_app("Manage volumes.")
    for name, fn in (("create", create), ("ls", ls), ("list", ls), ("inspect", inspect), ("rm", rm),
                     ("remove", rm), ("prune", prune), ("exists", exists)):  # fmt: skip
        group.command(name, context_settings=SETTINGS, hidden=name in ("list", "remove"))(fn)
    app.add_typer(group, name="volume")
