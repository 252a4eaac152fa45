"""Crafted images for the escape tests (root and rootless): a busybox root whose /dev, /proc, /sys,
/dev/shm or /etc/hosts is a symlink, absolute or relative, to a marker directory on the host."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

from tests.busybox import make_rootfs

SENTINEL = "podpy-host-marker"
SECRET = "HOST-MARKER-CONTENT"
# image path -> what the marker is (a directory for the directories, a file for /etc/hosts)
CASES = {"dev": "dir", "proc": "dir", "sys": "dir", "dev/shm": "dir", "etc/hosts": "file",
         "etc/resolv.conf": "file", "dev/pts": "dir"}  # fmt: skip


def make_marker(where: Path, kind: str) -> Path:
    """A host directory holding one file (or a host file), readable by anyone."""
    where.parent.mkdir(parents=True, exist_ok=True)
    if kind == "file":
        where.write_text(SECRET + "\n")
        os.chmod(where, 0o644)
    else:
        where.mkdir()
        (where / SENTINEL).write_text(SECRET + "\n")
        os.chmod(where, 0o755)
    for p in list(where.parents)[:-1]:
        if p == Path("/tmp"):
            break
        os.chmod(p, os.stat(p).st_mode | 0o755)  # an ordinary user's runtime can reach it (rootless)
    return where


def snapshot(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every entry under `path` (or the file): relative name -> (mode, size, content of files)."""
    out: dict[str, tuple[int, int, bytes]] = {}
    paths = [path] if not path.is_dir() else [path, *sorted(path.rglob("*"))]
    for p in paths:
        st = os.lstat(p)
        data = p.read_bytes() if p.is_file() and not p.is_symlink() else b""
        out[str(p.relative_to(path))] = (st.st_mode, st.st_size, data)
    return out


def link_target(marker: Path, image_path: str, relative: bool) -> str:
    """Absolute: the host path. Relative: enough `..` to climb from the image path to the host's /."""
    if not relative:
        return str(marker)
    depth = image_path.count("/") + 12  # more than any store path is deep: `..` stops at /
    return "../" * depth + str(marker).lstrip("/")


def make_image_tar(tar: Path, image_path: str, target: str) -> Path:
    """A busybox root with `image_path` replaced by a symlink to `target`, as a root-owned tar."""
    staging = tar.parent / (tar.name + ".d")
    make_rootfs(staging)
    victim = staging / image_path
    if victim.is_dir() and not victim.is_symlink():
        shutil.rmtree(victim)
    elif victim.exists():
        victim.unlink()
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.symlink_to(target)

    def as_root(ti: tarfile.TarInfo) -> tarfile.TarInfo:
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as tf:
        for p in sorted(staging.rglob("*")):
            tf.add(p, str(p.relative_to(staging)), recursive=False, filter=as_root)
    shutil.rmtree(staging)
    os.chmod(tar, 0o644)
    return tar


PROBE = ("for f in /dev /proc /sys /dev/shm /dev/pts; do cat $f/" + SENTINEL + " 2>/dev/null; done; "
         "cat /etc/hosts /etc/resolv.conf 2>/dev/null; echo probe-done")  # fmt: skip
