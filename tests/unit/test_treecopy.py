"""The cp machinery without containers: descriptor walks, the confined writer, path rules, the
merged overlay view, and a race against a thread that swaps a directory for a symlink."""

from __future__ import annotations

import ctypes
import io
import os
import stat
import tarfile
import threading
import time
from pathlib import Path

import pytest

from podpy.engine import cp_paths
from podpy.errors import InvalidArgument, NoSuchFile, UnsafeArchive
from podpy.inroot import Root
from podpy.storage.treesource import Walker, write_items
from podpy.storage.treewrite import TreeWriter, WriteOptions

ROOT = os.geteuid() == 0
AT_FDCWD, RENAME_EXCHANGE = -100, 2


def _copy(src_dir: Path, name: str, dest: Path, arcname: str, opts: WriteOptions | None = None) -> TreeWriter:
    fd = os.open(src_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with Root(dest) as root:
            writer = TreeWriter(root, (), opts or WriteOptions(strict_ids=False))
            for item in Walker().tree(fd, name, arcname):
                if item.info.isreg() and item.info.size:
                    with item.open() as data:
                        writer.put(item.info, data)  # type: ignore[arg-type]
                else:
                    writer.put(item.info, None)
            writer.finish()
            return writer
    finally:
        os.close(fd)


def test_walk_and_write_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "src" / "t"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_bytes(b"x" * 300_000)
    os.link(src / "sub" / "f", src / "hard")
    (src / "link").symlink_to("/etc/passwd")
    os.mkfifo(src / "fifo")
    (src / "sub").chmod(0o750)
    dest = tmp_path / "dest"
    dest.mkdir()
    _copy(src.parent, "t", dest, "copy")
    out = dest / "copy"
    assert (out / "sub" / "f").read_bytes() == b"x" * 300_000
    assert os.stat(out / "hard").st_ino == os.stat(out / "sub" / "f").st_ino
    assert os.readlink(out / "link") == "/etc/passwd"
    assert stat.S_ISFIFO(os.lstat(out / "fifo").st_mode)
    assert stat.S_IMODE(os.stat(out / "sub").st_mode) == 0o750


def test_tar_stream_names(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("a")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    buf = io.BytesIO()
    try:
        write_items(Walker().tree(fd, "d", "d"), buf)
    finally:
        os.close(fd)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tf:
        assert tf.getnames() == ["d", "d/a"]


def test_writer_stays_inside_its_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "evil").symlink_to("/")
    (root / "evil2").symlink_to("../../../../..")
    (root / "evil3").symlink_to(outside)
    with Root(root) as sr:
        w = TreeWriter(sr, (), WriteOptions(strict_ids=False))
        for name in ("evil/tmp/a", f"evil2{outside}/b", "evil3/c"):
            ti = tarfile.TarInfo(name)
            ti.size = 1
            w.put(ti, io.BytesIO(b"x"))
        with pytest.raises(UnsafeArchive):
            w.put(tarfile.TarInfo("../escape"), io.BytesIO(b""))
    assert os.listdir(outside) == []
    assert (root / "tmp" / "a").is_file() and (root / str(outside).lstrip("/") / "c").is_file()


def test_container_paths_resolve_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("inner")
    (root / "evil").symlink_to("/")
    (root / "up").symlink_to("../../../..")
    (root / "lnk").symlink_to("etc/passwd")
    with Root(root) as sr:
        src = cp_paths.container_source(sr, "/evil/etc/passwd", False)
        try:
            assert os.read(os.open(src.name, os.O_RDONLY, dir_fd=src.dir_fd), 10) == b"inner"
        finally:
            src.close()
        with pytest.raises(FileNotFoundError):
            cp_paths.container_source(sr, f"/up{tmp_path}/root/etc/passwd", False)
        src = cp_paths.container_source(sr, "/lnk", True)
        assert (src.name, src.base, src.is_dir) == ("passwd", "lnk", False)
        src.close()
        src = cp_paths.container_source(sr, "/evil/.", False)
        assert (src.name, src.base, src.is_dir) == (".", cp_paths.CONTENTS, True)
        src.close()
        dest = cp_paths.container_dest(sr, "/evil/etc")
        assert (dest.real, dest.kind) == (("etc",), "dir")


@pytest.mark.parametrize(("src_dir", "base", "kind", "hint", "expect"), [
    (False, "f", "dir", False, (True, "f")),
    (True, "d", "dir", False, (True, "d")),
    (True, ".", "dir", True, (True, ".")),
    (False, "f", "file", False, (False, "x")),
    (False, "f", None, False, (False, "x")),
    (True, "d", None, False, (False, "x")),
    (True, ".", None, True, (False, "x")),
])  # fmt: skip
def test_placement_rules(src_dir: bool, base: str, kind: str | None, hint: bool, expect: tuple[bool, str]) -> None:
    src = cp_paths.Source(-1, "n", src_dir, base)
    assert cp_paths.place(src, cp_paths.Dest((), "x", kind, hint), "s", "x") == expect


def test_placement_errors() -> None:
    f, d = cp_paths.Source(-1, "f", False, "f"), cp_paths.Source(-1, "d", True, "d")
    with pytest.raises(NoSuchFile):
        cp_paths.place(f, cp_paths.Dest((), "x", None, True), "f", "x/")
    with pytest.raises(InvalidArgument):
        cp_paths.place(d, cp_paths.Dest((), "x", "file", False), "d", "x")
    with pytest.raises(NoSuchFile, match="not a directory"):  # Podman's words: "x/" could not be found
        cp_paths.place(f, cp_paths.Dest((), "x", "file", True), "f", "x/")


@pytest.mark.skipif(not ROOT, reason="whiteouts and trusted.* xattrs need root")
def test_merged_view_of_overlay_layers(tmp_path: Path) -> None:
    upper, low1, low2 = (tmp_path / n for n in ("upper", "low1", "low2"))
    for d in (upper / "etc", low1 / "etc", low2 / "etc", low2 / "opq", upper / "opq"):
        d.mkdir(parents=True, exist_ok=True)
    (low2 / "etc" / "group").write_text("g")
    (low2 / "etc" / "passwd").write_text("old")
    (low1 / "etc" / "passwd").write_text("new")
    (low2 / "opq" / "hidden").write_text("h")
    (upper / "opq" / "shown").write_text("s")
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    os.mknod(upper / "etc" / "group", stat.S_IFCHR, os.makedev(0, 0))
    fds = [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in (upper, low1, low2)]
    try:
        seen = {}
        for item in Walker(overlay=True).merged(fds):
            with item.open() as data:  # read while the walk holds its directory open
                seen[item.info.name] = data.read() if item.info.isreg() else None
        assert seen == {"etc": None, "etc/passwd": b"new", "opq": None, "opq/shown": b"s"}
    finally:
        for fd in fds:
            os.close(fd)


def test_race_with_a_swapping_symlink(tmp_path: Path) -> None:
    """A thread flips root/data between a directory and a symlink to `outside` while we copy
    in and out through it: nothing is ever read from or written to `outside`."""
    root, outside, host = tmp_path / "root", tmp_path / "outside", tmp_path / "host"
    (root / "data").mkdir(parents=True)
    (root / "data" / "f").write_text("inside")
    outside.mkdir()
    (outside / "f").write_text("SECRET")
    host.mkdir()
    (host / "pwn").write_text("PWN")
    stop = threading.Event()

    (root / "link").symlink_to(outside)
    libc = ctypes.CDLL(None, use_errno=True)

    def swap() -> None:  # renameat2(RENAME_EXCHANGE): `data` is always there, a dir or a symlink
        a, b = str(root / "data").encode(), str(root / "link").encode()
        while not stop.is_set():
            assert libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0, ctypes.get_errno()

    t = threading.Thread(target=swap)
    t.start()
    reads = 0
    try:
        deadline = time.monotonic() + 1.5
        with Root(root) as sr:
            while time.monotonic() < deadline:
                reads += _race_once(sr, host)
    finally:
        stop.set()
        t.join()
    assert sorted(os.listdir(outside)) == ["f"] and (outside / "f").read_text() == "SECRET"
    assert reads > 0


def _race_once(sr: Root, host: Path) -> int:
    got = 0
    try:
        src = cp_paths.container_source(sr, "/data/f", False)
        try:
            for item in Walker().tree(src.dir_fd, src.name, "f"):
                with item.open() as data:
                    assert data.read() in (b"inside", b"PWN", b"\0" * item.info.size)
                    got = 1
        finally:
            src.close()
    except OSError:  # a lookup that lost the race fails; it never goes elsewhere
        pass
    try:
        w = TreeWriter(sr, ("data",), WriteOptions(strict_ids=False))
        ti = tarfile.TarInfo("pwn")
        ti.size = 3
        w.put(ti, io.BytesIO(b"PWN"))
    except (OSError, UnsafeArchive):
        pass
    return got
