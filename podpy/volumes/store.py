"""Volume records on disk: <root>/volumes/<name>/volume.json and the data in <name>/_data.

Creation and removal take the volumes lock (<runroot>/locks/volumes.lock). Removal first renames
the volume's directory to a hidden `.rm-*` name, so a half-deleted volume never shows up (and a
crash only leaves garbage that the next removal collects).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from podpy.errors import InvalidArgument, NoSuchVolume, PodpyError, VolumeExists
from podpy.state import FileLock, atomic_write_json, read_json
from podpy.state.layout import Layout
from podpy.storage.fsutil import force_rmtree

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# Docker marks anonymous volumes with this label (prune without --all removes only those).
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
RECORD = "volume.json"
DATA = "_data"
TRASH_PREFIX = ".rm-"


@dataclass
class VolumeRecord:
    """One named volume's JSON document."""

    name: str
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    anonymous: bool = False
    needs_copy_up: bool = True  # filled from the image at its first mount (then never again)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "driver": self.driver, "labels": self.labels, "options": self.options,
                "createdAt": self.created_at, "anonymous": self.anonymous,
                "needsCopyUp": self.needs_copy_up}  # fmt: skip

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> VolumeRecord:
        return cls(
            name=str(doc["name"]),
            driver=str(doc.get("driver") or "local"),
            labels=dict(doc.get("labels") or {}),
            options=dict(doc.get("options") or {}),
            created_at=str(doc.get("createdAt") or ""),
            anonymous=bool(doc.get("anonymous")),
            needs_copy_up=bool(doc.get("needsCopyUp", True)),
        )


def validate_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise InvalidArgument(
            f'"{name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" '
            f"are allowed. If you intended to pass a host directory, use absolute path"
        )
    return name


def anonymous_name() -> str:
    return secrets.token_hex(32)


class VolumeStore:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.base = layout.volumes

    # ---- paths and locks
    def dir(self, name: str) -> Path:
        return self.base / validate_name(name)

    def data(self, name: str) -> Path:
        return self.dir(name) / DATA

    def lock(self) -> FileLock:
        return FileLock(self.layout.locks / "volumes.lock")

    def copy_lock(self, name: str) -> FileLock:
        return FileLock(self.layout.locks / f"volume-{validate_name(name)}.lock")

    # ---- reading
    def names(self) -> list[str]:
        try:
            entries = os.listdir(self.base)
        except FileNotFoundError:
            return []
        return sorted(n for n in entries if NAME_RE.fullmatch(n) and (self.base / n / RECORD).is_file())

    def exists(self, name: str) -> bool:
        return bool(NAME_RE.fullmatch(name)) and (self.base / name / RECORD).is_file()

    def get(self, name: str) -> VolumeRecord:
        if not NAME_RE.fullmatch(name):
            raise NoSuchVolume(name)
        try:
            return VolumeRecord.from_json(read_json(self.base / name / RECORD))
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchVolume(name) from None

    def list(self) -> list[VolumeRecord]:
        out = []
        for name in self.names():
            try:
                out.append(self.get(name))
            except (NoSuchVolume, PodpyError):
                continue  # removed meanwhile, or corrupt: listing must not fail
        return out

    # ---- writing
    def save(self, rec: VolumeRecord) -> None:
        atomic_write_json(self.dir(rec.name) / RECORD, rec.to_json())

    def create(self, rec: VolumeRecord, uid: int | None = None, gid: int | None = None) -> VolumeRecord:
        """Make the directory, _data and the record (VolumeExists if the name is taken). Caller locks."""
        vdir = self.dir(rec.name)
        if (vdir / RECORD).is_file():
            raise VolumeExists(rec.name)
        vdir.mkdir(parents=True, exist_ok=True)
        os.chmod(vdir, 0o700)  # like Docker: only root walks into a volume's directory
        data = vdir / DATA
        data.mkdir(exist_ok=True)
        os.chmod(data, 0o755)  # not umask-dependent
        if uid is not None or gid is not None:
            os.chown(data, -1 if uid is None else uid, -1 if gid is None else gid)
        self.save(rec)  # last: a volume without its record is not a volume
        return rec

    def remove(self, name: str) -> None:
        """Make the volume disappear at once (one rename), then delete its data. Caller locks."""
        vdir = self.dir(name)
        if not (vdir / RECORD).is_file():
            raise NoSuchVolume(name)
        trash = self.base / f"{TRASH_PREFIX}{secrets.token_hex(8)}"
        os.rename(vdir, trash)
        force_rmtree(trash)

    def collect_trash(self) -> None:
        """Delete what an interrupted removal left behind."""
        if self.base.is_dir():
            for p in self.base.glob(f"{TRASH_PREFIX}*"):
                force_rmtree(p)


def volume_users(layout: Layout) -> dict[str, list[str]]:
    """Volume name -> IDs of the containers that use it, from every container.json.

    A record lists its volumes under "volumes"; mounts whose source is a volume's _data count too,
    so a record written without that key still protects its volumes.
    """
    users: dict[str, list[str]] = {}
    base = str(layout.volumes) + "/"
    try:
        ids = os.listdir(layout.containers)
    except FileNotFoundError:
        return users
    for cid in ids:
        try:
            doc = read_json(layout.containers / cid / "container.json")
        except (OSError, PodpyError):
            continue  # half-created or removed meanwhile
        names = {str(n) for n in doc.get("volumes") or []}
        spec = doc.get("spec")
        for m in (spec.get("mounts") if isinstance(spec, dict) else None) or []:
            src = str(m.get("source") or "") if isinstance(m, dict) else ""
            if src.startswith(base) and src.endswith("/" + DATA):
                names.add(src[len(base) : -len(DATA) - 1])
        for n in names:
            users.setdefault(n, []).append(cid)
    return users
