"""Rootless --uidmap: ID-shifted copies of lower layers (as containers-storage "chowns" them).

An ordinary user cannot ID-map a mount of the host's filesystem, so a container whose ids are
mapped differently from the user's default namespace gets overlay lowers that are copies of the
image's layers with each owner x changed to the mapping's id for x (`uids`/`gids`: container id ->
id of the user's own namespace). The copies are made inside that namespace (where chown to those
ids works), as real copies (a hardlink would share the inode and so its owner), next to the layer
(`<layer>/diff.<key>`, removed with it) and reused by every container with the same mapping.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

from podpy.errors import StorageError
from podpy.storage import userns

Triples = tuple[tuple[int, int, int], ...] | list


def key(uids: Triples, gids: Triples) -> str:
    text = json.dumps([[list(t) for t in uids], [list(t) for t in gids]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _to(maps: Triples, cid: int, kind: str, default: int | None = None) -> int:
    for c, h, s in maps:
        if c <= cid < c + s:
            return h + cid - c
    if default is not None:
        return default
    raise StorageError(f"container {kind} {cid} cannot be mapped to a host ID: extend --uidmap/--gidmap")


def _mapping() -> userns.IdMapping:
    mine = userns.current()
    if mine is None or not mine.full:
        raise StorageError("rootless --uidmap/--gidmap need /etc/subuid and /etc/subgid ranges (and newuidmap)")
    return mine


def ensure(pairs: list[tuple[Path, Path]], uids: Triples, gids: Triples) -> None:
    """Make each missing shifted copy `dst` of `src` (one user namespace helper for all of them)."""
    todo = [(s, d) for s, d in pairs if not d.is_dir()]
    if not todo:
        return

    def inside() -> None:  # pragma: no cover - runs in the helper
        for src, dst in todo:
            tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
            if os.path.lexists(tmp):
                shutil.rmtree(tmp)
            _copy(src, tmp, uids, gids)
            try:
                os.rename(tmp, dst)
            except OSError:
                if not dst.is_dir():
                    raise
                shutil.rmtree(tmp)  # another process made it first

    userns.run_mapped(_mapping(), inside)


def map_owners(paths: list[Path], uids: Triples, gids: Triples) -> None:
    """Give each path (the upper dir, the bundle's /etc files) the mapping's ids for its owner."""

    def inside() -> None:  # pragma: no cover - runs in the helper
        for p in paths:
            st = os.lstat(p)
            os.chown(p, _to(uids, st.st_uid, "UID"), _to(gids, st.st_gid, "GID"), follow_symlinks=False)
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(p, stat.S_IMODE(st.st_mode))

    userns.run_mapped(_mapping(), inside)


def map_trees(tops: list[Path], uids: Triples, gids: Triples) -> None:
    """Every entry below each top (new volumes) gets the mapping's ids for its owner."""
    if not tops:
        return

    def inside() -> None:  # pragma: no cover - runs in the helper
        for top in tops:
            paths = [str(top)]
            for dirpath, dirnames, filenames in os.walk(top):
                paths.extend(os.path.join(dirpath, n) for n in (*dirnames, *filenames))
            for p in paths:
                st = os.lstat(p)
                uid, gid = _to(uids, st.st_uid, "UID", st.st_uid), _to(gids, st.st_gid, "GID", st.st_gid)
                os.chown(p, uid, gid, follow_symlinks=False)  # ids outside the mapping stay (as root)
                if not stat.S_ISLNK(st.st_mode):
                    os.chmod(p, stat.S_IMODE(st.st_mode))

    userns.run_mapped(_mapping(), inside)


def _copy(src: Path, dst: Path, uids: Triples, gids: Triples) -> None:  # pragma: no cover - in the helper
    links: dict[tuple[int, int], str] = {}
    dirs: list[tuple[str, os.stat_result]] = []

    def one(path: str, target: str, st: os.stat_result) -> None:
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(target, 0o700)
            dirs.append((target, st))
        elif stat.S_ISREG(mode):
            if st.st_nlink > 1 and (st.st_dev, st.st_ino) in links:
                os.link(links[(st.st_dev, st.st_ino)], target)
                return
            shutil.copyfile(path, target, follow_symlinks=False)
            links[(st.st_dev, st.st_ino)] = target
        elif stat.S_ISLNK(mode):
            os.symlink(os.readlink(path), target)
        else:  # whiteouts (0/0 character devices), fifos
            os.mknod(target, mode, st.st_rdev)
        for name in os.listxattr(path, follow_symlinks=False):
            try:
                os.setxattr(target, name, os.getxattr(path, name, follow_symlinks=False), follow_symlinks=False)
            except OSError:
                pass
        os.chown(target, _to(uids, st.st_uid, "UID"), _to(gids, st.st_gid, "GID"), follow_symlinks=False)
        if not stat.S_ISLNK(mode):
            os.chmod(target, stat.S_IMODE(mode))  # chown cleared setuid/setgid
            if not stat.S_ISDIR(mode):
                os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
        else:
            os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)

    one(str(src), str(dst), os.lstat(src))
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        out = str(dst) if rel == "." else os.path.join(dst, rel)
        for name in (*dirnames, *filenames):
            path = os.path.join(dirpath, name)
            one(path, os.path.join(out, name), os.lstat(path))
    for target, st in reversed(dirs):  # after their contents changed them
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
