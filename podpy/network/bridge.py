"""The bridge driver (root): a Linux bridge per network, a veth pair per attached container.

    host:       podpyN (gateway address) ── vethXXXX (hairpin on)
    container:  ethK (leased address, MAC 02:42:<ip>) with the default route via the gateway

Dual-stack networks add the IPv6 gateway on the bridge and the leased IPv6 address and default
route inside (addresses without duplicate address detection: usable at once, as netavark does).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from podpy.errors import PodpyError
from podpy.network import netns
from podpy.network.ipam import Lease
from podpy.network.model import NetworkRecord
from podpy.network.netlink import Netlink, index_of


def ensure_bridge(rec: NetworkRecord) -> int:
    """The network's bridge, made (with its gateway address and rules) when missing; its index."""
    idx = index_of(rec.network_interface)
    if idx:
        return idx
    sub = rec.v4()
    if sub is None:
        raise PodpyError(f"network {rec.name} has no IPv4 subnet")
    nl = Netlink.open()
    try:
        try:
            nl.add_bridge(rec.network_interface, rec.mtu)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise PodpyError(f"creating bridge {rec.network_interface}: {e.strerror}") from None
        idx = index_of(rec.network_interface)
        for s in (sub, rec.v6()):
            if s is None:
                continue
            try:
                nl.add_address(idx, s.gateway, s.net.prefixlen)
            except OSError as e:
                if e.errno != errno.EEXIST:
                    raise PodpyError(f"addressing bridge {rec.network_interface}: {e.strerror}") from None
        nl.set_up(idx)
    finally:
        nl.close()
    from podpy.network import nft, nft6  # nft's subprocess/shutil: only when a bridge is made or removed

    sub6 = rec.v6()
    try:
        if not rec.internal:
            _write("/proc/sys/net/ipv4/ip_forward", "1")
            # published ports reach containers from the host's 127.0.0.1 (output DNAT)
            _write(f"/proc/sys/net/ipv4/conf/{rec.network_interface}/route_localnet", "1")
            if sub6 is not None:
                _write("/proc/sys/net/ipv6/conf/all/forwarding", "1")
        nft.add_network(rec.network_interface, sub.subnet, rec.internal)
        if sub6 is not None:
            nft6.add_network(rec.network_interface, sub6.subnet, rec.internal)
    except BaseException:
        remove_bridge(rec)  # no bridge without its rules: the next container retries the whole
        raise
    return idx


def remove_bridge(rec: NetworkRecord) -> None:
    if not rec.is_bridge:  # macvlan/ipvlan: network_interface is the parent, never ours to delete
        return
    from podpy.network import nft, nft6

    sub, sub6 = rec.v4(), rec.v6()
    nl = Netlink.open()
    try:
        nl.delete_link(rec.network_interface)
    finally:
        nl.close()
    if sub is not None:
        nft.remove_network(rec.network_interface, sub.subnet)
    if sub6 is not None:
        nft6.remove_network(rec.network_interface, sub6.subnet)


def attach(rec: NetworkRecord, lease: Lease, ns_path: Path, default_route: bool) -> None:
    """The veth pair for `lease`, configured on both sides."""
    master = ensure_bridge(rec)
    fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
    nl = Netlink.open()
    try:
        try:
            nl.add_veth(lease.veth, lease.ifname, fd, master, rec.mtu, lease.mac)
        except FileExistsError:  # the last run's, its namespace still being cleaned up
            nl.delete_link(lease.veth)
            nl.add_veth(lease.veth, lease.ifname, fd, master, rec.mtu, lease.mac)
    except OSError as e:
        raise PodpyError(f"creating veth {lease.veth} on {rec.network_interface}: {e.strerror}") from None
    finally:
        nl.close()
        os.close(fd)
    _write(f"/sys/class/net/{lease.veth}/brport/hairpin_mode", "1")
    configure_inside(lease, ns_path, default_route)


def configure_inside(lease: Lease, ns_path: Path, default_route: bool) -> None:
    """Addresses, link up and default routes of the container's interface `lease.ifname`."""

    def inside() -> None:
        cnl = Netlink.open()
        try:
            idx = index_of(lease.ifname)
            cnl.add_address(idx, lease.ip, lease.prefix)
            if lease.ip6:
                cnl.add_address(idx, lease.ip6, lease.prefix6)
            cnl.set_up(idx)
            if default_route:
                cnl.add_default_route(lease.gateway)
                if lease.ip6:
                    cnl.add_default_route(lease.gateway6)
        except OSError as e:
            raise PodpyError(f"configuring {lease.ifname} in the container: {e.strerror}") from None
        finally:
            cnl.close()

    netns.run_in(ns_path, inside)


def detach(lease: Lease) -> None:
    """Remove the host end (its peer goes with it), synchronously, so the name is free again."""
    nl = Netlink.open()
    try:
        nl.delete_link(lease.veth)
    finally:
        nl.close()


def _write(path: str, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        raise PodpyError(f"writing {path}: {e.strerror}") from None
