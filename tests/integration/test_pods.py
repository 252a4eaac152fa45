"""Pods: containers sharing the infra container's network, IPC and UTS namespaces."""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.network_fixtures import ctr, leftovers, net, wait_until  # noqa: F401
from tests.integration.test_network_ports import fetch, free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

HTTPD = ("busybox", "httpd", "-f", "-p", "80", "-h", "/etc")


@pytest.fixture
def own_net(net):  # type: ignore[no-untyped-def]  # noqa: F811
    """A network of the test's own, on a random subnet: the default bridge and the first free subnets
    are shared with other stores on this host (their tests may reset them at any time)."""
    import random

    name = f"t{random.randrange(16**6):06x}"  # its bridge too: bridge names are host-wide
    net("network", "create", "--subnet", f"10.{random.randrange(150, 250)}.{random.randrange(256)}.0/24",
        "-o", f"com.docker.network.bridge.name=pb{name}", name)
    yield name
    net("network", "rm", "-f", name, check=False)


def test_two_containers_share_localhost_hostname_and_published_port(net, own_net):  # noqa: F811
    port = free_port()
    pod = net("pod", "create", "--name", "web", "--network", own_net, "-p", f"127.0.0.1:{port}:80", "--label", "app=x").stdout.strip()
    net("run", "-d", "--pod", "web", "--name", "srv", *HTTPD)
    got = net("run", "--rm", "--pod", "web", "busybox", "wget", "-qO-", "http://127.0.0.1:80/hostname")
    assert got.stdout.strip() == "web"  # the server's /etc/hostname: the pod's host name
    assert fetch(f"http://127.0.0.1:{port}/hostname").strip() == "web"
    srv = json.loads(net("inspect", "srv").stdout)[0]
    assert net("exec", "srv", "readlink", "/proc/self/ns/ipc").stdout == \
        net("run", "--rm", "--pod", "web", "busybox", "readlink", "/proc/self/ns/ipc").stdout  # fmt: skip
    rows = net("ps", "-a", "--pod", "--format", "{{.Names}} {{.Pod}} {{.PodName}}").stdout.splitlines()
    assert f"srv {pod[:12]} web" in rows and f"{pod[:12]}-infra {pod[:12]} web" in rows
    ls = net("pod", "ls", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}").stdout
    assert ls == "web Running 2\n"
    assert net("pod", "ls", "--filter", "label=app=x", "-q").stdout.strip() == pod[:12]
    assert net("pod", "ls", "--filter", "name=nomatch", "-q").stdout.strip() == ""
    doc = json.loads(net("pod", "inspect", "web").stdout)[0]
    assert doc["Id"] == pod and doc["SharedNamespaces"] == ["ipc", "net", "uts"]
    assert srv["Id"] in [c["Id"] for c in doc["Containers"]]
    assert net("pod", "exists", "web").returncode == 0
    assert net("pod", "exists", "nope", check=False).returncode == 1
    assert "httpd" in net("pod", "top", "web").stdout
    assert net("pod", "rm", "web", check=False).returncode == 125  # running: needs -f
    net("pod", "rm", "-f", "web")
    assert net("ps", "-aq").stdout == "" and net("pod", "ls", "-q").stdout == ""
    assert not (net.root / "pods" / pod).exists()


def test_pod_stop_start_together_and_new_pod(net, own_net):  # noqa: F811
    net("pod", "create", "--name", "p2", "--network", own_net)
    net("run", "-d", "--pod", "p2", "--name", "a", *HTTPD)
    net("run", "-d", "--pod", "p2", "--name", "b", "busybox", "sleep", "600")
    net("pod", "stop", "-t", "0", "p2")
    states = net("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.split("\n")
    assert all(s.endswith("exited") for s in states if s), states
    assert net("pod", "ls", "--format", "{{.Status}}").stdout == "Exited\n"
    net("pod", "start", "p2")
    assert net("pod", "ls", "--format", "{{.Status}}").stdout == "Running\n"
    got = net("exec", "b", "wget", "-qO-", "http://127.0.0.1:80/hostname")  # the restarted infra's netns
    assert got.stdout.strip() == "p2"
    net("pod", "pause", "p2")
    assert net("pod", "ls", "--format", "{{.Status}}").stdout == "Paused\n"
    net("pod", "unpause", "p2")
    net("pod", "kill", "p2")
    assert wait_until(lambda: net("pod", "ls", "--format", "{{.Status}}").stdout == "Exited\n", timeout=10)
    assert net("pod", "prune", "-f").stdout.strip() != ""
    assert net("pod", "ls", "-q").stdout == "" and net("ps", "-aq").stdout == ""


def test_pod_errors_are_one_line(net):  # noqa: F811
    net("pod", "create", "--name", "e1", "--network", "none")
    net("run", "--rm", "--pod", "new:e2", "busybox", "true")  # new: makes the pod
    assert net("pod", "exists", "e2").returncode == 0
    for args in (("pod", "rm", "nope"), ("run", "--rm", "--pod", "nope", "busybox", "true"),
                 ("run", "--rm", "--pod", "e1", "-p", "8080:80", "busybox", "true"),
                 ("pod", "create", "--name", "e1"), ("pod", "create", "--share", "pid")):
        res = net(*args, check=False)
        assert res.returncode == (1 if args[:2] == ("pod", "rm") else 125), args  # Podman 4.3: pod rm says 1
        assert res.stderr.startswith("Error: ") and len(res.stderr.splitlines()) == 1, res.stderr
    net("pod", "rm", "-f", "e1")


def test_pod_level_options_reach_every_member(net, tmp_path):  # noqa: F811
    """pod create's network flags on the infra (shared /etc/hosts, /etc/resolv.conf, its sysctls), volumes,
    security options, /dev/shm size and resource limits on each member; --infra-name, --pod-id-file,
    --label-file, -h."""
    (tmp_path / "vol").mkdir()
    (tmp_path / "vol" / "f").write_text("hi\n")
    (tmp_path / "labels").write_text("team=blue\n")
    pod = net("pod", "create", "--name", "pa", "--network", "none", "--add-host", "db:10.1.2.3", "--dns", "10.9.9.9",
              "--dns-search", "example.test", "-v", f"{tmp_path / 'vol'}:/data:ro", "--security-opt",
              "no-new-privileges", "--sysctl", "net.ipv4.ip_unprivileged_port_start=99", "--shm-size", "32m",
              "-m", "64m", "--infra-name", "pa-infra", "--pod-id-file", str(tmp_path / "id"), "-h", "pahost",
              "--label-file", str(tmp_path / "labels")).stdout.strip()  # fmt: skip
    assert (tmp_path / "id").read_text() == pod
    got = net("pod", "inspect", "pa", "--format", "{{.Labels.team}} {{.memory_limit}} {{.InfraConfig.DNSServer}}")
    assert got.stdout.strip() == "blue 67108864 [10.9.9.9]"
    assert "pa-infra" in net("ps", "-a", "--format", "{{.Names}}").stdout.split()
    out = net("run", "--rm", "--pod", "pa", "busybox", "sh", "-c",
              "cat /etc/hosts /etc/resolv.conf /data/f; grep NoNewPrivs /proc/self/status; df -k /dev/shm;"
              "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; hostname").stdout  # fmt: skip
    for want in ("10.1.2.3\tdb", "nameserver 10.9.9.9", "search example.test", "hi", "NoNewPrivs:\t1", " 32768 ",
                 "\n99\n", "pahost"):  # fmt: skip
        assert want in out, (want, out)
    net("create", "--pod", "pa", "--name", "own", "-m", "32m", "busybox", "true")
    net("create", "--pod", "pa", "--name", "inherits", "busybox", "true")
    mem = net("inspect", "own", "inherits", "--format", "{{.HostConfig.Memory}}").stdout.split()
    assert mem == ["33554432", "67108864"]  # the container's own limit wins
    assert net("pod", "create", "--name", "bad", "-m", "lots", check=False).returncode == 125
    net("pod", "rm", "-f", "pa")


def test_pod_exit_policy_replace_and_share_parent(net):  # noqa: F811
    old = net("pod", "create", "--name", "pe", "--network", "none").stdout.strip()
    new = net("pod", "create", "--name", "pe", "--replace", "--network", "none", "--exit-policy", "stop",
              "--share-parent=false", "-m", "64m").stdout.strip()  # fmt: skip
    assert new != old and net("pod", "ls", "-q", "--no-trunc").stdout.split() == [new]
    net("run", "--pod", "pe", "--name", "m", "busybox", "true")
    assert net("inspect", "m", "--format", "{{.HostConfig.Memory}}").stdout.strip() == "0"  # no --share-parent
    assert wait_until(lambda: net("pod", "ls", "--format", "{{.Status}}").stdout == "Exited\n", timeout=10)
    infra = net("pod", "inspect", "pe", "--format", "{{.InfraContainerID}}").stdout.strip()
    assert net("inspect", infra, "--format", "{{.State.Status}}").stdout.strip() == "exited"  # stopped with it
    assert net("pod", "create", "--name", "px", "--exit-policy", "never", check=False).returncode == 125
    net("pod", "rm", "-f", "pe")


def test_pod_logs_top_stats_inspect_latest_and_ns(net):  # noqa: F811
    pod = net("pod", "create", "--name", "pl", "--network", "none").stdout.strip()
    a = net("run", "-d", "--pod", "pl", "--name", "la", "busybox", "sh", "-c", "echo one; echo two; sleep 600").stdout
    net("run", "-d", "--pod", "pl", "--name", "lb", "busybox", "sh", "-c", "echo three; sleep 600")
    assert wait_until(lambda: "three" in net("pod", "logs", "pl").stdout, timeout=10)
    assert net("pod", "logs", "pl").stdout.splitlines()[0] == f"{a[:12]} one"  # several: ID prefixes
    assert net("pod", "logs", "-n", "--tail", "1", "pl").stdout == "la two\nlb three\n"
    assert net("pod", "logs", "-l", "-c", "lb").stdout == "three\n"  # one container: no prefix
    assert net("pod", "inspect", "-l", "--format", "{{.Id}} {{.ExitPolicy}}").stdout.strip() == f"{pod} continue"
    assert "memory_limit" not in net("pod", "inspect", "pl").stdout  # unset limits are left out, as Podman
    assert net("pod", "ps", "--ns", "--format", "{{.Name}} {{.Namespaces}}").stdout == "pl ipc,net,uts\n"
    assert "NAMESPACES" in net("pod", "ls", "--ns").stdout.splitlines()[0]
    top = net("pod", "top", "-l", "pid", "args").stdout.splitlines()
    assert top[0].split() == ["CONTAINER", "PID", "COMMAND"] and any("sleep 600" in row for row in top)
    names = net("pod", "stats", "-a", "--no-stream", "--format", "{{.Name}}").stdout.split()
    assert "la" in names and "lb" in names
    assert net("pod", "stats", "--no-stream", "--format", "{{.Name}}").stdout.split() == names  # default: every pod
    net("pod", "rm", "-f", "pl")


def test_pod_blkio_weight_stored_and_degraded_as_run(net):  # noqa: F811
    """pod create --blkio-weight(-device): checked as run's, shown by pod inspect; a kernel without
    block I/O weights (no BFQ) gets run's warning once, at pod create, not at each member's."""
    from podpy.engine.create_misc import blkio_weight_supported

    res = net("pod", "create", "--name", "pbw", "--network", "none", "--blkio-weight", "300")
    supported = blkio_weight_supported()
    warning = "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
    assert (warning in res.stderr) != supported, res.stderr
    assert net("pod", "inspect", "pbw", "--format", "{{.blkio_weight}}").stdout.strip() == "300"
    member = net("run", "--rm", "--pod", "pbw", "busybox", "true")
    assert "discarded" not in member.stderr
    for args, msg in ((["--blkio-weight", "5"], "must be between 10 and 1000"),
                      (["--blkio-weight-device", "/dev/null:100"], "not a block device"),
                      (["--blkio-weight-device", "nocolon"], "expected DEVICE:WEIGHT")):  # fmt: skip
        bad = net("pod", "create", "--network", "none", *args, check=False)
        assert bad.returncode == 125 and msg in bad.stderr and bad.stderr.count("\n") == 1, (args, bad.stderr)
    net("pod", "rm", "-f", "pbw")
    from tests.integration.test_run_misc_flags import _block_device

    dev = _block_device()
    if dev is not None:
        res = net("pod", "create", "--name", "pbd", "--network", "none", "--blkio-weight-device", f"{dev}:200")
        assert ("Weight-device discarded" in res.stderr) != supported, res.stderr
        doc = json.loads(net("pod", "inspect", "pbd", "--format", "json").stdout)
        doc = doc[0] if isinstance(doc, list) else doc
        assert doc["blkio_weight_device"] == [{"Path": dev, "Weight": 200}] and "blkio_weight" not in doc
        net("pod", "rm", "-f", "pbd")
