"""Health checks and restart policies, run by each container's supervisor (short intervals)."""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.containers_fixtures import ctr, leftovers, wait_until  # noqa: F401
from tests.integration.test_archives import config_for, docker_archive

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

LOOP_ON_HUP = "trap 'exit 9' HUP; while :; do sleep 0.1; done"


def _inspect(p, ref: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(p("inspect", ref).stdout)[0]


def _health(p, ref: str) -> dict:  # type: ignore[no-untyped-def]
    return _inspect(p, ref)["State"].get("Health") or {}


def _status(p, ref: str) -> str:  # type: ignore[no-untyped-def]
    return p("ps", "-a", "--filter", f"name=^{ref}$", "--format", "{{.Status}}").stdout.strip()


# ---- health checks


def test_check_that_passes_after_two_seconds_turns_healthy(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "h", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s",
        "--health-retries", "5", "busybox", "sh", "-c", "sleep 2; touch /tmp/ok; sleep 100")  # fmt: skip
    assert _status(ctr, "h").endswith("(health: starting)")
    assert _health(ctr, "h")["Status"] == "starting"
    assert ctr("ps", "--filter", "health=starting", "-q").stdout.strip()
    assert wait_until(lambda: _health(ctr, "h").get("Status") == "healthy", timeout=8, interval=0.2)
    doc = _inspect(ctr, "h")
    health = doc["State"]["Health"]
    assert health["FailingStreak"] == 0
    assert health["Log"][0]["ExitCode"] == 1 and health["Log"][-1]["ExitCode"] == 0  # failed first, then passed
    assert set(health["Log"][-1]) == {"Start", "End", "ExitCode", "Output"}
    assert doc["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "test -f /tmp/ok"], "Interval": 1_000_000_000,
                                            "Retries": 5}  # fmt: skip
    assert _status(ctr, "h").startswith("Up ") and _status(ctr, "h").endswith("(healthy)")
    assert ctr("ps", "--filter", "health=healthy", "--format", "{{.Names}}").stdout.split() == ["h"]
    assert ctr("ps", "--filter", "health=unhealthy", "-q").stdout == ""
    res = ctr("healthcheck", "run", "h")  # podman: exit 0 and nothing printed when healthy
    assert res.returncode == 0 and res.stdout == ""


def test_failing_check_turns_unhealthy_after_the_retries(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "u", "--health-cmd", '["sh", "-c", "echo nope; exit 3"]', "--health-interval",
        "300ms", "--health-retries", "3", "busybox", "sleep", "100")  # fmt: skip
    seen: list[dict] = []

    def unhealthy() -> bool:
        seen.append(_health(ctr, "u"))
        return seen[-1].get("Status") == "unhealthy"

    assert wait_until(unhealthy, timeout=8)
    assert all(h["Status"] == "starting" for h in seen if h and h["FailingStreak"] < 3)  # not before 3 failures
    health = _health(ctr, "u")
    assert health["FailingStreak"] >= 3
    assert health["Log"][-1]["ExitCode"] == 3 and health["Log"][-1]["Output"] == "nope\n"
    assert len(health["Log"]) <= 5
    assert _inspect(ctr, "u")["Config"]["Healthcheck"]["Test"] == ["CMD", "sh", "-c", "echo nope; exit 3"]
    assert _status(ctr, "u").endswith("(unhealthy)")
    assert ctr("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}").stdout.split() == ["u"]
    res = ctr("healthcheck", "run", "u", check=False)
    assert (res.returncode, res.stdout) == (1, "unhealthy\n")


def test_healthcheck_run_updates_the_state_and_timeouts(ctr):  # noqa: F811
    # a long interval: only `healthcheck run` probes here
    ctr("run", "-d", "--name", "m", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1h",
        "--health-retries", "1", "busybox", "sleep", "100")  # fmt: skip
    res = ctr("healthcheck", "run", "m", check=False)
    assert (res.returncode, res.stdout) == (1, "unhealthy\n")
    ctr("exec", "m", "touch", "/tmp/ok")
    assert ctr("healthcheck", "run", "m").returncode == 0
    assert _health(ctr, "m")["Status"] == "healthy" and len(_health(ctr, "m")["Log"]) == 2
    ctr("run", "-d", "--name", "t", "--health-cmd", "sleep 10", "--health-timeout", "300ms", "--health-interval",
        "1h", "busybox", "sleep", "100")  # fmt: skip
    res = ctr("healthcheck", "run", "t", check=False)
    assert res.returncode == 1
    assert _health(ctr, "t")["Log"][-1]["Output"] == "Health check exceeded timeout (300ms)"
    assert _health(ctr, "t")["Log"][-1]["ExitCode"] == -1


def test_healthcheck_run_errors_and_no_healthcheck(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "plain", "busybox", "sleep", "100")
    res = ctr("healthcheck", "run", "plain", check=False)
    assert res.returncode == 125 and "has no defined healthcheck" in res.stderr
    assert "Health" not in _inspect(ctr, "plain")["State"]
    assert "Healthcheck" not in _inspect(ctr, "plain")["Config"]
    assert ctr("ps", "--filter", "health=none", "--format", "{{.Names}}").stdout.split() == ["plain"]
    assert _status(ctr, "plain").startswith("Up ") and "(" not in _status(ctr, "plain")
    ctr("create", "--name", "stopped", "--health-cmd", "true", "busybox", "true")
    res = ctr("healthcheck", "run", "stopped", check=False)
    assert res.returncode == 125 and "not running" in res.stderr
    res = ctr("run", "--no-healthcheck", "--health-interval", "1s", "busybox", "true", check=False)
    assert res.returncode == 125 and "--no-healthcheck conflicts with --health-* options" in res.stderr
    res = ctr("run", "--health-interval", "1x", "busybox", "true", check=False)
    assert res.returncode == 125 and 'invalid argument "1x" for "--health-interval" flag' in res.stderr
    assert ctr("ps", "--filter", "health=bogus", check=False).returncode == 125


def test_image_healthcheck_is_used_and_can_be_disabled(ctr, busybox_tar):  # noqa: F811
    layer = busybox_tar.read_bytes()
    cfg = json.loads(config_for([layer]))
    cfg["config"]["Healthcheck"] = {"Test": ["CMD-SHELL", "exit 0"], "Interval": 200_000_000, "Retries": 2}
    ctr("load", input=docker_archive([(json.dumps(cfg).encode(), [layer], ["hc:latest"])]))
    ctr("run", "-d", "--name", "img", "hc", "sleep", "100")
    assert _inspect(ctr, "img")["Config"]["Healthcheck"] == cfg["config"]["Healthcheck"]
    assert wait_until(lambda: _health(ctr, "img").get("Status") == "healthy", timeout=5)
    ctr("run", "-d", "--name", "off", "--no-healthcheck", "hc", "sleep", "100")
    assert _inspect(ctr, "off")["Config"]["Healthcheck"]["Test"] == ["NONE"]  # other fields merged, as Docker
    assert "Health" not in _inspect(ctr, "off")["State"] and _status(ctr, "off").endswith("second")
    ctr("run", "-d", "--name", "merged", "--health-retries", "7", "hc", "sleep", "100")
    assert _inspect(ctr, "merged")["Config"]["Healthcheck"] == {**cfg["config"]["Healthcheck"], "Retries": 7}


def test_health_starts_over_after_a_restart(ctr):  # noqa: F811
    # 1s: the first probe of the new run must not beat the `inspect` right after the start
    ctr("run", "-d", "--name", "r", "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep", "100")
    assert wait_until(lambda: _health(ctr, "r").get("Status") == "healthy", timeout=5)
    ctr("stop", "-t", "0", "r")
    assert _health(ctr, "r")["Status"] == "healthy"  # kept while stopped, as Docker
    assert "health" not in _status(ctr, "r") and _status(ctr, "r").startswith("Exited (137)")
    ctr("start", "r")
    assert _health(ctr, "r")["Status"] == "starting"
    assert wait_until(lambda: _health(ctr, "r").get("Status") == "healthy", timeout=5)


# ---- restart policies


def test_on_failure_restarts_twice_then_stops(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 1").stdout.strip()
    assert wait_until(lambda: _inspect(ctr, cid)["RestartCount"] == 2 and
                      _inspect(ctr, cid)["State"]["Status"] == "exited", timeout=10)  # fmt: skip
    doc = _inspect(ctr, cid)
    assert doc["State"]["ExitCode"] == 1 and doc["State"]["Restarting"] is False
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert ctr("logs", cid).stdout == "run\nrun\nrun\n"  # one log, appended by every run
    assert ctr("wait", cid).stdout.strip() == "1"
    assert leftovers(ctr, [])["processes"] == []


def test_always_restarts_with_a_new_pid_and_stop_wins(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "a", "--restart", "always", "busybox", "sh", "-c", LOOP_ON_HUP)
    pid1 = _inspect(ctr, "a")["State"]["Pid"]
    ctr("kill", "-s", "HUP", "a")  # exit 9: always restarts it
    assert wait_until(lambda: _inspect(ctr, "a")["RestartCount"] == 1 and _inspect(ctr, "a")["State"]["Pid"] not in
                      (0, pid1), timeout=10)  # fmt: skip
    st = _inspect(ctr, "a")["State"]
    assert st["Status"] == "running" and st["Running"] is True
    ctr("stop", "-t", "5", "a")
    st = _inspect(ctr, "a")["State"]
    assert st["Status"] == "exited" and not st["Running"]
    assert not wait_until(lambda: _inspect(ctr, "a")["State"]["Status"] != "exited", timeout=1.0)
    assert leftovers(ctr, [])["processes"] == []
    ctr("start", "a")  # a start by the user: RestartCount starts over (Docker)
    assert _inspect(ctr, "a")["RestartCount"] == 0 and _inspect(ctr, "a")["State"]["Running"]


def test_restarting_state_then_stop_and_rm(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--restart", "always", "busybox", "sh", "-c", "exit 2").stdout.strip()
    # the back-off doubles from 100 ms: it is soon waiting long enough to be seen restarting
    seen: list[dict] = []
    assert wait_until(lambda: seen.append(_inspect(ctr, cid)["State"]) or seen[-1]["Status"] == "restarting",
                      timeout=10, interval=0.02)  # fmt: skip
    st = seen[-1]
    assert st["Restarting"] is True and st["Running"] is True and st["Pid"] == 0 and st["ExitCode"] == 2
    res = ctr("rm", cid, check=False)
    assert res.returncode != 0 and "without force" in res.stderr
    ctr("stop", cid)
    st = _inspect(ctr, cid)["State"]
    assert (st["Status"], st["ExitCode"], st["Restarting"]) == ("exited", 2, False)
    assert leftovers(ctr, [])["processes"] == []
    cid2 = ctr("run", "-d", "--name", "r2", "--restart", "always", "busybox", "sh", "-c", "exit 3").stdout.strip()
    assert wait_until(lambda: _status(ctr, "r2").startswith("Restarting (3)"), timeout=10, interval=0.02)
    assert cid2[:12] in ctr("ps", "-q").stdout  # listed without -a, as Docker
    ctr("rm", "-f", cid, cid2)
    assert leftovers(ctr, [cid, cid2]) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def test_unless_stopped_is_not_restarted_after_a_user_kill(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "u", "--restart", "unless-stopped", "busybox", "sh", "-c", LOOP_ON_HUP)
    ctr("kill", "-s", "HUP", "u")
    assert wait_until(lambda: _inspect(ctr, "u")["State"]["Status"] == "exited", timeout=5)
    assert not wait_until(lambda: _inspect(ctr, "u")["RestartCount"] > 0, timeout=0.8)
    assert _inspect(ctr, "u")["State"]["ExitCode"] == 9


def test_rm_f_of_a_running_container_with_always_leaves_nothing(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--restart", "always", "busybox", "sleep", "100").stdout.strip()
    ctr("rm", "-f", cid)
    assert leftovers(ctr, [cid]) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def test_restart_flag_errors(ctr):  # noqa: F811
    res = ctr("run", "--rm", "--restart", "always", "busybox", "true", check=False)
    assert res.returncode == 125 and "Conflicting options: --restart and --rm" in res.stderr
    res = ctr("run", "--restart", "sometimes", "busybox", "true", check=False)
    assert res.returncode == 125 and "unknown policy 'sometimes'" in res.stderr
    assert ctr("ps", "-aq").stdout == ""
    ctr("create", "--name", "n", "busybox", "true")
    assert _inspect(ctr, "n")["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}


def test_attached_run_returns_the_first_exit_code(ctr):  # noqa: F811
    res = ctr("run", "--name", "f", "--restart", "on-failure:1", "busybox", "sh", "-c", "echo hi; exit 4",
              check=False)  # fmt: skip
    assert (res.returncode, res.stdout) == (4, "hi\n")
    assert wait_until(lambda: _inspect(ctr, "f")["RestartCount"] == 1 and
                      _inspect(ctr, "f")["State"]["Status"] == "exited", timeout=5)  # fmt: skip
    assert ctr("logs", "f").stdout == "hi\nhi\n"
