"""Which storage driver a store uses (detection) and making one (construction): above driver.py
and its implementations, so the interface never imports them."""

from __future__ import annotations

import os
from pathlib import Path

from podpy.state.layout import Layout
from podpy.storage import _mount
from podpy.storage.driver import Driver
from podpy.storage.layers import LayerStore, LockedTmpDir


def make_driver(layers: LayerStore) -> Driver:
    if layers.driver == "overlay":
        from podpy.storage.overlay import OverlayDriver

        return OverlayDriver(layers)
    from podpy.storage.vfs import VfsDriver

    return VfsDriver(layers)


def _kernel_at_least(major: int, minor: int) -> bool:
    try:
        nums = [int(x) for x in os.uname().release.split("-")[0].split(".")[:2]]
    except ValueError:
        return False
    return (nums[0], nums[1]) >= (major, minor)


def detect_driver(layout: Layout, rootless: bool) -> str:
    """ "overlay" when overlayfs works for this store, else "vfs" (the caller records the choice)."""
    if rootless:
        return "overlay" if _kernel_at_least(5, 11) else "vfs"  # overlay in user namespaces
    return "overlay" if _probe_overlay(layout.layers) else "vfs"


def _probe_overlay(layers: Path) -> bool:
    """Mount a tiny overlay under the store (the filesystem that will hold upper dirs) and undo it."""
    probe = LockedTmpDir(layers, "probe-")  # locked .tmp-* dir: gc_tmp leaves it alone while we run
    try:
        for d in ("lower", "upper", "work", "merged"):
            (probe.path / d).mkdir()
        (probe.path / "lower" / "f").write_bytes(b"x")
        merged = str(probe.path / "merged")
        p = probe.path
        try:
            _mount.mount(
                "overlay", merged, "overlay", 0, f"lowerdir={p}/lower,upperdir={p}/upper,workdir={p}/work"
            )
        except OSError:
            return False
        try:
            return (p / "merged" / "f").read_bytes() == b"x"
        finally:
            _mount.umount(merged)
    finally:
        probe.close()
