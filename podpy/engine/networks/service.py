"""Network services: create, list, inspect, remove, prune; which containers use which network.

Lock order: a container's lock, then the networks lock (never the reverse).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from podpy.engine import events as ev
from podpy.errors import InvalidArgument, PodpyError
from podpy.network.model import (
    DEFAULT_NETWORK,
    DEFAULT_SUBNET,
    DRIVERS,
    IFACE_PREFIX,
    NetworkExists,
    NetworkInUse,
    NetworkRecord,
    NetworkStore,
    NoSuchNetwork,
    Subnet,
    new_id,
    validate_name,
)
from podpy.record import field, record
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine

LIST_FILTERS = ("name", "id", "driver", "label", "label!", "until", "dangling")


@record(lean_init=True)
class CreateRequest:
    """What `network create` asks for (its flags)."""

    name: str = ""
    driver: str = "bridge"
    subnets: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    ip_ranges: list[str] = field(default_factory=list)
    internal: bool = False
    ipv6: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    disable_dns: bool = False
    ignore: bool = False
    ipam_driver: str = ""  # --ipam-driver: only host-local (podpy's own allocator); "" means it too


IPAM_REFUSED = {
    "dhcp": "the dhcp IPAM driver needs netavark's DHCP proxy, which podpy does not have",
    "none": "networks without IP address management (--ipam-driver none) are not supported",
}


class NetworkService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.layout = engine.layout
        self.store = NetworkStore(engine.layout)

    # ---- reading
    def get(self, ref: str) -> NetworkRecord:
        try:
            return self.store.find(ref)
        except NoSuchNetwork:
            if ref in ("bridge", DEFAULT_NETWORK):
                return self.default()
            raise

    def exists(self, ref: str) -> bool:
        try:
            self.get(ref)
        except NoSuchNetwork:
            return False
        return True

    def list(self, filters: list[str] | None = None) -> list[NetworkRecord]:
        from podpy.engine.filters import match_labels, parse_filters, until_time
        from podpy.timeutil import parse_time

        f = parse_filters(filters, LIST_FILTERS)
        self.default()
        used = self.users() if "dangling" in f else {}
        until = until_time(f.get("until", []))
        out = []
        for r in self.store.list():
            if "name" in f and not any(n in r.name for n in f["name"]):
                continue
            if "id" in f and not any(r.id.startswith(i) for i in f["id"]):
                continue
            if "driver" in f and r.driver not in f["driver"]:
                continue
            if "label" in f and not match_labels(r.labels, f["label"]):
                continue
            if "label!" in f and any(match_labels(r.labels, [w]) for w in f["label!"]):
                continue
            if "dangling" in f and (r.name not in used) != (f["dangling"][-1].lower() in ("1", "true")):
                continue
            if until is not None and parse_time(r.created) >= until:
                continue
            out.append(r)
        return out

    def users(self) -> dict[str, list[str]]:
        """Network name -> IDs of the containers configured on it (running or not)."""
        out: dict[str, list[str]] = {}
        for rec in self.engine.containers.list(all_=True):
            for name in (rec.spec.get("networks") or {}):
                out.setdefault(name, []).append(rec.id)
        return out

    # ---- creating
    def default(self) -> NetworkRecord:
        """The default network, created on first use (Podman's `podman`, 10.88.0.0/16, unless the host
        routes that elsewhere: hostipam.default_subnet)."""
        try:
            return self.store.find(DEFAULT_NETWORK)
        except NoSuchNetwork:
            pass
        subnet = DEFAULT_SUBNET
        if not self.engine.opts.rootless:  # rootless bridges live in a namespace of their own
            from podpy.network.hostipam import default_subnet

            subnet = default_subnet(f"{IFACE_PREFIX}0", DEFAULT_SUBNET)
        req = CreateRequest(name=DEFAULT_NETWORK, subnets=[subnet], ignore=True)
        return self._create(req, default=True)

    def create(self, req: CreateRequest) -> NetworkRecord:
        if req.ipam_driver not in ("", "host-local"):
            why = IPAM_REFUSED.get(req.ipam_driver, "podpy allocates addresses itself (host-local)")
            raise InvalidArgument(f"unsupported IPAM driver {req.ipam_driver!r}: {why}")
        if req.name:
            validate_name(req.name)
        rec = self._create(req)
        ev.network(self, "create", rec.id, rec.name, driver=req.driver)
        return rec

    def _create(self, req: CreateRequest, default: bool = False) -> NetworkRecord:
        if req.driver not in DRIVERS:
            raise InvalidArgument(f"unsupported driver {req.driver}: invalid argument (one of {', '.join(DRIVERS)})")
        bridge = req.driver == "bridge"
        if not bridge:
            from podpy.network.macvlan import check_options

            parent = check_options(req.driver, req.options)
        with self.store.lock():
            records = self.store.list()
            name = req.name or _free_name(records)
            if self.store.exists(name):
                if req.ignore:
                    return self.store.find(name)
                raise NetworkExists(name)
            subnets = _subnets(req, records)
            mtu = req.options.get("mtu")
            if mtu is not None and not mtu.isdigit():
                raise InvalidArgument(f"invalid mtu {mtu!r}")
            if bridge:
                iface = req.options.get("com.docker.network.bridge.name") or _free_iface(records, default)
            else:
                iface = parent  # as Podman: the parent is the record's interface, not an option
            options = {k: v for k, v in req.options.items() if bridge or k != "parent"}
            rec = NetworkRecord(name=name, id=new_id(), driver=req.driver, network_interface=iface,
                                created=now_rfc3339(), subnets=subnets,
                                ipv6_enabled=any(x.net.version == 6 for x in subnets), internal=req.internal,
                                dns_enabled=bridge and not default and not req.disable_dns,
                                labels=dict(req.labels), options=options)  # fmt: skip
            self.store.save(rec)
        return rec

    # ---- removing
    def remove(self, ref: str, force: bool = False, timeout: int | None = None) -> str:
        """With `force` the containers using it go first (stopped with `timeout` seconds of grace)."""
        rec = self.get(ref)
        if rec.is_default:
            raise PodpyError(f"default network {rec.name} cannot be removed")
        users = self.users().get(rec.name, [])
        if users:
            if not force:
                raise NetworkInUse(rec.name, users)
            for cid in users:
                if timeout:
                    self.engine.containers.stop(cid, timeout)
                self.engine.containers.remove(cid, force=True)
        with self.store.lock():
            from podpy.network import bridge

            self.host_side(lambda: bridge.remove_bridge(rec))
            self.store.remove(rec.name)
        ev.network(self, "remove", rec.id, rec.name)
        return rec.name

    def prune(self, filters: list[str] | None = None) -> list[str]:
        used = self.users()
        out = []
        for r in self.list(filters):
            if r.is_default or r.name in used:
                continue
            try:
                out.append(self.remove(r.name))
            except (NetworkInUse, NoSuchNetwork):
                continue
        return out

    def reload(self, ref: str) -> None:
        """Restore a live bridge's rules and its containers' published ports (something flushed the
        ruleset, e.g. a firewall reload); idle networks have none."""
        from podpy.network import nft, nft6, ports
        from podpy.network.netlink import index_of

        rec = self.get(ref)
        sub, sub6 = rec.v4(), rec.v6()

        def rules() -> None:
            if sub is not None and rec.is_bridge and index_of(rec.network_interface):
                nft.add_network(rec.network_interface, sub.subnet, rec.internal)
                if sub6 is not None:
                    nft6.add_network(rec.network_interface, sub6.subnet, rec.internal)

        with self.store.lock():
            self.host_side(rules)
            if sub is None or not rec.is_bridge or self.engine.opts.rootless:  # rootless ports: a forwarder
                return
            if not index_of(rec.network_interface):
                return
            from podpy.network import ipam

            for cid in ipam.load(self.layout, rec.name):
                nft.add_ports(cid, ports.load(self.layout, cid))
                if sub6 is not None:
                    nft6.add_ports(cid, ports.load(self.layout, cid))

    def reset(self) -> None:
        """Remove every network's host side (bridges, rules), the default's too: `system reset`."""
        from podpy.network import bridge

        with self.store.lock():
            for r in self.store.list():
                self.host_side(lambda r=r: bridge.remove_bridge(r))  # type: ignore[misc]

    def host_side(self, fn: Callable[[], None]) -> None:
        """`fn()` where the bridges are: the host's namespace, or (rootless) the rootless network
        namespace when it runs (nothing of the networks exists otherwise)."""
        if self.engine.opts.rootless:
            from podpy.network import rootless_netns

            rootless_netns.run_if_up(self.layout.runroot, fn)
        else:
            fn()

    # ---- inspect
    def template_view(self, ref: str) -> dict[str, Any]:
        """What `network inspect --format TEMPLATE` sees: Podman's Go field names (its only form)
        and, for the templates Docker users bring ({{.IPAM.Config}}, {{.Containers}}, {{.Id}},
        {{.EnableIPv6}}), Docker's; the names they share mean the same."""
        rec = self.get(ref)
        view = self.docker_inspect(rec.name)
        view.update(
            ID=rec.id, NetworkInterface=rec.network_interface, IPv6Enabled=rec.ipv6_enabled,
            DNSEnabled=rec.dns_enabled, IPAMOptions={"driver": "host-local"},
            Subnets=[{"Subnet": s.subnet, "Gateway": s.gateway,
                      "LeaseRange": {"StartIP": s.lease_range["start_ip"], "EndIP": s.lease_range["end_ip"]}
                      if s.lease_range else None} for s in rec.subnets],
        )  # fmt: skip
        return view

    def docker_inspect(self, ref: str) -> dict[str, Any]:
        """Docker's `network inspect` object."""
        from podpy.network import ipam

        rec = self.get(ref)
        with self.store.lock():
            leases = ipam.load(self.layout, rec.name)
        config = [{"Subnet": s.subnet, "Gateway": s.gateway} for s in rec.subnets]
        return {"Name": rec.name, "Id": rec.id, "Created": rec.created, "Scope": "local", "Driver": rec.driver,
                "EnableIPv6": rec.ipv6_enabled, "IPAM": {"Driver": "default", "Options": {}, "Config": config},
                "Internal": rec.internal, "Attachable": False, "Ingress": False,
                "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
                "Containers": {cid: {"Name": x.name, "EndpointID": "", "MacAddress": x.mac,
                                     "IPv4Address": f"{x.ip}/{x.prefix}",
                                     "IPv6Address": f"{x.ip6}/{x.prefix6}" if x.ip6 else ""}
                               for cid, x in leases.items()},
                "Options": dict(rec.options), "Labels": dict(rec.labels)}  # fmt: skip


def _free_name(records: list[NetworkRecord]) -> str:
    names = {r.name for r in records}
    return next(f"{IFACE_PREFIX}{n}" for n in range(1, 10000) if f"{IFACE_PREFIX}{n}" not in names)


def _free_iface(records: list[NetworkRecord], default: bool) -> str:
    from podpy.network.netlink import index_of

    taken = {r.network_interface for r in records}
    for n in range(0 if default else 1, 10000):
        name = f"{IFACE_PREFIX}{n}"
        if name not in taken and (default or not index_of(name)):
            return name
    raise PodpyError("no free bridge interface name")


def _subnets(req: CreateRequest, records: list[NetworkRecord]) -> list[Subnet]:
    """The --subnet values (an IPv4 one allocated when none is given: podpy networks always carry
    IPv4, skipping what the host routes: other stores' bridges are the host's too), with --ipv6 a
    random unique-local /64 when no IPv6 subnet is given (Podman's way)."""
    from podpy.network import ipam  # the allocator: `inspect` of a container reads networks only

    wanted: list[tuple[str, int]] = [(x, i) for i, x in enumerate(req.subnets)]  # (subnet, index of --gateway)
    if not any(":" not in x for x in req.subnets):
        from podpy.network.hostipam import routed

        wanted.insert(0, (ipam.free_subnet(records, routed()), -1))
    if req.ipv6 and not any(":" in x for x in req.subnets):
        wanted.append((ipam.free_subnet6(records), -1))
    out = []
    for text, i in wanted:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise InvalidArgument(f"invalid subnet {text!r}") from None
        for other in ipam.used_subnets(records):
            if other.version == net.version and other.overlaps(net):
                raise InvalidArgument(f"subnet {net} is already used on the host or by another network")
        gw = req.gateways[i] if 0 <= i < len(req.gateways) else str(next(net.hosts()))
        try:
            inside = ipaddress.ip_address(gw) in net
        except ValueError:
            raise InvalidArgument(f"invalid gateway {gw!r}") from None
        if not inside:
            raise InvalidArgument(f"gateway {gw} is not in subnet {net}")
        lease_range = {}
        if 0 <= i < len(req.ip_ranges):
            rng = ipaddress.ip_network(req.ip_ranges[i], strict=False)
            if not rng.subnet_of(net):  # type: ignore[arg-type]
                raise InvalidArgument(f"ip-range {rng} is not in subnet {net}")
            lease_range = {"start_ip": str(rng.network_address + 1), "end_ip": str(rng.broadcast_address - 1)}
        out.append(Subnet(str(net), gw, lease_range))
    return out
