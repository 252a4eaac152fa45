"""Atomic writes: temp file in the same directory, fsync, rename, fsync the directory. Readers never
see half a file, and after a crash a durable write is either the old or the new document.

Files are 0600 unless a caller asks otherwise: state is podpy's own (the store is private too)."""

from __future__ import annotations

import _thread
import json
import os
from pathlib import Path

from podpy.errors import StorageError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600, durable: bool = True) -> None:
    """Replace `path` with `data`. `durable=False` skips both fsyncs, for state that is rebuilt on
    read anyway (a running container's record); the rename still keeps readers from seeing half a file."""
    # pid + thread id make the temp name unique without tempfile (a 5 ms import on every command)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{_thread.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode != 0o600:  # created 0600 first: a private file is never briefly readable
                os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Persist a rename: the new directory entry is only durable once the directory is synced."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_json(path: Path, doc: dict[str, Any], mode: int = 0o600, durable: bool = True) -> None:
    """Write `doc` (stamped with the schema version) atomically; compact JSON uses the C encoder."""
    body = {"schemaVersion": SCHEMA_VERSION, **doc}
    atomic_write_bytes(path, json.dumps(body, separators=(",", ":")).encode(), mode, durable)


def read_json(path: Path, default: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a state document; a missing file gives `default` (or raises if None)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if default is not None:
            return dict(default)
        raise
    return decode_json(raw, path)


def decode_json(raw: bytes, path: Path | str) -> dict[str, Any]:
    """A state document's bytes, checked as read_json checks them (`path` names it in errors)."""
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise StorageError(f"corrupt state file {path}: {e}") from None
    version = doc.get("schemaVersion", SCHEMA_VERSION) if isinstance(doc, dict) else None
    if version is None or version > SCHEMA_VERSION:
        raise StorageError(f"{path}: unsupported schema version {version!r}")
    return doc
