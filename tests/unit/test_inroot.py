"""podpy.inroot, the one resolver of paths inside a root: the same answers from openat2 and from the
component walk (forced by telling the module the kernel has no openat2)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from podpy import inroot
from podpy.errors import UnsafeArchive
from podpy.inroot import Root, read_inside


@pytest.fixture(params=["openat2", "walk"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(inroot, "openat2_ok", None if request.param == "openat2" else False)
    yield request.param
    if request.param == "openat2":
        assert inroot.openat2_ok is True, "the kernel's openat2 was not used"
    else:
        assert inroot.openat2_ok is False


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """(root, host marker outside it): the root has links of every kind pointing at the marker."""
    root, host = tmp_path / "root", tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("inside\n")
    host.mkdir()
    (host / "passwd").write_text("HOST\n")
    (root / "abs").symlink_to(str(host))
    (root / "rel").symlink_to("../" * 10 + str(host).lstrip("/"))
    (root / "etcabs").symlink_to("/etc")
    (root / "etcrel").symlink_to("../../../etc")
    (root / "loop").symlink_to("loop")
    (root / "file").write_text("f\n")
    (root / "magic").symlink_to("/proc/self/root")
    return root, host


def _text(fd: int) -> str:
    with os.fdopen(fd, "rb") as f:
        return f.read().decode()


def test_links_resolve_inside(mode: str, tree: tuple[Path, Path]) -> None:
    root, host = tree
    with Root(root) as r:
        assert _text(r.open("etcabs/passwd", os.O_RDONLY)) == "inside\n"
        assert _text(r.open("/etcrel/passwd", os.O_RDONLY)) == "inside\n"
        assert _text(r.open("/../../etc/./passwd", os.O_RDONLY)) == "inside\n"
        for link in ("abs", "rel"):  # the host path does not exist inside the root
            with pytest.raises(FileNotFoundError):
                r.open(f"{link}/passwd", os.O_RDONLY)
        with pytest.raises(FileNotFoundError):
            r.open("magic/etc/passwd", os.O_RDONLY)  # /proc is not in this root
        with pytest.raises(OSError) as e:
            r.open("loop/x")
        assert e.value.errno == errno.ELOOP
        with pytest.raises(NotADirectoryError):
            r.open("file/x")


def test_nofollow_returns_the_link(mode: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    with Root(root) as r:
        fd = r.open("abs", follow=False)
        try:
            assert stat.S_ISLNK(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        fd = r.open("/")
        try:
            assert os.path.samestat(os.fstat(fd), os.stat(root))
        finally:
            os.close(fd)


def test_created_paths_stay_inside(mode: str, tree: tuple[Path, Path]) -> None:
    root, host = tree
    before = sorted(p.name for p in host.iterdir())
    with Root(root) as r:
        os.close(r.mkdirs("abs/sub/dir"))
        os.close(r.mkdirs("rel/other"))
        os.close(r.make_file("abs/newfile"))
        (root / "dangling").symlink_to("/made/by/link")
        fd = r.make_file("dangling")
        assert stat.S_ISREG(os.fstat(fd).st_mode)
        os.close(fd)
        fd = r.open("etcabs/new", os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"x")
        os.close(fd)
    assert sorted(p.name for p in host.iterdir()) == before
    inner = root / str(host).lstrip("/")
    assert (inner / "sub" / "dir").is_dir() and (inner / "other").is_dir() and (inner / "newfile").is_file()
    assert (root / "made" / "by" / "link").is_file()
    assert (root / "etc" / "new").read_text() == "x"
    assert not Path("/made").exists()


def test_resolve_dir_reports_the_real_path(mode: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    (root / "a" / "b").mkdir(parents=True)
    (root / "link").symlink_to("a/b")
    with Root(root) as r:
        with r.dir(["link", "..", "b"], create=False) as d:
            assert d.real == ("a", "b")
        with r.dir(["a", "b"], create=False) as d:
            assert d.real == ("a", "b")
        with r.dir(["new", "dirs"], create=True) as d:
            assert d.real == ("new", "dirs")
        assert (root / "new" / "dirs").is_dir()
        with pytest.raises(UnsafeArchive):
            r.resolve_dir(["file", "x"], create=False)
        with pytest.raises(UnsafeArchive):
            r.resolve_dir(["loop"], create=False)


def test_read_inside(mode: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    assert read_inside(root, "/etcabs/passwd") == "inside\n"
    assert read_inside(root, "/abs/passwd") is None
    assert read_inside(root / "missing", "/etc/passwd") is None


def test_no_openat2_is_remembered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ENOSYS (a kernel before 5.6, or a seccomp filter) switches to the walk for good."""
    from podpy.runtime import syscalls

    calls = []

    def enosys(*args: object) -> int:
        calls.append(args)
        raise OSError(errno.ENOSYS, "no openat2")

    monkeypatch.setattr(inroot, "openat2_ok", None)
    monkeypatch.setattr(syscalls, "openat2", enosys)
    (tmp_path / "f").write_text("ok")
    with Root(tmp_path) as r:
        assert _text(r.open("f", os.O_RDONLY)) == "ok"
        assert _text(r.open("f", os.O_RDONLY)) == "ok"
    assert len(calls) == 1 and inroot.openat2_ok is False


def test_walk_links_over_a_virtual_tree() -> None:
    """copy-up's merged layer view resolves with the same rules (absolute links restart at the root)."""
    tree = {("a",): "/b/c", ("b",): None, ("b", "c"): "../d", ("d",): None, ("d", "f"): None, ("l",): "l"}

    def link_of(parts: tuple[str, ...]) -> str | None:
        if parts not in tree:
            raise FileNotFoundError("/".join(parts))
        return tree[parts]

    assert inroot.walk_links("/a/f", link_of) == ("d", "f")
    assert inroot.walk_links("../../a/./f", link_of) == ("d", "f")
    with pytest.raises(FileNotFoundError):
        inroot.walk_links("/a/missing/x", link_of)
    with pytest.raises(OSError) as e:
        inroot.walk_links("/l", link_of)
    assert e.value.errno == errno.ELOOP
