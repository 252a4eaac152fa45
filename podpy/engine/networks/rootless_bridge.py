"""Bridge networks of a rootless container: attach.py's counterpart inside the rootless network
namespace (podpy.network.rootless_netns).

    host user ── holder (U, N: bridges, nft; pasta for outbound) ── veth ── container holder (U, own netns)
    published ports: the host's listening sockets ── portfwd (in U, N) ── container address

The container's namespaces are held by a process of its own (recorded in <runroot>/netns/<id>.pids
with its port forwarder, both ended by teardown); config.json joins U and that network namespace
through <runroot>/userns/<id> and <runroot>/netns/<id> (links made at start). Leases, hosts files
and the ports record are the root path's. The rootless namespace goes with the last lease.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from podpy.errors import PodpyError
from podpy.network import bridge, ipam, ports, rootless, rootless_netns

if TYPE_CHECKING:
    from pathlib import Path

    from podpy.engine.networks.service import NetworkService
    from podpy.network.ipam import Lease
    from podpy.network.model import NetworkRecord


def setup(svc: NetworkService, cid: str, name: str, spec: dict[str, Any], config: Path) -> None:
    """Leases, the container's namespaces, one veth per network, ports, hosts files. Undone on failure."""
    from podpy.engine.networks import attach

    wanted: dict[str, dict[str, Any]] = spec.get("networks") or {}
    records = [svc.get(n) for n in wanted]
    doc = json.loads(config.read_text())
    linux = doc.get("linux") or {}
    maps = (linux.get("uidMappings") or [], linux.get("gidMappings") or [])
    runroot = svc.layout.runroot
    try:
        with svc.store.lock():
            leases = attach._lease(svc, cid, name, records, wanted)
            ns_pid = rootless_netns.ensure(runroot, maps, rootless_netns.mode())
            rootless.hold(runroot, cid, maps, userns=f"/proc/{ns_pid}/ns/user")
            path = attach.netns_path(svc, cid)
            pairs = list(zip(records, leases, strict=True))
            rootless_netns.run_in(runroot, lambda: _attach_all(pairs, path))
            if spec.get("ports"):
                _publish(svc, cid, spec["ports"], records, leases, ns_pid)
            attach._refresh_hosts(svc)
    except BaseException:
        teardown(svc, cid, spec)
        raise


def _attach_all(pairs: list[tuple[NetworkRecord, Lease]], path: Path) -> None:
    for i, (rec, lease) in enumerate(pairs):
        bridge.attach(rec, lease, path, default_route=i == 0)


def _publish(svc: NetworkService, cid: str, wanted: list[dict[str, Any]], records: list[NetworkRecord],
             leases: list[Lease], ns_pid: int) -> None:  # fmt: skip
    from podpy.network import portfwd

    target = next((x for r, x in zip(records, leases, strict=True) if not r.internal), None)
    if target is None:
        raise PodpyError("published ports need a network that is not internal")
    bound = ports.assign(svc.layout, cid, wanted, target.ip)
    rootless.add_pid(svc.layout.runroot, cid, "forwarder", portfwd.start(bound, ns_pid))


def teardown(svc: NetworkService, cid: str, spec: dict[str, Any]) -> None:
    """The container's holder and forwarder, leases, peers' hosts entries; the rootless namespace
    when no container is left on its networks. Idempotent."""
    from podpy.engine.networks import attach

    runroot = svc.layout.runroot
    with svc.store.lock():
        rootless.stop_all(runroot, cid)  # the veths go with the container's namespace
        ports.drop(svc.layout, cid)
        for name in {*(spec.get("networks") or {}), *attach.leases_of_locked(svc, cid)}:
            attach._release(svc, cid, name, delete_link=False)
        attach._refresh_hosts(svc)
        if not any(ipam.load(svc.layout, r.name) for r in svc.store.list()):
            rootless_netns.stop(runroot)
