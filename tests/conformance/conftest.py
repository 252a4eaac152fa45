"""Fixtures for the storage conformance suite: every driver must pass the same tests."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from podpy.state.layout import Layout
from podpy.storage.driver import Driver
from podpy.storage.drivers import detect_driver, make_driver
from podpy.storage.layers import LayerStore

ROOT = os.geteuid() == 0


@dataclass
class Storage:
    layout: Layout
    layers: LayerStore
    driver: Driver
    mounts: list[Path] = field(default_factory=list)

    def mount(self, cid: str, top: str | None) -> Path:
        """Mount a container's rootfs; unmounted by the fixture even if the test fails."""
        target = self.layout.container_run_dir(cid) / "merged"
        self.mounts.append(target)
        self.driver.mount(cid, top, target)
        return target


@pytest.fixture(params=["overlay", "vfs"])
def driver_name(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    name: str = request.param
    if name == "overlay" and ROOT:
        probe = Layout(tmp_path_factory.mktemp("probe"), tmp_path_factory.mktemp("probe-run"))
        if detect_driver(probe, rootless=False) != "overlay":
            pytest.skip("overlayfs does not work here")
    return name


@pytest.fixture
def storage(tmp_path: Path, driver_name: str) -> Iterator[Storage]:
    layout = Layout(tmp_path / "root", tmp_path / "run")
    layers = LayerStore(layout, driver_name, rootless=not ROOT)
    s = Storage(layout, layers, make_driver(layers))
    yield s
    for target in reversed(s.mounts):
        s.driver.unmount(target)


@pytest.fixture(scope="session")
def busybox_layer(busybox_tar: Path) -> bytes:
    """The busybox rootfs tar (tests/conftest.py builds it once per session)."""
    return busybox_tar.read_bytes()


def tar_of(*members: tuple[str, bytes | str | None]) -> bytes:
    """A layer from (name, content) pairs: bytes → file, None → directory, "->x" → symlink to x."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, content in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1_700_000_000
            if content is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            elif isinstance(content, str):
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, content.removeprefix("->"), 0o777
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(content), 0o644
                tf.addfile(ti, io.BytesIO(content))
    return buf.getvalue()


def tree(top: Path) -> dict[str, tuple]:
    """A comparable picture of a tree: type, mode, owner, content or link target per path."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            st = os.lstat(p)
            if p.is_symlink():
                what: object = ("l", os.readlink(p))
            elif p.is_file():
                what = ("f", p.read_bytes())
            else:
                what = ("d" if p.is_dir() else "o", None)
            out["/" + str(p.relative_to(top))] = (what, st.st_mode, st.st_uid, st.st_gid)
    return out
