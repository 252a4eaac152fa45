"""The layer cache: a step's CacheKey digest → the image its result was committed as.

One JSON document under the store (`build-cache/index.json`), read once per build and written
atomically under its lock when a step adds an entry. An entry whose image was removed (rmi,
image prune) is a miss, and is dropped at the next write.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from podpy.state import FileLock, atomic_write_json, read_json

if TYPE_CHECKING:
    from podpy.engine.core import Engine


class BuildCache:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dir: Path = engine.layout.root / "build-cache"
        self.path = self.dir / "index.json"

    def _load(self) -> dict[str, str]:
        doc = read_json(self.path, default={"entries": {}})
        return dict(doc.get("entries") or {})

    def lookup(self, key: str) -> str | None:
        """The image ID a step with this key produced, if that image still exists."""
        image = self._load().get(key)
        if image and self.engine.images.exists(image):
            return image
        return None

    def record(self, key: str, image_id: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(self.dir / "lock"):
            entries = self._load()
            entries[key] = image_id
            live = {k: v for k, v in entries.items() if self.engine.images.exists(v)}
            atomic_write_json(self.path, {"version": 1, "entries": live})

    def entries(self) -> dict[str, str]:
        return self._load()

    def prune(self) -> int:
        """Forget every entry (the images stay until image prune); how many there were."""
        if not self.path.exists():
            return 0
        with FileLock(self.dir / "lock"):
            n = len(self._load())
            atomic_write_json(self.path, {"version": 1, "entries": {}})
        return n
