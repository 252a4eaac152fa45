"""The event log as an ordinary user: under its own runroot ($XDG_RUNTIME_DIR/podpy/events)."""

from __future__ import annotations

from tests.rootless.conftest import Rootless


def test_run_rm_writes_its_events(rl: Rootless) -> None:
    rl("run", "--rm", "--name", "rl-ev", "busybox", "true")
    got = rl("events", "--stream=false", "--filter", "container=rl-ev", "--format", "{{.Status}}").stdout.split()
    assert got == ["create", "init", "start", "attach", "died", "cleanup", "remove"]
