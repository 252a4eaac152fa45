"""Extracted layers by chain ID, shared by every image and container that uses them.

    <root>/layers/<chainid-hex>/{layer.json, diff/}   published by one rename
    <root>/layers/.tmp-*                               extraction (or removal) in progress

Each `.tmp-*` directory is flock()ed by the process working in it, so `gc_tmp` can tell one
left by a killed process (lock free) from one still being filled (lock held).
Per-chain locks live in <runroot>/locks/layer-<hex>.lock.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable
from pathlib import Path

from podpy.errors import CorruptContent, StorageError
from podpy.record import record
from podpy.state import FileLock, atomic_write_json, read_json
from podpy.state.layout import Layout
from podpy.storage.fsutil import copy_tree, force_rmtree

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import BinaryIO

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
TMP_PREFIX = ".tmp-"
# put(split_sink=...): called with the record and the tar-split (None: the tree cannot rebuild the tar)
# before the layer is published, under its chain lock when the diff ID was given
SplitSink = Callable[["LayerRecord", "bytes | None"], None]


@record(frozen=True)
class LayerRecord:
    """One extracted layer, stored by chain ID."""

    chain_id: str
    diff_id: str
    parent: str | None  # the parent's chain ID
    size: int  # apparent size of this layer's own content (sum of its regular files)
    tar_size: int = 0  # bytes of the uncompressed layer tar (0: not recorded, layers stored before it was)


def _hex(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise StorageError(f"invalid layer digest {digest!r}")
    return digest[7:]


def _mkdtemp(parent: Path, prefix: str) -> Path:
    """tempfile.mkdtemp's contract (a new private directory with an unpredictable name) without its
    import (~2 ms with random and shutil: rmi removes a layer through one of these)."""
    while True:
        path = parent / f"{prefix}{os.urandom(6).hex()}"
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


class LockedTmpDir:
    """A locked `.tmp-*` directory under layers/; removed on close unless published."""

    def __init__(self, layers: Path, tag: str = "") -> None:
        layers.mkdir(parents=True, exist_ok=True)
        while True:
            path = _mkdtemp(layers, f"{TMP_PREFIX}{tag}")
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:  # gc_tmp may have taken the lock before us and removed it: start again
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        self.path = path
        self._fd = fd

    def close(self) -> None:
        try:
            force_rmtree(self.path)  # gone already if it was renamed into place
        finally:
            os.close(self._fd)  # only now: gc must not see it unlocked while we remove it


class LayerStore:
    def __init__(self, layout: Layout, driver: str, rootless: bool) -> None:
        if driver not in ("overlay", "vfs"):
            raise StorageError(f"unknown storage driver {driver!r}")
        self.layout = layout
        self.driver = driver
        self.rootless = rootless

    @staticmethod
    def chain_id(parent_chain: str | None, diff_id: str) -> str:
        """OCI: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
        if parent_chain is None:
            return diff_id
        import hashlib

        return "sha256:" + hashlib.sha256(f"{parent_chain} {diff_id}".encode()).hexdigest()

    def _dir(self, chain_id: str) -> Path:
        return self.layout.layers / _hex(chain_id)

    def diff_path(self, chain_id: str) -> Path:
        return self._dir(chain_id) / "diff"

    def exists(self, chain_id: str) -> bool:
        return (self._dir(chain_id) / "layer.json").is_file()

    def get(self, chain_id: str) -> LayerRecord:
        try:
            doc = read_json(self._dir(chain_id) / "layer.json")
        except FileNotFoundError:
            raise StorageError(f"layer {chain_id} not known") from None
        return LayerRecord(doc["chainId"], doc["diffId"], doc.get("parent"), int(doc.get("size", 0)),
                           int(doc.get("tarSize", 0)))  # fmt: skip

    def list(self) -> list[LayerRecord]:
        if not self.layout.layers.is_dir():
            return []
        out = []
        for entry in sorted(self.layout.layers.iterdir()):
            if not entry.name.startswith(".") and (entry / "layer.json").is_file():
                out.append(self.get(f"sha256:{entry.name}"))
        return out

    def lineage(self, chain_id: str | None) -> list[LayerRecord]:
        """The layer and its ancestors, top first (overlay's lowerdir order)."""
        out: list[LayerRecord] = []
        while chain_id is not None:
            rec = self.get(chain_id)
            out.append(rec)
            chain_id = rec.parent
        return out

    def _lock(self, chain_id: str) -> FileLock:
        return FileLock(self.layout.locks / f"layer-{_hex(chain_id)}.lock")

    def put(
        self, parent_chain: str | None, stream: BinaryIO, expected_diff_id: str | None = None,
        *, parent_ready: Callable[[], object] | None = None, split_sink: SplitSink | None = None,
    ) -> LayerRecord:  # fmt: skip
        """Extract a (possibly compressed) layer on top of `parent_chain`.

        With `expected_diff_id` the chain is locked first, so concurrent callers extract it once
        and a present layer is returned without reading `stream`. Without it, the tar is extracted
        and then published unless another process got there first.

        `parent_ready` (overlay only: its layers do not copy their parent's tree) lets the parent
        still be on its way: the layer is extracted at once, and published only once the call
        returns (it waits for the parent, or raises) and the parent exists, so the store never
        holds a layer whose parent it lacks.

        `split_sink` records the tar-split (storage/tarsplit.py) while extracting and hands it over
        before the layer is published; it is not called when the layer was already there.
        """
        if parent_ready is not None and self.driver != "overlay":
            raise StorageError("a layer can be extracted before its parent only with the overlay driver")
        if parent_chain is not None and parent_ready is None and not self.exists(parent_chain):
            raise StorageError(f"parent layer {parent_chain} not known")
        if expected_diff_id is None:
            return self._extract(parent_chain, stream, None, parent_ready, split_sink)
        chain = self.chain_id(parent_chain, expected_diff_id)
        with self._lock(chain):
            if self.exists(chain):
                return self.get(chain)
            return self._extract(parent_chain, stream, expected_diff_id, parent_ready, split_sink)

    def _extract(self, parent: str | None, stream: BinaryIO, expected: str | None,
                 parent_ready: Callable[[], object] | None = None,
                 split_sink: SplitSink | None = None) -> LayerRecord:  # fmt: skip
        """Extract into a tmp dir; publish it (under the chain lock, which put() holds if `expected`)."""
        from podpy.storage.compress import open_decompressed
        from podpy.storage.tarsafe import extract_layer  # tarfile: only when extracting

        tmp = LockedTmpDir(self.layout.layers)
        try:
            diff = tmp.path / "diff"
            if self.driver == "vfs" and parent is not None:
                copy_tree(self.diff_path(parent), diff)
            else:
                diff.mkdir()
                os.chmod(diff, 0o755)  # not umask-dependent: a "./" entry may still change it
            reader, _ = open_decompressed(stream)
            stats = extract_layer(
                reader,
                diff,
                whiteouts=self.driver,
                allow_devices=os.geteuid() == 0 and not self.rootless,
                rootless=self.rootless,
                record_split=split_sink is not None,
            )
            if expected is not None and stats.diff_id != expected:
                raise CorruptContent(f"layer diff ID mismatch: expected {expected}, got {stats.diff_id}")
            rec = LayerRecord(self.chain_id(parent, stats.diff_id), stats.diff_id, parent, stats.content_size,
                              stats.tar_size)  # fmt: skip
            doc = {"chainId": rec.chain_id, "diffId": rec.diff_id, "parent": parent, "size": rec.size,
                   "tarSize": rec.tar_size}  # fmt: skip
            atomic_write_json(tmp.path / "layer.json", {**doc, "driver": self.driver})
            if split_sink is not None:
                split_sink(rec, stats.split)
            if parent_ready is not None:
                parent_ready()
                if parent is not None and not self.exists(parent):
                    raise StorageError(f"parent layer {parent} not known")
            if expected is not None:
                return self._publish(tmp, rec)
            with self._lock(rec.chain_id):
                return self._publish(tmp, rec)
        finally:
            tmp.close()

    def _publish(self, tmp: LockedTmpDir, rec: LayerRecord) -> LayerRecord:
        if self.exists(rec.chain_id):  # another process won the race: keep theirs
            return self.get(rec.chain_id)
        os.chmod(tmp.path, 0o755)  # mkdtemp made it private
        os.rename(tmp.path, self._dir(rec.chain_id))
        return rec

    def remove(self, chain_id: str) -> None:
        """Delete a layer (StorageError if unknown or still the parent of another layer)."""
        if not self.exists(chain_id):
            raise StorageError(f"layer {chain_id} not known")
        children = [r.chain_id for r in self.list() if r.parent == chain_id]
        if children:
            raise StorageError(f"layer {chain_id} is the parent of {children[0]}")
        with self._lock(chain_id):
            tmp = LockedTmpDir(self.layout.layers, "rm-")
            try:  # one rename makes it disappear; a crash mid-delete leaves only gc-able garbage
                os.rename(self._dir(chain_id), tmp.path / "layer")
            finally:
                tmp.close()

    def gc_tmp(self) -> list[Path]:
        """Remove `.tmp-*` directories whose owner died (their lock is free); return them."""
        removed: list[Path] = []
        if not self.layout.layers.is_dir():
            return removed
        for path in self.layout.layers.glob(f"{TMP_PREFIX}*"):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    force_rmtree(path)
                    removed.append(path)
            except (BlockingIOError, FileNotFoundError):
                continue  # alive, or finished meanwhile
            except OSError:
                continue  # e.g. a probe mount a killed process left: not ours to force
            finally:
                os.close(fd)
        return removed
