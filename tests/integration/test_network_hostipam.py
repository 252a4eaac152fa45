"""Host-wide IPAM (root): bridges, routes and the nft table are the host's while leases are per
store, so two stores must not hand out the same address on the shared default bridge, nor pick
for a new network a subnet another store's bridge already routes."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Podpy, _cleanup_store
from tests.integration.network_fixtures import ctr, net, remove_networks  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


@pytest.fixture
def other(tmp_path: Path, busybox_tar: Path) -> Iterator[Podpy]:
    """A second store on the same host, busybox imported; its networks removed afterwards."""
    p = Podpy(tmp_path / "root2", tmp_path / "run2")
    p("import", "--change", 'CMD ["/bin/sh"]', str(busybox_tar), "busybox:latest")
    yield p
    subprocess.run(p.argv("rm", "-af"), capture_output=True, timeout=120)
    remove_networks(p)
    _cleanup_store(p)


def _ip(p: Podpy, cid: str, network: str = "podman") -> str:
    return str(json.loads(p("inspect", cid).stdout)[0]["NetworkSettings"]["Networks"][network]["IPAddress"])


def test_two_stores_on_the_default_bridge_get_distinct_addresses(net, other: Podpy) -> None:  # noqa: F811
    a = net(
        "run", "-d", "--network", "bridge", "--cap-add", "NET_RAW", "busybox", "sleep", "60"
    ).stdout.strip()
    b = other("run", "-d", "--network", "bridge", "busybox", "sleep", "60").stdout.strip()
    ip_a, ip_b = _ip(net, a), _ip(other, b)
    assert ip_a != ip_b
    claims = Path("/run/podpy/hostipam/podpy0")
    assert {ip_a, ip_b} <= set(os.listdir(claims))
    res = net("exec", a, "ping", "-c1", "-W2", ip_b, check=False)
    assert "1 packets received" in res.stdout, res.stdout + res.stderr
    res = other("run", "--rm", "--network", "bridge", "--ip", ip_a, "busybox", "true", check=False)
    assert res.returncode == 125 and "already allocated" in res.stderr
    net("rm", "-f", a)
    other("rm", "-f", b)
    left = os.listdir(claims) if claims.exists() else []  # the directory goes with its last claim
    assert ip_a not in left and ip_b not in left


def test_new_network_subnet_skips_what_the_host_routes(net, other: Podpy) -> None:  # noqa: F811
    net("network", "create", "first")
    net("run", "-d", "--network", "first", "busybox", "sleep", "60")  # its bridge is up: routed
    first = json.loads(net("network", "inspect", "first").stdout)[0]["subnets"][0]["subnet"]
    other("network", "create", "second")
    second = json.loads(other("network", "inspect", "second").stdout)[0]["subnets"][0]["subnet"]
    assert first != second
    out = other(
        "run", "--rm", "--network", "second", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"
    ).stdout
    assert second.rsplit(".", 1)[0] in out
