"""Volume services: create, list, inspect, remove, prune, and what containers need (ensure, copy-up).

Lock order: the store lock (container name/ID allocation) before the volumes lock. `remove` and
`prune` take both, so a container being created cannot pick a volume that is being removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podpy.engine import events as ev
from podpy.engine.filters import until_time
from podpy.errors import NoSuchVolume, PodpyError, VolumeExists, VolumeInUse
from podpy.state import FileLock
from podpy.storage.fsutil import disk_usage
from podpy.timeutil import now_rfc3339, parse_time
from podpy.volumes import options as vopts
from podpy.volumes.store import (
    ANONYMOUS_LABEL,
    VolumeRecord,
    VolumeStore,
    anonymous_name,
    validate_name,
    volume_users,
)

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine

LIST_FILTERS = ("name", "label", "dangling", "driver", "anonymous")
PRUNE_FILTERS = ("label", "label!", "until", "all")


@dataclass
class PruneReport:
    """What `volume prune` removed and the space it freed."""

    deleted: list[str]
    size: int  # bytes reclaimed


class VolumeService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.layout = engine.layout
        self.store = VolumeStore(engine.layout)

    # ---- reading
    def get(self, name: str) -> VolumeRecord:
        return self.store.get(name)

    def exists(self, name: str) -> bool:
        return self.store.exists(name)

    def mountpoint(self, name: str) -> Path:
        return self.store.data(name)

    def users(self) -> dict[str, list[str]]:
        """Volume name -> IDs of containers using it."""
        return volume_users(self.layout)

    def list(self, filters: list[str] | None = None) -> list[VolumeRecord]:
        from podpy.engine.filters import match_bool, match_labels, parse_filters

        f = parse_filters(filters, LIST_FILTERS)
        vols = self.store.list()
        used = self.users() if "dangling" in f else {}
        for d in f.get("driver", []):
            vopts.validate_driver(d)
        out = []
        for v in vols:
            if "name" in f and not any(n in v.name for n in f["name"]):
                continue
            if "driver" in f and v.driver not in f["driver"]:
                continue
            if "label" in f and not match_labels(v.labels, f["label"]):
                continue
            if "dangling" in f and not match_bool(v.name not in used, f["dangling"], "dangling"):
                continue
            if "anonymous" in f and not match_bool(v.anonymous, f["anonymous"], "anonymous"):
                continue
            out.append(v)
        return out

    def inspect(self, name: str) -> dict[str, Any]:
        return inspect_doc(self.get(name), self.mountpoint(name))

    # ---- creating
    def create(self, name: str | None = None, driver: str = "local", labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None, ignore: bool = False,
               anonymous: bool = False) -> VolumeRecord:  # fmt: skip
        """`volume create`: a random 64-hex name when none; VolumeExists unless `ignore`."""
        vopts.validate_driver(driver)
        opts = vopts.validate_local_options(options or {})
        name = validate_name(name) if name else anonymous_name()
        labels = dict(labels or {})
        if anonymous:
            labels.setdefault(ANONYMOUS_LABEL, "")
        rec = VolumeRecord(name=name, driver=driver, labels=labels, options=opts, created_at=now_rfc3339(),
                           anonymous=anonymous)  # fmt: skip
        uid, gid = (int(opts[k]) if k in opts else None for k in ("uid", "gid"))
        with self.store.lock():
            if self.store.exists(name):
                if ignore:
                    return self.store.get(name)
                raise VolumeExists(name)
            made = self.store.create(rec, uid, gid)
        ev.volume(self, "create", name)
        return made

    def ensure(self, name: str) -> tuple[VolumeRecord, bool]:
        """The named volume, created (no labels, no options) if missing: `-v name:/path`. (rec, created)"""
        with self.store.lock():
            if self.store.exists(name):
                return self.store.get(name), False
        try:
            return self.create(name), True
        except VolumeExists:  # another podpy made it meanwhile
            return self.store.get(name), False

    # ---- removing
    def remove(self, name: str, force: bool = False) -> bool:
        """`volume rm`: refuses a volume any container uses (even with force, as Docker does; force
        only turns a missing volume into a no-op). True if something was removed."""
        with FileLock(self.layout.store_lock), self.store.lock():
            if not self.store.exists(name):
                if force:
                    return False
                raise NoSuchVolume(name)
            users = self.users().get(name)
            if users:
                raise VolumeInUse(name, users)
            self.store.remove(name)
        ev.volume(self, "remove", name)
        return True

    def remove_with_users(self, name: str, timeout: int | None = None) -> bool:
        """`volume rm -f` as Podman: the containers using the volume go first (running ones stopped
        with up to `timeout` seconds of grace, then killed), then the volume; a missing one is a no-op."""
        from podpy.errors import NoSuchContainer

        for cid in self.users().get(name, []):
            try:
                if timeout:
                    self.engine.containers.stop(cid, timeout)
                self.engine.containers.remove(cid, force=True)
            except NoSuchContainer:
                continue
        return self.remove(name, force=True)

    def discard_new(self, names: list[str]) -> None:
        """Undo volumes just made for a container whose creation failed (no record lists them yet).

        Only the volumes lock: the caller may hold the store lock (create allocates under it)."""
        with self.store.lock():
            for name in names:
                if self.store.exists(name) and name not in self.users():
                    self.store.remove(name)

    def remove_anonymous(self, names: list[str]) -> list[str]:
        """`rm -v` / `run --rm`: the container's anonymous volumes that no other container uses.

        Call it after the container's record is gone. Named volumes are never removed here."""
        removed = []
        for name in names:
            try:
                rec = self.store.get(name)
                if rec.anonymous and self.remove(name):
                    removed.append(name)
            except (VolumeInUse, NoSuchVolume):
                continue
        return removed

    def prune(self, filters: list[str] | None = None, all_: bool = False) -> PruneReport:
        """Unused volumes: only anonymous ones unless `all_` (Docker 23+), narrowed by filters."""
        from podpy.engine.filters import match_bool, match_labels, parse_filters

        f = parse_filters(filters, PRUNE_FILTERS)
        if "all" in f:
            all_ = match_bool(True, f["all"], "all")
        until = until_time(f.get("until", []))
        deleted, size = [], 0
        with FileLock(self.layout.store_lock), self.store.lock():
            self.store.collect_trash()
            used = self.users()
            for v in self.store.list():
                if v.name in used or not (all_ or v.anonymous):
                    continue
                if "label" in f and not match_labels(v.labels, f["label"]):
                    continue
                if "label!" in f and _any_label(v.labels, f["label!"]):
                    continue
                if until is not None and parse_time(v.created_at) >= until:
                    continue
                bytes_ = disk_usage(self.store.data(v.name))
                try:
                    self.store.remove(v.name)
                except (OSError, PodpyError):
                    continue
                deleted.append(v.name)
                size += bytes_
        for name in deleted:
            ev.volume(self, "prune", name)
        return PruneReport(deleted, size)

    # ---- copy-up (containers call it once the record lists the volume)
    def copy_up(self, name: str, diffs: list[Path], container_path: str) -> bool:
        """Fill a new, empty volume from the image's tree at `container_path`, once in its life.

        `diffs` are the image's layer directories, top first (see `image_diffs`). True if copied."""
        from podpy.volumes.copyup import copy_up

        with self.store.copy_lock(name):
            rec = self.store.get(name)
            if not rec.needs_copy_up:
                return False
            copied = False
            if vopts.device_mount(rec.options) is None:  # a device's data is not ours to seed
                data = self.store.data(name)
                copied = not any(data.iterdir()) and copy_up(diffs, container_path, data)
            with self.store.lock():
                if self.store.exists(name):  # not removed meanwhile (saving would resurrect it)
                    rec = self.store.get(name)
                    rec.needs_copy_up = False
                    self.store.save(rec)
            return copied


def image_diffs(engine: Engine, top_chain: str | None) -> list[Path]:
    """The directories holding an image's tree, top first: all layers for overlay (merged on read),
    the top layer only for vfs (each vfs layer is a full snapshot, deletions already applied)."""
    if top_chain is None:
        return []
    layers = engine.layers
    if layers.driver == "vfs":
        return [layers.diff_path(top_chain)]
    return [layers.diff_path(r.chain_id) for r in layers.lineage(top_chain)]


def inspect_doc(v: VolumeRecord, mountpoint: Path) -> dict[str, Any]:
    """Docker's `volume inspect` object (key order as Docker prints it)."""
    t = parse_time(v.created_at)
    import time

    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else ""
    return {"CreatedAt": created, "Driver": v.driver, "Labels": dict(v.labels), "Mountpoint": str(mountpoint),
            "Name": v.name, "Options": dict(v.options), "Scope": "local"}  # fmt: skip


def _any_label(labels: dict[str, str], wanted: list[str]) -> bool:
    from podpy.engine.filters import match_labels

    return any(match_labels(labels, [w]) for w in wanted)
