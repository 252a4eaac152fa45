"""storage/idshift: the ID-shifted copy of a layer (rootless --uidmap), checked as root on a tmp tree."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from podpy.engine.idcompose import needs_shift
from podpy.errors import StorageError
from podpy.storage import idshift

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to other ids needs root")
UIDS, GIDS = ((0, 100, 10),), ((0, 200, 10),)


def _tree(src: Path) -> None:
    (src / "d").mkdir(parents=True)
    os.setxattr(src / "d", "user.overlay.opaque", b"y")
    (src / "d" / "suid").write_text("x")
    os.chown(src / "d" / "suid", 7, 8)
    os.chmod(src / "d" / "suid", 0o4755)
    os.link(src / "d" / "suid", src / "hard")
    (src / "ln").symlink_to("d/suid")
    os.mkfifo(src / "fifo")
    os.utime(src / "d", (1000, 2000))


def test_copy_shifts_owners_and_keeps_the_rest(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _tree(src)
    idshift._copy(src, dst, UIDS, GIDS)
    st = os.lstat(dst / "d" / "suid")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (107, 208, 0o4755)
    assert os.lstat(dst / "hard").st_ino == st.st_ino != os.lstat(src / "hard").st_ino  # a real copy, links kept
    assert os.readlink(dst / "ln") == "d/suid" and os.lstat(dst / "ln").st_uid == 100
    assert stat.S_ISFIFO(os.lstat(dst / "fifo").st_mode)
    assert os.getxattr(dst / "d", "user.overlay.opaque") == b"y"
    assert os.lstat(dst / "d").st_mtime == 2000 and os.lstat(dst).st_uid == 100
    assert os.lstat(src / "d" / "suid").st_uid == 7  # the layer itself is untouched


def test_an_unmapped_owner_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").touch()
    os.chown(tmp_path / "src" / "f", 50, 0)
    with pytest.raises(StorageError, match="container UID 50 cannot be mapped"):
        idshift._copy(tmp_path / "src", tmp_path / "dst", UIDS, GIDS)


def test_key_and_needs_shift() -> None:
    assert idshift.key(UIDS, GIDS) == idshift.key([list(UIDS[0])], [list(GIDS[0])]) != idshift.key(UIDS, UIDS)
    assert needs_shift(UIDS, GIDS) and not needs_shift(((0, 0, 5),), ()) and not needs_shift((), ())
