"""`load`: an image's layers from an archive into the store, each stored once.

An uncompressed layer (every docker-archive layer; an OCI layer stored uncompressed) is extracted
straight from the archive, in the one pass that also checks its diff ID, and kept as its tree plus
a tar-split (storage/tarsplit.py) instead of a second copy as a blob: save and push rebuild the
exact tar from the tree. It is kept as an ordinary blob instead (read from the archive again) when
a tar-split cannot stand for it: rootless (the tree holds files of other ids we cannot read back
from outside the user namespace), a layer that was already in the store (extracted from another
blob), or a tar whose later entries replace files it wrote itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Protocol

from podpy.engine.images import NewLayer, chain_ids
from podpy.errors import CorruptContent, PodpyError

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.image.content import ContentStore
    from podpy.storage.layers import LayerRecord


class ArchiveSource(Protocol):
    """What store_layers needs of an archive reader (ArchiveReader, DirReader)."""

    def opener(self, path: str) -> Callable[[], BinaryIO]: ...


@dataclass
class LayerSource:
    digest: str  # the blob's digest (an uncompressed layer's is its diff ID)
    media_type: str
    diff_id: str
    member: str | None = None  # the uncompressed tar (or Docker 25+'s compressed copy of it) in the
    # archive, to store the blob from; None: the content store holds the blob already


@dataclass
class NewContent:
    """Blobs and layers a load created, to remove again if it fails before its images are registered."""

    content: ContentStore
    created: list[str] = field(default_factory=list)  # blob digests (files or tar-splits)
    chains: list[str] = field(default_factory=list)  # layers, bottom first

    def ingest(self, stream: BinaryIO, expected: str) -> tuple[str, int]:
        existed = self.content.exists(expected)
        digest, size = self.content.ingest(stream, expected)
        if not existed:
            self.created.append(digest)
        return digest, size

    def discard_unreferenced(self, engine: Engine) -> None:
        if not self.created and not self.chains:
            return
        try:
            images = engine.index.load().values()
            used = {b for i in images for b in [i.id, i.manifest, *(x.digest for x in i.layers)]}
            used_chains = {c for i in images for c in chain_ids([x.diff_id for x in i.layers])}
        except (PodpyError, OSError):
            return  # keep them rather than guess
        for digest in self.created:
            if digest not in used:
                self.content.delete(digest)
        for chain in reversed(self.chains):
            if chain not in used_chains and engine.layers.exists(chain):
                try:
                    engine.layers.remove(chain)
                except (PodpyError, OSError):
                    continue  # a container or another image's layer on top of it: it stays


def store_layers(engine: Engine, reader: ArchiveSource, sources: list[LayerSource], new: NewContent) -> list[NewLayer]:
    """Extract the image's missing layers (from the archive or from blobs the store has) and make
    sure every layer blob is in the content store; return the layers for `register`."""
    from podpy.engine.layer_extract import Job, extract_all

    store, content = engine.layers, engine.content
    splits = os.geteuid() == 0 and not store.rootless
    todo: list[Job] = []
    parent: str | None = None
    for src in sources:
        chain = store.chain_id(parent, src.diff_id)
        if not store.exists(chain):
            if src.member is not None and not content.exists(src.digest):
                sink = _split_sink(content, src.digest, new) if splits else None
                what = f"layer {src.member} does not match diff ID {src.diff_id}"
                todo.append(Job(parent, src.diff_id, reader.opener(src.member), sink, what))
            else:
                todo.append(Job(parent, src.diff_id, lambda d=src.digest: content.open(d)))  # type: ignore[misc]
            new.chains.append(chain)
        parent = chain
    _guarded(lambda: extract_all(store, todo), "")
    if todo:  # the trees stand in for the blobs, which were fsynced: make them durable before register
        from podpy.storage.fsutil import sync_filesystem

        sync_filesystem(engine.layout.layers)
    for src in sources:
        if src.member is not None and not content.exists(src.digest):  # no tar-split stands for it
            _ingest_member(reader, src, new)
    return [NewLayer(s.digest, s.media_type, content.size(s.digest), s.diff_id) for s in sources]


def _split_sink(content: ContentStore, digest: str, new: NewContent) -> Callable[[LayerRecord, bytes | None], None]:
    def sink(rec: LayerRecord, split: bytes | None) -> None:
        from podpy.storage.tarsplit import encode

        if split is not None:
            content.put_split(digest, encode(digest, rec.chain_id, rec.tar_size, split))
            new.created.append(digest)

    return sink


def _ingest_member(reader: ArchiveSource, src: LayerSource, new: NewContent) -> None:
    """The layer's blob as a file: its uncompressed tar, checked against the diff ID as it copies."""
    from podpy.storage.compress import open_decompressed

    assert src.member is not None
    with reader.opener(src.member)() as f:
        stream, _ = open_decompressed(f)  # Docker 25+ may keep layers compressed
        _guarded(lambda: new.ingest(stream, src.diff_id), f"layer {src.member} does not match diff ID {src.diff_id}")


def _guarded(fn, what: str):  # type: ignore[no-untyped-def]
    """Run a copy/decompress step; a digest mismatch or a broken compressed stream becomes one clear error."""
    from podpy.storage.compress import as_corrupt

    try:
        return fn()
    except CorruptContent as e:
        raise CorruptContent(f"{what}: {e}" if what else str(e)) from None
    except PodpyError:
        raise
    except Exception as e:
        err = as_corrupt(e)
        if isinstance(err, CorruptContent):
            raise CorruptContent(f"{what}: {err}" if what else str(err)) from None
        raise
