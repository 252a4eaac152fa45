"""The macvlan and ipvlan drivers (root): each container gets a device on the host interface named
by the network's `parent` option, created straight inside its namespace.

    host:       parent (e.g. eth0) ── no podpy device, no bridge, no nft rules
    container:  ethK = macvlan/ipvlan child of the parent, leased address, default route via the gateway

Containers on the same parent reach each other (macvlan mode bridge, the default; ipvlan l2) and
the parent's network; the host itself does not reach them through the parent (a kernel property of
both drivers). The devices go with the namespace, so teardown has nothing to do here.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from podpy.errors import InvalidArgument, PodpyError
from podpy.network import netns
from podpy.network.bridge import configure_inside
from podpy.network.ipam import Lease
from podpy.network.model import IPVLAN_MODES, MACVLAN_MODES, NetworkRecord
from podpy.network.netlink import Netlink, index_of


def check_options(driver: str, options: dict[str, str]) -> str:
    """The parent interface of a new network (it must exist now); the mode option checked."""
    parent = options.get("parent") or ""
    if not parent:
        raise InvalidArgument(f"{driver} networks need a parent interface: -o parent=IFACE")
    if not index_of(parent):
        raise InvalidArgument(f"parent interface {parent} does not exist")
    modes = MACVLAN_MODES if driver == "macvlan" else IPVLAN_MODES
    mode = options.get("mode")
    if mode is not None and mode not in modes:
        raise InvalidArgument(f"unknown {driver} mode {mode!r} (one of {', '.join(modes)})")
    return parent


def attach(rec: NetworkRecord, lease: Lease, ns_path: Path, default_route: bool) -> None:
    parent = rec.network_interface
    parent_idx = index_of(parent)
    if not parent_idx:
        raise PodpyError(f"network {rec.name}: parent interface {parent} does not exist")
    mode = rec.options.get("mode") or ("bridge" if rec.driver == "macvlan" else "l2")
    fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
    nl = Netlink.open()
    try:
        nl.add_vlan_child(rec.driver, lease.ifname, parent_idx, fd, mode, rec.mtu, lease.mac)
    except OSError as e:
        if e.errno == errno.EOPNOTSUPP:
            raise PodpyError(f"network {rec.name}: this kernel has no {rec.driver} support") from None
        raise PodpyError(f"creating {rec.driver} device on {parent}: {e.strerror}") from None
    finally:
        nl.close()
        os.close(fd)
    configure_inside(lease, ns_path, default_route)


def detach(lease: Lease, ns_path: Path) -> None:
    """`network disconnect` of a running container: its device on the parent goes."""

    def inside() -> None:
        nl = Netlink.open()
        try:
            nl.delete_link(lease.ifname)
        finally:
            nl.close()

    if ns_path.exists():
        netns.run_in(ns_path, inside)
