"""Published ports (nft DNAT), connect/disconnect of running containers, inspect's NetworkSettings."""

from __future__ import annotations

import json
import os
import socket
import urllib.request

import pytest

from tests.integration.network_fixtures import ctr, leftovers, net, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

HTTPD = ("busybox", "httpd", "-f", "-p", "80", "-h", "/etc")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str:
    def ok() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (a local test URL)
                ok.body = r.read().decode()  # type: ignore[attr-defined]
                return True
        except OSError:
            return False

    assert wait_until(ok, timeout=10), url
    return ok.body  # type: ignore[attr-defined]


def test_publish_to_host_loopback_and_port_command(net):  # noqa: F811
    port = free_port()
    cid = net("run", "-d", "-p", f"127.0.0.1:{port}:80", *HTTPD).stdout.strip()
    assert fetch(f"http://127.0.0.1:{port}/hostname").strip() == cid[:12]
    assert net("port", cid).stdout == f"80/tcp -> 127.0.0.1:{port}\n"
    assert net("port", cid, "80/tcp").stdout == f"127.0.0.1:{port}\n"
    missing = net("port", cid, "81", check=False)
    assert missing.returncode != 0 and "No public port '81/tcp'" in missing.stderr
    doc = json.loads(net("inspect", cid).stdout)[0]
    assert doc["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert doc["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert doc["NetworkSettings"]["IPAddress"] == "10.88.0.2"
    assert doc["NetworkSettings"]["Networks"]["podman"]["Gateway"] == "10.88.0.1"
    assert doc["HostConfig"]["NetworkMode"] == "bridge"
    assert net("ps", "--format", "{{.Ports}}").stdout == f"127.0.0.1:{port}->80/tcp\n"


def test_port_conflict_is_a_clear_error_and_leaves_nothing(net):  # noqa: F811
    port = free_port()
    net("run", "-d", "-p", f"{port}:80", *HTTPD)
    res = net("run", "--rm", "-p", f"{port}:80", *HTTPD, check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ") and "already" in res.stderr
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        res = net("run", "--rm", "-p", f"127.0.0.1:{taken}:80", *HTTPD, check=False)
    assert res.returncode == 125 and "address already in use" in res.stderr
    assert len(leftovers(net, [], [])["netns"]) == 1  # only the first container's


def test_publish_all_maps_every_exposed_port(net, busybox_tar):  # noqa: F811
    net("import", "--change", 'CMD ["/bin/sh"]', "--change", "EXPOSE 80", "--change", "EXPOSE 8125/udp",
        str(busybox_tar), "exposing:latest")  # fmt: skip
    cid = net("run", "-d", "-P", "--expose", "81", "exposing", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    lines = net("port", cid).stdout.splitlines()
    assert sorted(x.split(" -> ")[0] for x in lines) == ["80/tcp", "81/tcp", "8125/udp"]
    http = next(x for x in lines if x.startswith("80/tcp")).rsplit(":", 1)[1]
    assert fetch(f"http://127.0.0.1:{http}/hostname").strip() == cid[:12]


def test_reach_a_neighbours_published_port_through_the_host(net):  # noqa: F811
    port = free_port()
    cid = net("run", "-d", "-p", f"{port}:80", *HTTPD).stdout.strip()
    out = net("run", "--rm", "--network", "bridge", "busybox", "sh", "-c",
              f"for i in 1 2 3 4 5; do wget -qO- http://10.88.0.1:{port}/hostname && break; sleep 1; done").stdout
    assert out.strip() == cid[:12]


def test_connect_and_disconnect_a_running_container(net):  # noqa: F811
    net("network", "create", "--subnet", "10.90.9.0/24", "side")
    net("run", "-d", "--name", "srv", "--network", "side", *HTTPD)
    cli = net("run", "-d", "--name", "cli", "--network", "bridge", "busybox", "sleep", "120").stdout.strip()
    probe = ("exec", "cli", "sh", "-c", "wget -qO- http://srv/hostname")
    assert net(*probe, check=False).returncode != 0
    net("network", "connect", "--alias", "client", "side", "cli")
    assert net(*probe).stdout.strip()
    doc = json.loads(net("inspect", cli).stdout)[0]["NetworkSettings"]["Networks"]
    assert sorted(doc) == ["podman", "side"] and doc["side"]["IPAddress"] == "10.90.9.3"
    assert "client" in net("exec", "srv", "cat", "/etc/hosts").stdout
    net("network", "disconnect", "side", "cli")
    assert net(*probe, check=False).returncode != 0
    assert "cli" not in net("exec", "srv", "cat", "/etc/hosts").stdout
    bad = net("network", "connect", "--mac-address", "nope", "side", "cli", check=False)
    assert bad.returncode == 125 and "invalid MAC address 'nope'" in bad.stderr
    net("network", "connect", "--mac-address", "92:D0:C6:0A:29:33", "side", "cli")
    addrs = net("exec", "cli", "cat", "/sys/class/net/eth0/address", "/sys/class/net/eth1/address").stdout.split()
    assert "92:d0:c6:0a:29:33" in addrs
    doc = json.loads(net("inspect", cli).stdout)[0]["NetworkSettings"]["Networks"]
    assert doc["side"]["MacAddress"] == "92:d0:c6:0a:29:33"


def test_reload_restores_flushed_rules(net):  # noqa: F811
    import subprocess

    port = free_port()
    net("run", "-d", "-p", f"127.0.0.1:{port}:80", *HTTPD)
    fetch(f"http://127.0.0.1:{port}/hostname")
    subprocess.run(["nft", "delete", "table", "ip", "podpy"], check=True)
    net("network", "reload", "--all")
    assert fetch(f"http://127.0.0.1:{port}/hostname").strip()
    for how in (["--latest"], ["-l"]):  # the latest container's networks (Podman's arguments are containers)
        subprocess.run(["nft", "delete", "table", "ip", "podpy"], check=True)
        net("network", "reload", *how)
        assert fetch(f"http://127.0.0.1:{port}/hostname").strip()


def test_internal_network_does_not_forward_out(net):  # noqa: F811
    net("network", "create", "--internal", "--subnet", "10.90.10.0/24", "sealed")
    net("run", "-d", "--name", "outside", "--network", "bridge", "busybox", "sleep", "60")
    ping = ("--cap-add", "NET_RAW", "busybox", "ping", "-c1", "-W2")
    assert net("run", "--rm", "--network", "bridge", *ping, "10.88.0.2").returncode == 0
    res = net("run", "--rm", "--network", "sealed", *ping, "10.88.0.2", check=False)
    assert res.returncode != 0 and "0 packets received" in res.stdout
