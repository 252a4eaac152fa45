"""What the container commands print: ps tables and filters, inspect JSON, the `container` group."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


@pytest.fixture
def three(ctr):  # noqa: F811
    """exited(0) 'done', exited(3) 'failed', running 'up' (labelled), created 'fresh'."""
    ctr("run", "--name", "done", "busybox", "true")
    ctr("run", "--name", "failed", "busybox", "sh", "-c", "exit 3", check=False)
    ctr("run", "-d", "--name", "up", "-l", "tier=web", "-l", "x=1", "busybox", "sleep", "100")
    ctr("create", "--name", "fresh", "busybox", "echo", "a long command line with many words")
    return ctr


def test_ps_table_like_docker(three):
    lines = three("ps").stdout.splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    assert header == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert len(lines) == 2
    assert re.match(r"[0-9a-f]{12}\s+busybox\s+\"sleep 100\"\s+.* ago\s+Up (Less than a second|\d+ seconds?)\s+up$",
                    lines[1])  # fmt: skip


def test_ps_all_statuses_and_truncation(three):
    rows = {r.split("|")[0]: r.split("|")[1:] for r in
            three("ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.Command}}|{{.State}}").stdout.splitlines()}  # fmt: skip
    assert rows["done"][0].startswith("Exited (0) ") and rows["done"][0].endswith(" ago")
    assert rows["failed"][0].startswith("Exited (3) ")
    assert rows["up"][0].startswith("Up ")
    assert rows["fresh"] == ["Created", '"echo a long command…"', "created"]
    full = three(
        "ps", "-a", "--no-trunc", "--filter", "name=fresh", "--format", "{{.ID}} {{.Command}}"
    ).stdout
    assert re.fullmatch(r'[0-9a-f]{64} "echo a long command line with many words"\n', full)


def test_ps_quiet_latest_last(three):
    ids = three("ps", "-aq").stdout.split()
    assert len(ids) == 4 and all(len(i) == 12 for i in ids)
    assert three("ps", "-l", "--format", "{{.Names}}").stdout == "fresh\n"
    assert three("ps", "-n", "2", "--format", "{{.Names}}").stdout == "fresh\nup\n"
    assert three("ps", "-q").stdout.split() == [three("inspect", "-f", "{{.Id}}", "up").stdout[:12]]


@pytest.mark.parametrize(("filt", "names"), [
    ("status=exited", {"done", "failed"}),
    ("status=created", {"fresh"}),
    ("exited=3", {"failed"}),
    ("label=tier=web", {"up"}),
    ("label=tier", {"up"}),
    ("name=fa", {"failed"}),
    ("ancestor=busybox", {"done", "failed", "up", "fresh"}),
    ("ancestor=busybox:latest", {"done", "failed", "up", "fresh"}),
    ("ancestor=nosuch", set()),
])  # fmt: skip
def test_ps_filters(three, filt, names):
    out = three("ps", "-a", "--filter", filt, "--format", "{{.Names}}").stdout.split()
    assert set(out) == names


def test_ps_filter_id_and_bad_filter(three):
    cid = three("inspect", "-f", "{{.Id}}", "done").stdout.strip()
    assert three("ps", "-a", "-f", f"id={cid[:5]}", "--format", "{{.Names}}").stdout == "done\n"
    res = three("ps", "--filter", "bogus=1", check=False)
    assert res.returncode == 125 and "bogus" in res.stderr


def test_ps_json_and_size(three):
    rows = json.loads(three("ps", "-a", "--format", "json").stdout)
    assert {r["Names"] for r in rows} == {"done", "failed", "up", "fresh"}
    sizes = three("ps", "-s", "--format", "{{.Size}}").stdout.strip()
    assert re.fullmatch(r"\S+B \(virtual \S+B\)", sizes)


def test_inspect_docker_fields(three):
    doc = json.loads(three("container", "inspect", "up").stdout)[0]
    assert re.fullmatch(r"[0-9a-f]{64}", doc["Id"])
    assert doc["Name"] == "/up"
    assert doc["Path"] == "sleep" and doc["Args"] == ["100"]
    assert doc["Image"].startswith("sha256:")
    st = doc["State"]
    assert st["Status"] == "running" and st["Running"] and st["Pid"] > 0 and st["ExitCode"] == 0
    assert set(st) >= {"Paused", "Restarting", "OOMKilled", "Dead", "Error", "StartedAt", "FinishedAt"}
    assert doc["Config"]["Image"] == "busybox" and doc["Config"]["Labels"] == {"tier": "web", "x": "1"}
    assert doc["Config"]["Cmd"] == ["sleep", "100"] and doc["Config"]["Hostname"] == doc["Id"][:12]
    assert doc["HostConfig"]["AutoRemove"] is False and doc["RestartCount"] == 0
    assert "Networks" in doc["NetworkSettings"] and doc["Mounts"] == []
    assert three("inspect", "--format", "{{.State.Status}}", "failed").stdout == "exited\n"
    assert three("inspect", "--type", "container", "-f", "{{.Name}}", "fresh").stdout == "/fresh\n"
    res = three("container", "inspect", "nosuch", check=False)
    assert res.returncode == 125 and "no such container" in res.stderr


def test_container_group_aliases(three):
    for verb in ("ls", "list", "ps"):
        assert len(three("container", verb, "-aq").stdout.split()) == 4
    assert three("container", "exists", "up").returncode == 0
    assert three("container", "exists", "nope", check=False).returncode == 1
    assert three("container", "port", "up").stdout == ""
    three("container", "rename", "fresh", "renamed")
    assert three("ps", "-a", "--filter", "name=renamed", "-q").stdout.strip()
    res = three("rename", "renamed", "up", check=False)
    assert res.returncode == 125 and "already in use" in res.stderr


def test_prune_and_rm_all(three):
    out = three("container", "prune", "-f").stdout
    assert out.startswith("Deleted Containers:\n") and "Total reclaimed space:" in out
    assert three("ps", "-a", "--format", "{{.Names}}").stdout == "up\n"
    res = three("rm", "--all", check=False)
    assert res.returncode != 0
    three("rm", "-af")
    assert three("ps", "-aq").stdout == ""


def test_unknown_container_errors(ctr):  # noqa: F811
    for args in (("stop", "nope"), ("rm", "nope"), ("logs", "nope"), ("wait", "nope"), ("start", "nope")):
        res = ctr(*args, check=False)
        assert res.returncode == (1 if args[0] == "rm" else 125), args  # Podman 4.3: rm says 1
        assert 'no container with name or ID "nope" found: no such container' in res.stderr, args
