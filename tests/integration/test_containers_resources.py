"""Resource limits on the real cgroups here (v1 hybrid), OOM, stats, top, pause/unpause; and the v2
freezer and CPU accounting on this host's (controller-less) unified tree."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from podpy.runtime.builtin import cgroup_stats, cgroups
from podpy.runtime.builtin.cgroups import UNIFIED, CgroupSet
from tests.integration.containers_fixtures import container_cgroups, ctr, leftovers, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

TICKER = "while :; do echo tick; sleep 0.1; done"


def _inspect(p, ref: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(p("inspect", ref).stdout)[0]


def _cgroup_file(cid: str, controller: str, name: str) -> str:
    found = [d for d in container_cgroups([cid]) if f"/{controller}/" in f"{d}/"]
    assert found, f"no {controller} cgroup for {cid}"
    return (found[0] / name).read_text().strip()


def _ticks(p, cid: str) -> int:  # type: ignore[no-untyped-def]
    return p("logs", cid).stdout.count("tick")


def test_memory_limit_oom_kill(ctr):  # noqa: F811
    res = ctr("run", "--name", "hog", "-m", "64m", "busybox", "sh", "-c",
              'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo ${#x}', check=False)  # fmt: skip
    assert res.returncode == 137, res.stderr
    state = _inspect(ctr, "hog")["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    assert _inspect(ctr, "hog")["HostConfig"]["Memory"] == 64 << 20
    ok = ctr(
        "run",
        "--name",
        "fine",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "x=$(head -c 1000000 /dev/zero | tr '\\0' a)",
    )
    assert ok.returncode == 0 and _inspect(ctr, "fine")["State"]["OOMKilled"] is False


def test_pids_limit_stops_a_fork_bomb(ctr):  # noqa: F811
    t0 = time.monotonic()
    res = ctr("run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c",
              "for i in $(seq 50); do sleep 5 & done; wait", check=False, timeout=30)  # fmt: skip
    assert res.returncode != 0 and "can't fork" in res.stderr, (res.returncode, res.stderr)
    assert time.monotonic() - t0 < 5  # refused at once, not 50 sleeps later


def test_limits_in_cgroups_inspect_and_stats(ctr):  # noqa: F811
    cid = ctr("run", "-d", "-m", "64m", "--cpus", "0.5", "-c", "512", "--cpuset-cpus", "0", "--pids-limit", "20",
              "busybox", "sleep", "60").stdout.strip()  # fmt: skip
    ctr.seen_ids.append(cid)
    assert _cgroup_file(cid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert _cgroup_file(cid, "cpu", "cpu.cfs_period_us") == "100000"
    assert _cgroup_file(cid, "cpu", "cpu.shares") == "512"
    assert _cgroup_file(cid, "cpuset", "cpuset.cpus") == "0"
    assert _cgroup_file(cid, "pids", "pids.max") == "20"
    assert _cgroup_file(cid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    hc = _inspect(ctr, cid)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["CpuShares"]) == (
        64 << 20,
        128 << 20,
        5 * 10**8,
        512,
    )
    assert (hc["CpusetCpus"], hc["PidsLimit"], hc["CpuQuota"], hc["CpuPeriod"]) == ("0", 20, 0, 0)
    out = ctr("stats", "--no-stream").stdout.splitlines()
    assert out[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT", "MEM", "%",
                              "NET", "I/O", "BLOCK", "I/O", "PIDS"]  # fmt: skip
    assert len(out) == 2 and out[1].startswith(cid[:12]) and "/ 64MiB" in out[1]
    doc = json.loads(ctr("stats", "--no-stream", "--format", "json", cid).stdout)[0]
    assert doc["MemUsage"].endswith(" / 64MiB") and doc["PIDs"] == "1" and doc["Container"] == cid
    line = ctr("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.MemPerc}} {{.PIDs}}", cid).stdout
    assert line.startswith(cid + " ") and line.strip().endswith("% 1")
    ctr("rm", "-f", cid)


def test_stats_cpu_of_a_busy_container_and_stopped_ones(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done").stdout.strip()
    ctr.seen_ids.append(cid)
    cpu = float(ctr("stats", "--no-stream", "--format", "{{.CPUPerc}}", cid).stdout.strip().rstrip("%"))
    assert 20 < cpu < 80, cpu  # the quota holds it near 50 %
    ctr("create", "--name", "idle", "busybox", "true")
    assert "idle" not in ctr("stats", "--no-stream").stdout
    rows = ctr("stats", "--no-stream", "-a", "--format", "{{.Name}} {{.MemUsage}} {{.CPUPerc}}").stdout
    assert "idle 0B / 0B 0.00%" in rows.splitlines()
    ctr("rm", "-f", cid)


def test_stats_streams_until_interrupted(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "60").stdout.strip()
    ctr.seen_ids.append(cid)
    proc = subprocess.Popen(ctr.argv("stats", "--interval", "0.2", "--format", "{{.Name}}", cid),
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
    proc.send_signal(2)
    assert proc.wait(timeout=10) in (0, 130)
    name = _inspect(ctr, cid)["Name"].lstrip("/")
    assert lines == [name + "\n"] * 3
    ctr("rm", "-f", cid)


def test_stats_no_reset_keeps_the_screen(ctr):  # noqa: F811
    from tests.conftest import REPO
    from tests.integration.containers_fixtures import PtyProc

    cid = ctr("run", "-d", "busybox", "sleep", "60").stdout.strip()
    ctr.seen_ids.append(cid)
    for flags, clears in (([], True), (["--no-reset"], False)):
        term = PtyProc(ctr.argv("stats", "--interval", "0.2", *flags, "--format", "x{{.Name}}", cid), REPO)
        try:
            out = term.expect(rb"(?s)(x\w+\r\n.*){3}")
        finally:
            term.close()
        assert (b"\x1b[2J" in out) == clears, (flags, out)
    ctr("rm", "-f", cid)


def test_top_lists_the_processes(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sh", "-c", "sleep 61 & sleep 62; echo done").stdout.strip()
    ctr.seen_ids.append(cid)
    assert wait_until(lambda: "sleep 62" in ctr("top", cid).stdout)
    lines = ctr("top", cid).stdout.splitlines()
    assert lines[0].split() == ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]
    body = [line.split(None, 7) for line in lines[1:]]
    assert {b[7] for b in body} == {"sh -c sleep 61 & sleep 62; echo done", "sleep 61", "sleep 62"}
    assert all(b[0] == "root" for b in body) and sorted(b[1] for b in body)[0] == "1"
    custom = ctr("container", "top", cid, "pid", "comm").stdout.splitlines()
    assert custom[0].split() == ["PID", "COMMAND"] and len(custom) == 4
    ps = ctr("top", cid, "-ef").stdout.splitlines()  # the host's ps, filtered to the container
    assert (
        ps[0].split()[:3] == ["UID", "PID", "PPID"]
        and len(ps) == 4
        and "sleep 61" in ps[-1] + ps[-2] + ps[-3]
    )
    assert ctr("top", "nosuch", check=False).returncode == 125
    ctr("rm", "-f", cid)
    stopped = ctr("create", "busybox", "true").stdout.strip()
    res = ctr("top", stopped, check=False)
    assert res.returncode == 125 and "not running" in res.stderr


def test_pause_unpause(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--name", "ticker", "busybox", "sh", "-c", TICKER).stdout.strip()
    ctr.seen_ids.append(cid)
    assert wait_until(lambda: _ticks(ctr, cid) >= 3)
    assert ctr("pause", "ticker").stdout.strip() == "ticker"
    frozen = _ticks(ctr, cid)
    time.sleep(1.0)
    assert _ticks(ctr, cid) == frozen
    state = _inspect(ctr, cid)["State"]
    assert (state["Status"], state["Paused"], state["Running"]) == ("paused", True, True)
    assert "(Paused)" in ctr("ps").stdout
    assert ctr("ps", "--filter", "status=paused", "-q").stdout.strip() == cid[:12]
    assert ctr("ps", "--filter", "status=running", "-q").stdout.strip() == ""
    again = ctr("pause", cid, check=False)
    assert again.returncode == 125 and "already paused" in again.stderr
    ex = ctr("exec", cid, "true", check=False)
    assert ex.returncode != 0 and "paused" in ex.stderr
    ctr("container", "unpause", cid)
    assert wait_until(lambda: _ticks(ctr, cid) > frozen + 3)
    assert _inspect(ctr, cid)["State"]["Status"] == "running"
    res = ctr("unpause", cid, check=False)
    assert res.returncode == 125 and "not paused" in res.stderr
    ctr("rm", "-f", cid)


@pytest.mark.parametrize("how", [("stop", "-t", "1"), ("kill",), ("rm", "-f")])
def test_stop_kill_rm_of_a_paused_container(ctr, how):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sh", "-c", TICKER).stdout.strip()
    ctr.seen_ids.append(cid)
    ctr("pause", cid)
    t0 = time.monotonic()
    ctr(*how, cid, timeout=30)
    assert time.monotonic() - t0 < 8
    if how[0] != "rm":
        state = _inspect(ctr, cid)["State"]
        assert (state["Status"], state["Paused"], state["ExitCode"]) == ("exited", False, 137)
        ctr("rm", cid)
    assert leftovers(ctr, [cid]) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def test_pause_requires_running(ctr):  # noqa: F811
    cid = ctr("create", "busybox", "true").stdout.strip()
    res = ctr("pause", cid, check=False)
    assert res.returncode == 125 and "is not running" in res.stderr


# --- cgroup v2 code paths on this host's unified tree (no controllers: freezer and cpu.stat only)


@pytest.fixture
def v2_cgroup():  # type: ignore[no-untyped-def]
    found = cgroups.hierarchies().get(UNIFIED)
    if found is None:
        pytest.skip("no cgroup2 hierarchy mounted")
    path = Path(found.mountpoint) / f"podpy-v2test-{os.getpid()}"
    try:
        path.mkdir()
    except OSError as e:
        pytest.skip(f"cannot make a v2 cgroup: {e}")
    if not (path / "cgroup.freeze").exists():
        path.rmdir()
        pytest.skip("no cgroup.freeze in the v2 tree")
    proc = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    try:
        (path / "cgroup.procs").write_text(str(proc.pid))
        yield CgroupSet({UNIFIED: str(path)}), proc
    finally:
        proc.kill()
        proc.wait()
        wait_until(lambda: not (path / "cgroup.procs").read_text().strip(), 5)
        path.rmdir()


def test_v2_freeze_and_cpu_accounting(v2_cgroup):  # type: ignore[no-untyped-def]
    cg, proc = v2_cgroup
    time.sleep(0.2)
    first = cgroup_stats.cpu_ns(cg)
    assert first > 0 and cgroup_stats.pids_current(cg) == 1
    cgroups.freeze(cg, True)
    assert "frozen 1" in (Path(cg.paths[UNIFIED]) / "cgroup.events").read_text()
    frozen_at = cgroup_stats.cpu_ns(cg)
    time.sleep(0.3)
    assert cgroup_stats.cpu_ns(cg) - frozen_at < 20_000_000  # no CPU while frozen
    cgroups.freeze(cg, False)
    time.sleep(0.2)
    assert cgroup_stats.cpu_ns(cg) - frozen_at > 50_000_000
    assert cgroup_stats.memory(cg) == (0, 0) and cgroup_stats.oom_kills(cg) == 0  # no memory controller here
