"""IPv6 IPAM, dual-stack records, Podman's inspect form, the macvlan netlink request: pure functions."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from podpy.engine.container_config import network_mode
from podpy.errors import InvalidArgument, PodpyError
from podpy.network import ipam
from podpy.network.ipam import Lease
from podpy.network.model import NetworkRecord, Subnet


def dual() -> NetworkRecord:
    return NetworkRecord(name="d", id="y" * 64, network_interface="podpy9",
                         subnets=[Subnet("10.90.0.0/24", "10.90.0.1"), Subnet("fd00:1:2:3::/64", "fd00:1:2:3::1")],
                         ipv6_enabled=True)  # fmt: skip


def test_pick_ipv6_lowest_free_and_requested() -> None:
    r = dual()
    assert ipam.pick(r, set(), version=6) == ("fd00:1:2:3::2", r.subnets[1])
    assert ipam.pick(r, {"fd00:1:2:3::2"}, version=6)[0] == "fd00:1:2:3::3"
    assert ipam.pick(r, set(), "fd00:1:2:3:0::0042", version=6)[0] == "fd00:1:2:3::42"  # compressed
    with pytest.raises(InvalidArgument, match="not in a subnet"):
        ipam.pick(r, set(), "fd00:9::5", version=6)
    with pytest.raises(InvalidArgument, match="invalid IPv6 address"):
        ipam.pick(r, set(), "10.90.0.5", version=6)
    with pytest.raises(PodpyError, match="already allocated"):
        ipam.pick(r, {"fd00:1:2:3::9"}, "fd00:1:2:3::9", version=6)
    v4only = NetworkRecord(name="v", id="z" * 64, subnets=[Subnet("10.90.1.0/24", "10.90.1.1")])
    with pytest.raises(PodpyError, match="no IPv6 subnet"):
        ipam.pick(v4only, set(), version=6)


def test_free_subnet6_is_a_unique_local_64_not_overlapping() -> None:
    seen = set()
    for _ in range(20):
        net = ipaddress.ip_network(ipam.free_subnet6([dual()]))
        assert net.prefixlen == 64 and net.subnet_of(ipaddress.ip_network("fd00::/8"))
        assert not net.overlaps(ipaddress.ip_network("fd00:1:2:3::/64"))
        seen.add(net)
    assert len(seen) > 1  # random, as Podman's


def test_record_podman_form_and_round_trip() -> None:
    r = dual()
    doc = r.to_json()
    assert list(doc) == ["name", "id", "driver", "network_interface", "created", "subnets", "ipv6_enabled",
                         "internal", "dns_enabled", "ipam_options"]  # Podman leaves out empty labels/options
    assert NetworkRecord.from_json(doc) == r and r.v6() is r.subnets[1]
    r.labels, r.options = {"a": "b"}, {"mtu": "1400"}
    assert NetworkRecord.from_json(r.to_json()) == r


def test_old_leases_read_without_ipv6_fields() -> None:
    lease = Lease.from_json({"ip": "10.90.0.2", "prefix": 24, "gateway": "10.90.0.1", "mac": "02:42:0a:5a:00:02",
                             "ifname": "eth0", "veth": "vethx0", "name": "c"})  # fmt: skip
    assert lease.ip6 == "" and lease.prefix6 == 0


def test_ip6_flag_goes_to_the_first_network_only() -> None:
    _, nets = network_mode(["a"], {"ip6": "fd00::5"})
    assert nets["a"]["ip6"] == "fd00::5"
    with pytest.raises(InvalidArgument):
        network_mode(["a", "b"], {"ip6": "fd00::5"})
    with pytest.raises(InvalidArgument):
        network_mode(["none"], {"ip6": "fd00::5"})


def test_macvlan_request_carries_parent_netns_and_mode() -> None:
    from podpy.network import netlink

    sent: list[bytes] = []

    class Fake(netlink.Netlink):
        def request(self, kind: int, body: bytes, flags: int = 0) -> None:
            sent.append(body)

    Fake(sock=None).add_vlan_child("macvlan", "eth0", 7, 9, "bridge")  # type: ignore[arg-type]
    body = sent[0]
    assert struct.pack("HHI", 8, netlink.IFLA_LINK, 7) in body
    assert struct.pack("HHI", 8, netlink.IFLA_NET_NS_FD, 9) in body
    assert b"macvlan\0" in body and struct.pack("HHI", 8, netlink.IFLA_MACVLAN_MODE, 4) in body


def test_publish_on_ipv6_host_addresses() -> None:
    from podpy.network import ports

    assert ports.parse_publish("[fd00:0::2]:8080:80")[0]["host_ip"] == "fd00::2"
    with pytest.raises(InvalidArgument, match="IPv6 loopback cannot be forwarded"):
        ports.parse_publish("[::1]:8080:80")
    with pytest.raises(InvalidArgument, match="invalid host IP"):
        ports.parse_publish("300.1.1.1:8080:80")
    live = [{"host_ip": "fd00::2", "host_port": 8080, "container_port": 80, "protocol": "tcp"}]
    assert ports.ps_text(live) == "[fd00::2]:8080->80/tcp" and ports.port_lines(live) == ["80/tcp -> [fd00::2]:8080"]
