"""The layer cache: a step's CacheKey digest → the image its result was committed as.

One JSON document under the store (`build-cache/index.json`, path from engine.build_support), read
per lookup and rewritten atomically under its lock when a step adds an entry. It also lists the
intermediate images (step results that are no build's final image), which `images` hides without
`-a` and `builder prune` removes. An entry whose image was removed (rmi, image prune) is a miss and
is dropped at the next write.
"""

from __future__ import annotations

from podpy.engine.build_support import cache_index
from podpy.state import FileLock, atomic_write_json, read_json

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine


class BuildCache:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.path = cache_index(engine)
        self.dir = self.path.parent

    def _doc(self) -> dict[str, Any]:
        return read_json(self.path, default={"entries": {}, "intermediate": []})

    def lookup(self, key: str) -> str | None:
        """The image ID a step with this key produced, if that image still exists."""
        image = (self._doc().get("entries") or {}).get(key)
        if image and self.engine.images.exists(image):
            return image
        return None

    def _update(self, entries: dict[str, str] | None = None, add: set[str] = frozenset(),  # type: ignore[assignment]
                drop: set[str] = frozenset()) -> None:  # type: ignore[assignment]  # fmt: skip
        if self._holds(self._doc(), entries or {}, add, drop):
            return  # nothing to change (a rebuild from the cache): no lock, no write, no fsync
        self.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(self.dir / "lock"):
            doc = self._doc()
            live_entries = {**(doc.get("entries") or {}), **(entries or {})}
            inter = (set(doc.get("intermediate") or []) | add) - drop
            known = self.engine.index.load()  # once: the index is one document

            def exists(image_id: str) -> bool:
                return image_id.removeprefix("sha256:") in known

            atomic_write_json(self.path, {
                "entries": {k: v for k, v in live_entries.items() if exists(v)},
                "intermediate": sorted(i for i in inter if exists(i)),
            })  # fmt: skip

    @staticmethod
    def _holds(doc: dict[str, Any], entries: dict[str, str], add: set[str], drop: set[str]) -> bool:
        """`doc` already says what the update would: every entry, `add` listed, `drop` not."""
        have, inter = doc.get("entries") or {}, set(doc.get("intermediate") or [])
        return all(have.get(k) == v for k, v in entries.items()) and add <= inter and not drop & inter

    def record(self, key: str, image_id: str) -> None:
        self._update({key: image_id}, add={image_id})

    def mark_intermediate(self, image_id: str) -> None:
        self._update(add={image_id})

    def finished(self, image_id: str) -> None:
        """A build's final image: listed by `images` even without a name."""
        self._update(drop={image_id})

    def intermediate(self) -> set[str]:
        return set(self._doc().get("intermediate") or [])

    def count(self) -> int:
        return len(self._doc().get("entries") or {})

    def clear(self) -> None:
        """Forget every entry (the caller removes the intermediate images)."""
        if self.path.exists():
            with FileLock(self.dir / "lock"):
                atomic_write_json(self.path, {"entries": {}, "intermediate": []})
