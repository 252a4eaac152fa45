"""Detached containers: logs, stop/kill/restart/rm, the supervisor's death, concurrency."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.containers_fixtures import ctr, leftovers, store_processes, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def _state(p, ref: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(p("inspect", ref).stdout)[0]["State"]


def test_run_d_and_logs_follow_streams(ctr):  # noqa: F811
    cid = ctr(
        "run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done; echo bye >&2"
    ).stdout.strip()
    proc = subprocess.Popen(ctr.argv("logs", "-f", cid), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()  # arrives while the container still runs
    assert first == b"line1\n"
    assert _state(ctr, cid)["Running"] is True
    out, err = proc.communicate(timeout=20)
    assert first + out == b"line1\nline2\nline3\n"
    assert err == b"bye\n"
    assert proc.returncode == 0


def test_logs_timestamps_tail_since(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sh", "-c", "echo a; echo b; echo c; printf partial").stdout.strip()
    ctr("wait", cid)
    assert ctr("logs", cid).stdout == "a\nb\nc\npartial"
    lines = ctr("logs", "-t", cid).stdout.splitlines()
    ts, text = lines[0].split(" ", 1)
    assert text == "a" and ts.endswith("Z") and len(ts) == len("2024-01-02T15:04:05.123456789Z")
    assert ctr("logs", "--tail", "2", cid).stdout == "c\npartial"
    assert ctr("logs", "--since", "1h", cid).stdout.startswith("a\n")
    assert ctr("logs", "--until", "1h", cid).stdout == ""
    raw = (ctr.root / "containers" / cid / "userdata" / "ctr.log").read_text().splitlines()
    assert raw[0].split(" ", 1)[1] == "stdout F a"
    assert raw[-1].split(" ", 1)[1] == "stdout P partial"


def test_stop_ignoring_sigterm_takes_timeout(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sh", "-c", "trap '' TERM; while :; do sleep 1; done").stdout.strip()
    t0 = time.monotonic()
    assert ctr("stop", "-t", "1", cid).stdout.strip() == cid
    took = time.monotonic() - t0
    assert 0.9 < took < 4, took
    st = _state(ctr, cid)
    assert st["Status"] == "exited" and st["ExitCode"] == 137 and st["Running"] is False
    assert store_processes(ctr) == []


def test_stop_signal_flag_is_used(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--stop-signal", "USR1", "busybox", "sh", "-c",
              "trap 'exit 7' USR1; while :; do sleep 0.1; done").stdout.strip()  # fmt: skip
    t0 = time.monotonic()
    ctr("stop", "-t", "5", cid)
    assert time.monotonic() - t0 < 3
    assert _state(ctr, cid)["ExitCode"] == 7
    assert json.loads(ctr("inspect", cid).stdout)[0]["Config"]["StopSignal"] == "USR1"


def test_restart_and_start_again(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "r", "busybox", "sleep", "100")
    pid1 = _state(ctr, "r")["Pid"]
    assert ctr("restart", "-t", "0", "r").stdout.strip() == "r"
    st = _state(ctr, "r")
    assert st["Running"] and st["Pid"] != pid1
    ctr("stop", "-t", "0", "r")
    ctr("start", "r")
    assert _state(ctr, "r")["Running"]


def test_rm_requires_force_when_running(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    res = ctr("rm", cid, check=False)
    assert res.returncode != 0 and "running" in res.stderr
    assert ctr("rm", "-f", cid).stdout.strip() == cid
    assert ctr("ps", "-aq").stdout == ""
    assert leftovers(ctr, [cid]) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def test_kill_signal_and_state_errors(ctr):  # noqa: F811
    cid = ctr(
        "run", "-d", "busybox", "sh", "-c", "trap 'exit 9' HUP; while :; do sleep 0.1; done"
    ).stdout.strip()
    ctr("kill", "-s", "HUP", cid)
    assert ctr("wait", cid).stdout.strip() == "9"
    res = ctr("kill", cid, check=False)
    assert res.returncode == 125 and "running" in res.stderr
    res = ctr("exec", cid, "true", check=False)
    assert res.returncode == 125


def test_supervisor_killed(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    rec = json.loads((ctr.root / "containers" / cid / "container.json").read_text())
    os.kill(rec["state"]["supervisor_pid"], signal.SIGKILL)
    assert wait_until(lambda: "Exited" in ctr("ps", "-a", "--format", "{{.Status}}").stdout)
    assert ctr("ps", "-q").stdout == ""
    assert _state(ctr, cid)["Running"] is False
    ctr("rm", cid)
    assert leftovers(ctr, [cid]) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def test_exec_in_running_container(ctr):  # noqa: F811
    cid = ctr("run", "-d", "-e", "FROMRUN=1", "busybox", "sleep", "100").stdout.strip()
    out = ctr(
        "exec", "-e", "X=2", "-w", "/tmp", cid, "sh", "-c", "echo $FROMRUN $X; pwd; cat /proc/1/cmdline"
    ).stdout
    assert out == "1 2\n/tmp\nsleep\x00100\x00"
    assert ctr("exec", cid, "sh", "-c", "exit 5", check=False).returncode == 5
    assert ctr("exec", "-u", "www-data", cid, "id", "-u").stdout == "33\n"
    assert ctr("exec", "-i", cid, "cat", input="piped\n").stdout == "piped\n"
    assert ctr("exec", cid, "nosuchcmd", check=False).returncode == 127
    ctr("exec", "-d", cid, "sh", "-c", "echo detached > /tmp/d")
    assert wait_until(lambda: ctr("exec", cid, "cat", "/tmp/d", check=False).stdout == "detached\n")


def test_concurrent_run_rm_leave_nothing(ctr):  # noqa: F811
    def pair(i: int) -> str:
        cid = ctr("run", "-d", "--name", f"c{i}", "busybox", "sleep", "100").stdout.strip()
        ctr("rm", "-f", cid)
        return cid

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(pair, range(30)))
    assert len(set(ids)) == 30
    assert ctr("ps", "-aq").stdout == ""
    assert leftovers(ctr, ids) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_external_runtime_lifecycle(ctr):  # noqa: F811
    out = ctr(
        "--runtime", "runc", "run", "--rm", "busybox", "sh", "-c", "echo hi; grep CapEff /proc/self/status"
    )
    assert out.stdout.split("\n")[0] == "hi" and "00000000800405fb" in out.stdout
    cid = ctr("--runtime", "runc", "run", "-d", "busybox", "sleep", "100").stdout.strip()
    assert json.loads(ctr("inspect", cid).stdout)[0]["HostConfig"]["Runtime"] == "runc"
    assert ctr("exec", cid, "echo", "in-runc").stdout == "in-runc\n"
    ctr("stop", "-t", "0", cid)
    assert _state(ctr, cid)["Status"] == "exited"
    ctr("rm", cid)
    assert ctr("--runtime", "runc", "run", "--rm", "busybox", "nosuchcmd", check=False).returncode == 127
    assert leftovers(ctr, [cid]) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}
