"""Network model, IPAM and the --network flag parsing: pure functions."""

from __future__ import annotations

import pytest

from podpy.engine.container_config import network_mode, parse_add_host, resolv_conf
from podpy.errors import InvalidArgument, PodpyError
from podpy.network import ipam
from podpy.network.model import NetworkRecord, Subnet, validate_name
from podpy.network.netlink import attr, nested


def rec(subnet: str = "10.90.0.0/24", gateway: str = "10.90.0.1", **rng: str) -> NetworkRecord:
    return NetworkRecord(name="n", id="x" * 64, network_interface="podpy9", subnets=[Subnet(subnet, gateway, rng)])


def test_pick_lowest_free_skips_gateway_and_taken() -> None:
    assert ipam.pick(rec(), set())[0] == "10.90.0.2"
    assert ipam.pick(rec(), {"10.90.0.2", "10.90.0.3"})[0] == "10.90.0.4"
    assert ipam.pick(rec(gateway="10.90.0.2"), set())[0] == "10.90.0.1"


def test_pick_requested_address_and_range() -> None:
    assert ipam.pick(rec(), set(), "10.90.0.77")[0] == "10.90.0.77"
    with pytest.raises(InvalidArgument, match="not in a subnet"):
        ipam.pick(rec(), set(), "10.91.0.5")
    with pytest.raises(PodpyError, match="already allocated"):
        ipam.pick(rec(), {"10.90.0.9"}, "10.90.0.9")
    assert ipam.pick(rec(start_ip="10.90.0.129", end_ip="10.90.0.254"), set())[0] == "10.90.0.129"


def test_pool_exhausted() -> None:
    with pytest.raises(PodpyError, match="failed to find free IP"):
        ipam.pick(rec("10.90.0.0/30"), {"10.90.0.2"})


def test_free_subnet_avoids_used_ones() -> None:
    assert ipam.free_subnet([rec("10.89.0.0/24"), rec("10.89.1.0/24")]) == "10.89.2.0/24"
    assert ipam.mac_for("10.88.0.2") == "02:42:0a:58:00:02"


def test_record_round_trip() -> None:
    r = rec(start_ip="10.90.0.10", end_ip="10.90.0.20")
    assert NetworkRecord.from_json(r.to_json()) == r


@pytest.mark.parametrize("name", ["host", "none", "bad/name", "-x"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_name(name)


def test_network_mode_parsing() -> None:
    assert network_mode([], {}) == ("private", {})
    assert network_mode(["none"], {}) == ("none", {})
    mode, nets = network_mode(["bridge", "app"], {"network_alias": ["w"]})
    assert mode == "bridge" and list(nets) == ["podman", "app"] and nets["app"]["aliases"] == ["w"]
    assert network_mode(["app"], {"ip": "10.1.0.5"})[1]["app"]["ip"] == "10.1.0.5"
    for bad, flags in ((["host", "app"], {}), (["a", "b"], {"ip": "10.0.0.2"}), (["none"], {"ip": "1.2.3.4"}),
                       (["none", "host"], {})):  # fmt: skip
        with pytest.raises(InvalidArgument):
            network_mode(bad, flags)


def test_add_host_and_resolv_conf() -> None:
    assert parse_add_host("db:10.0.0.1") == ("db", "10.0.0.1")
    assert parse_add_host("v6=::1") == ("v6", "::1")
    with pytest.raises(InvalidArgument):
        parse_add_host("nohost")
    text = resolv_conf("bridge", ("10.0.0.53",), ("a.test",), ("ndots:1",))
    assert "nameserver 10.0.0.53\n" in text and "search a.test\n" in text and "options ndots:1\n" in text


def test_netlink_attributes_are_padded_and_nested() -> None:
    assert attr(3, b"eth0\0") == b"\x09\x00\x03\x00eth0\x00\x00\x00\x00"
    assert nested(18, attr(1, b"veth")) == b"\x0c\x00\x12\x80" + attr(1, b"veth")
