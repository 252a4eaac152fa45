"""Rootless ownership: the user's subordinate id mapping, and work done inside it.

Rootless storage holds files with host ids: the user's own id is the container's root, its
/etc/subuid range the container's other ids (as the runtime maps them). An ordinary user cannot
chown to its subordinate ids, nor always read or delete what they own, from the host namespace;
a forked child in a user namespace with the full mapping can (it is root over those ids there,
and sees container ids). Layer tars always carry container ids: `to_container` maps back.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from podpy.errors import StorageError

OVERFLOW_ID = 65534  # what a host id outside the mapping looks like inside (kernel overflowuid)
Triples = tuple[tuple[int, int, int], ...]  # (container id, host id, size)


@dataclass(frozen=True)
class IdMapping:
    """The uid and gid maps of a user namespace."""

    uids: Triples
    gids: Triples

    @property
    def full(self) -> bool:
        """More than our own id: other owners can be set (from inside the mapping)."""
        return len(self.uids) > 1 and len(self.gids) > 1

    def to_container(self, uid: int, gid: int) -> tuple[int, int]:
        return _back(self.uids, uid), _back(self.gids, gid)


def _back(maps: Triples, host: int) -> int:
    for cont, start, size in maps:
        if start <= host < start + size:
            return cont + host - start
    return OVERFLOW_ID


def _ranges(path: str, name: str, uid: int) -> list[tuple[int, int]]:
    try:
        text = Path(path).read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in (name, str(uid)) and parts[1].isdigit() and parts[2].isdigit():
            out.append((int(parts[1]), int(parts[2])))
    return out


def _column(own: int, ranges: list[tuple[int, int]]) -> Triples:
    maps, nxt = [(0, own, 1)], 1
    for start, count in ranges:
        maps.append((nxt, start, count))
        nxt += count
    return tuple(maps)


@cache
def current() -> IdMapping | None:
    """The default rootless mapping of this user (own id as root, then its subordinate ranges, as
    the runtime maps a container), None as root. Without subordinate ids (or newuidmap) only our
    own id is mapped: every owner collapses to it."""
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        return None
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    subu = subg = []
    if shutil.which("newuidmap") and shutil.which("newgidmap"):
        subu, subg = _ranges("/etc/subuid", name, uid), _ranges("/etc/subgid", name, uid)
    if not subu or not subg:
        subu = subg = []
    return IdMapping(_column(uid, subu), _column(gid, subg))


def _helper(tool: str, pid: int, maps: Triples) -> None:
    import subprocess

    args = [tool, str(pid), *(str(v) for m in maps for v in m)]
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        raise StorageError(f"{tool}: {res.stderr.strip() or 'failed'}")


def run_mapped(mapping: IdMapping, fn: Callable[[], None]) -> None:
    """`fn()` in a forked child that is root in a new user namespace with `mapping`; its OSError or
    StorageError is re-raised here as a StorageError."""
    sys.stdout.flush()
    sys.stderr.flush()
    up_r, up_w = os.pipe2(os.O_CLOEXEC)  # child -> parent: unshared; then its error text, if any
    go_r, go_w = os.pipe2(os.O_CLOEXEC)  # parent -> child: the maps are written
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(up_r)
        os.close(go_w)
        _child(fn, up_w, go_r)
    os.close(up_w)
    os.close(go_r)
    try:
        first = os.read(up_r, 1)  # b"1" once it has its namespace, else the start of its error
        if first == b"1":
            _helper("newuidmap", pid, mapping.uids)
            _helper("newgidmap", pid, mapping.gids)
            os.write(go_w, b"1")
            first = b""
        os.close(go_w)
        go_w = -1
        with os.fdopen(up_r, "rb") as f:
            up_r = -1
            err = (first + f.read()).decode(errors="replace")
    finally:
        for fd in (up_r, go_w):
            if fd >= 0:
                os.close(fd)
        _, status = os.waitpid(pid, 0)
    if err or os.waitstatus_to_exitcode(status) != 0:
        raise StorageError(err or "the user namespace helper process failed")


def _child(fn: Callable[[], None], up: int, go: int) -> None:  # pragma: no cover - runs in the child
    code = 1
    try:
        from podpy.runtime import syscalls as sc

        sc.unshare(sc.CLONE_NEWUSER)
        os.write(up, b"1")
        if os.read(go, 1) != b"1":
            os._exit(1)
        fn()
        code = 0
    except BaseException as e:  # noqa: BLE001 - whatever happens, the parent hears of it
        msg = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        where = f" ({e.filename})" if isinstance(e, OSError) and e.filename else ""
        try:
            os.write(up, f"{msg}{where}".encode()[:4000] or b"failed")
        except OSError:
            pass
    finally:
        os._exit(code)


@dataclass(frozen=True)
class Owner:
    """An owner to set inside the mapping: `parts` below a root (already resolved, no symlink
    among them but maybe the last), container ids, and the mode to restore (chown clears setuid)."""

    parts: tuple[str, ...]
    uid: int
    gid: int
    mode: int | None = None


def apply_owners(mapping: IdMapping, root: Path, owners: list[Owner]) -> None:
    """lchown each entry below `root` to its container ids, inside the mapping (one fork)."""
    if owners:
        run_mapped(mapping, lambda: _chown_all(root, owners))


def _chown_all(root: Path, owners: list[Owner]) -> None:  # pragma: no cover - runs in the child
    from podpy.inroot import Root

    with Root(root) as r:
        for o in owners:
            if not o.parts:  # the tree's root itself
                os.chown(root, o.uid, o.gid)
                continue
            try:
                with r.dir(o.parts[:-1], create=False) as d:
                    os.chown(o.parts[-1], o.uid, o.gid, dir_fd=d.fd, follow_symlinks=False)
                    if o.mode is not None:
                        os.chmod(o.parts[-1], o.mode, dir_fd=d.fd)  # only regular files carry a mode
            except FileNotFoundError:
                continue  # removed again later in the same layer


def rmtree_mapped(path: Path) -> None:
    """Delete a tree that holds files of subordinate ids (rootless), from inside the mapping."""
    mapping = current()
    if mapping is None or not mapping.full:
        raise StorageError(f"cannot remove {path}: permission denied")
    run_mapped(mapping, lambda: shutil.rmtree(path))
