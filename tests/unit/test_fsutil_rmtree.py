"""podpy.storage.fsutil.rmtree: shutil.rmtree's contract (no symlink followed) without importing shutil."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podpy.storage.fsutil import force_rmtree, rmtree


def _tree(base: Path, outside: Path) -> Path:
    t = base / "tree"
    (t / "a" / "b" / "c").mkdir(parents=True)
    (t / "a" / "f").write_text("x")
    (t / "a" / "b" / "g").write_text("y")
    os.symlink(outside, t / "a" / "linkdir")
    os.symlink(outside / "keep", t / "a" / "linkfile")
    os.symlink("/nonexistent", t / "dangling")
    os.mkfifo(t / "fifo")
    return t


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    o = tmp_path / "outside"
    o.mkdir()
    (o / "keep").write_text("k")
    return o


@pytest.mark.parametrize("remove", [rmtree, force_rmtree])
def test_removes_everything_and_follows_no_link(tmp_path: Path, outside: Path, remove) -> None:  # type: ignore[no-untyped-def]
    t = _tree(tmp_path, outside)
    remove(t)
    assert not os.path.lexists(t)
    assert (outside / "keep").read_text() == "k"


def test_missing_is_fine_and_a_link_or_file_is_an_error(tmp_path: Path, outside: Path) -> None:
    rmtree(tmp_path / "missing")
    force_rmtree(tmp_path / "missing")
    os.symlink(outside, tmp_path / "link")
    (tmp_path / "file").write_text("z")
    for p in (tmp_path / "link", tmp_path / "file"):
        with pytest.raises(OSError):
            rmtree(p)
        rmtree(p, ignore_errors=True)  # silent, as shutil's
    assert (outside / "keep").exists() and (tmp_path / "file").exists()
