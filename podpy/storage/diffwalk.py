"""A container's changes against its image: as `docker diff` lines and as an OCI layer tar.

Both drivers produce `Entry` records in tar order (a directory, then the whiteouts in it, then
its other children, depth first); `changes_of` and `write_tar` consume them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from podpy.storage.fsutil import is_opaque, is_overlay_xattr, is_whiteout, lstat_or_none, tar_header

if TYPE_CHECKING:
    import tarfile

OwnerMap = Callable[[int, int], tuple[int, int]]
WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Entry:
    kind: str  # "A" added, "C" changed, "D" deleted
    path: str  # "/etc/passwd"
    src: Path | None = None  # what to archive (None for deletions)
    st: os.stat_result | None = None
    opaque: bool = False  # a directory that hides everything lower layers had in it
    hidden: tuple[str, ...] = ()  # names an opaque directory hides (reported as deleted)


class LowerView:
    """The merged view of overlay layer diffs (top first), read without mounting them."""

    def __init__(self, diffs: list[Path]) -> None:
        self.diffs = diffs

    @staticmethod
    def _probe(diff: Path, parts: list[str]) -> tuple[os.stat_result | None, bool]:
        """(the entry in this layer, blocked): blocked when an ancestor here hides lower layers."""
        cur = diff
        blocked = False
        for name in parts[:-1]:
            cur = cur / name
            st = lstat_or_none(cur)
            if st is None:
                return None, blocked
            if is_whiteout(st) or not stat.S_ISDIR(st.st_mode):
                return None, True
            blocked = blocked or is_opaque(cur)
        return lstat_or_none(cur / parts[-1] if parts else cur), blocked

    def lookup(self, path: str) -> os.stat_result | None:
        parts = [p for p in path.split("/") if p]
        for diff in self.diffs:
            st, blocked = self._probe(diff, parts)
            if st is not None:
                return None if is_whiteout(st) else st
            if blocked:
                return None
        return None

    def listdir(self, path: str) -> set[str]:
        parts = [p for p in path.split("/") if p]
        seen: dict[str, bool] = {}
        for diff in self.diffs:
            st, blocked = self._probe(diff, parts)
            if st is None:
                if blocked:
                    break
                continue
            if is_whiteout(st) or not stat.S_ISDIR(st.st_mode):
                break
            d = diff.joinpath(*parts)
            for name in os.listdir(d):
                if name not in seen:
                    seen[name] = not is_whiteout(os.lstat(d / name))
            if blocked or is_opaque(d):
                break
        return {n for n, visible in seen.items() if visible}


def _split(dirpath: Path) -> tuple[list[tuple[str, os.stat_result]], list[tuple[str, os.stat_result]]]:
    """(whiteouts, others) in a directory, each sorted by name."""
    wh, other = [], []
    for name in sorted(os.listdir(dirpath)):
        st = os.lstat(dirpath / name)
        (wh if is_whiteout(st) else other).append((name, st))
    return wh, other


def overlay_entries(upper: Path, lower: LowerView, rel: str = "", new: bool = False) -> Iterator[Entry]:
    """Walk an overlay upper dir: whiteouts are deletions, the rest added or changed."""
    whiteouts, others = _split(upper)
    for name, st in whiteouts:
        p = f"{rel}/{name}"
        if lower.lookup(p) is not None:
            yield Entry("D", p, st=st)
    for name, st in others:
        p, src = f"{rel}/{name}", upper / name
        low = None if new else lower.lookup(p)
        isdir = stat.S_ISDIR(st.st_mode)
        opaque = isdir and is_opaque(src)
        hidden: tuple[str, ...] = ()
        if opaque and low is not None and stat.S_ISDIR(low.st_mode):
            hidden = tuple(sorted(lower.listdir(p) - set(os.listdir(src))))
        yield Entry("A" if low is None else "C", p, src, st, opaque, hidden)
        if isdir:
            yield from overlay_entries(src, lower, p, new or low is None)


def _differs(up: Path, st: os.stat_result, low: Path, lst: os.stat_result) -> bool:
    if (st.st_mode, st.st_uid, st.st_gid) != (lst.st_mode, lst.st_uid, lst.st_gid):
        return True
    if stat.S_ISDIR(st.st_mode):
        return False  # a directory's size and mtime say nothing; changed children mark it
    if stat.S_ISLNK(st.st_mode):
        return os.readlink(up) != os.readlink(low)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return st.st_rdev != lst.st_rdev
    return st.st_size != lst.st_size or st.st_mtime_ns != lst.st_mtime_ns


def vfs_entries(rootfs: Path, lower: Path | None, rel: str = "") -> list[Entry]:
    """Compare a vfs container copy with the image snapshot it was copied from."""
    names = sorted(os.listdir(rootfs))
    low_names = set(os.listdir(lower)) if lower is not None else set()
    out = [Entry("D", f"{rel}/{n}") for n in sorted(low_names - set(names))]
    for name in names:
        p, src = f"{rel}/{name}", rootfs / name
        st = os.lstat(src)
        low = lower / name if lower is not None and name in low_names else None
        lst = os.lstat(low) if low is not None else None
        kind: str | None = "A"
        if low is not None and lst is not None:
            kind = "C" if _differs(src, st, low, lst) else None
        sub: list[Entry] = []
        if stat.S_ISDIR(st.st_mode):
            # descend into the lower side only through a real directory, never a symlink
            below = low if lst is not None and stat.S_ISDIR(lst.st_mode) else None
            sub = vfs_entries(src, below, p)
            kind = kind or ("C" if sub else None)  # parents of changes are changed
        if kind:
            out.append(Entry(kind, p, src, st))
            out.extend(sub)
    return out


def changes_of(entries: Iterable[Entry]) -> list[tuple[str, str]]:
    """`docker diff` lines: (kind, path) sorted by path; parents of changes shown as C."""
    out: dict[str, str] = {}
    for e in entries:
        out[e.path] = e.kind
        for name in e.hidden:
            out[f"{e.path}/{name}"] = "D"
    for path in list(out):
        parent = path.rpartition("/")[0]
        while parent:
            out.setdefault(parent, "C")
            parent = parent.rpartition("/")[0]
    return sorted(((k, p) for p, k in out.items()), key=lambda kp: kp[1])


def _marker(name: str, mtime: float = 0) -> tarfile.TarInfo:
    import tarfile

    ti = tarfile.TarInfo(name)
    ti.mode = 0o600
    ti.mtime = int(mtime)
    return ti


def _tarinfo(
    name: str, src: Path, st: os.stat_result, links: dict[tuple[int, int], str]
) -> tarfile.TarInfo | None:
    ti = tar_header(name, st, links, lambda: os.readlink(src))
    if ti is None:
        return None
    for attr in _listxattr(src):
        if not is_overlay_xattr(attr):
            value = os.getxattr(src, attr, follow_symlinks=False)
            ti.pax_headers[f"SCHILY.xattr.{attr}"] = value.decode("utf-8", "surrogateescape")
    return ti


def _listxattr(src: Path) -> list[str]:
    try:
        return sorted(os.listxattr(src, follow_symlinks=False))
    except OSError:
        return []


def write_tar(entries: Iterable[Entry], out: BinaryIO, owner: OwnerMap | None = None) -> None:
    """Write `entries` as an OCI layer tar: deletions as `.wh.NAME`, opaque dirs with the marker.
    `owner` turns the ids on disk into the container's (rootless storage keeps host ids)."""
    import tarfile  # here: commands that never write a tar should not pay for importing it

    links: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            name = e.path.lstrip("/")
            if e.kind == "D":
                parent, _, base = name.rpartition("/")
                wh = f"{parent}/{WH_PREFIX}{base}" if parent else f"{WH_PREFIX}{base}"
                tf.addfile(_marker(wh, e.st.st_mtime if e.st else 0))
                continue
            assert e.src is not None and e.st is not None
            ti = _tarinfo(name, e.src, e.st, links)
            if ti is None:
                continue
            if owner is not None:
                ti.uid, ti.gid = owner(ti.uid, ti.gid)
            if ti.isreg() and ti.size:
                fd = os.open(e.src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                with open(fd, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)
            if e.opaque:
                tf.addfile(_marker(f"{name}/{WH_OPAQUE}", e.st.st_mtime))
