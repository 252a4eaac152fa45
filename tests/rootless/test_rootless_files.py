"""cp, diff, export and commit as an ordinary user (subuid ranges and a single-id map)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rootless.conftest import Rootless


@pytest.fixture
def work(rl: Rootless) -> Iterator[Path]:
    """A host directory the test user owns."""
    d = Path(tempfile.mkdtemp(prefix="podpy-rl-cp-"))
    os.chmod(d, 0o755)
    os.chown(d, rl.user.uid, rl.user.gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _as_user(rl: Rootless, path: Path, text: str) -> None:
    path.write_text(text)
    os.chown(path, rl.user.uid, rl.user.gid)


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_cp_both_ways(rl: Rootless, work: Path, running: bool) -> None:
    if running:
        rl("run", "-d", "--name", "c", "busybox", "sleep", "300")
    else:
        rl("create", "--name", "c", "busybox", "cat", "/tmp/f")
    _as_user(rl, work / "f", "from the host\n")
    rl("cp", str(work / "f"), "c:/tmp/f")
    rl("cp", "c:/tmp/f", str(work / "back"))
    rl("cp", "c:/etc/passwd", str(work / "passwd"))
    assert (work / "back").read_text() == "from the host\n"
    assert (work / "passwd").read_text().startswith("root:x:0:0")
    assert os.stat(work / "back").st_uid == rl.user.uid
    if running:
        assert rl("exec", "c", "stat", "-c", "%u", "/tmp/f").stdout == "0\n"
    else:
        assert rl("start", "-a", "c").stdout == "from the host\n"
    res = rl("cp", "c:/nope", str(work), check=False)
    assert res.stderr == 'Error: "/nope" could not be found on container c: no such file or directory\n'


def test_symlink_to_root_stays_inside(rl: Rootless, work: Path) -> None:
    rl("run", "-d", "--name", "c", "busybox", "sh", "-c", "ln -s / /evil; sleep 300")
    rl("exec", "c", "true")
    secret = work / "secret"
    _as_user(rl, secret, "SECRET\n")
    res = rl("cp", f"c:/evil{secret}", str(work / "x"), check=False)
    assert res.returncode == 125 and not (work / "x").exists()
    _as_user(rl, work / "pwn", "PWN\n")
    rl("cp", str(work / "pwn"), f"c:/evil{work}/", check=False)
    assert sorted(os.listdir(work)) == ["pwn", "secret"]


def test_diff_export_commit(rl: Rootless, work: Path) -> None:
    rl("run", "--name", "c", "busybox", "sh", "-c", "touch /home/logs.txt; rm /etc/group")
    assert rl("diff", "c").stdout.splitlines() == ["C /etc", "D /etc/group", "C /home", "A /home/logs.txt"]
    res = subprocess.run(rl.argv("export", "c"), capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr
    with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tf:
        names = set(tf.getnames())
    assert "home/logs.txt" in names and "etc/group" not in names
    rl("commit", "c", "snap")
    assert rl("run", "--rm", "snap", "sh", "-c", "ls /home; test -e /etc/group || echo gone").stdout == "logs.txt\ngone\n"


def test_cp_tmpfs_volume_and_between_containers(rl: Rootless, work: Path) -> None:
    """A running container's tmpfs and volume (not in its layer), and container to container."""
    rl("run", "-d", "--name", "up", "--tmpfs", "/scratch", "-v", "vol:/data", "busybox", "sleep", "300")
    rl("create", "--name", "other", "busybox", "cat", "/copied/f")
    _as_user(rl, work / "f", "rootless\n")
    rl("cp", str(work / "f"), "up:/scratch/f")
    rl("cp", str(work / "f"), "up:/data/f")
    assert rl("exec", "up", "cat", "/scratch/f", "/data/f").stdout == "rootless\nrootless\n"
    rl("exec", "up", "mkdir", "/scratch/dir")
    rl("cp", "up:/scratch/f", "up:/scratch/dir/g")
    rl("cp", "up:/scratch/dir", "other:/copied")
    rl("cp", "up:/scratch/f", "other:/copied/f")
    assert rl("start", "-a", "other").stdout == "rootless\n"
