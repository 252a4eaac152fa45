"""Resource commands as an ordinary user on this cgroup v1 host (hybrid: its v2 tree has no
controllers and belongs to root). As Podman: limits warn and are ignored, commit warns instead of
pausing, stats reads what /proc gives and says what it cannot, pause is refused in one line."""

from __future__ import annotations

import json

import pytest

from podpy.engine.specgen import is_cgroup_v2
from tests.rootless.conftest import Rootless

pytestmark = pytest.mark.skipif(is_cgroup_v2(), reason="the fallbacks are those of a cgroup v1 host")
IGNORED = "Resource limits are not supported and ignored on cgroups V1 rootless systems"


@pytest.mark.parametrize("flags", [("-m", "64m"), ("--cpus", "0.5"), ("--pids-limit", "10")])
def test_limits_warn_and_are_ignored_on_cgroup_v1(rl: Rootless, flags: tuple[str, ...]) -> None:
    res = rl("run", "--rm", *flags, "busybox", "echo", "ran")
    assert res.stdout == "ran\n"
    assert [line for line in res.stderr.splitlines() if IGNORED in line] == [f"WARNING: {IGNORED}"], res.stderr
    assert "Error" not in res.stderr
    res = rl("create", *flags, "busybox", "true")
    assert IGNORED in res.stderr
    cid = res.stdout.strip()
    rl("start", cid)
    rl("rm", "-f", cid)


def test_pause_refused_stats_reads_procs(rl: Rootless) -> None:
    cid = rl("run", "-d", "busybox", "sleep", "60").stdout.strip()
    res = rl("pause", cid, check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ") and "cgroup" in res.stderr, res
    assert len(res.stderr.strip().splitlines()) == 1
    res = rl("stats", "--no-stream", "--format", "json", cid)
    row = json.loads(res.stdout)[0]
    assert row["PIDs"] == "1"
    assert row["MemUsage"] != "--" and not row["MemUsage"].startswith("0B"), row  # PSS/RSS of sleep
    assert "has no cgroup" in res.stderr and "summed over its processes" in res.stderr, res.stderr
    table = rl("stats", "--no-stream", cid).stdout.splitlines()
    assert table[0].startswith("CONTAINER ID") and table[1].startswith(cid[:12])
    rl("rm", "-f", cid)


def test_top_shows_container_users(rl: Rootless) -> None:
    cid = rl("run", "-d", "busybox", "sleep", "60").stdout.strip()
    rows = [line.split() for line in rl("top", cid).stdout.splitlines()]
    assert rows[0][0] == "USER" and rows[1][0] == "root" and rows[1][1] == "1", rows  # not the host uid
    rows = [line.split() for line in rl("top", cid, "user", "huser", "group", "hgroup").stdout.splitlines()]
    assert rows[1] == ["root", str(rl.user.uid), "root", str(rl.user.gid)], rows
    if rl.user.kind == "subuid":  # uid 33 inside is a subordinate id outside
        cid2 = rl("run", "-d", "--user", "33:33", "busybox", "sleep", "60").stdout.strip()
        rows = [line.split() for line in rl("top", cid2, "user", "huser", "group").stdout.splitlines()]
        assert rows[1][0] == rows[1][2] == "www-data" and int(rows[1][1]) >= 400000, rows
    rl("rm", "-f", "-a")


def test_commit_running_warns_instead_of_pausing(rl: Rootless) -> None:
    cid = rl("run", "-d", "busybox", "sleep", "60").stdout.strip()
    rl("exec", cid, "sh", "-c", "echo x > /made")
    res = rl("commit", cid, "committed-running")
    assert "cannot pause" in res.stderr and res.stderr.startswith("WARNING: "), res.stderr
    assert rl("run", "--rm", "committed-running", "cat", "/made").stdout == "x\n"
    rl("rm", "-f", cid)
    rl("rmi", "committed-running")
