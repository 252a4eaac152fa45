"""Copy-up: a new volume is filled from the image's layers, safely, once (root: whiteouts are devices)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from podpy.config import Options
from podpy.engine import Engine
from podpy.engine.mount_resolution import populate_volumes, resolve_mounts
from podpy.volumes.copyup import MergedTree, copy_up
from tests.conftest import Podpy

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts (char 0/0) and chown need root")


def _whiteout(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))


def _layers(tmp: Path) -> list[Path]:
    """Two overlay-style layer diffs, top first."""
    lower, upper = tmp / "lower", tmp / "upper"
    (lower / "data" / "sub").mkdir(parents=True)
    (lower / "etc").mkdir()
    (lower / "etc" / "passwd").write_text("image-passwd\n")
    (lower / "data" / "a").write_text("a\n")
    (lower / "data" / "b").write_text("b\n")
    (lower / "data" / "sub" / "c").write_text("c\n")
    os.symlink("/etc/passwd", lower / "data" / "link")
    (lower / "run").mkdir()
    (lower / "run" / "x").write_text("x\n")
    (lower / "var").mkdir()
    os.symlink("../run", lower / "var" / "run")
    os.symlink("../../../../../../etc", lower / "evil")
    (upper / "data" / "sub").mkdir(parents=True)
    _whiteout(upper / "data" / "b")
    (upper / "data" / "new").write_text("new\n")
    os.setxattr(upper / "data" / "sub", "trusted.overlay.opaque", b"y")
    (upper / "data" / "sub" / "d").write_text("d\n")
    return [upper, lower]


def _tree(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            out[rel] = "->" + os.readlink(p) if p.is_symlink() else ("dir" if p.is_dir() else p.read_text())
    return out


def test_merged_tree_honours_whiteouts_and_opaque(tmp_path: Path) -> None:
    tree = MergedTree(_layers(tmp_path))
    assert tree.listdir(["data"]) == ["a", "link", "new", "sub"]
    assert tree.listdir(["data", "sub"]) == ["d"]
    assert tree.lookup(["data", "b"]) is None
    assert tree.resolve("/var/run/x") == ["run", "x"]
    assert tree.resolve("/evil") == ["etc"]  # climbing out of / stays at /
    assert tree.resolve("/missing/x") is None


def test_copy_up_merges_layers_and_keeps_symlinks(tmp_path: Path) -> None:
    dest = tmp_path / "vol"
    dest.mkdir()
    assert copy_up(_layers(tmp_path), "/data", dest)
    assert _tree(dest) == {"a": "a\n", "link": "->/etc/passwd", "new": "new\n", "sub": "dir", "sub/d": "d\n"}


def test_copy_up_resolves_symlinks_inside_the_image(tmp_path: Path) -> None:
    layers = _layers(tmp_path)
    via_link = tmp_path / "v1"
    via_link.mkdir()
    assert copy_up(layers, "/var/run", via_link)
    assert _tree(via_link) == {"x": "x\n"}
    evil = tmp_path / "v2"
    evil.mkdir()
    assert copy_up(layers, "/evil", evil)  # -> the image's /etc, never the host's
    assert _tree(evil) == {"passwd": "image-passwd\n"}
    nothing = tmp_path / "v3"
    nothing.mkdir()
    assert not copy_up(layers, "/nope", nothing) and not copy_up(layers, "/etc/passwd", nothing)
    assert _tree(nothing) == {}


def test_copy_up_never_writes_through_existing_entries(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "vol"
    dest.mkdir()
    os.symlink(outside, dest / "sub")  # planted by a container that already used the volume
    os.symlink(outside / "a", dest / "a")
    assert copy_up(_layers(tmp_path), "/data", dest)
    assert list(outside.iterdir()) == []
    assert (dest / "new").read_text() == "new\n"


def test_copy_up_keeps_owner_mode_and_mount_point_owner(tmp_path: Path) -> None:
    layer = tmp_path / "l"
    (layer / "db").mkdir(parents=True)
    os.chown(layer / "db", 999, 998)
    os.chmod(layer / "db", 0o750)
    (layer / "db" / "f").write_text("f")
    os.chown(layer / "db" / "f", 5, 6)
    os.chmod(layer / "db" / "f", 0o4711)
    os.utime(layer / "db" / "f", (1000, 2000))
    dest = tmp_path / "vol"
    dest.mkdir()
    assert copy_up([layer], "/db", dest)
    st = os.stat(dest)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (999, 998, 0o750)
    st = os.stat(dest / "f")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), st.st_mtime) == (5, 6, 0o4711, 2000)


@pytest.mark.parametrize("driver", ["overlay", "vfs"])
def test_populate_from_a_real_image_once(podpy: Podpy, busybox_tar: Path, driver: str) -> None:
    podpy("--storage-driver", driver, "import", str(busybox_tar), "bb")
    eng = Engine(Options(root=podpy.root, runroot=podpy.runroot))
    top = eng.images.get("bb").top_layer
    res = resolve_mounts(eng, ["bins:/bin", "/etc", "empty:/nonexistent"],
                         image_volumes=["/bin", "/home"])  # fmt: skip
    anon, home = res.anonymous
    assert res.copy_up == [("bins", "/bin"), (anon, "/etc"), ("empty", "/nonexistent"), (home, "/home")]
    assert sorted(populate_volumes(eng, res, top)) == sorted(["bins", anon, home])
    assert (eng.volumes.mountpoint("bins") / "busybox").is_file()
    assert (eng.volumes.mountpoint(anon) / "passwd").is_file()
    skip = resolve_mounts(eng, ["skip:/etc:nocopy"])
    assert skip.copy_up == [] and populate_volumes(eng, skip, top) == []
    assert not any(eng.volumes.mountpoint("skip").iterdir())
    for name in ("bins", anon, "empty"):
        assert not eng.volumes.get(name).needs_copy_up
    assert eng.volumes.get("skip").needs_copy_up  # nocopy leaves it for a later mount
    (eng.volumes.mountpoint("bins") / "busybox").unlink()
    assert populate_volumes(eng, res, top) == []  # only once in a volume's life
    assert not (eng.volumes.mountpoint("bins") / "busybox").exists()
    again = resolve_mounts(eng, ["bins:/bin", "empty:/etc"])
    assert again.copy_up == []  # already populated (or given the chance): never again


def test_copy_up_skips_a_volume_with_data(podpy: Podpy, busybox_tar: Path) -> None:
    podpy("import", str(busybox_tar), "bb")
    eng = Engine(Options(root=podpy.root, runroot=podpy.runroot))
    eng.volumes.create("full")
    (eng.volumes.mountpoint("full") / "mine").write_text("mine")
    res = resolve_mounts(eng, ["full:/etc"])
    assert populate_volumes(eng, res, eng.images.get("bb").top_layer) == []
    assert [p.name for p in eng.volumes.mountpoint("full").iterdir()] == ["mine"]
