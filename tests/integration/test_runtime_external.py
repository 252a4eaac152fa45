"""get_runtime and the external-runtime adapter's lifecycle calls (runc)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from podpy.errors import PodpyError
from podpy.runtime import get_runtime
from podpy.runtime.builtin import BuiltinRuntime
from podpy.runtime.external import ExternalRuntime, _error
from tests.integration import runtime_fixtures as rf

rootfs = rf.rootfs
any_harness = rf.any_harness


def test_get_runtime(tmp_path: Path) -> None:
    assert isinstance(get_runtime(None), BuiltinRuntime)
    assert isinstance(get_runtime("builtin"), BuiltinRuntime)
    with pytest.raises(PodpyError, match='OCI runtime "nosuchruntime" not found'):
        get_runtime("nosuchruntime")
    with pytest.raises(PodpyError, match="not found"):
        get_runtime(str(tmp_path / "nope"))
    runc = rf.find_external("runc")
    if runc:
        rt = get_runtime("runc", tmp_path)
        assert isinstance(rt, ExternalRuntime) and rt.root == tmp_path / "runtime" and rt.name == "runc"
        assert isinstance(get_runtime(runc, tmp_path), ExternalRuntime)


def test_error_mapping() -> None:
    assert _error("runc", 'exec: "x": executable file not found in $PATH').exit_code == 127
    assert _error("runc", 'exec: "/x": stat /x: no such file or directory').exit_code == 127
    assert _error("runc", "exec /notexec: permission denied").exit_code == 126
    assert _error("runc", "cgroup: something else").exit_code == 125


@rf.needs_root
def test_lifecycle(any_harness: rf.Harness) -> None:
    """pause/resume/state/kill/delete behave alike under both runtimes."""
    h = any_harness
    run = h.start("sh", "-c", "trap 'exit 9' USR1; while :; do sleep 0.02; done")
    time.sleep(0.2)
    h.runtime.pause(run.cid, run.state)
    h.runtime.resume(run.cid, run.state)
    assert h.runtime.state(run.cid, run.state)["status"] == "running"  # type: ignore[attr-defined]
    h.runtime.kill(run.cid, run.started.pid, 10, run.state)
    assert rf.wait(run.started.pid) == 9
    run.reaped = True
    h.runtime.delete(run.cid, run.state)
    h.runtime.delete(run.cid, run.state)  # idempotent
    assert h.runtime.state(run.cid, run.state)["status"] == "stopped"  # type: ignore[attr-defined]
