"""Network commands: network create, ls, inspect, rm, prune, exists, reload."""

from __future__ import annotations

import sys
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine

NETWORKS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}"  # Podman's columns


def _pairs(items: list[str], what: str) -> dict[str, str]:
    from podpy.volumes.options import parse_key_values

    return parse_key_values(items, what)


def create(
    name: str | None = typer.Argument(None, help="Network name (default: podpyN)"),
    driver: str = typer.Option("bridge", "--driver", "-d", help="Driver: bridge, macvlan or ipvlan (-o parent=IFACE)"),
    subnet: list[str] | None = typer.Option(None, "--subnet", help="Subnet in CIDR format"),
    gateway: list[str] | None = typer.Option(None, "--gateway", help="Gateway of the subnet"),
    ip_range: list[str] | None = typer.Option(None, "--ip-range", help="Allocate container IPs from this range"),
    internal: bool = typer.Option(False, "--internal", help="Restrict external access to the network"),
    ipv6: bool = typer.Option(False, "--ipv6", help="Enable IPv6 (dual-stack; a unique-local /64 unless --subnet gives one)"),
    label: list[str] | None = typer.Option(None, "--label", help="Set metadata (KEY=VALUE)"),
    opt: list[str] | None = typer.Option(None, "--opt", "-o", help="Driver options: mtu, com.docker.network.bridge.name; parent, mode (macvlan/ipvlan)"),
    disable_dns: bool = typer.Option(False, "--disable-dns", help="No name resolution between containers"),
    ignore: bool = typer.Option(False, "--ignore", help="Don't fail if the network already exists"),
    ipam_driver: str = typer.Option("", "--ipam-driver", help="IP Address Management driver: host-local (the only one)"),
) -> None:
    """Create a network."""
    from podpy.engine.networks import CreateRequest

    req = CreateRequest(name=name or "", driver=driver, subnets=subnet or [], gateways=gateway or [],
                        ip_ranges=ip_range or [], internal=internal, ipv6=ipv6,
                        labels=_pairs(label or [], "label"), options=_pairs(opt or [], "network option"),
                        disable_dns=disable_dns, ignore=ignore, ipam_driver=ipam_driver)  # fmt: skip
    common.out(engine().networks.create(req).id)


def _struct_json(docs: list[dict[str, Any]]) -> str:
    """Podman's records in its struct's field order (render_json sorts keys, as for Go maps)."""
    import json

    return json.dumps(docs, indent=4, ensure_ascii=False) + "\n"


def _row(r: Any) -> dict[str, Any]:
    from podpy.cli import humanize

    # Podman's fields (its ListPrintReports), then Docker's `network ls` ones (Scope, IPv6, CreatedAt)
    return {"ID": r.id[:12], "Name": r.name, "Driver": r.driver, "Labels": ",".join(f"{k}={v}" for k, v in r.labels.items()),
            "NetworkInterface": r.network_interface, "Created": r.created, "IPv6Enabled": r.ipv6_enabled,
            "Internal": r.internal, "DNSEnabled": r.dns_enabled, "Options": dict(r.options),
            "IPAMOptions": {"driver": "host-local"}, "Subnets": ",".join(s.subnet for s in r.subnets),
            "Scope": "local", "IPv6": str(r.ipv6_enabled).lower(), "CreatedAt": humanize.local_time(r.created)}  # fmt: skip


def ls(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display network IDs"),
    filter_: list[str] | None = typer.Option(
        None, "--filter", "-f", help="Filter output (name, id, driver, label, label!, until, dangling)"
    ),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate the network IDs"),
    noheading: bool = typer.Option(False, "--noheading", help="Do not print headers"),
) -> None:
    """List networks."""
    from podpy.cli import format as fmtmod

    nets = engine().networks.list(filter_ or [])
    if quiet:
        common.out("".join((r.id if no_trunc else r.id[:12]) + "\n" for r in nets))
        return
    if (format_ or "").strip() == "json":  # Podman's: the inspect objects
        common.out(_struct_json([r.to_json() for r in nets]))
        return
    rows = [{**_row(r), "ID": r.id if no_trunc else r.id[:12]} for r in nets]
    text = fmtmod.render(rows, format_, NETWORKS_TABLE, headers={"ID": "NETWORK ID"})
    table = not (format_ or "").strip() or format_.strip().startswith("table")
    common.out(text.split("\n", 1)[1] if noheading and table else text)


def inspect(
    names: list[str] = typer.Argument(..., metavar="NETWORK...", help="Networks to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
) -> None:
    """Display detailed information on one or more networks (Podman's JSON; templates also see
    Docker's fields: .IPAM.Config, .Containers, .Id, .EnableIPv6)."""
    from podpy.errors import PodpyError

    svc = engine().networks
    as_json = not format_ or format_.strip() == "json"
    docs, failed = [], None
    for n in names:
        try:
            docs.append(svc.get(n).to_json() if as_json else svc.template_view(n))
        except PodpyError as e:
            common.err(f"Error: {e}")
            failed = e
    if (docs or not failed) and as_json:
        common.out(_struct_json(docs))
    elif docs or not failed:
        common.render_one(docs, format_)
    if failed:
        raise typer.Exit(failed.exit_code)


def rm(
    names: list[str] = typer.Argument(..., metavar="NETWORK...", help="Networks to remove"),
    force: bool = typer.Option(False, "--force", "-f", help="Remove the containers using the network too"),
    time_: int | None = typer.Option(
        None, "--time", "-t", help="With -f: seconds to wait for running containers to stop before killing them"
    ),
) -> None:
    """Remove one or more networks."""
    from podpy.errors import PodpyError

    svc = engine().networks
    failed: PodpyError | None = None
    for name in names:
        try:
            common.out(svc.remove(name, force=force, timeout=time_))
        except PodpyError as e:
            common.err(f"Error: {e}")
            failed = e
    if failed:
        raise typer.Exit(failed.exit_code)


def prune(
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
    filter_: list[str] | None = typer.Option(None, "--filter", help="Filter (label, label!, until)"),
) -> None:
    """Remove all unused networks (never the default one)."""
    if not force and sys.stdin.isatty():
        if not typer.confirm("WARNING! This will remove all custom networks not used by at least one container.\n"
                             "Are you sure you want to continue?"):  # fmt: skip
            return
    deleted = engine().networks.prune(filter_ or [])
    if deleted:
        common.out("Deleted Networks:\n" + "".join(n + "\n" for n in deleted))


def exists(name: str = typer.Argument(..., metavar="NETWORK", help="Network")) -> None:
    """Check if a network exists (exit 0 if it does, 1 if not)."""
    raise typer.Exit(0 if engine().networks.exists(name) else 1)


def reload(
    names: list[str] | None = typer.Argument(
        None, metavar="NETWORK|CONTAINER...", help="Networks whose rules to restore, or containers (theirs)"
    ),
    all_: bool = typer.Option(False, "--all", "-a", help="All networks"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The networks of the latest container podpy is aware of"),
) -> None:
    """Restore the firewall rules of networks (after something flushed them)."""
    from podpy.errors import InvalidArgument
    from podpy.network.model import NoSuchNetwork

    svc = engine().networks
    if latest and (names or all_):
        raise InvalidArgument("--latest and containers or --all cannot be used together")
    refs = [engine().containers.latest()] if latest else list(names or [])
    targets: list[str] = []
    for ref in refs:  # a network, or (as Podman's arguments are) a container: its networks
        try:
            targets.append(svc.get(ref).name)
        except NoSuchNetwork:
            rec = engine().containers.get(ref)
            targets += [n for n in rec.spec.get("networks") or {} if n not in targets]
    if all_ or not refs:
        targets = [r.name for r in svc.list()]
    for name in targets:
        svc.reload(name)
        common.out(svc.get(name).id)


def connect(
    network: str = typer.Argument(..., metavar="NETWORK", help="Network"),
    container: str = typer.Argument(..., metavar="CONTAINER", help="Container"),
    alias: list[str] | None = typer.Option(None, "--alias", help="Network-scoped alias for the container"),
    ip: str | None = typer.Option(None, "--ip", help="IPv4 address on the network"),
    ip6: str | None = typer.Option(None, "--ip6", help="IPv6 address on the network"),
    mac_address: str | None = typer.Option(None, "--mac-address", help="MAC address of the container on the network"),
) -> None:
    """Connect a container to a network (live when it runs)."""
    from podpy.engine.networks.connect import connect as do

    do(engine(), network, container, alias or [], ip or "", ip6 or "", mac_address or "")


def disconnect(
    network: str = typer.Argument(..., metavar="NETWORK", help="Network"),
    container: str = typer.Argument(..., metavar="CONTAINER", help="Container"),
    force: bool = typer.Option(False, "--force", "-f", help="Accepted for Docker compatibility"),
) -> None:
    """Disconnect a container from a network (live when it runs)."""
    from podpy.engine.networks.connect import disconnect as do

    do(engine(), network, container)


def register(app: typer.Typer, new_app: Any, settings: dict[str, Any]) -> None:
    """app.py hands in its group factory and settings: this module does not import app back."""
    group = new_app("Manage networks.")
    for name, fn in (("create", create), ("ls", ls), ("list", ls), ("inspect", inspect), ("rm", rm),
                     ("remove", rm), ("prune", prune), ("exists", exists), ("reload", reload),
                     ("connect", connect), ("disconnect", disconnect)):  # fmt: skip
        group.command(name, context_settings=settings, hidden=name in ("list", "remove"))(fn)
    app.add_typer(group, name="network")
