"""logs of several containers (--names, --color), port (PORT forms, -a, -l), inspect (--type, --size,
-l) and `exists` for every kind of object (issue 11)."""

from __future__ import annotations

import os

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def test_logs_of_several_containers(ctr):  # noqa: F811
    a = ctr("run", "--name", "la", "busybox", "echo", "from-a").stdout and ctr("inspect", "-f", "{{.Id}}", "la")
    ctr("run", "--name", "lb", "busybox", "sh", "-c", "echo from-b >&2")
    short = a.stdout.strip()[:12]
    res = ctr("logs", "la", "lb")
    assert res.stdout == f"{short} from-a\n"
    assert res.stderr.endswith(" from-b\n") and len(res.stderr.split()[0]) == 12
    assert ctr("logs", "--names", "la", "lb").stdout == "la from-a\n"
    assert ctr("logs", "--color", "--names", "la", "lb").stdout == "\x1b[31mla\x1b[0m from-a\n"
    assert ctr("logs", "--names", "la").stdout == "from-a\n"  # one container: no prefix, as Podman
    assert ctr("logs", "-l").stdout == "" and ctr("logs", "-l").stderr == "from-b\n"
    assert ctr("logs", "--details", "la").stdout == "from-a\n"
    ctr("run", "--name", "lc", "busybox", "sh", "-c", "echo 1; echo 2; echo 3")
    assert ctr("logs", "-n", "1", "lc").stdout == "3\n"  # Docker's -n N (--tail); Podman's -n is --names
    assert ctr("logs", "--tail", "2", "lc").stdout == "2\n3\n"
    ts = ctr("logs", "-t", "--names", "la", "lb").stdout.split()
    assert ts[0] == "la" and ts[1].startswith("20") and ts[2] == "from-a"


def test_logs_follow_several(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "fa", "busybox", "sh", "-c", "echo a1; sleep 1; echo a2")
    ctr("run", "-d", "--name", "fb", "busybox", "sh", "-c", "echo b1; sleep 1; echo b2")
    out = ctr("logs", "-f", "--names", "fa", "fb", timeout=30).stdout.splitlines()
    assert sorted(out) == ["fa a1", "fa a2", "fb b1", "fb b2"]


def test_port_forms(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--name", "pp", "-p", "127.0.0.1:18380:80", "-p", "18381:81/udp", "busybox",
              "sleep", "100").stdout.strip()  # fmt: skip
    assert ctr("port", "pp").stdout == "80/tcp -> 127.0.0.1:18380\n81/udp -> 0.0.0.0:18381\n"
    assert ctr("port", "pp", "80").stdout == "127.0.0.1:18380\n"
    assert ctr("port", "pp", "80/tcp").stdout == "127.0.0.1:18380\n"
    assert ctr("port", "pp", "81/udp").stdout == "0.0.0.0:18381\n"
    res = ctr("port", "pp", "82", check=False)
    assert res.returncode == 125 and "No public port '82/tcp'" in res.stderr
    assert ctr("port", "-a").stdout == f"{cid}\n80/tcp -> 127.0.0.1:18380\n81/udp -> 0.0.0.0:18381\n"
    assert ctr("port", "-l", "80").stdout == "127.0.0.1:18380\n"
    assert ctr("port", "-a", "pp", check=False).returncode == 125
    assert ctr("port", "pp", "80/xyz", check=False).returncode == 125


def test_inspect_type_size_latest(ctr):  # noqa: F811
    cid = ctr("create", "--name", "c1", "busybox", "true").stdout.strip()
    ctr("volume", "create", "v1")
    assert ctr("inspect", "-f", "{{.Name}}", "v1").stdout == "v1\n"
    assert ctr("inspect", "--type", "volume", "-f", "{{.Name}}", "v1").stdout == "v1\n"
    assert ctr("inspect", "--type", "container", "v1", check=False).returncode == 125
    assert ctr("inspect", "--type", "image", "-f", "{{.Id}}", "busybox").stdout.startswith("sha256:")
    assert ctr("inspect", "--type", "bogus", "v1", check=False).returncode == 125
    assert ctr("inspect", "-l", "-f", "{{.Id}}").stdout == cid + "\n"
    assert ctr("container", "inspect", "-l", "-f", "{{.Id}}").stdout == cid + "\n"
    sizes = ctr("inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "c1").stdout.split()
    assert int(sizes[1]) >= int(sizes[0]) >= 0 and int(sizes[1]) > 0
    ctr("network", "create", "infonet")
    try:
        assert ctr("inspect", "--type", "network", "-f", "{{.Name}}", "infonet").stdout == "infonet\n"
    finally:
        ctr("network", "rm", "infonet")


def test_exists_for_each_kind(ctr):  # noqa: F811
    ctr("create", "--name", "e1", "busybox", "true")
    ctr("volume", "create", "ev")
    for args in (("container", "exists", "e1"), ("image", "exists", "busybox"), ("volume", "exists", "ev"),
                 ("network", "exists", "podman")):  # fmt: skip
        assert ctr(*args, check=False).returncode == 0, args
    for args in (("container", "exists", "nope"), ("image", "exists", "nope"), ("volume", "exists", "nope"),
                 ("network", "exists", "nope"), ("pod", "exists", "nope")):  # fmt: skip
        res = ctr(*args, check=False)
        assert (res.returncode, res.stdout, res.stderr) == (1, "", ""), args
