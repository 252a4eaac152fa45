"""A corpus of malicious and awkward layers: nothing may ever be written outside the target.

Each test extracts into <tmp>/target while <tmp>/canary (a sibling) holds files an escape would
hit; `box.assert_outside_untouched()` compares everything outside the target, and /etc/passwd,
with a snapshot taken before the extraction.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from podpy.errors import CorruptContent, UnsafeArchive
from podpy.storage.compress import open_decompressed
from podpy.storage.tarsafe import extract_layer

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root")


def _tree(top: Path, skip: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if p == skip:
                continue
            st = os.lstat(p)
            body = p.read_bytes() if stat.S_ISREG(st.st_mode) else b""
            link = os.readlink(p) if stat.S_ISLNK(st.st_mode) else ""
            out[str(p)] = (st.st_mode, st.st_nlink, st.st_mtime_ns, hashlib.sha256(body).hexdigest(), link)
    return out


def _etc_passwd() -> tuple:
    st = os.stat("/etc/passwd")
    return (st.st_ino, st.st_nlink, st.st_mtime_ns, hashlib.sha256(Path("/etc/passwd").read_bytes()).digest())


@dataclass
class Box:
    top: Path
    target: Path
    canary: Path
    before: dict[str, tuple]
    passwd: tuple

    def assert_outside_untouched(self) -> None:
        assert _tree(self.top, self.target) == self.before
        assert _etc_passwd() == self.passwd


@pytest.fixture
def box(tmp_path: Path) -> Box:
    canary = tmp_path / "canary"
    (canary / "sub").mkdir(parents=True)
    (canary / "secret").write_text("secret")
    (canary / "sub" / "file").write_text("file")
    (tmp_path / "outside.txt").write_text("outside")
    target = tmp_path / "target"
    target.mkdir()
    return Box(tmp_path, target, canary, _tree(tmp_path, target), _etc_passwd())


# --- building layers ------------------------------------------------------------------------


def _info(name: str, type_: bytes = tarfile.REGTYPE, mode: int = 0o644, **kw: object) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = type_, mode, 1_600_000_000
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def reg(name: str, data: bytes = b"data", **kw: object) -> tuple[tarfile.TarInfo, bytes]:
    return _info(name, size=len(data), **kw), data


def dir_(name: str, mode: int = 0o755, **kw: object) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.DIRTYPE, mode, **kw), None


def sym(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.SYMTYPE, 0o777, linkname=target), None


def hard(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.LNKTYPE, linkname=target), None


def layer(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for ti, data in members:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def extract(
    target: Path, data: bytes, whiteouts: str = "vfs", allow_devices: bool = False, rootless: bool = not ROOT
):
    return extract_layer(
        io.BytesIO(data), target, whiteouts=whiteouts, allow_devices=allow_devices, rootless=rootless
    )


# --- escapes by name --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../escape.txt", "./../../../escape.txt"])
def test_dotdot_names_refused(box: Box, name: str) -> None:
    with pytest.raises(UnsafeArchive, match="climbs out"):
        extract(box.target, layer(reg(name)))
    box.assert_outside_untouched()


def test_absolute_name_is_made_relative(box: Box) -> None:
    extract(box.target, layer(reg("/abs.txt", b"abs"), reg("//etc//x", b"x")))
    assert (box.target / "abs.txt").read_bytes() == b"abs"
    assert (box.target / "etc" / "x").read_bytes() == b"x"
    box.assert_outside_untouched()


# --- writing through symlinks --------------------------------------------------------------


def test_absolute_symlink_then_file_through_it(box: Box) -> None:
    extract(box.target, layer(sym("lnk", str(box.canary)), reg("lnk/secret", b"pwned")))
    assert os.readlink(box.target / "lnk") == str(box.canary)  # stored as it is
    inside = box.target / str(box.canary).lstrip("/") / "secret"
    assert inside.read_bytes() == b"pwned"  # resolved as if the target were /
    box.assert_outside_untouched()


def test_relative_symlink_climbing_then_file_through_it(box: Box) -> None:
    extract(box.target, layer(sym("lnk", "../../../.."), reg("lnk/outside.txt", b"pwned")))
    assert (box.target / "outside.txt").read_bytes() == b"pwned"
    box.assert_outside_untouched()


def test_symlink_chain_to_root(box: Box) -> None:
    data = layer(sym("a", "b"), sym("b", "/"), sym("c", "a/../.."), reg("a/x", b"1"), reg("c/canary/y", b"2"))
    extract(box.target, data)
    assert (box.target / "x").read_bytes() == b"1"
    assert (box.target / "canary" / "y").read_bytes() == b"2"
    box.assert_outside_untouched()


def test_symlink_loop_refused(box: Box) -> None:
    with pytest.raises(UnsafeArchive, match="symbolic links"):
        extract(box.target, layer(sym("a", "b"), sym("b", "a"), reg("a/x")))
    box.assert_outside_untouched()


def test_directory_replaced_by_symlink_then_written_into(box: Box) -> None:
    data = layer(dir_("d"), reg("d/first"), sym("d", str(box.canary)), reg("d/sub/file", b"pwned"))
    extract(box.target, data)
    assert os.readlink(box.target / "d") == str(box.canary)
    assert (box.target / str(box.canary).lstrip("/") / "sub" / "file").read_bytes() == b"pwned"
    box.assert_outside_untouched()


def test_resolved_parent_is_not_reused_after_it_became_a_symlink(box: Box) -> None:
    """The extractor keeps entries' parent directories open between entries: replacing one by a
    symlink must make the next entry in it resolve again (inside the root), not use the old one."""
    data = layer(dir_("d"), reg("d/first"), sym("d", str(box.canary)), reg("d/second", b"pwned"))
    extract(box.target, data)
    assert (box.target / str(box.canary).lstrip("/") / "second").read_bytes() == b"pwned"
    assert not (box.target / "d").is_dir() or (box.target / "d").is_symlink()
    box.assert_outside_untouched()


def test_resolved_parent_is_not_reused_after_it_was_replaced(box: Box) -> None:
    data = layer(dir_("d"), reg("d/first"), reg("d"), dir_("d"), reg("d/second", b"new"))
    extract(box.target, data)
    assert sorted(os.listdir(box.target / "d")) == ["second"]


def test_regular_file_replaces_symlink_instead_of_writing_through(box: Box) -> None:
    extract(box.target, layer(sym("lnk", str(box.canary / "secret")), reg("lnk", b"pwned")))
    assert not (box.target / "lnk").is_symlink()
    assert (box.target / "lnk").read_bytes() == b"pwned"
    box.assert_outside_untouched()


def test_parent_that_is_a_file_refused(box: Box) -> None:
    with pytest.raises(UnsafeArchive, match="not a directory"):
        extract(box.target, layer(reg("f"), reg("f/x")))
    box.assert_outside_untouched()


# --- hard links -----------------------------------------------------------------------------


def test_hardlink_to_etc_passwd_refused(box: Box) -> None:
    with pytest.raises(UnsafeArchive, match="not in the layer|missing"):
        extract(box.target, layer(hard("pw", "/etc/passwd"), reg("pw", b"pwned")))
    box.assert_outside_untouched()


def test_hardlink_climbing_refused(box: Box) -> None:
    with pytest.raises(UnsafeArchive, match="climbs out"):
        extract(box.target, layer(hard("s", "../canary/secret")))
    box.assert_outside_untouched()


def test_hardlink_via_symlinked_parent_stays_inside(box: Box) -> None:
    with pytest.raises(UnsafeArchive):
        extract(box.target, layer(sym("d", str(box.canary)), hard("s", "d/secret")))
    box.assert_outside_untouched()


def test_hardlink_via_symlinked_parent_to_inside_file(box: Box) -> None:
    extract(box.target, layer(reg("real/f", b"f"), sym("d", "/real"), hard("h", "d/f")))
    assert os.stat(box.target / "h").st_ino == os.stat(box.target / "real" / "f").st_ino
    box.assert_outside_untouched()


def test_hardlink_to_directory_refused(box: Box) -> None:
    with pytest.raises(UnsafeArchive, match="directory"):
        extract(box.target, layer(dir_("d"), hard("h", "d")))


# --- whiteouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["vfs", "overlay"])
@pytest.mark.parametrize("name", ["x/.wh...", "x/.wh..", "x/.wh.", ".wh.."])
def test_whiteout_of_dot_names_refused(box: Box, mode: str, name: str) -> None:
    (box.target / "x").mkdir()
    with pytest.raises(UnsafeArchive, match="names no sibling"):
        extract(box.target, layer(reg(name, b"")), whiteouts=mode)
    assert (box.target / "x").is_dir()
    box.assert_outside_untouched()


def test_whiteout_climbing_refused(box: Box) -> None:
    with pytest.raises(UnsafeArchive, match="climbs out"):
        extract(box.target, layer(reg("../.wh.canary", b"")))
    box.assert_outside_untouched()


def test_vfs_whiteout_through_symlink_stays_inside(box: Box) -> None:
    data = layer(
        sym("l", str(box.canary)), reg("l/.wh.secret", b""), sym("up", "../.."), reg("up/.wh.canary", b"")
    )
    extract(box.target, data)
    box.assert_outside_untouched()


def test_vfs_opaque_through_symlink_stays_inside(box: Box) -> None:
    (box.target / "keep").write_text("lower")
    data = layer(
        sym("l", str(box.top)), reg("l/.wh..wh..opq", b""), sym("m", "../.."), reg("m/.wh..wh..opq", b"")
    )
    extract(box.target, data)
    box.assert_outside_untouched()
    assert not (box.target / "keep").exists()  # `m` resolves to the target root: its lower content goes


def test_vfs_whiteouts_delete_lower_content_only(box: Box) -> None:
    t = box.target
    for p in ("gone/deep/f", "dir/old", "dir/sub/old", "same/f"):
        (t / p).parent.mkdir(parents=True, exist_ok=True)
        (t / p).write_text("lower")
    data = layer(
        reg(".wh.gone", b""),
        reg("dir/new", b"new"),
        reg("dir/sub/new", b"new"),
        reg("dir/.wh..wh..opq", b""),  # after this layer's own entries: those stay
        reg("same/g", b"g"),
        reg("same/.wh.g", b""),  # same-layer entry: not hidden
        reg(".wh..wh.plnk", b""),  # aufs metadata: skipped
    )
    stats = extract(t, data)
    assert not (t / "gone").exists()
    assert sorted(os.listdir(t / "dir")) == ["new", "sub"]
    assert os.listdir(t / "dir" / "sub") == ["new"]
    assert sorted(os.listdir(t / "same")) == ["f", "g"]
    assert ".wh..wh.plnk" in stats.skipped
    box.assert_outside_untouched()


def test_overlay_whiteouts_become_devices_and_xattrs(box: Box) -> None:
    data = layer(
        dir_("d"),
        reg("d/.wh..wh..opq", b""),
        reg("d/f"),
        reg(".wh.gone", b""),
        reg(".wh.back", b""),
        dir_("back"),
    )
    extract(box.target, data, whiteouts="overlay", rootless=not ROOT)
    st = os.lstat(box.target / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    name = "trusted.overlay.opaque" if ROOT else "user.overlay.opaque"
    assert os.getxattr(box.target / "d", name) == b"y"
    # a directory recreated where this layer whited one out hides the lower one's content
    assert stat.S_ISDIR(os.lstat(box.target / "back").st_mode)
    assert os.getxattr(box.target / "back", name) == b"y"
    box.assert_outside_untouched()


@needs_root
def test_overlay_opaque_rootless_uses_user_xattr(box: Box) -> None:
    extract(box.target, layer(dir_("d"), reg("d/.wh..wh..opq", b"")), whiteouts="overlay", rootless=True)
    assert os.getxattr(box.target / "d", "user.overlay.opaque") == b"y"


# --- devices, modes, ownership, xattrs, names ------------------------------------------------


def _dev(name: str, major: int, minor: int) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.CHRTYPE, 0o666, devmajor=major, devminor=minor), None


def test_devices_skipped_unless_allowed(box: Box) -> None:
    stats = extract(box.target, layer(_dev("dev/null", 1, 3), (_info("fifo", tarfile.FIFOTYPE), None)))
    assert not (box.target / "dev" / "null").exists()
    assert "dev/null" in stats.skipped
    assert stat.S_ISFIFO(os.lstat(box.target / "fifo").st_mode)  # needs no privilege: always made


@needs_root
def test_devices_created_when_allowed(box: Box) -> None:
    extract(box.target, layer(_dev("dev/null", 1, 3)), allow_devices=True)
    st = os.lstat(box.target / "dev" / "null")
    assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)
    assert stat.S_IMODE(st.st_mode) == 0o666


@needs_root
def test_setuid_ownership_and_times_preserved(box: Box) -> None:
    data = layer(
        dir_("bin", 0o2775, uid=7, gid=8),
        reg("bin/su", b"su", mode=0o4755, uid=0, gid=0),
        reg("bin/owned", b"o", mode=0o2750, uid=1234, gid=4321),
        sym("bin/l", "su"),
    )
    extract(box.target, data)
    su, owned, b = (os.lstat(box.target / p) for p in ("bin/su", "bin/owned", "bin"))
    assert stat.S_IMODE(su.st_mode) == 0o4755
    assert (owned.st_uid, owned.st_gid, stat.S_IMODE(owned.st_mode)) == (1234, 4321, 0o2750)
    assert (b.st_uid, b.st_gid, stat.S_IMODE(b.st_mode)) == (7, 8, 0o2775)
    assert b.st_mtime == su.st_mtime == os.lstat(box.target / "bin/l").st_mtime == 1_600_000_000


def test_long_names_beyond_path_max(box: Box) -> None:
    comps = [f"{i:03d}" + "d" * 240 for i in range(20)]  # ~4900 bytes: longer than PATH_MAX
    name = "/".join(comps) + "/" + "f" * 255
    extract(box.target, layer(reg(name, b"deep")))
    fd = os.open(box.target, os.O_RDONLY)
    try:
        for c in comps:
            nfd = os.open(c, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        assert os.listdir(fd) == ["f" * 255]
    finally:
        os.close(fd)
    box.assert_outside_untouched()


def test_pax_xattrs_applied_overlay_ones_dropped(box: Box) -> None:
    ti, data = reg("f", b"x")
    ti.pax_headers = {
        "SCHILY.xattr.user.plain": "value",
        "SCHILY.xattr.user.binary": b"\xff\x00\x01".decode("utf-8", "surrogateescape"),
        "SCHILY.xattr.user.overlay.opaque": "y",
        "SCHILY.xattr.trusted.overlay.redirect": "/etc",
    }
    extract(box.target, layer((ti, data)))
    f = box.target / "f"
    assert os.getxattr(f, "user.plain") == b"value"
    assert os.getxattr(f, "user.binary") == b"\xff\x00\x01"
    assert not any("overlay" in a for a in os.listxattr(f))


def test_file_replaced_by_dir_and_dir_by_file(box: Box) -> None:
    data = layer(
        reg("x", b"file"), dir_("x"), reg("x/y", b"y"), dir_("z"), reg("z/inner"), reg("z", b"now a file")
    )
    extract(box.target, data)
    assert (box.target / "x" / "y").read_bytes() == b"y"
    assert (box.target / "z").read_bytes() == b"now a file"


def test_existing_directory_kept_and_updated(box: Box) -> None:
    (box.target / "d").mkdir()
    (box.target / "d" / "lower").write_text("lower")
    extract(box.target, layer(dir_("d", 0o700), reg("d/upper")))
    assert sorted(os.listdir(box.target / "d")) == ["lower", "upper"]
    assert stat.S_IMODE(os.stat(box.target / "d").st_mode) == 0o700


def test_read_only_directory_filled_after_its_header(box: Box) -> None:
    extract(box.target, layer(dir_("ro", 0o555), reg("ro/f", b"f")))
    assert (box.target / "ro" / "f").read_bytes() == b"f"
    assert stat.S_IMODE(os.stat(box.target / "ro").st_mode) == 0o555


# --- digests and corrupt input ---------------------------------------------------------------


def test_diff_id_of_uncompressed_stream_including_padding(box: Box) -> None:
    data = layer(reg("a", b"a" * 5000)) + b"\0" * 4096  # trailing padding is part of the diff ID
    gz = gzip.compress(data)
    reader, kind = open_decompressed(io.BytesIO(gz))
    stats = extract_layer(reader, box.target, whiteouts="vfs", allow_devices=False, rootless=not ROOT)
    assert kind == "gzip"
    assert stats.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert stats.tar_size == len(data) and stats.content_size == 5000


def test_truncated_and_garbage_streams_are_corrupt(box: Box) -> None:
    data = layer(reg("a", b"a" * 50000))
    with pytest.raises(CorruptContent):
        extract(box.target, data[:20000])
    with pytest.raises(CorruptContent):
        reader, _ = open_decompressed(io.BytesIO(gzip.compress(data)[:-100]))
        extract_layer(reader, box.target, whiteouts="vfs", allow_devices=False, rootless=not ROOT)
    with pytest.raises(CorruptContent):
        extract(box.target, b"\x01" * 2048)


@needs_root
def test_root_entry_sets_layer_root_metadata(box: Box) -> None:
    extract(box.target, layer(dir_("./", 0o750, uid=5, gid=6), reg("f")))
    st = os.stat(box.target)
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime) == (0o750, 5, 6, 1_600_000_000)


def test_implicit_parents_ignore_umask(box: Box) -> None:
    old = os.umask(0o077)
    try:
        extract(box.target, layer(reg("a/b/c", b"c", mode=0o644)))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(box.target / "a" / "b").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(box.target / "a" / "b" / "c").st_mode) == 0o644
