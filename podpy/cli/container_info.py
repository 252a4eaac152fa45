"""logs, port and container inspect: reading what a container did and how it is wired."""

from __future__ import annotations

import typer

from podpy.cli import common
from podpy.cli.common import engine


def logs(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output"),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps"),
    tail: str | None = typer.Option(None, "--tail", help="Number of lines to show from the end (\"all\"; Docker's -n N too)"),
    since: str | None = typer.Option(None, "--since", help="Show logs since a timestamp or relative time (10m)"),
    until: str | None = typer.Option(None, "--until", help="Show logs before a timestamp or relative time"),
    names: bool = typer.Option(False, "--names", "-n", help="Prefix lines with the container name (several containers)"),
    color: bool = typer.Option(False, "--color", help="A color per container for the prefixes"),
    details: bool = typer.Option(False, "--details", help="Show extra details provided to logs (Docker; none here)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """Fetch the logs of one or more containers (stdout and stderr kept apart); with several, each
    line starts with the container's short ID (or its name with --names)."""
    from podpy.cli.logs_out import show_logs

    show_logs(containers, follow=follow, timestamps=timestamps, tail=tail, since=since, until=until, names=names,
              color=color, latest=latest)  # fmt: skip
    del details  # Docker's attributes from --log-opt labels/env: podpy records none


def port(
    container: str | None = typer.Argument(None, help="Container"),
    private_port: str | None = typer.Argument(None, metavar="[PRIVATE_PORT[/PROTO]]", help="Only this port"),
    all_: bool = typer.Option(False, "--all", "-a", help="Port mappings of every running container"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """List port mappings or a specific mapping for the container."""
    from podpy.errors import InvalidArgument, PodpyError

    svc = engine().containers
    if all_:
        if container or latest:
            raise InvalidArgument("the --all option cannot be used with a container name or --latest")
        for rec in svc.list(all_=False):
            lines = svc.port(rec.id)
            if lines:
                common.out(rec.id + "\n" + "\n".join(lines))
        return
    if latest:
        if private_port is not None:
            raise InvalidArgument("--latest takes at most one argument: the port")
        container, private_port = svc.latest(), container
    if container is None:
        raise InvalidArgument("specify a container name or ID, --latest or --all")
    if private_port is not None:
        num, _, proto = private_port.partition("/")
        if not num.isdigit() or proto not in ("", "tcp", "udp", "sctp"):
            raise InvalidArgument(f"invalid port {private_port!r}: expected PORT[/PROTO] (tcp, udp or sctp)")
    lines = svc.port(container, private_port or "")
    if private_port and not lines:
        raise PodpyError(f"No public port '{private_port if '/' in private_port else private_port + '/tcp'}' "
                         "published for " + container)  # fmt: skip
    if lines:
        common.out("\n".join(lines))


def container_inspect(
    names: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file sizes"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """Display the configuration of one or more containers (JSON)."""
    from podpy.cli.fastcmds import inspect_containers

    inspect_containers(names, format_, size, latest)


def inspect_any(
    names: list[str] | None = typer.Argument(None, metavar="NAME...", help="Containers, images, volumes, networks, pods"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
    type_: str = typer.Option("all", "--type", "-t", help="Object type: container, image, volume, network, pod or all"),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file size (containers)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """Display the configuration of containers, images, volumes, networks or pods (JSON)."""
    from podpy.cli.fastcmds import inspect_objects

    inspect_objects(names, format_, type_, size, latest)
