"""`inspect`'s NetworkSettings (Docker's shape) from a container's spec and live leases."""

from __future__ import annotations

from podpy.network import ports as portmod

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.container_record import ContainerRecord
    from podpy.engine.core import Engine


def _endpoint(nid: str, aliases: list[str], lease: Any) -> dict[str, Any]:
    return {"IPAMConfig": None, "Links": None, "Aliases": aliases or None, "NetworkID": nid,
            "EndpointID": "", "Gateway": lease.gateway if lease else "", "IPAddress": lease.ip if lease else "",
            "IPPrefixLen": lease.prefix if lease else 0, "IPv6Gateway": lease.gateway6 if lease else "",
            "GlobalIPv6Address": lease.ip6 if lease else "", "GlobalIPv6PrefixLen": lease.prefix6 if lease else 0,
            "MacAddress": lease.mac if lease else "", "DriverOpts": None}  # fmt: skip


def network_settings(engine: Engine, rec: ContainerRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0, "Ports": {}, "SandboxKey": "", "Gateway": "", "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "MacAddress": "", "Networks": {},
    }  # fmt: skip
    wanted: dict[str, dict[str, Any]] = rec.spec.get("networks") or {}
    from podpy.network.model import NoSuchNetwork

    running = rec.state.status == "running"
    doc["Ports"] = portmod.docker_ports(rec.spec.get("ports") or [], portmod.load(engine.layout, rec.id))
    if running:
        from podpy.engine.networks.attach import netns_path

        doc["SandboxKey"] = str(netns_path(engine.networks, rec.id))
    if rec.spec.get("network") != "bridge":  # pasta / slirp4netns: no leases, no networks
        return doc
    if running:  # a created or exited container has no leases: attach (~2 ms of imports) not needed
        from podpy.engine.networks.attach import leases_of

        leases = leases_of(engine.networks, rec.id)
    else:
        leases = {}
    for i, (name, opts) in enumerate(wanted.items()):
        try:
            nid = engine.networks.get(name).id
        except NoSuchNetwork:
            nid = ""
        lease = leases.get(name)
        doc["Networks"][name] = _endpoint(nid, list(opts.get("aliases") or []), lease)
        if i == 0 and lease is not None:
            doc.update(Gateway=lease.gateway, IPAddress=lease.ip, IPPrefixLen=lease.prefix, MacAddress=lease.mac,
                       IPv6Gateway=lease.gateway6, GlobalIPv6Address=lease.ip6, GlobalIPv6PrefixLen=lease.prefix6)
    return doc
