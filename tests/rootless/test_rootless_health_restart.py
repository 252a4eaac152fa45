"""Health checks and restart policies as an ordinary user (with and without subordinate ids)."""

from __future__ import annotations

import json

from tests.integration.containers_fixtures import wait_until
from tests.rootless.conftest import Rootless


def _inspect(rl: Rootless, ref: str) -> dict:  # type: ignore[type-arg]
    return json.loads(rl("inspect", ref).stdout)[0]


def test_health_check_rootless(rl: Rootless) -> None:
    rl("run", "-d", "--name", "h", "--health-cmd", "test -f /tmp/ok", "--health-interval", "300ms",
       "--health-retries", "2", "busybox", "sh", "-c", "sleep 1; touch /tmp/ok; sleep 100")  # fmt: skip
    assert wait_until(lambda: _inspect(rl, "h")["State"].get("Health", {}).get("Status") == "healthy", timeout=8)
    assert rl("healthcheck", "run", "h").returncode == 0
    assert "(healthy)" in rl("ps", "--format", "{{.Status}}").stdout


def test_restart_policy_rootless(rl: Rootless) -> None:
    cid = rl("run", "-d", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1").stdout.strip()
    assert wait_until(lambda: _inspect(rl, cid)["RestartCount"] == 2 and
                      _inspect(rl, cid)["State"]["Status"] == "exited", timeout=10)  # fmt: skip
    rl("run", "-d", "--name", "a", "--restart", "always", "busybox", "sleep", "100")
    rl("stop", "-t", "0", "a")
    assert not wait_until(lambda: _inspect(rl, "a")["State"]["Status"] != "exited", timeout=0.8)
