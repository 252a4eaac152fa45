"""`system df` figures: images, containers (rw layers), volumes (data dirs) and the build cache, and the
per-object rows of `system df -v` (Podman's columns). Plain data; the CLI humanizes sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podpy.engine.core import Engine


def _container_size(engine: Engine, cid: str) -> int:
    from podpy.storage.fsutil import disk_usage

    svc = engine.containers
    try:
        rw = svc.storage_driver.rw_dir(cid)
    except Exception:  # noqa: BLE001 - a driver without a rw dir for it (--rootfs): count nothing
        return 0
    upper = rw / "upper"  # overlay: only the upper dir is the container's own (merged is a mount)
    target = upper if upper.is_dir() else rw
    return disk_usage(target) if target.exists() else 0


def container_rows(engine: Engine) -> list[dict[str, Any]]:
    """One row per container: ID, image, command, volumes, rw size, created, status, name."""
    from podpy.engine import container_record as cr

    rows = []
    for rec in engine.containers.list(all_=True):
        running = rec.state.status in (cr.RUNNING, cr.RESTARTING) or getattr(rec.state, "paused", False)
        rows.append({
            "ContainerID": rec.id, "Image": rec.image.removeprefix("sha256:"),
            "Command": " ".join(rec.args), "LocalVolumes": len(rec.volumes),
            "RawSize": _container_size(engine, rec.id), "Created": rec.created,
            "Status": rec.state.status, "Names": rec.name, "Running": running,
        })  # fmt: skip
    return rows


def volume_rows(engine: Engine) -> list[dict[str, Any]]:
    from podpy.storage.fsutil import disk_usage

    users = engine.volumes.users()
    rows = []
    for v in engine.volumes.store.list():
        data = engine.volumes.mountpoint(v.name)
        size = disk_usage(data) if data.exists() else 0
        rows.append({"VolumeName": v.name, "Links": len(users.get(v.name, [])), "RawSize": size})
    return rows


def image_rows(engine: Engine) -> list[dict[str, Any]]:
    from podpy.engine.images import chain_ids
    from podpy.image import reference

    imgs = engine.images.list()
    users = {i.id: engine.images.users(i.id) for i in imgs}
    chains = {i.id: chain_ids([x.diff_id for x in i.layers]) for i in imgs}
    count: dict[str, int] = {}
    for cs in chains.values():
        for c in set(cs):
            count[c] = count.get(c, 0) + 1
    rows = []
    for img in imgs:
        shared = 0
        for c in chains[img.id]:
            if count.get(c, 0) > 1:
                try:
                    shared += engine.layers.get(c).size
                except Exception:  # noqa: BLE001 - a layer gone meanwhile
                    continue
        for name in img.names or [None]:
            repo, tag = "<none>", "<none>"
            if name:
                r = reference.parse(name, default_tag=False)
                repo, tag = r.familiar_name, r.tag or "<none>"
            rows.append({
                "Repository": repo, "Tag": tag, "ImageID": img.hex, "Created": img.created,
                "RawSize": img.size, "RawSharedSize": shared, "RawUniqueSize": img.size - shared,
                "Containers": len(users[img.id]),
            })  # fmt: skip
    return rows


def summary(engine: Engine) -> list[dict[str, Any]]:
    """`system df` rows: Images, Containers, Local Volumes, Build Cache."""
    from podpy.engine.build_support import cache_usage

    imgs = engine.images.list()
    in_use = [i for i in imgs if engine.images.users(i.id)]
    ctrs = container_rows(engine)
    vols = volume_rows(engine)
    return [
        _row("Images", len(imgs), len(in_use), sum(i.size for i in imgs),
             sum(i.size for i in imgs if i not in in_use)),  # fmt: skip
        _row("Containers", len(ctrs), sum(1 for c in ctrs if c["Running"]), sum(c["RawSize"] for c in ctrs),
             sum(c["RawSize"] for c in ctrs if not c["Running"])),  # fmt: skip
        _row("Local Volumes", len(vols), sum(1 for v in vols if v["Links"]), sum(v["RawSize"] for v in vols),
             sum(v["RawSize"] for v in vols if not v["Links"])),  # fmt: skip
        cache_usage(engine),
    ]


def _row(kind: str, total: int, active: int, size: int, reclaimable: int) -> dict[str, Any]:
    return {"Type": kind, "TotalCount": total, "Active": active, "RawSize": size, "RawReclaimable": reclaimable}
