"""`container prune --filter` and `system prune`: stopped containers, then (with --volumes) unused
anonymous volumes, then dangling (with -a: unused) images, in Docker's order, so that what the
removed containers held is free by the time images are looked at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podpy.engine import container_record as cr
from podpy.engine.filters import match_labels, parse_filters, until_time
from podpy.errors import InvalidArgument, PodpyError
from podpy.timeutil import parse_time

if TYPE_CHECKING:
    from podpy.engine.containers import ContainerService
    from podpy.engine.core import Engine
    from podpy.engine.images import RemoveReport

PRUNE_FILTERS = ("until", "label", "label!")
PRUNABLE = (cr.CREATED, cr.EXITED, "dead")  # never running, restarting, paused or being removed


@dataclass
class SystemPruneReport:
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[RemoveReport] = field(default_factory=list)
    reclaimed: int = 0  # bytes


def _selected(labels: dict[str, str] | None, created: str, f: dict[str, list[str]], until: float | None) -> bool:
    """Docker's prune filters: every `label` present, no `label!` present, created before `until`."""
    if not match_labels(labels, f.get("label", [])):
        return False
    if any(match_labels(labels, [w]) for w in f.get("label!", [])):
        return False
    return until is None or parse_time(created) < until


def prune_containers(svc: ContainerService, filters: list[str] | None) -> tuple[list[str], int]:
    """Remove the stopped containers the filters select: (IDs, bytes reclaimed)."""
    from podpy.storage.fsutil import disk_usage

    f = parse_filters(filters, PRUNE_FILTERS)
    until = until_time(f.get("until", []))
    removed, size = [], 0
    for rec in svc.list(all_=True):
        st = rec.state
        if st.status not in PRUNABLE or getattr(st, "paused", False):
            continue
        if not _selected(rec.spec.get("labels"), rec.created, f, until):
            continue
        rw = disk_usage(svc.cdir(rec.id))
        try:
            svc.lifecycle.remove(rec.id, force=False)
        except PodpyError:
            continue  # started (or removed) meanwhile
        removed.append(rec.id)
        size += rw
    return removed, size


def system_prune(engine: Engine, all_images: bool, volumes: bool, filters: list[str] | None) -> SystemPruneReport:
    """Containers, then volumes (label filters only, as Docker), then images."""
    f = parse_filters(filters, PRUNE_FILTERS)
    if volumes and "until" in f:
        raise InvalidArgument('The "until" filter is not supported with "--volumes"')
    report = SystemPruneReport()
    report.containers, size = prune_containers(engine.containers, filters)
    report.reclaimed += size
    report.networks = _prune_networks(engine, f)
    if volumes:
        vols = engine.volumes.prune(filters)
        report.volumes = vols.deleted
        report.reclaimed += vols.size
    report.images = prune_images(engine, all_images, f)
    report.reclaimed += sum(r.size for r in report.images)
    return report


IMAGE_PRUNE_FILTERS = (*PRUNE_FILTERS, "dangling")


def image_prune(engine: Engine, all_images: bool, filters: list[str] | None) -> list[RemoveReport]:
    """`image prune [-a] [--filter until=|label=|label!=|dangling=]`."""
    return prune_images(engine, all_images, parse_filters(filters, IMAGE_PRUNE_FILTERS))


def prune_images(engine: Engine, all_images: bool, f: dict[str, list[str]]) -> list[RemoveReport]:
    """`image prune` (dangling, or every unused image with -a), narrowed by label, until and dangling
    filters (`dangling=false` alone means the tagged ones, as `-a` would)."""
    if not f:
        return engine.images.prune(all_images)
    from podpy.engine.filters import match_bool
    from podpy.errors import ImageInUse, NoSuchImage

    until = until_time(f.get("until", []))
    dangling = f.get("dangling", [])
    if dangling:
        match_bool(True, dangling, "dangling")  # a bad value is an error even with no image
        all_images = True
    reports = []
    for img in engine.images.list():
        if (img.names and not all_images) or engine.images.users(img.id):
            continue
        if dangling and not match_bool(not img.names, dangling, "dangling"):
            continue
        if not _selected(_image_labels(engine, img), img.created, f, until):
            continue
        try:
            reports.append(engine.images.remove(img.id, force=True))
        except (NoSuchImage, ImageInUse):
            continue
    return reports


def _image_labels(engine: Engine, img: Any) -> dict[str, str]:
    try:
        return (engine.images.config(img).get("config") or {}).get("Labels") or {}
    except (OSError, PodpyError, ValueError):
        return {}


def _prune_networks(engine: Engine, f: dict[str, list[str]]) -> list[str]:
    """Unused user-defined networks (Podman's system prune does it too); label/until filters apply."""
    nets = getattr(engine, "networks", None)
    if nets is None:
        return []
    flat = [f"{k}={v}" for k, vs in f.items() for v in vs]
    try:
        return list(nets.prune(flat))
    except PodpyError:
        return []  # networks are a courtesy here: never fail the rest of the prune over them
