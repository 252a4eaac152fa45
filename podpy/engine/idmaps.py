"""Podman's ID-mapping flags (--uidmap, --gidmap, --subuidname, --subgidname) -> the container's
user namespace mappings, as (containerID, hostID, size) triples.

Podman's rules (pkg/util ParseIDMapping): --subuidname NAME maps the ranges of NAME in /etc/subuid
from container id 0 on (--subgidname defaults to the same name), --uidmap/--gidmap triples come
after those; a map given for one kind only is used for the other too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podpy.engine.idcompose import compose, spare  # noqa: F401 - rootless --uidmap
from podpy.errors import InvalidArgument

Triple = tuple[int, int, int]
FLAGS = ("uidmap", "gidmap", "subuidname", "subgidname")
_MAX = 0xFFFFFFFF


def wanted(more: dict[str, Any]) -> bool:
    return any(more.get(k) for k in FLAGS)


def parse_map(items: list[str], kind: str) -> list[Triple]:
    """`container:host:size` items (each may hold several, comma-separated, as Podman accepts)."""
    out = []
    for item in items:
        for part in item.split(","):
            fields = part.strip().split(":")
            if len(fields) != 3 or not all(f.isdigit() and int(f) <= _MAX for f in fields):
                raise InvalidArgument(f'initializing ID mappings: {kind} setting is malformed expected '
                                      f'["uint32:uint32:uint32"]: ["{part}"]')  # fmt: skip
            c, h, s = (int(f) for f in fields)
            if s == 0:
                raise InvalidArgument(f"invalid {kind} mapping {part!r}: the size must be at least 1")
            if c + s - 1 > _MAX or h + s - 1 > _MAX:
                raise InvalidArgument(f"invalid {kind} mapping {part!r}: the range exceeds 32 bits")
            out.append((c, h, s))
    return out


def subid_map(name: str, path: str, kind: str = "subuid") -> list[Triple]:
    """NAME's ranges of /etc/subuid (or /etc/subgid), mapped from container id 0 on."""
    from podpy.engine.specgen import subid_ranges

    try:
        text = Path(path).read_text()
    except OSError:
        text = ""
    uid = int(name) if name.isdigit() else -1
    ranges = subid_ranges(text, name, uid)
    if not ranges:
        raise InvalidArgument(f'no {kind} ranges found for user "{name}" in {path}')
    out, nxt = [], 0
    for start, count in ranges:
        out.append((nxt, start, count))
        nxt += count
    return out


def check(maps: list[Triple]) -> None:
    """No two triples may overlap on either side (the kernel refuses it)."""
    for i, (c, h, s) in enumerate(maps):
        for c2, h2, s2 in maps[:i]:
            if c < c2 + s2 and c2 < c + s or h < h2 + s2 and h2 < h + s:
                raise InvalidArgument(f"the specified UID and/or GID mapping {c}:{h}:{s} conflicts with other "
                                      "mappings: invalid mappings specified")  # fmt: skip
    if len(maps) > 340:
        raise InvalidArgument("too many ID mappings: the kernel takes at most 340")


def from_flags(more: dict[str, Any], subuid: str = "/etc/subuid", subgid: str = "/etc/subgid"
               ) -> tuple[tuple[Triple, ...], tuple[Triple, ...]]:  # fmt: skip
    """(uid triples, gid triples) of the flags in `more`, validated."""
    subuidname, subgidname = more.get("subuidname") or "", more.get("subgidname") or ""
    if subuidname and not subgidname:
        subgidname = subuidname
    uids = subid_map(subuidname, subuid) if subuidname else []
    gids = subid_map(subgidname, subgid, "subgid") if subgidname else []
    uid_items, gid_items = (
        parse_map(more.get("uidmap") or [], "UID"),
        parse_map(more.get("gidmap") or [], "GID"),
    )
    if not uid_items and gid_items:
        uid_items = gid_items
    if not gid_items and uid_items:
        gid_items = uid_items
    uids, gids = uids + uid_items, gids + gid_items
    if not gids:
        gids = uids
    if not uids:
        uids = gids
    check(uids)
    check(gids)
    if host_id(uids, 0) is None or host_id(gids, 0) is None:  # the storage's rule in Podman, and ours:
        raise InvalidArgument("container ID 0 cannot be mapped to a host ID")  # the init acts as root
    return tuple(uids), tuple(gids)


def to_text(maps: tuple[Triple, ...] | list[Any]) -> list[str]:
    """Podman's inspect form: "container:host:size"."""
    return [f"{c}:{h}:{s}" for c, h, s in maps]


def host_id(maps: tuple[Triple, ...] | list[Any], cid: int) -> int | None:
    """The host id container id `cid` maps to (None: unmapped)."""
    for c, h, s in maps:
        if c <= cid < c + s:
            return h + cid - c
    return None


def container_id(maps: tuple[Triple, ...] | list[Any], hid: int) -> int | None:
    """The container id of host id `hid` (None: outside the mapping)."""
    for c, h, s in maps:
        if h <= hid < h + s:
            return c + hid - h
    return None


def map_owner(path: Path, uids: tuple[Triple, ...], gids: tuple[Triple, ...]) -> None:
    """Give `path` (a container's upper dir, whose owner is the image's) the host ids its owner has
    in the mapping: the overlay's root directory shows the upper dir's owner."""
    import os

    st = os.stat(path)
    uid, gid = host_id(uids, st.st_uid), host_id(gids, st.st_gid)
    os.chown(path, st.st_uid if uid is None else uid, st.st_gid if gid is None else gid)


def shift_volumes(engine: Any, mounts: Any, names: list[str], uids: Any, gids: Any) -> None:
    """New volumes of a --uidmap container, mounted without `idmap`: every entry gets the host ids
    (rootless: ids of the user's namespace) of its owner (as Podman chowns a new volume), so the
    container's root owns its volume. Run once, right after the volume was created and filled."""
    import os

    by_path = {str(engine.volumes.store.data(n)): n for n in names}
    tops = [Path(m.source) for m in mounts if m.source in by_path and "idmap" not in m.options]
    if engine.opts.rootless:  # ids of the user's namespace: chowned inside it
        from podpy.storage.idshift import map_trees

        map_trees(tops, uids, gids or uids)
        return
    for top in tops:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in (".", *dirnames, *filenames):
                path = os.path.join(dirpath, name) if name != "." else dirpath
                st = os.lstat(path)
                uid, gid = host_id(uids, st.st_uid), host_id(gids or uids, st.st_gid)
                os.chown(path, st.st_uid if uid is None else uid, st.st_gid if gid is None else gid,
                         follow_symlinks=False)  # fmt: skip

