"""Rootless: crafted images whose /dev, /proc, /sys, /dev/shm or /etc/hosts is a symlink to a host
directory the user owns never make podpy write there, with the built-in runtime and with runc."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.busybox import make_rootfs
from tests.escape_images import CASES, PROBE, SECRET, link_target, make_image_tar, make_marker, snapshot
from tests.rootless.conftest import Rootless

HAVE_RUNC = shutil.which("runc") is not None or Path("/usr/sbin/runc").exists()
RUNTIMES = {"builtin": [], "runc": ["--runtime", "runc"]}
# runc gets the rootfs mounted on the host, which an ordinary user cannot do with overlay: runc
# runs rootless on a vfs store of its own (under the test's directory)


@pytest.fixture
def work(rl: Rootless) -> Iterator[Path]:
    """A host directory the test user owns (so an escape would be able to write there)."""
    d = Path(tempfile.mkdtemp(prefix="podpy-rl-escape-"))
    os.chmod(d, 0o755)
    os.chown(d, rl.user.uid, rl.user.gid)
    yield d
    if (d / "store").exists():
        rl(*_vfs_store(d), "rm", "-af", check=False)
    shutil.rmtree(d, ignore_errors=True)


def _vfs_store(work: Path) -> list[str]:
    return ["--root", str(work / "store"), "--runroot", str(work / "run"), "--storage-driver", "vfs"]


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.chown(p, uid, gid)


@pytest.mark.parametrize("runtime", list(RUNTIMES))
@pytest.mark.parametrize("relative", [False, True], ids=["abs", "rel"])
@pytest.mark.parametrize("image_path", ["dev", "proc", "sys", "dev/shm", "etc/hosts"])
def test_rootless_image_symlink_stays_off_the_host(rl: Rootless, work: Path, image_path: str, relative: bool,
                                                   runtime: str) -> None:  # fmt: skip
    if runtime == "runc" and not HAVE_RUNC:
        pytest.skip("runc is not installed")
    marker = make_marker(work / "marker", CASES[image_path])
    _chown_tree(marker, rl.user.uid, rl.user.gid)
    before = snapshot(marker)
    tar = make_image_tar(work / "img.tar", image_path, link_target(marker, image_path, relative))
    name = f"crafted-{image_path.replace('/', '-')}"
    store = _vfs_store(work) if runtime == "runc" else []
    rl(*store, "import", str(tar), name)
    res = rl(*store, *RUNTIMES[runtime], "run", "--rm", name, "sh", "-c", PROBE, check=False)
    assert snapshot(marker) == before, f"the host's {marker} changed"
    assert SECRET not in res.stdout
    assert res.returncode == 0, res.stderr
    assert "probe-done" in res.stdout
    rl(*store, "rmi", name)


@pytest.mark.parametrize("relative", [False, True], ids=["abs", "rel"])
@pytest.mark.parametrize("image_path", ["dev", "proc", "sys", "dev/shm", "etc/hosts"])
def test_rootless_rootfs_dir_symlink_stays_off_the_host(rl: Rootless, work: Path, image_path: str,
                                                        relative: bool) -> None:  # fmt: skip
    """--rootfs: no init layer in front, the built-in runtime's own resolution is what holds."""
    marker = make_marker(work / "marker", CASES[image_path])
    _chown_tree(marker, rl.user.uid, rl.user.gid)
    before = snapshot(marker)
    root = make_rootfs(work / "rootfs")
    victim = root / image_path
    shutil.rmtree(victim) if victim.is_dir() else victim.unlink(missing_ok=True)
    victim.symlink_to(link_target(marker, image_path, relative))
    for p in [root, *root.rglob("*")]:
        os.lchown(p, rl.user.uid, rl.user.gid)
    res = rl("run", "--rm", "--rootfs", str(root), "sh", "-c", PROBE, check=False)
    assert snapshot(marker) == before, f"the host's {marker} changed"
    assert SECRET not in res.stdout
    assert res.returncode == 0, res.stderr
    assert "probe-done" in res.stdout
