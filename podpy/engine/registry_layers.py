"""Fetching an image's layers: downloaded in parallel, extracted in order, while they stream.

Extraction must go parent first (a layer is stored on top of its parent's chain), downloads need
not. So up to `workers` threads download blobs into the content store, ahead of the extractor;
the extractor takes the next layer to extract and, when no worker has started it yet, downloads
it itself, teeing the bytes into the content store and into the layer store's extractor at once
(no second pass). Blobs are verified against their digests before they are committed, and a
layer against its diff ID before it is published, so a failure leaves only garbage that the
next pull's clean-up removes; completed blobs and layers make a repeated pull cheap.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from podpy.engine.images import NewLayer
from podpy.engine.registry_partial import Busy, PartialBlob
from podpy.errors import CorruptContent, PodpyError, RegistryError
from podpy.image import manifest as mf
from podpy.registry import progress as pg

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.registry.client import Repository

LAYER_TYPES = (mf.OCI_LAYER, mf.OCI_LAYER_GZIP, mf.OCI_LAYER_ZSTD, mf.DOCKER_LAYER, mf.DOCKER_LAYER_GZIP)
CHUNK = 1 << 20
WAIT = 0.2  # seconds between checks for errors while waiting (keeps Ctrl-C responsive)


class Cancelled(PodpyError):
    pass


@dataclass
class _Item:
    desc: mf.Descriptor
    diff_id: str
    parent: str | None
    chain: str
    need_blob: bool
    need_layer: bool
    claimed: bool = False
    stream: bool = False  # reserved for the extractor to download and extract in one pass
    done: threading.Event = field(default_factory=threading.Event)
    published: threading.Event = field(default_factory=threading.Event)  # the layer is in the store
    error: BaseException | None = None


class _Reader:
    """Counts progress, checks for cancellation and refuses a blob larger than its descriptor."""

    def __init__(self, src: BinaryIO, item: _Item, counter: pg.Counter, cancel: threading.Event,
                 start: int = 0) -> None:  # fmt: skip
        self.src, self.item, self.counter, self.cancel = src, item, counter, cancel
        self.n = start

    def read(self, n: int = -1) -> bytes:
        if self.cancel.is_set():
            raise Cancelled("pull cancelled")
        data = self.src.read(n)
        self.n += len(data)
        if self.item.desc.size and self.n > self.item.desc.size:
            raise CorruptContent(f"blob {self.item.desc.digest} is larger than its manifest says")
        self.counter.add(len(data))
        return data


class _Pipe:
    """Chunks from the downloading thread to the extracting one (bounded: at most `depth` MiB queued)."""

    _EOF = object()

    def __init__(self, depth: int = 8) -> None:
        self.q: queue.Queue[Any] = queue.Queue(depth)
        self.buf = memoryview(b"")
        self.eof = False
        self.reader_gone = False

    def write(self, data: Any) -> None:
        while not self.reader_gone:
            try:
                self.q.put(data, timeout=WAIT)
                return
            except queue.Full:
                continue

    def read(self, n: int = -1) -> bytes:
        if not self.buf and not self.eof:
            item = self.q.get()
            if item is self._EOF:
                self.eof = True
            elif isinstance(item, BaseException):
                self.eof = True
                raise item
            else:
                self.buf = memoryview(item)
        if n < 0:
            n = len(self.buf)
        out, self.buf = self.buf[:n], self.buf[n:]
        return bytes(out)

    def finish(self, error: BaseException | None = None) -> None:
        self.write(error if error is not None else self._EOF)

    def close_reader(self) -> None:
        self.reader_gone = True


class _OnePass:
    """The blob's bytes as a stream for the extractor, written to its partial file on the way; at
    the end of the stream the blob is verified and committed before the extractor sees EOF (so a
    layer whose blob does not match its digest is never published)."""

    def __init__(self, chunks: Iterator[bytes], at_end: Callable[[], None]) -> None:
        self.chunks, self.at_end = chunks, at_end
        self.buf = memoryview(b"")
        self.ended = False

    def read(self, n: int = -1) -> bytes:
        while not self.buf and not self.ended:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.ended = True
                self.at_end()
            else:
                self.buf = memoryview(chunk)
        if n < 0:
            n = len(self.buf)
        out, self.buf = self.buf[:n], self.buf[n:]
        return bytes(out)


class LayerFetcher:
    def __init__(self, engine: Engine, repo: Repository, layers: list[mf.Descriptor], diff_ids: list[str],
                 progress: pg.ProgressFn, workers: int = 3) -> None:  # fmt: skip
        if len(layers) != len(diff_ids):
            raise RegistryError(f"image has {len(layers)} layers but its config lists {len(diff_ids)} diff IDs")
        self.engine, self.repo, self.progress, self.workers = engine, repo, progress, workers
        self.cancel = threading.Event()
        self.items = self._plan(layers, diff_ids)
        self._lock = threading.Lock()

    def _plan(self, layers: list[mf.Descriptor], diff_ids: list[str]) -> list[_Item]:
        items, parent = [], None
        store, content = self.engine.layers, self.engine.content
        for desc, diff_id in zip(layers, diff_ids, strict=True):
            if desc.media_type not in LAYER_TYPES:
                raise RegistryError(f"unsupported layer media type {desc.media_type!r} ({desc.digest})")
            chain = store.chain_id(parent, diff_id)
            items.append(_Item(desc, diff_id, parent, chain, not content.exists(desc.digest), not store.exists(chain)))
            parent = chain
        return items

    def run(self) -> list[NewLayer]:
        if self.engine.layers.driver == "overlay":
            return self._run_parallel()
        for it in self.items:
            if not it.need_blob:
                self.progress(pg.Progress(pg.BLOB_DONE, it.desc.digest, it.desc.size, it.desc.size,
                                          "skipped: already exists"))  # fmt: skip
        first = next((it for it in self.items if it.need_layer and it.need_blob), None)
        if first is not None:
            first.claimed = first.stream = True  # the extractor streams it: taken before any worker starts
        n_workers = min(self.workers, sum(1 for it in self.items if it.need_blob and not it.claimed))
        threads = [threading.Thread(target=self._worker, daemon=True, name=f"pull-{i}") for i in range(n_workers)]
        for t in threads:
            t.start()
        try:
            for it in self.items:
                if it.need_layer:
                    self._extract(it)
            for it in self.items:
                self._wait(it)
        except BaseException:
            self.cancel.set()
            raise
        return [NewLayer(it.desc.digest, it.desc.media_type, it.desc.size, it.diff_id) for it in self.items]

    # ---- overlay: every layer downloaded and extracted in one pass, several at once
    def _run_parallel(self) -> list[NewLayer]:
        """Overlay layers do not copy their parent: each worker takes the next layer and streams it
        (download, hash, decompress, extract: one pass, in one thread); it is published only after
        its parent (LayerStore.put's parent_ready), so the store never has a layer without its parent.
        """
        for it in self.items:
            if not it.need_blob:
                self.progress(pg.Progress(pg.BLOB_DONE, it.desc.digest, it.desc.size, it.desc.size,
                                          "skipped: already exists"))  # fmt: skip
            if not it.need_layer:
                it.published.set()
            if not (it.need_blob or it.need_layer):
                it.done.set()
        todo = [it for it in self.items if it.need_blob or it.need_layer]
        n = min(self.workers, len(todo))
        threads = [threading.Thread(target=self._layer_worker, daemon=True, name=f"pull-{i}") for i in range(n)]
        for t in threads:
            t.start()
        try:
            for it in self.items:
                self._wait_done(it)
        except BaseException:
            self.cancel.set()  # the others stop at their next read and remove their tmp dirs
            deadline = time.monotonic() + 5
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
            raise
        return [NewLayer(it.desc.digest, it.desc.media_type, it.desc.size, it.diff_id) for it in self.items]

    def _wait_done(self, it: _Item) -> None:
        while not it.done.wait(WAIT):
            failed = next((x.error for x in self.items if x.error is not None), None)
            if failed is not None:
                raise failed
        if it.error is not None:
            raise it.error

    def _claim_work(self) -> _Item | None:
        with self._lock:
            for it in self.items:
                if (it.need_blob or it.need_layer) and not it.claimed:
                    it.claimed = True
                    return it
        return None

    def _layer_worker(self) -> None:
        while not self.cancel.is_set() and (it := self._claim_work()) is not None:
            try:
                if it.need_layer:
                    self._fetch_layer(it)
                else:
                    self._download(it)
            except BaseException as e:
                it.error = e
                self.cancel.set()
            finally:
                it.done.set()

    def _parent_ready(self, it: _Item) -> Callable[[], None]:
        parent = next((x for x in self.items if x.chain == it.parent), None) if it.parent else None

        def wait() -> None:
            if parent is None:
                return
            while not parent.published.wait(WAIT):
                if self.cancel.is_set():
                    raise Cancelled("pull cancelled")

        return wait

    def _fetch_layer(self, it: _Item) -> None:
        layers = self.engine.layers
        ready = self._parent_ready(it)
        part = self._acquire(it) if it.need_blob else None
        self.progress(pg.Progress(pg.EXTRACT, it.desc.digest))
        if part is None:  # the blob is here (or another process just stored it)
            with self.engine.content.open(it.desc.digest) as f:
                layers.put(it.parent, f, expected_diff_id=it.diff_id, parent_ready=ready)
        else:
            try:
                stream = _OnePass(self._fetch(it, part), lambda: self._commit(it, part))
                layers.put(it.parent, stream, expected_diff_id=it.diff_id, parent_ready=ready)  # type: ignore[arg-type]
                if part.fd >= 0:  # the layer was there already (another process): keep the blob too
                    for _ in stream.chunks:
                        pass
                    self._commit(it, part)
            finally:
                part.close()
        it.published.set()
        self.progress(pg.Progress(pg.EXTRACTED, it.desc.digest))

    # ---- workers: plain downloads into the content store
    def _claim_next(self) -> _Item | None:
        with self._lock:
            for it in self.items:
                if it.need_blob and not it.claimed:
                    it.claimed = True
                    return it
        return None

    def _claim(self, it: _Item) -> bool:
        with self._lock:
            if it.claimed:
                return False
            it.claimed = True
            return True

    def _worker(self) -> None:
        while not self.cancel.is_set() and (it := self._claim_next()) is not None:
            try:
                self._download(it)
            except BaseException as e:
                it.error = e
                self.cancel.set()
            finally:
                it.done.set()

    def _acquire(self, it: _Item) -> PartialBlob | None:
        """The blob's partial file, locked; None when another process finished it meanwhile."""
        while True:
            if self.engine.content.exists(it.desc.digest):
                return None
            try:
                return PartialBlob(self.engine.content, it.desc.digest)
            except Busy:  # the same blob in another pull: wait for it rather than fetch it twice
                if self.cancel.wait(WAIT):
                    raise Cancelled("pull cancelled") from None

    def _fetch(self, it: _Item, part: PartialBlob) -> Iterator[bytes]:
        """The blob from its first byte: what a killed pull left on disk, then the rest (Range)."""
        d = it.desc
        self.progress(pg.Progress(pg.BLOB_START, d.digest, 0, d.size, "blob"))
        counter = pg.Counter(self.progress, d.digest, d.size)
        yield from part.existing(d.size)
        counter.add(part.size)
        if d.size and part.size == d.size:
            return
        with self.repo.open_blob(d.digest, d.size or None) as src:
            src.pos = part.size
            reader = _Reader(src, it, counter, self.cancel, part.size)
            while chunk := reader.read(CHUNK):
                part.write(chunk)
                yield chunk

    def _commit(self, it: _Item, part: PartialBlob) -> None:
        try:
            part.commit()
        except CorruptContent as e:
            t = self.repo.transport
            raise CorruptContent(f"fetching blob {it.desc.digest} from {t.registry}/{self.repo.name}: {e}") from None
        self.progress(pg.Progress(pg.BLOB_DONE, it.desc.digest, it.desc.size, it.desc.size, "done"))

    def _download(self, it: _Item) -> None:
        part = self._acquire(it)
        if part is None:
            return
        try:
            for _ in self._fetch(it, part):
                pass
            self._commit(it, part)
        finally:
            part.close()

    # ---- the extractor: parent first
    def _wait(self, it: _Item) -> None:
        if not it.need_blob:
            return
        while not it.done.wait(WAIT):
            failed = next((x.error for x in self.items if x.error is not None), None)
            if failed is not None:
                raise failed
        if it.error is not None:
            raise it.error

    def _extract(self, it: _Item) -> None:
        if it.need_blob and (it.stream or self._claim(it)) and self._stream(it):
            return
        self._wait(it)
        self.progress(pg.Progress(pg.EXTRACT, it.desc.digest))
        with self.engine.content.open(it.desc.digest) as f:
            self.engine.layers.put(it.parent, f, expected_diff_id=it.diff_id)
        self.progress(pg.Progress(pg.EXTRACTED, it.desc.digest))

    def _stream(self, it: _Item) -> bool:
        """Download `it` into the content store and extract it from the same bytes.

        False when another process stored the blob meanwhile: extract it from the store then."""
        pipe = _Pipe()
        outcome: dict[str, BaseException] = {}

        def extract() -> None:
            try:
                self.engine.layers.put(it.parent, pipe, expected_diff_id=it.diff_id)  # type: ignore[arg-type]
            except BaseException as e:
                outcome["error"] = e
            finally:
                pipe.close_reader()

        worker = threading.Thread(target=extract, daemon=True, name="extract")
        part = self._acquire(it)
        if part is None:
            it.done.set()
            return False
        worker.start()
        self.progress(pg.Progress(pg.EXTRACT, it.desc.digest))
        try:
            for chunk in self._fetch(it, part):
                pipe.write(chunk)
            self._commit(it, part)  # verified before the extractor sees the end of the stream
            pipe.finish()
        except BaseException as e:
            pipe.finish(e)
            worker.join(5)
            raise
        finally:
            part.close()
            it.done.set()
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        self.progress(pg.Progress(pg.EXTRACTED, it.desc.digest))
        return True
