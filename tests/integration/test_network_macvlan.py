"""macvlan and ipvlan networks as root: containers get a device on the parent interface.

The parent is a veth pair the test makes (this kernel may lack the dummy driver); macvlan in bridge
mode switches between its devices on the parent, so two containers reach each other."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.integration.network_fixtures import ctr, net  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

RAW = ("--cap-add", "NET_RAW")


@pytest.fixture
def parent(request):  # type: ignore[no-untyped-def]
    """A host interface to hang devices on: one end of a veth pair, both ends up; removed after."""
    name = f"pdmv{os.getpid() % 10000}"
    ip = ["ip", "link"]
    subprocess.run([*ip, "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b"], check=True)
    request.addfinalizer(lambda: subprocess.run([*ip, "del", f"{name}a"], capture_output=True))
    for end in "ab":
        subprocess.run([*ip, "set", f"{name}{end}", "up"], check=True)
    return f"{name}a"


def test_macvlan_containers_reach_each_other(net, parent):  # noqa: F811
    nid = net("network", "create", "-d", "macvlan", "-o", f"parent={parent}", "-o", "mode=bridge",
              "--subnet", "10.90.61.0/24", "mv").stdout.strip()  # fmt: skip
    doc = json.loads(net("network", "inspect", "mv").stdout)[0]
    assert doc["id"] == nid and doc["driver"] == "macvlan" and doc["network_interface"] == parent
    assert doc["options"] == {"mode": "bridge"} and doc["dns_enabled"] is False  # as Podman
    assert net("network", "ls", "--filter", "driver=macvlan", "--format", "{{.Name}} {{.Driver}}").stdout == "mv macvlan\n"
    web = net("run", "-d", "--name", "mvweb", "--network", "mv", "--ip", "10.90.61.20",
              "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()  # fmt: skip
    script = ("cat /sys/class/net/eth0/iflink; ip -4 addr show eth0; "
              "ping -c1 -W2 10.90.61.20 >/dev/null && echo ping-ok; wget -qO- http://10.90.61.20/hostname")  # fmt: skip
    out = net("run", "--rm", "--network", "mv", *RAW, "busybox", "sh", "-c", script).stdout
    with open(f"/sys/class/net/{parent}/ifindex") as f:
        assert out.split()[0] == f.read().strip()  # eth0 hangs on the parent
    assert "inet 10.90.61.2/24" in out, out
    assert "ping-ok" in out and out.split()[-1] == web[:12]
    net("network", "disconnect", "mv", web)  # live: its device on the parent goes
    assert net("exec", web, "ls", "/sys/class/net").stdout.split() == ["lo"]
    net("network", "connect", "mv", web)
    assert "inet 10.90.61.2/24" in net("exec", web, "ip", "-4", "addr", "show", "eth0").stdout
    res = net("run", "--rm", "--network", "mv", "-p", "8080:80", "busybox", "true", check=False)
    assert res.returncode == 125 and "published ports need a bridge network" in res.stderr
    assert net("ps", "-aq", "--filter", "status=created").stdout == ""  # --rm: a failed start leaves none
    assert net("network", "rm", "-f", "mv").stdout.strip() == "mv"
    assert os.path.exists(f"/sys/class/net/{parent}")  # the parent is never the network's to remove


def test_ipvlan_network_or_a_clear_error(net, parent):  # noqa: F811
    net("network", "create", "-d", "ipvlan", "-o", f"parent={parent}", "--subnet", "10.90.62.0/24", "iv")
    res = net("run", "--rm", "--network", "iv", "busybox", "ip", "-4", "addr", "show", "eth0", check=False)
    if res.returncode != 0:  # kernels built without CONFIG_IPVLAN
        assert res.returncode == 125 and res.stderr == "Error: network iv: this kernel has no ipvlan support\n"
    else:
        assert "inet 10.90.62.2/24" in res.stdout


def test_macvlan_parent_and_mode_errors(net):  # noqa: F811
    res = net("network", "create", "-d", "macvlan", "-o", "parent=nosuchif0", "mv2", check=False)
    assert res.returncode == 125 and res.stderr == "Error: parent interface nosuchif0 does not exist\n"
    res = net("network", "create", "-d", "macvlan", "mv2", check=False)
    assert res.returncode == 125 and "need a parent interface" in res.stderr
    res = net("network", "create", "-d", "macvlan", "-o", "parent=lo", "-o", "mode=bogus", "mv2", check=False)
    assert res.returncode == 125 and "unknown macvlan mode" in res.stderr
    res = net("network", "create", "-d", "overlay", "mv2", check=False)
    assert res.returncode == 125 and "unsupported driver overlay" in res.stderr
