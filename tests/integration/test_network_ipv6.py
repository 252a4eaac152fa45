"""Dual-stack bridge networks as root: IPv6 subnets (given or a random unique-local /64), addresses,
default routes, --ip6, connect --ip6, masquerade rules, inspect fields."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess

import pytest

from tests.integration.network_fixtures import ctr, net, nft_table  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

RAW = ("--cap-add", "NET_RAW")


def test_ipv6_network_containers_reach_each_other(net):  # noqa: F811
    net("network", "create", "--subnet", "10.90.60.0/24", "--subnet", "fd00:90:60::/64", "dual")
    doc = json.loads(net("network", "inspect", "dual").stdout)[0]
    assert doc["ipv6_enabled"] is True
    assert doc["subnets"] == [{"subnet": "10.90.60.0/24", "gateway": "10.90.60.1"},
                              {"subnet": "fd00:90:60::/64", "gateway": "fd00:90:60::1"}]  # fmt: skip
    web = net("run", "-d", "--name", "web6", "--network", "dual", "--ip6", "fd00:90:60::80",
              "busybox", "httpd", "-f", "-p", "[::]:80", "-h", "/etc").stdout.strip()  # fmt: skip
    script = ("ip -6 addr show eth0; ip -6 route; ping -6 -c1 -W2 fd00:90:60::80 >/dev/null && echo ping-ok; "
              "ping -6 -c1 -W2 web6 >/dev/null && echo name-ok; wget -qO- 'http://[fd00:90:60::80]/hostname'")  # fmt: skip
    out = net("run", "--rm", "--network", "dual", *RAW, "busybox", "sh", "-c", script).stdout
    assert "inet6 fd00:90:60::2/64" in out, out
    assert "default via fd00:90:60::1 dev eth0" in out
    assert "ping-ok" in out and "name-ok" in out and out.split()[-1] == web[:12]
    assert "nat_" in nft_table() and "ip6 daddr != fd00:90:60::/64 masquerade" in nft_table()
    ins = json.loads(net("inspect", web).stdout)[0]["NetworkSettings"]
    assert ins["GlobalIPv6Address"] == "fd00:90:60::80" and ins["GlobalIPv6PrefixLen"] == 64
    assert ins["IPv6Gateway"] == "fd00:90:60::1"
    assert ins["Networks"]["dual"]["GlobalIPv6Address"] == "fd00:90:60::80"
    assert json.loads(net("network", "inspect", "--format", "{{json .Containers}}", "dual").stdout)[web][
        "IPv6Address"] == "fd00:90:60::80/64"  # fmt: skip
    assert net("network", "inspect", "--format", "{{.EnableIPv6}}", "dual").stdout == "true\n"


def test_ipv6_auto_subnet_connect_ip6_and_errors(net):  # noqa: F811
    net("network", "create", "--ipv6", "auto6")
    doc = json.loads(net("network", "inspect", "auto6").stdout)[0]
    v4, v6 = (ipaddress.ip_network(s["subnet"]) for s in doc["subnets"])
    assert v4.version == 4 and v6.version == 6 and v6.prefixlen == 64
    assert v6.subnet_of(ipaddress.ip_network("fd00::/8"))
    cid = net("run", "-d", "--network", "bridge", "busybox", "sleep", "60").stdout.strip()
    want = str(v6.network_address + 0x42)
    net("network", "connect", "--ip6", want, "auto6", cid)
    out = net("exec", cid, "ip", "-6", "addr", "show", "eth1").stdout
    assert f"inet6 {want}/64" in out
    bad = net("run", "--rm", "--network", "bridge", "--ip6", "fd00::5", "busybox", "true", check=False)
    assert bad.returncode == 125 and "no IPv6 subnet" in bad.stderr
    outside = net("run", "--rm", "--network", "auto6", "--ip6", "fd99::5", "busybox", "true", check=False)
    assert outside.returncode == 125 and "not in a subnet" in outside.stderr


def test_internal_ipv6_network_isolated_and_rules_removed(net):  # noqa: F811
    net("network", "create", "--internal", "--ipv6", "--subnet", "fd00:90:63::/64", "int6")
    out = net("run", "--rm", "--network", "int6", "busybox", "ip", "-6", "route").stdout
    assert "default via fd00:90:63::1" in out
    bridge = json.loads(net("network", "inspect", "int6").stdout)[0]["network_interface"]
    table = subprocess.run(["nft", "list", "table", "ip6", "podpy"], capture_output=True, text=True).stdout
    assert f'"{bridge}" : jump fwd_{bridge}' in table and f'oifname != "{bridge}" drop' in table
    net("network", "rm", "int6")
    assert f"fwd_{bridge}" not in nft_table()


def _host_v6() -> str:
    """A global IPv6 address of the host's own (published ports are forwarded from it), or ""."""
    import ipaddress as ipa

    with open("/proc/net/if_inet6") as f:
        for line in f:
            hexaddr, _, _, scope, _, name = line.split()
            if scope == "00" and name != "lo":
                return str(ipa.IPv6Address(int(hexaddr, 16)))
    return ""


def test_ports_published_over_ipv6(net):  # noqa: F811
    import socket

    addr = _host_v6()
    if not addr:
        pytest.skip("the host has no global IPv6 address")
    net("network", "create", "--ipv6", "--subnet", "10.90.64.0/24", "--subnet", "fd00:90:64::/64", "pub6")
    cid = net("run", "-d", "--network", "pub6", "-p", "80", "-p", f"[{addr}]::8080", "busybox", "sh", "-c",
              "httpd -p [::]:80 -h /etc; exec httpd -f -p [::]:8080 -h /etc").stdout.strip()  # fmt: skip
    lines = net("port", cid).stdout.splitlines()
    any_port = int(next(x for x in lines if x.startswith("80/tcp")).rsplit(":", 1)[1])
    own_port = int(next(x for x in lines if x.startswith("8080/tcp") and f"[{addr}]:" in x).rsplit(":", 1)[1])

    def fetch(port: int) -> str:
        for _ in range(50):
            try:
                with socket.create_connection((addr, port), timeout=2) as s:
                    s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
                    return s.makefile("rb").read().decode().split("\r\n\r\n", 1)[1].strip()
            except OSError:
                import time

                time.sleep(0.1)
        return ""

    assert fetch(any_port) == cid[:12] and fetch(own_port) == cid[:12]
    assert f"p_{cid[:12]}" in subprocess.run(["nft", "list", "table", "ip6", "podpy"], capture_output=True,
                                              text=True).stdout  # fmt: skip
    net("rm", "-f", cid)
    assert f"p_{cid[:12]}" not in nft_table()
    res = net("run", "--rm", "--network", "bridge", "-p", f"[{addr}]::80", "busybox", "true", check=False)
    assert res.returncode == 125 and "no IPv6 subnet" in res.stderr
