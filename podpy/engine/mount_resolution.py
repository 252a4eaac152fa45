"""MountRequests -> OCI mounts (the calls `create` makes: resolve_mounts, populate_volumes): precedence, volumes looked up or created, parents before children.

Precedence (Docker's): explicit flags (-v, --mount, --tmpfs; two at one destination is an error)
over --volumes-from over the image's VOLUME entries. Every check that can fail runs before any
volume is created, and anonymous volumes made here are removed again if a later step fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podpy.engine.mounts import BIND, TMPFS, VOLUME, MountRequest, clean_target, parse_all, parse_volumes_from
from podpy.engine.spec import Mount
from podpy.errors import InvalidArgument, PodpyError
from podpy.volumes.options import device_mount, validate_local_options
from podpy.volumes.store import VolumeRecord

if TYPE_CHECKING:
    from pathlib import Path

    from podpy.engine.core import Engine
    from podpy.engine.volumes import VolumeService


@dataclass
class ResolvedMounts:
    """What `create` needs: OCI mounts for the spec, and what the container record must keep."""

    mounts: list[Mount] = field(default_factory=list)  # parents before children
    volumes: list[str] = field(default_factory=list)  # every volume used: record key "volumes"
    anonymous: list[str] = field(default_factory=list)  # made for this container: "anonymousVolumes"
    points: list[dict[str, Any]] = field(default_factory=list)  # inspect's Mounts: record key "mounts"
    copy_up: list[tuple[str, str]] = field(default_factory=list)  # (volume, container path) to fill

    def record_fields(self) -> dict[str, Any]:
        return {"volumes": list(self.volumes), "anonymousVolumes": list(self.anonymous),
                "mounts": [dict(p) for p in self.points]}  # fmt: skip


def merge_requests(explicit: list[MountRequest], inherited: list[MountRequest],
                   image_targets: list[str]) -> list[MountRequest]:  # fmt: skip
    """One request per destination: explicit > --volumes-from > image VOLUME (anonymous volumes)."""
    taken: dict[str, MountRequest] = {}
    for req in explicit:
        if req.target in taken:
            raise InvalidArgument(f'duplicate mount destination "{req.target}"')
        taken[req.target] = req
    out = list(explicit)
    for req in inherited:
        if req.target not in taken:
            taken[req.target] = req
            out.append(req)
    for path in image_targets:
        target = clean_target(path, "image VOLUME")
        if target not in taken:
            taken[target] = MountRequest(VOLUME, target, origin="image")
            out.append(taken[target])
    return out


def requests_from_points(points: list[dict[str, Any]], mode: str) -> list[MountRequest]:
    """Another container's mounts (its record's "mounts") for --volumes-from; tmpfs is not shared."""
    out = []
    for p in points:
        kind, dest = p.get("Type"), str(p.get("Destination") or "")
        readonly = mode == "ro" if mode else not p.get("RW", True)
        prop = str(p.get("Propagation") or "")
        if kind == VOLUME and p.get("Name"):
            out.append(MountRequest(VOLUME, dest, str(p["Name"]), readonly, nocopy=True, mode=mode,
                                    origin="--volumes-from"))  # fmt: skip
        elif kind == BIND and p.get("Source"):
            opts = (prop,) if prop else ()
            out.append(MountRequest(BIND, dest, str(p["Source"]), readonly, opts, mode=mode,
                                    origin="--volumes-from"))  # fmt: skip
    return out


def depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def resolve(requests: list[MountRequest], volumes: VolumeService) -> ResolvedMounts:
    """Check binds, then create/look up volumes; OCI mounts sorted so parents mount first."""
    for req in requests:
        if req.type == BIND:
            _check_bind_source(req)
        elif req.type == VOLUME and req.volume_opts:
            validate_local_options(dict(req.volume_opts))
    out = ResolvedMounts()
    entries: list[tuple[Mount, dict[str, Any]]] = []
    try:
        for req in requests:
            if req.type == BIND:
                entries.append(_bind(req))
            elif req.type == TMPFS:
                entries.append(_tmpfs(req))
            else:
                entries.append(_volume(req, volumes, out))
    except BaseException:
        volumes.discard_new(out.anonymous)  # never the store lock: create may hold it
        raise
    entries.sort(key=lambda e: depth(e[0].destination))  # stable: flag order within one depth
    out.mounts = [m for m, _ in entries]
    out.points = [p for _, p in entries]
    return out


def _check_bind_source(req: MountRequest) -> None:
    if os.path.lexists(req.source):
        return
    if not req.create_source:
        raise InvalidArgument(
            f'invalid mount config for type "bind": bind source path does not exist: {req.source}'
        )
    try:
        os.makedirs(req.source, 0o755, exist_ok=True)  # Docker's -v makes a missing host directory
    except OSError as e:
        raise PodpyError(f"creating bind source {req.source}: {e.strerror}") from None


def _ro(readonly: bool) -> tuple[str, ...]:
    return ("ro",) if readonly else ()


def _point(kind: str, req: MountRequest, source: str, **extra: str) -> dict[str, Any]:
    """Docker's inspect Mounts entry (key order as Docker prints it)."""
    point: dict[str, Any] = {"Type": kind}
    if "Name" in extra:
        point["Name"] = extra["Name"]
    point["Source"] = source
    point["Destination"] = req.target
    if "Driver" in extra:
        point["Driver"] = extra["Driver"]
    point.update({"Mode": req.mode, "RW": not req.readonly, "Propagation": extra.get("Propagation", "")})
    return point


def _bind(req: MountRequest) -> tuple[Mount, dict[str, Any]]:
    prop = req.propagation or "rprivate"
    recursive = "bind" if "bind" in req.options else "rbind"
    rest = tuple(o for o in req.options if o not in ("bind", "rbind") and o != req.propagation)
    mount = Mount(req.target, "bind", req.source, (recursive, prop, *rest, *_ro(req.readonly)))
    return mount, _point(BIND, req, req.source, Propagation=prop)


def _tmpfs(req: MountRequest) -> tuple[Mount, dict[str, Any]]:
    return Mount(req.target, "tmpfs", "tmpfs", req.options), _point(TMPFS, req, "")


def _volume(req: MountRequest, volumes: VolumeService, out: ResolvedMounts) -> tuple[Mount, dict[str, Any]]:
    rec = _volume_record(req, volumes, out)
    data = str(volumes.mountpoint(rec.name))
    if rec.name not in out.volumes:
        out.volumes.append(rec.name)
    dev = device_mount(rec.options)
    if dev is not None:  # a local volume standing for a device, tmpfs, or a host directory (o=bind)
        kind, source, opts = dev
        if kind == "bind" and not {"bind", "rbind"} & set(opts):
            opts = ["rbind", *opts]
        mount = Mount(req.target, kind, source, (*opts, *req.options, *_ro(req.readonly)))
    else:
        prop = req.propagation or "rprivate"
        rest = tuple(o for o in req.options if o != req.propagation)
        mount = Mount(req.target, "bind", data, ("rbind", prop, *rest, *_ro(req.readonly)))
        if rec.needs_copy_up and not req.nocopy:
            out.copy_up.append((rec.name, req.target))
    return mount, _point(VOLUME, req, data, Name=rec.name, Driver=rec.driver)


def _volume_record(req: MountRequest, volumes: VolumeService, out: ResolvedMounts) -> VolumeRecord:
    if not req.source:
        rec = volumes.create(labels=dict(req.volume_labels), options=dict(req.volume_opts), anonymous=True)
        out.anonymous.append(rec.name)
        return rec
    if req.origin == "--volumes-from":
        return volumes.get(req.source)  # never re-create what another container uses
    if req.volume_opts or req.volume_labels:  # --mount's volume-opt/label apply only to a new volume
        rec = volumes.create(req.source, labels=dict(req.volume_labels), options=dict(req.volume_opts),
                             ignore=True)  # fmt: skip
        return rec
    return volumes.ensure(req.source)[0]


# ---- the calls `create` makes ----------------------------------------------------------------------



def inherited_mounts(engine: Engine, spec: str) -> list[MountRequest]:
    """--volumes-from CTR[:ro|rw]: the volumes and binds recorded in that container's "mounts"."""
    from podpy.state import read_json

    ref, mode = parse_volumes_from(spec)
    cid = engine.containers.resolve(ref)
    doc = read_json(engine.layout.container_dir(cid) / "container.json")
    return requests_from_points(list(doc.get("mounts") or []), mode)


def resolve_mounts(engine: Engine, volume_flags: Iterable[str] = (), *, mount_flags: Iterable[str] = (),
                   tmpfs_flags: Iterable[str] = (), volumes_from: Iterable[str] = (),
                   image_volumes: Iterable[str] | None = None, cwd: str | None = None) -> ResolvedMounts:  # fmt: skip
    """The container's user mounts as OCI mounts, creating named and anonymous volumes as needed.

    image_volumes: the keys of the image config's "Volumes". Store `result.record_fields()` in the
    container record, put `result.mounts` in the spec, then call `populate_volumes` once the record
    is saved (it fills new volumes from the image)."""
    explicit = parse_all(volume_flags, mount_flags, tmpfs_flags, cwd)
    inherited = [r for spec in volumes_from for r in inherited_mounts(engine, spec)]
    requests = merge_requests(explicit, inherited, sorted(image_volumes or []))
    return resolve(requests, engine.volumes)


def populate_volumes(engine: Engine, resolved: ResolvedMounts, top_chain: str | None,
                     rootfs: Path | None = None) -> list[str]:  # fmt: skip
    """Copy-up: fill each new volume from the image's content at its mount point (once per volume).

    `top_chain` is the image's top layer; for a --rootfs container pass `rootfs` instead. Returns the
    names of the volumes that received content."""
    from podpy.engine.volumes import image_diffs

    diffs = [rootfs] if rootfs is not None else image_diffs(engine, top_chain)
    if not diffs:
        return []
    return [name for name, path in resolved.copy_up if engine.volumes.copy_up(name, diffs, path)]
