"""Rootless exec joins the container's cgroup in a delegated v2 subtree (this host's unified tree,
delegated by hand to an unused uid), and refuses to run outside it when the join is not allowed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from podpy.runtime.builtin import cgroups
from podpy.runtime.builtin.cgroups import UNIFIED
from tests.integration.containers_fixtures import wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="delegating a cgroup needs root")
UID = 2939  # an unused id: no user needs to exist to own a delegated subtree


def _delegate(d: Path) -> None:
    os.chown(d, UID, UID)
    for name in ("cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
        os.chown(d / name, UID, UID)


@pytest.fixture
def tree():  # type: ignore[no-untyped-def]
    """<v2>/podpy-deleg-N (delegated) holding src/ and ctr/; <v2>/podpy-undeleg-N stays root's."""
    h = cgroups.hierarchies().get(UNIFIED)
    if h is None:
        pytest.skip("no cgroup2 hierarchy mounted")
    top = Path(h.mountpoint) / f"podpy-deleg-{os.getpid()}"
    other = Path(h.mountpoint) / f"podpy-undeleg-{os.getpid()}"
    made = [top, top / "src", top / "ctr", other]
    for d in made:
        d.mkdir()
    for d in made[:3]:
        _delegate(d)
    sleepers: list[subprocess.Popen[bytes]] = []
    try:
        yield top, other, sleepers
    finally:
        for p in sleepers:
            p.kill()
            p.wait()
        for d in reversed(made):
            wait_until(lambda d=d: not (d / "cgroup.procs").read_text().strip(), 5)
            d.rmdir()


def _init_in(cgroup: Path, sleepers: list) -> int:  # type: ignore[type-arg]
    """A stand-in for a rootless container's init (owned by UID), placed in `cgroup`."""
    p = subprocess.Popen(["sleep", "60"], user=UID, group=UID)
    sleepers.append(p)
    (cgroup / "cgroup.procs").write_text(str(p.pid))
    return p.pid


def _exec_as_user(src: Path, init_pid: int) -> tuple[int, str]:
    """Fork a process in `src`, drop to UID, join like `exec` does; (exit status, its v2 cgroup)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        code = 0
        try:
            (src / "cgroup.procs").write_text("0")
            os.setgroups([])
            os.setresgid(UID, UID, UID)
            os.setresuid(UID, UID, UID)
            cgroups.join_like(init_pid)
        except PermissionError:
            code = 13
        os.write(w, cgroups.own_cgroups()[UNIFIED].encode())
        os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        where = f.read()
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), where


def test_rootless_exec_joins_the_delegated_cgroup(tree) -> None:  # type: ignore[no-untyped-def]
    top, _, sleepers = tree
    init = _init_in(top / "ctr", sleepers)
    code, where = _exec_as_user(top / "src", init)
    assert code == 0 and where == cgroups.own_cgroups(init)[UNIFIED] and where.endswith("/ctr")


def test_rootless_exec_refuses_a_cgroup_it_cannot_join(tree) -> None:  # type: ignore[no-untyped-def]
    top, other, sleepers = tree
    init = _init_in(other, sleepers)  # not delegated: joining it would need root
    code, where = _exec_as_user(top / "src", init)
    assert code == 13 and where.endswith("/src")
