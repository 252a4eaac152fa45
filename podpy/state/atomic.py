"""Atomic writes: temp file in the same directory, fsync, rename. Readers never see half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from podpy.errors import StorageError

SCHEMA_VERSION = 1


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path, doc: dict[str, Any], mode: int = 0o644) -> None:
    """Write `doc` (stamped with the schema version) atomically."""
    body = {"schemaVersion": SCHEMA_VERSION, **doc}
    atomic_write_bytes(path, json.dumps(body, indent=1, sort_keys=False).encode(), mode)


def read_json(path: Path, default: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a state document; a missing file gives `default` (or raises if None)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if default is not None:
            return dict(default)
        raise
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise StorageError(f"corrupt state file {path}: {e}") from None
    version = doc.get("schemaVersion", SCHEMA_VERSION) if isinstance(doc, dict) else None
    if version is None or version > SCHEMA_VERSION:
        raise StorageError(f"{path}: unsupported schema version {version!r}")
    return doc
