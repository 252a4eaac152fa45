"""Crafted images whose /dev, /proc, /sys, /dev/shm, /dev/pts, /etc/hosts or /etc/resolv.conf is a
symlink (absolute or relative) to a host directory: running them never touches the host's side, with
the built-in runtime and with runc, and the container never sees the host's files (issue 8, item 2).
Also mount targets, cp and volume copy-up through such links."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.escape_images import (
    CASES,
    PROBE,
    SECRET,
    SENTINEL,
    link_target,
    make_image_tar,
    make_marker,
    snapshot,
)

RUNTIMES = {"builtin": [], "runc": ["--runtime", "runc"]}


def _image(podpy: Podpy, tmp_path: Path, image_path: str, target: str, name: str = "crafted") -> str:
    tar = make_image_tar(tmp_path / f"{name}.tar", image_path, target)
    podpy("import", str(tar), name)
    return name


@pytest.mark.parametrize("runtime", list(RUNTIMES))
@pytest.mark.parametrize("relative", [False, True], ids=["abs", "rel"])
@pytest.mark.parametrize("image_path", list(CASES))
def test_image_symlink_stays_off_the_host(podpy: Podpy, tmp_path: Path, image_path: str, relative: bool,
                                          runtime: str) -> None:  # fmt: skip
    marker = make_marker(tmp_path / "host" / "marker", CASES[image_path])
    before = snapshot(marker)
    image = _image(podpy, tmp_path, image_path, link_target(marker, image_path, relative))
    res = podpy(*RUNTIMES[runtime], "run", "--rm", image, "sh", "-c", PROBE, check=False)
    assert snapshot(marker) == before, f"the host's {marker} changed"
    assert SECRET not in res.stdout
    assert res.returncode == 0, res.stderr
    assert "probe-done" in res.stdout
    assert "localhost" in res.stdout  # podpy's own /etc/hosts is what the container sees


@pytest.mark.parametrize("runtime", list(RUNTIMES))
@pytest.mark.parametrize("relative", [False, True], ids=["abs", "rel"])
def test_mount_target_through_symlink_lands_inside(podpy: Podpy, tmp_path: Path, relative: bool,
                                                   runtime: str) -> None:  # fmt: skip
    marker = make_marker(tmp_path / "host" / "marker", "dir")
    before = snapshot(marker)
    src = tmp_path / "src"
    src.mkdir()
    (src / "data").write_text("bound\n")
    image = _image(podpy, tmp_path, "mnt/target", link_target(marker, "mnt/target", relative))
    res = podpy(*RUNTIMES[runtime], "run", "--rm", "-v", f"{src}:/mnt/target/sub", "-v",
                f"{src / 'data'}:/mnt/target/file", image, "sh", "-c",
                f"cat /mnt/target/sub/data /mnt/target/file; cat /mnt/target/{SENTINEL}; true")  # fmt: skip
    assert snapshot(marker) == before
    assert res.returncode == 0, res.stderr
    assert res.stdout == "bound\nbound\n"


def test_cp_through_symlink_lands_inside(podpy: Podpy, tmp_path: Path) -> None:
    marker = make_marker(tmp_path / "host" / "marker", "dir")
    before = snapshot(marker)
    image = _image(podpy, tmp_path, "mnt/target", str(marker))
    podpy("create", "--name", "c", image, "true")
    (tmp_path / "new").write_text("copied\n")
    podpy("cp", str(tmp_path / "new"), "c:/mnt/target/new", check=False)  # no such directory in the root
    podpy("cp", str(tmp_path / "new"), "c:/mnt/target", check=False)  # a file at the link's target, inside
    res = podpy("cp", f"c:/mnt/target/{SENTINEL}", str(tmp_path / "out"), check=False)
    assert res.returncode != 0 and not (tmp_path / "out").exists()
    assert snapshot(marker) == before
    podpy("rm", "-f", "c")


def test_volume_copy_up_through_symlink(podpy: Podpy, tmp_path: Path) -> None:
    marker = make_marker(tmp_path / "host" / "marker", "dir")
    before = snapshot(marker)
    image = _image(podpy, tmp_path, "data", str(marker))
    res = podpy("run", "--rm", "-v", "vol:/data", image, "sh", "-c", f"ls -A /data; cat /data/{SENTINEL}; true")
    assert SECRET not in res.stdout and SENTINEL not in res.stdout
    mountpoint = Path(podpy("volume", "inspect", "-f", "{{.Mountpoint}}", "vol").stdout.strip())
    assert list(mountpoint.iterdir()) == []
    assert snapshot(marker) == before


@pytest.mark.parametrize("runtime", list(RUNTIMES))
@pytest.mark.parametrize("image_path", ["dev", "proc", "etc/hosts"])
def test_vfs_rootfs_symlinks_replaced(podpy_vfs: Podpy, tmp_path: Path, image_path: str, runtime: str) -> None:
    """vfs has no init layer: the copy's symlinks are replaced by real directories and files."""
    marker = make_marker(tmp_path / "host" / "marker", CASES[image_path])
    before = snapshot(marker)
    image = _image(podpy_vfs, tmp_path, image_path, link_target(marker, image_path, relative=True))
    res = podpy_vfs(*RUNTIMES[runtime], "run", "--rm", image, "sh", "-c", PROBE, check=False)
    assert snapshot(marker) == before
    assert SECRET not in res.stdout
    assert res.returncode == 0, res.stderr
    assert "probe-done" in res.stdout


def test_symlink_left_in_the_writable_layer_is_gone_at_next_start(podpy: Podpy, tmp_path: Path,
                                                                  busybox_image: str) -> None:  # fmt: skip
    """A link to the host on /dev in a container's own layer (put there while it was stopped) is
    removed when it starts again, so the init layer shows through."""
    marker = make_marker(tmp_path / "host" / "marker", "dir")
    before = snapshot(marker)
    cid = podpy("create", "--name", "c", busybox_image, "sh", "-c", "test -d /dev && test ! -L /dev").stdout.strip()
    uppers = list(podpy.root.rglob(f"{cid}/rw/upper"))
    assert len(uppers) == 1
    (uppers[0] / "dev").symlink_to(str(marker))
    res = podpy("--runtime", "runc", "start", "-a", "c", check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert snapshot(marker) == before
    assert not (uppers[0] / "dev").is_symlink()
    podpy("rm", "-f", "c")
