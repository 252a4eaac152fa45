"""Bridge networks as root: addresses, reachability, name resolution, network commands, teardown."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.integration.network_fixtures import CLEAN, ctr, leftovers, net, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

RAW = ("--cap-add", "NET_RAW")


def test_default_bridge_address_route_and_egress_rule(net):  # noqa: F811
    out = net("run", "--rm", "--network", "bridge", "busybox", "sh", "-c", "ip -4 addr show eth0; ip route").stdout
    assert re.search(r"inet 10\.88\.\d+\.\d+/16", out)  # .2 unless another store has it (host-wide claims)
    assert "default via 10.88.0.1 dev eth0" in out
    res = net("run", "--rm", "--network", "podman", *RAW, "busybox", "ping", "-c1", "-W2", "10.88.0.1")
    assert "1 packets received" in res.stdout
    assert wait_until(lambda: leftovers(net, [], []) == CLEAN)


def test_user_network_names_aliases_and_short_ids(net):  # noqa: F811
    net("network", "create", "--subnet", "10.90.7.0/24", "appnet")
    web = net("run", "-d", "--name", "web", "--network", "appnet", "--network-alias", "www",
              "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()  # fmt: skip
    script = "ping -c1 -W2 web >/dev/null && wget -qO- http://www/hostname && wget -qO- http://$0/hostname"
    out = net("run", "--rm", "--network", "appnet", *RAW, "busybox", "sh", "-c", script, web[:12]).stdout
    assert out.split() == [web[:12], web[:12]]
    doc = json.loads(net("network", "inspect", "appnet").stdout)[0]  # Podman's form
    assert doc["subnets"] == [{"subnet": "10.90.7.0/24", "gateway": "10.90.7.1"}] and doc["dns_enabled"] is True
    assert list(doc) == ["name", "id", "driver", "network_interface", "created", "subnets", "ipv6_enabled",
                         "internal", "dns_enabled", "ipam_options"]  # Podman's order  # fmt: skip
    docker = net("network", "inspect", "--format", "{{json .Containers}}|{{json .IPAM.Config}}|{{.Id}}", "appnet")
    containers, config, nid = docker.stdout.strip().split("|")  # Docker users' templates work too
    assert json.loads(containers)[web]["IPv4Address"] == "10.90.7.2/24" and nid == doc["id"]
    assert json.loads(config) == [{"Subnet": "10.90.7.0/24", "Gateway": "10.90.7.1"}]
    tmpl = "{{.Name}} {{.NetworkInterface}} {{.DNSEnabled}} {{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}"
    assert net("network", "inspect", "--format", tmpl, "appnet").stdout.split()[::2] == ["appnet", "true", "10.90.7.1"]


def test_default_network_resolves_no_names_but_reaches_by_ip(net):  # noqa: F811
    net("run", "-d", "--name", "a", "--network", "bridge", "busybox", "sleep", "60")
    ip = net("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "a").stdout.strip()  # host-wide: not always .2
    res = net("run", "--rm", "--network", "bridge", *RAW, "busybox", "sh", "-c",
              f"ping -c1 -W1 a; ping -c1 -W2 {ip} >/dev/null && echo by-ip", check=False)  # fmt: skip
    assert "bad address" in res.stderr + res.stdout and "by-ip" in res.stdout


def test_fixed_ip_mac_dns_and_hosts_flags(net):  # noqa: F811
    net("network", "create", "--subnet", "10.90.8.0/24", "fixed")
    out = net("run", "--rm", "--network", "fixed", "--ip", "10.90.8.50", "--mac-address", "92:d0:c6:0a:29:33",
              "--dns", "10.90.8.1", "--dns-search", "example.test", "--dns-option", "ndots:2",
              "--add-host", "db:10.1.2.3", "--hostname", "box", "--domainname", "example.test",
              "busybox", "sh", "-c", "ip addr show eth0; cat /etc/resolv.conf /etc/hosts; hostname; "
              "cat /proc/sys/kernel/domainname").stdout  # fmt: skip
    assert "inet 10.90.8.50/24" in out and "link/ether 92:d0:c6:0a:29:33" in out
    assert "nameserver 10.90.8.1" in out and "search example.test" in out and "options ndots:2" in out
    assert "10.1.2.3\tdb" in out and "10.90.8.50\tbox" in out
    assert out.split()[-2:] == ["box", "example.test"]
    taken = net("run", "-d", "--network", "fixed", "--ip", "10.90.8.60", "busybox", "sleep", "60").stdout.strip()
    res = net("run", "--rm", "--network", "fixed", "--ip", "10.90.8.60", "busybox", "true", check=False)
    assert res.returncode == 125 and "already allocated" in res.stderr
    net("rm", "-f", taken)


def test_network_commands(net):  # noqa: F811
    nid = net("network", "create", "--label", "team=a", "-o", "mtu=1400", "--internal", "cmdnet").stdout.strip()
    assert len(nid) == 64
    assert net("network", "exists", "cmdnet").returncode == 0
    assert net("network", "exists", "nope", check=False).returncode == 1
    rows = net("network", "ls").stdout.splitlines()
    assert rows[0].split() == ["NETWORK", "ID", "NAME", "DRIVER"]  # Podman's columns
    assert any(r.split()[:3] == [nid[:12], "cmdnet", "bridge"] for r in rows[1:])
    assert net("network", "ls", "--filter", "label=team=a", "--format", "{{.Name}}").stdout == "cmdnet\n"
    fields = "{{.Name}} {{.Internal}} {{.DNSEnabled}} {{.IPv6Enabled}} {{.Labels}} {{.Scope}}"
    assert net("network", "ls", "--filter", "name=cmdnet", "--format", fields).stdout == "cmdnet true true false team=a local\n"
    assert net("network", "ls", "--noheading", "--filter", "name=cmdnet").stdout.split() == [nid[:12], "cmdnet", "bridge"]
    listed = json.loads(net("network", "ls", "--filter", "name=cmdnet", "--format", "json").stdout)
    assert listed[0]["name"] == "cmdnet" and listed[0]["labels"] == {"team": "a"} and listed[0]["options"] == {"mtu": "1400"}
    dup = net("network", "create", "cmdnet", check=False)
    assert dup.returncode == 125 and dup.stderr.startswith("Error: ") and "already" in dup.stderr
    bad = net("network", "create", "--subnet", "10.88.1.0/24", "overlap", check=False)
    assert bad.returncode == 125 and "already used" in bad.stderr
    for driver, why in (("dhcp", "DHCP proxy"), ("none", "not supported"), ("odd", "host-local")):
        bad = net("network", "create", "--ipam-driver", driver, "ipamnet", check=False)
        assert bad.returncode == 125 and f"unsupported IPAM driver '{driver}'" in bad.stderr and why in bad.stderr
    net("network", "create", "--ipam-driver", "host-local", "ipamnet")
    assert net("network", "inspect", "--format", "{{.IPAMOptions}}", "ipamnet").stdout.strip() == "map[driver:host-local]"
    net("network", "rm", "ipamnet")
    out = net("run", "--rm", "--network", "cmdnet", "busybox", "cat", "/sys/class/net/eth0/mtu").stdout
    assert out.strip() == "1400"
    cid = net("create", "--network", "cmdnet", "busybox", "true").stdout.strip()
    busy = net("network", "rm", "cmdnet", check=False)
    assert busy.returncode == 125 and "associated containers" in busy.stderr
    net("run", "-d", "--network", "cmdnet", "busybox", "sleep", "100")  # pid 1: SIGTERM does nothing
    started = time.monotonic()
    assert net("network", "rm", "-f", "-t", "0", "cmdnet").stdout.strip() == "cmdnet"
    assert time.monotonic() - started < 8  # -t 0: killed at once, not after the 10 s default
    assert net("ps", "-aq").stdout.strip() == "" and cid
    missing = net("run", "--rm", "--network", "nosuchnet", "busybox", "true", check=False)
    assert missing.returncode == 125 and "network not found" in missing.stderr
    net("network", "create", "spare")
    assert net("network", "prune", "-f").stdout == "Deleted Networks:\nspare\n"


def test_network_none_host_and_container_modes(net):  # noqa: F811
    none = net("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net").stdout.split()
    assert none == ["lo"]
    host = net("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net").stdout.split()
    stable = lambda names: sorted(x for x in names if not x.startswith("veth"))  # noqa: E731 (others' containers come and go)
    assert stable(host) == stable(os.listdir("/sys/class/net"))
    first = net("run", "-d", "--network", "bridge", "busybox", "sleep", "60").stdout.strip()
    out = net("run", "--rm", "--network", f"container:{first}", "busybox", "ip", "-4", "addr", "show", "eth0").stdout
    assert "10.88.0.2/16" in out


@pytest.mark.parametrize("runtime", ["runc"])
def test_bridge_with_runc(net, runtime):  # noqa: F811
    out = net("--runtime", runtime, "run", "--rm", "--network", "bridge", "busybox", "ip", "-4", "addr").stdout
    assert "inet 10.88.0.2/16" in out and "127.0.0.1/8" in out


def test_kill9_of_supervisor_is_reconciled_by_rm(net):  # noqa: F811
    import signal

    cid = net("run", "-d", "--network", "bridge", "busybox", "sleep", "60").stdout.strip()
    rec = json.loads((net.root / "containers" / cid / "container.json").read_text())
    os.kill(rec["state"]["supervisor_pid"], signal.SIGKILL)
    os.kill(rec["state"]["pid"], signal.SIGKILL)
    net("rm", "-f", cid)
    assert wait_until(lambda: leftovers(net, [cid], []) == CLEAN), leftovers(net, [cid], [])


def test_kill9_of_supervisor_is_reconciled_by_ps(net):  # noqa: F811
    """The read that marks the container exited also undoes its network (no rm or start needed)."""
    import signal

    cid = net("run", "-d", "--network", "bridge", "busybox", "sleep", "60").stdout.strip()
    rec = json.loads((net.root / "containers" / cid / "container.json").read_text())
    os.kill(rec["state"]["supervisor_pid"], signal.SIGKILL)
    os.kill(rec["state"]["pid"], signal.SIGKILL)
    assert wait_until(lambda: "Exited (-1)" in net("ps", "-a").stdout)
    assert wait_until(lambda: leftovers(net, [cid], []) == CLEAN), leftovers(net, [cid], [])
    assert net("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "exited"


def test_default_network_cannot_be_removed(net):  # noqa: F811
    net("network", "ls")  # made on first use
    res = net("network", "rm", "bridge", check=False)
    assert res.returncode == 125 and res.stderr == "Error: default network podman cannot be removed\n"
