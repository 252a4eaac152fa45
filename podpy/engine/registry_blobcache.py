"""Which compressed blob holds which uncompressed layer: <root>/cache/blob-info.json.

A layer stored uncompressed (import, commit) is gzipped when pushed. Recording the result lets
the next push skip compressing it again and push the very same bytes (same digests, so the
registry already has them and a second push uploads nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podpy.state import FileLock, atomic_write_json, read_json


@dataclass(frozen=True)
class Compressed:
    digest: str
    size: int


class BlobInfoCache:
    def __init__(self, root: Path) -> None:
        self.path = root / "cache" / "blob-info.json"
        self.lock = FileLock(root / "cache" / "blob-info.lock")

    def get(self, diff_id: str, kind: str) -> Compressed | None:
        entry = read_json(self.path, default={"compressed": {}}).get("compressed", {}).get(diff_id, {}).get(kind)
        return Compressed(entry["digest"], int(entry["size"])) if entry else None

    def put(self, diff_id: str, kind: str, blob: Compressed) -> None:
        with self.lock:
            doc = read_json(self.path, default={"compressed": {}})
            doc.setdefault("compressed", {}).setdefault(diff_id, {})[kind] = {"digest": blob.digest, "size": blob.size}
            doc.pop("schemaVersion", None)
            atomic_write_json(self.path, doc)
