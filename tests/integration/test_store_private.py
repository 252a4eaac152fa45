"""The store is private (issue 8, item 3): another host user can neither list nor read nor execute
anything under --root/--runroot, and an older store with 0755 directories is fixed on first use."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Podpy, _cleanup_store
from tests.integration.containers_fixtures import container_ids, scrub


@pytest.fixture
def open_store(busybox_tar: Path) -> Iterator[Podpy]:
    """A store under a world-traversable directory (pytest's tmp_path is 0700: it would hide the bug)."""
    if not shutil.which("runuser"):
        pytest.skip("runuser is not installed")
    base = Path(tempfile.mkdtemp(prefix="podpy-private-"))
    os.chmod(base, 0o755)
    p = Podpy(base / "root", base / "run")
    try:
        p("import", "--change", 'CMD ["/bin/sh"]', str(busybox_tar), "busybox:latest")
        yield p
    finally:
        scrub(p, container_ids(p))
        _cleanup_store(p)
        shutil.rmtree(base, ignore_errors=True)


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", "nobody", "--", *argv], capture_output=True, text=True, timeout=30)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_other_users_cannot_reach_the_store(open_store: Podpy) -> None:
    p = open_store
    cid = p("run", "-d", "-e", "SECRET=hunter2", "busybox", "sh", "-c",
            "cp /bin/busybox /suid && chmod 4755 /suid && sleep 60").stdout.strip()  # fmt: skip
    cdir = p.root / "containers" / cid
    suid = []
    for _ in range(100):
        suid = [f for f in cdir.rglob("suid") if f.stat().st_mode & stat.S_ISUID]
        if suid:
            break
        subprocess.run(["sleep", "0.05"])
    assert suid, "the container did not make its setuid file"
    assert _mode(p.root) == 0o700 and _mode(p.runroot) == 0o700
    assert _mode(cdir / "container.json") == 0o600 and _mode(cdir / "userdata" / "config.json") == 0o600
    assert "hunter2" in (cdir / "userdata" / "config.json").read_text()  # what must stay private
    for argv in (["ls", str(p.root)], ["ls", str(p.runroot)], ["ls", str(cdir)],
                 ["cat", str(cdir / "container.json")], ["cat", str(cdir / "userdata" / "config.json")],
                 ["ls", str(p.runroot / "containers" / cid / "merged")],
                 [str(suid[0]), "id", "-u"]):  # fmt: skip
        res = as_nobody(*argv)
        assert res.returncode != 0, f"nobody ran {argv}: {res.stdout}"
        assert "hunter2" not in res.stdout and res.stdout.strip() != "0"
    p("rm", "-f", cid)


def test_an_older_open_store_is_migrated(open_store: Podpy) -> None:
    p = open_store
    cid = p("create", "-e", "SECRET=x", "busybox", "true").stdout.strip()
    cdir = p.root / "containers" / cid
    for path, mode in ((p.root, 0o755), (p.runroot, 0o755), (cdir / "container.json", 0o644),
                       (cdir / "userdata" / "config.json", 0o644)):  # fmt: skip
        os.chmod(path, mode)
    assert as_nobody("cat", str(cdir / "container.json")).returncode == 0  # the old, open store
    p("ps", "-a")
    assert _mode(p.root) == 0o700 and _mode(p.runroot) == 0o700
    assert _mode(cdir / "container.json") == 0o600 and _mode(cdir / "userdata" / "config.json") == 0o600
    assert as_nobody("cat", str(cdir / "container.json")).returncode != 0
    assert p("start", "-a", cid).returncode == 0  # the migrated store still works


def test_a_new_store_is_private_from_the_first_command(tmp_path: Path) -> None:
    base = tmp_path / "fresh"
    p = Podpy(base / "a" / "root", base / "b" / "run")
    try:
        p("ps")
        assert _mode(p.root) == 0o700 and _mode(p.runroot) == 0o700
    finally:
        _cleanup_store(p)
