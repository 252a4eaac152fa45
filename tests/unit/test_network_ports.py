"""-p/--expose parsing and Docker's port output: pure functions."""

from __future__ import annotations

import pytest

from podpy.engine.container_config import publish_specs
from podpy.errors import InvalidArgument
from podpy.network.ports import docker_ports, parse_expose, parse_publish, port_lines


def one(host_ip: str, host: int, ctr: int, proto: str = "tcp") -> dict:
    return {"host_ip": host_ip, "host_port": host, "container_port": ctr, "protocol": proto}


@pytest.mark.parametrize(("item", "want"), [
    ("80", [one("", 0, 80)]),
    ("8080:80", [one("", 8080, 80)]),
    ("127.0.0.1:8080:80/udp", [one("127.0.0.1", 8080, 80, "udp")]),
    ("127.0.0.1::80", [one("127.0.0.1", 0, 80)]),
    ("8000-8001:80-81", [one("", 8000, 80), one("", 8001, 81)]),
])  # fmt: skip
def test_parse_publish(item: str, want: list[dict]) -> None:
    assert parse_publish(item) == want


@pytest.mark.parametrize("item", ["0", "70000", "80/icmp", "1-2:3", "x:80", "300.1.1.1:80:80", "9-8:80"])
def test_parse_publish_rejects(item: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_publish(item)


def test_expose_and_publish_all() -> None:
    assert parse_expose("8000-8002/udp") == ["8000/udp", "8001/udp", "8002/udp"]
    specs = publish_specs({"publish": ["8080:80"], "publish_all": True, "expose": ["81"]},
                          {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}})  # fmt: skip
    assert specs == [one("", 8080, 80), one("", 0, 53, "udp"), one("", 0, 81)]
    assert publish_specs({}, {"ExposedPorts": {"80/tcp": {}}}) == []


def test_docker_output() -> None:
    live = [{**one("", 32768, 80), "container_ip": "10.88.0.2"}, {**one("127.0.0.1", 5353, 53, "udp")}]
    assert port_lines(live) == ["80/tcp -> 0.0.0.0:32768", "53/udp -> 127.0.0.1:5353"]
    assert port_lines(live, "53/udp") == ["127.0.0.1:5353"]
    assert port_lines(live, "53") == []
    assert docker_ports([], live)["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "32768"}]
