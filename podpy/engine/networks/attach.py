"""A container's networks over its life: set up before the runtime starts, torn down after exit.

The container's network namespace is pinned at <runroot>/netns/<id>: config.json names that path
(the runtime, built-in or runc, only joins it). Everything torn down is derived from the container
ID and the leases, so `rm` and `start` after a supervisor crash undo what it left.

Name resolution on user-defined networks is an /etc/hosts kept current by rewriting every attached
container's file in place (it is bind-mounted: a rename would not be seen) whenever one joins or
leaves: no resolver process to start, supervise or leak, and ~0.1 ms per container.
"""

from __future__ import annotations

import os
from pathlib import Path

from podpy.errors import InvalidArgument, PodpyError
from podpy.network import hostipam, ipam
from podpy.network.ipam import Lease
from podpy.network.model import NetworkRecord

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.networks.service import NetworkService

MARK = "# podpy networks: the lines below are rewritten as containers join and leave"


def netns_path(svc: NetworkService, cid: str) -> Path:
    return svc.layout.runroot / "netns" / cid


def setup(svc: NetworkService, cid: str, name: str, spec: dict[str, Any]) -> None:
    """Leases, the pinned namespace, one veth per network, hosts files. Undone on failure."""
    from podpy.network import netns

    wanted: dict[str, dict[str, Any]] = spec.get("networks") or {}
    records = [svc.get(n) for n in wanted]  # the default network is made here, outside the lock
    path = netns_path(svc, cid)
    try:
        with svc.store.lock():
            leases = _lease(svc, cid, name, records, wanted)
            netns.create(path, lambda: None)
            for i, (rec, lease) in enumerate(zip(records, leases, strict=True)):
                _attach(rec, lease, path, default_route=i == 0)
            if spec.get("ports"):
                _publish(svc, cid, spec["ports"], records, leases)
            _refresh_hosts(svc)
    except BaseException:
        teardown(svc, cid, spec)
        raise


def _attach(rec: NetworkRecord, lease: Lease, path: Path, default_route: bool) -> None:
    if rec.is_bridge:
        from podpy.network import bridge

        bridge.attach(rec, lease, path, default_route)
    else:
        from podpy.network import macvlan

        macvlan.attach(rec, lease, path, default_route)


def _lease(svc: NetworkService, cid: str, name: str, records: list[NetworkRecord],
           wanted: dict[str, dict[str, Any]], first: int = 0) -> list[Lease]:  # fmt: skip
    if svc.engine.opts.rootless:  # the bridges are in the user's own rootless network namespace
        return _lease_locked(svc, cid, name, records, wanted, first)
    with hostipam.lock():  # bridges are the host's: other stores' addresses on them are taken too
        return _lease_locked(svc, cid, name, records, wanted, first, str(svc.layout.containers / cid))


def _lease_locked(svc: NetworkService, cid: str, name: str, records: list[NetworkRecord],
                  wanted: dict[str, dict[str, Any]], first: int, owner: str = "") -> list[Lease]:  # fmt: skip
    out = []
    for i, rec in enumerate(records, first):
        opts = wanted.get(rec.name) or {}
        leases = ipam.load(svc.layout, rec.name)
        leases.pop(cid, None)
        others = hostipam.taken(rec.network_interface, owner) if owner else set()
        ip, sub = ipam.pick(rec, {x.ip for x in leases.values()} | others, opts.get("ip") or "")
        if owner:
            hostipam.claim(rec.network_interface, ip, owner)
        aliases = list(opts.get("aliases") or [])
        lease = Lease(ip=ip, prefix=sub.net.prefixlen, gateway=sub.gateway, mac=opts.get("mac") or ipam.mac_for(ip),
                      ifname=f"eth{i}", veth=f"veth{cid[:9]}{i}" if rec.is_bridge else "", name=name,
                      aliases=aliases)  # fmt: skip
        if rec.v6() is not None:
            lease.ip6, sub6 = ipam.pick(rec, {x.ip6 for x in leases.values()}, opts.get("ip6") or "", version=6)
            lease.prefix6, lease.gateway6 = sub6.net.prefixlen, sub6.gateway
        elif opts.get("ip6"):
            raise InvalidArgument(f"--ip6 {opts['ip6']}: network {rec.name} has no IPv6 subnet")
        leases[cid] = lease
        ipam.save(svc.layout, rec.name, leases)
        out.append(lease)
    return out


def _publish(svc: NetworkService, cid: str, wanted: list[dict[str, Any]], records: list[NetworkRecord],
             leases: list[Lease]) -> None:  # fmt: skip
    """DNAT the host ports to the address on the first bridge network that is not internal."""
    target = next((x for r, x in zip(records, leases, strict=True) if r.is_bridge and not r.internal), None)
    if target is None:
        raise PodpyError("published ports need a bridge network that is not internal")
    from podpy.network import nft, ports

    bound = ports.assign(svc.layout, cid, wanted, target.ip, target.ip6)
    nft.add_ports(cid, bound)
    if target.ip6:
        from podpy.network import nft6

        nft6.add_ports(cid, bound)


def connect_live(svc: NetworkService, cid: str, name: str, rec: NetworkRecord, opts: dict[str, Any]) -> None:
    """Attach a running container to one more network (next free ethN), hosts files updated."""

    path = netns_path(svc, cid)
    with svc.store.lock():
        used = {int(x.ifname[3:]) for x in leases_of_locked(svc, cid).values()}
        first = next(i for i in range(len(used) + 1) if i not in used)
        lease = _lease(svc, cid, name, [rec], {rec.name: opts}, first)[0]
        try:
            if svc.engine.opts.rootless:  # the bridges are in the rootless network namespace
                from podpy.network import rootless_netns

                rootless_netns.run_in(svc.layout.runroot, lambda: _attach(rec, lease, path, default_route=False))
            else:
                _attach(rec, lease, path, default_route=False)
        except BaseException:
            _release(svc, cid, rec.name)
            raise
        _refresh_hosts(svc)


def disconnect_live(svc: NetworkService, cid: str, network: str) -> None:
    with svc.store.lock():
        _release(svc, cid, network)
        _refresh_hosts(svc)


def _release(svc: NetworkService, cid: str, network: str, delete_link: bool = True) -> None:
    from podpy.network import bridge

    leases = ipam.load(svc.layout, network)
    lease = leases.pop(cid, None)
    if lease is not None and not svc.engine.opts.rootless:
        _unclaim(svc, cid, network, lease.ip)
    if lease is not None:
        if delete_link and lease.veth and svc.engine.opts.rootless:
            from podpy.network import rootless_netns

            rootless_netns.run_if_up(svc.layout.runroot, lambda: bridge.detach(lease))
        elif delete_link and lease.veth:
            bridge.detach(lease)
        elif delete_link:  # macvlan/ipvlan: the device lives in the container's namespace
            from podpy.network import macvlan

            macvlan.detach(lease, netns_path(svc, cid))
        ipam.save(svc.layout, network, leases)


def _unclaim(svc: NetworkService, cid: str, network: str, ip: str) -> None:
    try:
        bridge_name = svc.store.find(network).network_interface
    except PodpyError:
        return
    with hostipam.lock():
        hostipam.release(bridge_name, ip, str(svc.layout.containers / cid))


def teardown(svc: NetworkService, cid: str, spec: dict[str, Any]) -> None:
    """Veths, leases, the pinned namespace, peers' hosts entries. Idempotent."""
    from podpy.network import netns, ports

    wanted = spec.get("networks") or {}
    path = netns_path(svc, cid)
    if not wanted and not path.exists():
        return
    with svc.store.lock():
        bound = ports.load(svc.layout, cid)
        if bound:
            from podpy.network import nft  # subprocess: only for published ports

            nft.remove_ports(cid, bound)
            if any(b.get("container_ip6") for b in bound):
                from podpy.network import nft6

                nft6.remove_ports(cid, bound)
        ports.drop(svc.layout, cid)
        # the veths go with the namespace (the kernel's netns cleanup, off our path: deleting each
        # one here costs ~30 ms of RCU waiting); attach replaces a host end still lingering
        for name in {*wanted, *leases_of_locked(svc, cid)}:  # also networks removed from the spec meanwhile
            _release(svc, cid, name, delete_link=False)
        netns.remove(path)
        _refresh_hosts(svc)


def leases_of(svc: NetworkService, cid: str) -> dict[str, Lease]:
    """Network name -> this container's lease (running containers only)."""
    with svc.store.lock():
        return leases_of_locked(svc, cid)


def leases_of_locked(svc: NetworkService, cid: str) -> dict[str, Lease]:
    out = {}
    for rec in svc.store.list():
        lease = ipam.load(svc.layout, rec.name).get(cid)
        if lease is not None:
            out[rec.name] = lease
    return out


def _refresh_hosts(svc: NetworkService) -> None:
    """Rewrite the network lines of every attached container's /etc/hosts (lock held)."""
    per_net = {r.name: (r, ipam.load(svc.layout, r.name)) for r in svc.store.list()}
    attached = {cid for _, leases in per_net.values() for cid in leases}
    for cid in attached:
        lines = []
        for rec, leases in per_net.values():
            own = leases.get(cid)
            if own is None:
                continue
            lines.append(f"{own.ip}\t{_hostname(svc, cid)} {own.name}")
            if own.ip6:
                lines.append(f"{own.ip6}\t{_hostname(svc, cid)} {own.name}")
            if rec.dns_enabled:
                for other, x in leases.items():
                    if other != cid:
                        names = " ".join([x.name, *x.aliases, other[:12]])
                        lines += [f"{ip}\t{names}" for ip in (x.ip, x.ip6) if ip]
        _rewrite_hosts(svc.layout.container_dir(cid) / "userdata" / "hosts", lines)


def _hostname(svc: NetworkService, cid: str) -> str:
    try:
        return (svc.layout.container_dir(cid) / "userdata" / "hostname").read_text().strip() or cid[:12]
    except OSError:
        return cid[:12]


def _rewrite_hosts(path: Path, lines: list[str]) -> None:
    try:
        kept = path.read_text().split(MARK + "\n", 1)[0]
    except FileNotFoundError:
        return
    text = kept + (MARK + "\n" + "".join(f"{x}\n" for x in lines) if lines else "")
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def for_create(engine: Any, spec: Any) -> Any:
    """The spec with network names made canonical (each must exist; the default is made on first
    use) and `container:X` turned into the path of X's network namespace."""
    from podpy.errors import ContainerState
    from podpy.record import replace

    if spec.network.startswith("container:"):
        other = engine.containers.get(spec.network.split(":", 1)[1])
        if other.spec.get("network") == "host":
            return replace(spec, network="host")
        if other.spec.get("network") == "bridge":
            return replace(spec, network=f"ns:{netns_path(engine.networks, other.id)}")
        if other.state.status != "running":
            raise ContainerState(f"container {other.id} is not running: cannot join its network namespace")
        return replace(spec, network=f"ns:/proc/{other.state.pid}/ns/net")
    if engine.opts.rootless:
        from podpy.network.rootless_netns import mode

        mode()  # pasta or slirp4netns can run: said at create, not at start
    svc = engine.networks
    return replace(spec, networks={svc.get(name).name: opts for name, opts in spec.networks.items()})
