"""The container's filesystem, built by its pid 1 inside the new mount namespace, then pivot_root."""

from __future__ import annotations

import json
import os
from pathlib import Path

from podpy.errors import PodpyError
from podpy.inroot import Root
from podpy.runtime import syscalls as sc
from podpy.runtime.builtin import devices, idmap, mounts
from podpy.runtime.builtin.cgroups import CgroupSet

TYPE_CHECKING = False  # typing's, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Any

ROOTFS_MOUNT_ANNOTATION = "io.podpy.rootfs.mount"
_PROPAGATION = {"private": sc.MS_PRIVATE, "slave": sc.MS_SLAVE, "shared": sc.MS_SHARED,
                "unbindable": sc.MS_UNBINDABLE}  # fmt: skip


def root_path(cfg: dict[str, Any], bundle: Path) -> Path:
    path = Path(cfg.get("root", {}).get("path") or "rootfs")
    return path if path.is_absolute() else bundle / path


def _root_propagation(cfg: dict[str, Any]) -> int:
    """rootfsPropagation (default rslave, like runc): host mounts may reach us, ours never the host."""
    name = (cfg.get("linux") or {}).get("rootfsPropagation") or "rslave"
    base = _PROPAGATION.get(name.removeprefix("r"))
    if base is None:
        raise PodpyError(f"unknown rootfsPropagation {name!r}")
    return base | sc.MS_REC


def _mount_root(cfg: dict[str, Any], rootfs: Path) -> None:
    """The annotated overlay (mounted here, so it dies with the namespace) or a bind of root.path
    onto itself: pivot_root needs a mount point."""
    spec = (cfg.get("annotations") or {}).get(ROOTFS_MOUNT_ANNOTATION)
    if spec:
        m = json.loads(spec)
        try:
            sc.mount(m.get("source", "overlay"), rootfs, m.get("type", "overlay"), 0, m.get("options"))
        except OSError as e:
            raise PodpyError(f"mounting the container rootfs ({m.get('type', 'overlay')}) on {rootfs}: {e.strerror}") from None
    else:
        sc.mount(str(rootfs), rootfs, None, sc.MS_BIND | sc.MS_REC)


def _write_sysctls(root: Root, sysctls: dict[str, str]) -> None:
    """Through the container's own /proc, resolved inside its root (an image's /proc symlink stays in)."""
    for key, value in sysctls.items():
        try:
            fd = root.open(f"proc/sys/{key.replace('.', '/')}", os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, str(value).encode())
            finally:
                os.close(fd)
        except OSError as e:
            raise PodpyError(f"setting sysctl {key}={value}: {e.strerror}") from None


def _populate(root: Root, cfg: dict[str, Any], bundle: Path, in_userns: bool, terminal: bool,
              cg: CgroupSet | None) -> tuple[int, int] | None:  # fmt: skip
    linux = cfg.get("linux") or {}
    dev_tmpfs = False
    for m in cfg.get("mounts") or []:
        mounts.mount_entry(m, root, bundle, cg)
        if m.get("destination", "").rstrip("/") == "/dev" and m.get("type") != "bind":
            dev_tmpfs = True
    if dev_tmpfs:
        dev = root.open("dev")  # looked up now: the tmpfs just mounted there
        try:
            devices.populate(dev, bind=in_userns)
        finally:
            os.close(dev)
    devices.create_listed(root, linux.get("devices") or [], bind=in_userns)
    pty = None
    if terminal:
        pts = root.open("dev/pts", os.O_PATH | os.O_DIRECTORY)
        try:
            pty = devices.open_pty(pts)
        finally:
            os.close(pts)
        devices.bind_console(root, pty[0])
    _write_sysctls(root, linux.get("sysctl") or {})
    return pty


def _pivot(root_fd: int) -> None:
    """pivot_root(".", "."): the old root ends up stacked under the new one and is detached."""
    os.fchdir(root_fd)  # by descriptor: the path may not be walkable from a mapped user namespace
    sc.pivot_root(".", ".")
    sc.mount(None, ".", None, sc.MS_SLAVE | sc.MS_REC)  # never propagate the unmount to the host
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


def prepare(
    cfg: dict[str, Any], bundle: Path, in_userns: bool, terminal: bool, cg: CgroupSet | None = None,
    trees: idmap.Trees | None = None,
) -> tuple[int, int] | None:
    """Mount everything, pivot, mask. Returns the pty (master, slave) when the process wants a terminal.
    `trees`: an ID-mapped rootfs (and binds) to attach (idmap.prepare), then act as the namespace's root."""
    linux = cfg.get("linux") or {}
    rootfs = root_path(cfg, bundle)
    sc.mount(None, "/", None, _root_propagation(cfg))
    pinned: list[int] = []
    if trees is not None:
        idmap.attach(trees.root, rootfs)
        os.close(trees.root)
        pinned_mounts, pinned = idmap.pin_sources(list(cfg.get("mounts") or []), bundle, trees.binds)
        cfg = {**cfg, "mounts": pinned_mounts}
    else:
        _mount_root(cfg, rootfs)
    with Root(rootfs) as root:  # opened on the mounted root: every path below goes through it
        if trees is not None:
            idmap.become_root()
        pty = _populate(root, cfg, bundle, in_userns, terminal, cg)
        for fd in pinned:
            os.close(fd)
        _pivot(root.fd)
    for path in linux.get("maskedPaths") or []:
        mounts.mask_path(path)
    for path in linux.get("readonlyPaths") or []:
        mounts.readonly_path(path)
    if (cfg.get("root") or {}).get("readonly"):
        mounts.remount("/", sc.MS_RDONLY)
    return pty
