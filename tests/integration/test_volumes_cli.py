"""`podpy volume ...`: create, ls, inspect, rm, prune, exists, filters and formats."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from podpy.state import atomic_write_json
from tests.conftest import Podpy
from tests.integration.containers_fixtures import ctr  # noqa: F401


def _fake_user(podpy: Podpy, volumes: list[str] | None = None, source: str | None = None) -> str:
    """A container record that uses volumes (only the keys the volume code reads)."""
    cid = "ab" * 32
    doc: dict = {"id": cid, "name": "user", "volumes": volumes or []}
    if source:
        doc["spec"] = {"mounts": [{"destination": "/d", "type": "bind", "source": source, "options": []}]}
    atomic_write_json(podpy.root / "containers" / cid / "container.json", doc)
    return cid


def test_create_inspect_and_ls(podpy: Podpy) -> None:
    assert podpy("volume", "create", "--label", "app=web", "--label", "tier", "data").stdout == "data\n"
    anon = podpy("volume", "create").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", anon)
    [doc] = json.loads(podpy("volume", "inspect", "data").stdout)
    assert list(doc) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]
    assert doc["Driver"] == "local" and doc["Scope"] == "local" and doc["Name"] == "data"
    assert doc["Labels"] == {"app": "web", "tier": ""} and doc["Options"] == {}
    assert doc["Mountpoint"] == str(podpy.root / "volumes" / "data" / "_data")
    assert Path(doc["Mountpoint"]).is_dir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["CreatedAt"])
    lines = podpy("volume", "ls").stdout.splitlines()
    assert lines[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert re.match(r"local\s+", lines[1]) and sorted(x.split()[1] for x in lines[1:]) == sorted(
        [anon, "data"]
    )
    assert sorted(podpy("volume", "list", "-q").stdout.split()) == sorted([anon, "data"])


def test_inspect_format_and_many(podpy: Podpy) -> None:
    podpy("volume", "create", "a1")
    podpy("volume", "create", "a2", "-o", "type=tmpfs", "-o", "o=size=1m")
    res = podpy("volume", "inspect", "--format", "{{.Name}} {{.Driver}} {{.Options.type}}", "a1", "a2")
    assert res.stdout == "a1 local <no value>\na2 local tmpfs\n"
    assert [d["Name"] for d in json.loads(podpy("volume", "inspect", "--all").stdout)] == ["a1", "a2"]
    assert json.loads(podpy("volume", "inspect", "a2").stdout)[0]["Options"] == {
        "type": "tmpfs", "o": "size=1m", "device": "tmpfs"}  # fmt: skip


def test_ls_format_and_filters(podpy: Podpy) -> None:
    podpy("volume", "create", "--label", "env=prod", "web-data")
    podpy("volume", "create", "--label", "env=dev", "db-data")
    podpy("volume", "create", "cache")
    ls = lambda *a: podpy("volume", "ls", "--format", "{{.Name}}", *a).stdout.split()  # noqa: E731
    assert ls() == ["cache", "db-data", "web-data"]
    assert ls("--filter", "name=data") == ["db-data", "web-data"]
    assert ls("--filter", "label=env") == ["db-data", "web-data"]
    assert ls("--filter", "label=env=prod") == ["web-data"]
    assert ls("--filter", "driver=local", "--filter", "name=cache") == ["cache"]
    assert ls("--filter", "dangling=true") == ["cache", "db-data", "web-data"]
    _fake_user(podpy, ["cache"])
    assert ls("--filter", "dangling=true") == ["db-data", "web-data"]
    assert ls("--filter", "dangling=false") == ["cache"]
    rows = json.loads(podpy("volume", "ls", "--format", "json", "--filter", "name=web").stdout)
    assert rows[0]["Name"] == "web-data" and rows[0]["Labels"] == "env=prod" and rows[0]["Driver"] == "local"
    table = podpy("volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}").stdout.splitlines()
    assert table[0].split() == ["VOLUME", "NAME", "LABELS"]
    bad = podpy("volume", "ls", "--filter", "colour=red", check=False)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: invalid filter 'colour'")


def test_create_errors(podpy: Podpy) -> None:
    podpy("volume", "create", "dup")
    res = podpy("volume", "create", "dup", check=False)
    assert (res.returncode, res.stderr) == (
        125,
        "Error: volume with name dup already exists: volume already exists\n",
    )
    assert podpy("volume", "create", "--ignore", "dup").stdout == "dup\n"
    for args, msg in ((["bad/name"], "includes invalid characters for a local volume name"),
                      (["-d", "nfs", "x1"], "volume driver 'nfs' is not supported"),
                      (["-o", "size=1g", "x2"], "invalid option key 'size'"),
                      (["-o", "type=ext4", "x3"], 'missing required option: "device"')):  # fmt: skip
        res = podpy("volume", "create", *args, check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and msg in res.stderr, res.stderr
        assert len(res.stderr.splitlines()) == 1
    assert podpy("volume", "ls", "-q").stdout == "dup\n"


def test_rm_missing_in_use_and_force(podpy: Podpy) -> None:
    podpy("volume", "create", "keep")
    podpy("volume", "create", "byspec")
    res = podpy("volume", "rm", "nope", check=False)
    assert (res.returncode, res.stderr) == (125, 'Error: no volume with name "nope" found: no such volume\n')
    assert podpy("volume", "rm", "-f", "nope").stdout == ""
    cid = _fake_user(podpy, ["keep"], source=str(podpy.root / "volumes" / "byspec" / "_data"))
    for name in ("keep", "byspec"):
        for force in ([], ["-t", "1"]):  # -f (below) would remove the container, as Podman does
            res = podpy("volume", "rm", *force, name, check=False)
            assert res.returncode == 125
            assert res.stderr == f"Error: volume {name} is being used by the following container(s): {cid[:12]}: " \
                                 "volume is being used\n"  # fmt: skip
    assert podpy("volume", "exists", "keep").returncode == 0
    (podpy.root / "containers" / cid / "container.json").unlink()
    assert podpy("volume", "remove", "keep", "byspec").stdout == "keep\nbyspec\n"
    assert podpy("volume", "exists", "keep", check=False).returncode == 1
    assert not (podpy.root / "volumes" / "keep").exists()
    assert [p.name for p in (podpy.root / "volumes").iterdir()] == []  # no trash left


def test_rm_continues_after_an_error(podpy: Podpy) -> None:
    podpy("volume", "create", "v1")
    res = podpy("volume", "rm", "missing", "v1", check=False)
    assert res.returncode == 125 and res.stdout == "v1\n" and "missing" in res.stderr


def test_rm_all_skips_used(podpy: Podpy) -> None:
    for n in ("u1", "u2", "u3"):
        podpy("volume", "create", n)
    _fake_user(podpy, ["u2"])
    assert podpy("volume", "rm", "--all").stdout == "u1\nu3\n"
    assert podpy("volume", "ls", "-q").stdout == "u2\n"


def test_prune_anonymous_by_default_all_with_flag(podpy: Podpy) -> None:
    podpy("volume", "create", "named")
    podpy("volume", "create", "inuse")
    data = podpy.root / "volumes" / "named" / "_data"
    (data / "f").write_bytes(b"x" * 1500)
    _fake_user(podpy, ["inuse"])
    # an anonymous volume, as `run -v /path` makes them (the label is what Docker uses)
    from podpy.config import Options
    from podpy.engine import Engine

    eng = Engine(Options(root=podpy.root, runroot=podpy.runroot))
    anon = eng.volumes.create(anonymous=True).name
    assert eng.volumes.get(anon).labels == {"com.docker.volume.anonymous": ""}
    res = podpy("volume", "prune", "-f")
    assert res.stdout == f"Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n"
    assert podpy("volume", "prune", "-f").stdout == "Total reclaimed space: 0B\n"
    res = podpy("volume", "prune", "-f", "--all")
    assert res.stdout == "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 1.5kB\n"
    assert podpy("volume", "ls", "-q").stdout == "inuse\n"


def test_prune_filters(podpy: Podpy) -> None:
    podpy("volume", "create", "--label", "keep=yes", "k")
    podpy("volume", "create", "--label", "tmp", "t")
    podpy("volume", "create", "plain")
    assert podpy("volume", "prune", "-f", "-a", "--filter", "label=tmp").stdout.splitlines()[:2] == [
        "Deleted Volumes:", "t"]  # fmt: skip
    assert podpy("volume", "prune", "-f", "--filter", "all=true", "--filter", "label!=keep").stdout.splitlines()[
        :2] == ["Deleted Volumes:", "plain"]  # fmt: skip
    assert (
        podpy("volume", "prune", "-f", "-a", "--filter", "until=1h").stdout == "Total reclaimed space: 0B\n"
    )
    assert podpy("volume", "ls", "-q").stdout == "k\n"
    res = podpy("volume", "prune", "-f", "--filter", "until=whenever", check=False)
    assert res.returncode == 125 and "invalid until filter" in res.stderr


def test_exists_and_help(podpy: Podpy) -> None:
    assert podpy("volume", "exists", "x", check=False).returncode == 1
    podpy("volume", "create", "x")
    assert podpy("volume", "exists", "x").returncode == 0
    help_text = podpy("volume", "--help").stdout
    for cmd in ("create", "ls", "inspect", "rm", "prune", "exists"):
        assert cmd in help_text
    res = podpy("volume", "inspect", "nope", check=False)
    assert (res.returncode, res.stderr) == (125, 'Error: no volume with name "nope" found: no such volume\n')


@pytest.mark.skipif(os.geteuid() != 0, reason="runs containers as root")
def test_rm_force_removes_the_users_first(ctr) -> None:  # noqa: F811
    ctr("volume", "create", "busy")
    ctr("run", "-d", "--name", "up", "-v", "busy:/d", "busybox", "sleep", "100")  # pid 1 ignores SIGTERM
    ctr("create", "--name", "idle", "-v", "busy:/d", "busybox", "true")
    assert ctr("volume", "rm", "busy", check=False).returncode == 125
    started = time.monotonic()
    assert ctr("volume", "rm", "-f", "--time", "0", "busy").stdout == "busy\n"
    assert time.monotonic() - started < 8  # killed at once, not after the 10 s default
    assert ctr("ps", "-aq").stdout == "" and ctr("volume", "ls", "-q").stdout == ""
