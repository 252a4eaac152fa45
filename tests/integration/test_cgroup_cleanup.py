"""kill -9 of a supervisor or of a `run -d` CLI: the next reconcile (any command that reads the
record) and `rm` leave no podpy-<id> cgroup in any hierarchy under /sys/fs/cgroup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import REPO
from tests.integration.containers_fixtures import (  # noqa: F401
    container_cgroups,
    container_ids,
    ctr,
    store_processes,
    wait_until,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def _supervisor(p, cid: str) -> int:  # type: ignore[no-untyped-def]
    rec = json.loads((p.root / "containers" / cid / "container.json").read_text())
    return int(rec["state"]["supervisor_pid"])


def _run_and_kill_supervisor(p) -> str:  # type: ignore[no-untyped-def]
    cid = p("run", "-d", "busybox", "sleep", "60").stdout.strip()
    p.seen_ids.append(cid)
    assert len(container_cgroups([cid])) >= 1
    os.kill(_supervisor(p, cid), signal.SIGKILL)
    return cid


def test_next_reconcile_removes_the_cgroups_of_a_killed_supervisor(ctr) -> None:  # noqa: F811
    cid = _run_and_kill_supervisor(ctr)
    assert "Exited (-1)" in ctr("ps", "-a").stdout  # the reconcile: the record and the cgroups
    assert container_cgroups([cid]) == []
    other = _run_and_kill_supervisor(ctr)
    assert json.loads(ctr("inspect", other).stdout)[0]["State"]["Status"] == "exited"
    assert container_cgroups([other]) == []
    ctr("rm", cid, other)
    assert container_cgroups([cid, other]) == []


def test_rm_of_a_killed_supervisor_without_runtime_state(ctr) -> None:  # noqa: F811
    """A supervisor killed before the runtime recorded anything: rm finds the cgroups from config.json."""
    cid = _run_and_kill_supervisor(ctr)
    for state in ctr.runroot.rglob("state.json"):
        if cid in str(state):
            state.unlink()
    assert wait_until(lambda: not [pid for pid in store_processes(ctr) if pid != os.getpid()], 5)
    assert container_cgroups([cid])  # nothing removed them yet
    ctr("rm", cid)
    assert container_cgroups([cid]) == []


@pytest.mark.slow
def test_killed_run_cli_and_supervisors_at_any_moment(ctr) -> None:  # noqa: F811
    """kill -9 of the `run -d` CLI at moments through its start, and of every podpy process of the store
    (supervisors mid-start too): then ps, then rm -af; no cgroup may remain."""
    for delay in (0.05, 0.1, 0.15, 0.2, 0.3, 0.45):
        proc = subprocess.Popen(ctr.argv("run", "-d", "busybox", "sleep", "60"), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        proc.kill()
        proc.wait()
        time.sleep(delay)
        for pid in store_processes(ctr):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        ctr.seen_ids.extend(container_ids(ctr))
    ctr("ps", "-a")
    ctr("rm", "-af")
    assert container_ids(ctr) == [] and container_cgroups(ctr.seen_ids) == []
