"""Driver detection, chain IDs, path cleaning, and reading a stack of overlay diffs unmounted."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from podpy.errors import StorageError, UnsafeArchive
from podpy.inroot import clean_parts
from podpy.state.layout import Layout
from podpy.storage.diffwalk import LowerView
from podpy.storage.drivers import detect_driver
from podpy.storage.layers import LayerStore

ROOT = os.geteuid() == 0


def test_chain_id_formula() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert LayerStore.chain_id(None, a) == a
    assert LayerStore.chain_id(a, b) == "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()


def test_bad_digests_never_become_paths(tmp_path: Path) -> None:
    s = LayerStore(Layout(tmp_path / "root", tmp_path / "run"), "vfs", rootless=not ROOT)
    for bad in ("sha256:../../etc", "sha256:" + "A" * 64, "md5:00", ""):
        with pytest.raises(StorageError, match="invalid layer digest"):
            s.diff_path(bad)


def test_clean_parts() -> None:
    assert clean_parts("/a//b/./c/") == ("a", "b", "c")
    assert clean_parts("a/b/../c") == ("a", "c")
    assert clean_parts("./") == ()
    with pytest.raises(UnsafeArchive):
        clean_parts("a/../../b")


@pytest.mark.skipif(not ROOT, reason="the root probe mounts overlayfs")
def test_detect_driver_root(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "root", tmp_path / "run")
    assert detect_driver(layout, rootless=False) == "overlay"
    assert os.listdir(layout.layers) == []  # the probe cleaned up after itself


def test_detect_driver_rootless_by_kernel(tmp_path: Path) -> None:
    major, minor = (int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    want = "overlay" if (major, minor) >= (5, 11) else "vfs"
    assert detect_driver(Layout(tmp_path, tmp_path), rootless=True) == want


def _whiteout(p: Path) -> None:
    os.mknod(p, stat.S_IFCHR, os.makedev(0, 0))


def _opaque(p: Path) -> None:
    os.setxattr(p, "trusted.overlay.opaque" if ROOT else "user.overlay.opaque", b"y")


def test_lower_view_follows_overlay_rules(tmp_path: Path) -> None:
    bottom, middle, top = (tmp_path / n for n in ("bottom", "middle", "top"))
    for p in ("d/a", "d/b", "e/x", "f", "g/deep/y"):
        (bottom / p).parent.mkdir(parents=True, exist_ok=True)
        (bottom / p).write_text("bottom")
    (middle / "d").mkdir(parents=True)
    (middle / "d" / "c").write_text("middle")
    _whiteout(middle / "d" / "b")
    (middle / "e").mkdir()
    _opaque(middle / "e")
    (middle / "e" / "z").write_text("middle")
    (middle / "g").write_text("a file now")
    top.mkdir()
    _whiteout(top / "f")
    v = LowerView([top, middle, bottom])
    assert v.listdir("/d") == {"a", "c"}
    assert v.lookup("/d/b") is None and v.lookup("/d/a") is not None
    assert v.listdir("/e") == {"z"} and v.lookup("/e/x") is None  # opaque in the middle
    assert v.lookup("/f") is None  # whited out on top
    assert v.lookup("/g/deep/y") is None and v.lookup("/g") is not None  # a file hides the old dir
    assert v.listdir("/") == {"d", "e", "g"}


def _tar(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_layer_above_a_missing_parent_waits_and_is_never_published(tmp_path: Path) -> None:
    """put(parent_ready=...) extracts before the parent is stored but publishes only after it."""
    import io

    s = LayerStore(Layout(tmp_path / "root", tmp_path / "run"), "overlay", rootless=not ROOT)
    bottom, top = _tar({"a": b"a"}), _tar({"b": b"b"})
    bottom_id, top_id = ("sha256:" + hashlib.sha256(t).hexdigest() for t in (bottom, top))
    parent = s.chain_id(None, bottom_id)

    def parent_failed() -> None:
        raise RuntimeError("the parent's download failed")

    with pytest.raises(RuntimeError):
        s.put(parent, io.BytesIO(top), expected_diff_id=top_id, parent_ready=parent_failed)
    assert s.list() == [] and not list(s.layout.layers.glob(".tmp-*"))
    with pytest.raises(StorageError, match="not known"):  # ready, yet the parent is not there
        s.put(parent, io.BytesIO(top), expected_diff_id=top_id, parent_ready=lambda: None)
    order: list[str] = []

    def store_parent_first() -> None:
        order.append("parent")
        s.put(None, io.BytesIO(bottom), expected_diff_id=bottom_id)

    rec = s.put(parent, io.BytesIO(top), expected_diff_id=top_id, parent_ready=store_parent_first)
    assert order == ["parent"] and rec.parent == parent and s.exists(rec.chain_id)
    assert rec.tar_size == len(top) and s.get(rec.chain_id).tar_size == len(top)


def test_parent_ready_needs_overlay(tmp_path: Path) -> None:
    import io

    s = LayerStore(Layout(tmp_path / "root", tmp_path / "run"), "vfs", rootless=not ROOT)
    with pytest.raises(StorageError, match="overlay"):
        s.put(None, io.BytesIO(_tar({"a": b"a"})), parent_ready=lambda: None)
