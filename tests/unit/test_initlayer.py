"""storage.initlayer: the init layer's paths are real directories and files, never links."""

from __future__ import annotations

from pathlib import Path

from podpy.storage import initlayer


def test_make_is_complete_and_idempotent(tmp_path: Path) -> None:
    init = tmp_path / "init"
    (tmp_path / ".init.tmp" / "junk").mkdir(parents=True)  # left by a killed process
    initlayer.make(init)
    initlayer.make(init)
    for d in initlayer.DIRS:
        assert (init / d).is_dir() and not (init / d).is_symlink()
    for f in initlayer.FILES:
        assert (init / f).is_file() and (init / f).stat().st_size == 0
    assert not (tmp_path / ".init.tmp").exists()


def _links(top: Path, host: Path) -> None:
    (top / "etc").mkdir(parents=True)
    (top / "dev").symlink_to(str(host))
    (top / "proc").symlink_to("../../../" + str(host).lstrip("/"))
    (top / "etc" / "hosts").symlink_to(str(host / "hosts"))
    (top / "sys").write_text("a file where a directory belongs: left for the runtime to refuse")


def test_unshadow_removes_links_from_the_upper_dir(tmp_path: Path) -> None:
    host, upper = tmp_path / "host", tmp_path / "upper"
    host.mkdir()
    _links(upper, host)
    initlayer.unshadow(upper)
    assert sorted(p.name for p in upper.iterdir()) == ["etc", "sys"]
    assert list((upper / "etc").iterdir()) == []
    assert list(host.iterdir()) == []


def test_sanitize_replaces_links_in_a_copy(tmp_path: Path) -> None:
    host, rootfs = tmp_path / "host", tmp_path / "rootfs"
    host.mkdir()
    _links(rootfs, host)
    (host / "keep").write_text("host file")
    initlayer.sanitize(rootfs)
    for d in ("dev", "proc"):
        assert (rootfs / d).is_dir() and not (rootfs / d).is_symlink()
    assert (rootfs / "etc" / "hosts").is_file() and not (rootfs / "etc" / "hosts").is_symlink()
    assert sorted(p.name for p in host.iterdir()) == ["keep"]
