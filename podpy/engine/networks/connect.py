"""`network connect` / `network disconnect`: change a container's networks, live when it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.engine.networks.attach import connect_live, disconnect_live
from podpy.errors import InvalidArgument, PodpyError

if TYPE_CHECKING:
    from podpy.engine.core import Engine


def parse_mac(mac: str) -> str:
    """A MAC address as six colon- or dash-separated hex octets, lower case (Go's net.ParseMAC, 48 bits)."""
    import re

    if not re.fullmatch(r"[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}", mac):
        raise InvalidArgument(f"invalid MAC address {mac!r}")
    return mac.replace("-", ":").lower()


def connect(engine: Engine, network: str, container: str, aliases: list[str], ip: str = "", ip6: str = "",
            mac: str = "") -> None:  # fmt: skip
    """`mac` (--mac-address): the container's address on this network instead of one derived from its IP."""
    mac = parse_mac(mac) if mac else ""
    net = engine.networks.get(network)
    svc = engine.containers
    cid = svc.resolve(container)
    with svc.lock(cid):
        rec = cr.load(svc.cdir(cid))
        cr.reconcile(rec)
        if rec.spec.get("network") != "bridge":
            raise InvalidArgument(f"container {rec.name} uses network mode {rec.spec.get('network')}: "
                                  "only containers on bridge networks can be connected")  # fmt: skip
        networks = dict(rec.spec.get("networks") or {})
        if net.name in networks:
            raise PodpyError(f"container {cid} is already connected to network {net.name}")
        opts = {"aliases": list(aliases), "ip": ip, "mac": mac}
        if ip6:
            opts["ip6"] = ip6
        if rec.state.status == cr.RUNNING:
            connect_live(engine.networks, cid, rec.name, net, opts)
        networks[net.name] = opts
        rec.spec["networks"] = networks
        cr.save(svc.cdir(cid), rec)
    ev.network(engine, "connect", net.id, net.name, container_id=cid)


def disconnect(engine: Engine, network: str, container: str) -> None:
    net = engine.networks.get(network)
    svc = engine.containers
    cid = svc.resolve(container)
    with svc.lock(cid):
        rec = cr.load(svc.cdir(cid))
        cr.reconcile(rec)
        networks = dict(rec.spec.get("networks") or {})
        if net.name not in networks:
            raise PodpyError(f"container {cid} is not connected to network {net.name}")
        if rec.state.status == cr.RUNNING:
            disconnect_live(engine.networks, cid, net.name)
        del networks[net.name]
        rec.spec["networks"] = networks
        cr.save(svc.cdir(cid), rec)
    ev.network(engine, "disconnect", net.id, net.name, container_id=cid)
