"""Context file digests remembered across builds, keyed by what stat says of the file: a rebuild with
nothing changed does not read the context's files again (BuildKit keeps such a record of the local
context too; git's index does the same for `git status`).

An entry counts only while the file's size, mtime, ctime, inode and device are all the same as when
it was hashed. ctime cannot be set by a user and moves with every write, chmod or rename; a file
whose timestamps are within the last RACY_NS of the hashing is not remembered, since a second write
within the same clock tick might leave them unchanged (git's "racily clean" entries).

One JSON file per context directory under the build cache (build-cache/digests/), written without
fsync (losing it costs a re-hash, never a wrong digest).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable

VERSION = 1
RACY_NS = 2_000_000_000
MAX_ENTRIES = 200_000  # above this, a save keeps only the files this build hashed


def memo_path(cache_dir: Path, root: Path) -> Path:
    """Where the digests of files under the context directory `root` are kept."""
    from podpy.build.smallhash import sha256

    return cache_dir / "digests" / (sha256(str(root).encode()).hexdigest()[:32] + ".json")


class DigestMemo:
    """The remembered digests of one context directory (`path` None: remember nothing)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._files: dict[str, list] | None = None
        self._used: set[str] = set()
        self._dirty = False
        self._now = time.time_ns()

    def _load(self) -> dict[str, list]:
        if self._files is None:
            files: object = {}
            if self.path is not None:
                try:
                    doc = json.loads(self.path.read_bytes())
                    files = doc.get("files") if doc.get("version") == VERSION else {}
                except (OSError, ValueError, AttributeError):
                    files = {}
            self._files = files if isinstance(files, dict) else {}
        return self._files

    def digest(self, full: Path, st: os.stat_result, compute: Callable[[Path], str]) -> str:
        """The digest of the regular file `full` (stat result `st`): remembered, or `compute`d."""
        key = str(full)
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
        files = self._load()
        known = files.get(key)
        self._used.add(key)
        if isinstance(known, list) and len(known) == 6 and known[:5] == stamp and isinstance(known[5], str):
            return known[5]
        value = compute(full)
        if self.path is not None and max(st.st_mtime_ns, st.st_ctime_ns) < self._now - RACY_NS:
            files[key] = [*stamp, value]
            self._dirty = True
        return value

    def save(self) -> None:
        """Write the entries back when this build added some (best effort: a memo, not state)."""
        if not self._dirty or self.path is None or self._files is None:
            return
        files = self._files
        if len(files) > MAX_ENTRIES:
            files = {k: v for k, v in files.items() if k in self._used}
        from podpy.state.atomic import atomic_write_bytes

        try:
            data = json.dumps({"version": VERSION, "files": files}, separators=(",", ":")).encode()
            atomic_write_bytes(self.path, data, durable=False)
        except OSError:
            pass
        self._dirty = False
