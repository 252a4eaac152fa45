"""Extracting several overlay layers of one image at once (load, import of archives, register).

Overlay layers do not copy their parent's tree, so each can be extracted as soon as its blob is
here; LayerStore.put(parent_ready=...) still publishes them parent first, so an interrupted or
failed extraction never leaves a layer whose parent the store lacks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from podpy.storage.layers import LayerRecord, LayerStore, SplitSink

WORKERS = 3
WAIT = 0.2


class _Cancelled(Exception):
    pass


@dataclass
class Job:
    """One layer to extract on top of `parent` (a chain ID) from the tar `open` returns."""

    parent: str | None
    diff_id: str
    open: Callable[[], BinaryIO]
    split_sink: SplitSink | None = None  # keep a tar-split of it (LayerStore.put)
    what: str = ""  # names the layer in a CorruptContent error


def _put(store: LayerStore, job: Job, parent_ready: Callable[[], object] | None = None) -> LayerRecord:
    from podpy.errors import CorruptContent

    try:
        with job.open() as f:
            return store.put(job.parent, f, expected_diff_id=job.diff_id, parent_ready=parent_ready,
                             split_sink=job.split_sink)  # fmt: skip
    except CorruptContent as e:
        if not job.what:
            raise
        raise CorruptContent(f"{job.what}: {e}") from None


def extract_all(store: LayerStore, todo: list[Job]) -> None:
    """Extract `todo` (bottom first): several at once with overlay, else one after another."""
    if store.driver == "overlay" and len(todo) > 1:
        extract_parallel(store, todo)
        return
    for job in todo:
        _put(store, job)


def extract_parallel(store: LayerStore, todo: list[Job], workers: int = WORKERS) -> None:
    """Extract `todo` (bottom first) with up to `workers` threads; the first error is raised once
    every worker has stopped."""
    published = {store.chain_id(job.parent, job.diff_id): threading.Event() for job in todo}
    errors: list[BaseException] = []
    lock = threading.Lock()
    queue = list(todo)

    def parent_ready(parent: str | None):  # type: ignore[no-untyped-def]
        def wait() -> None:
            ev = published.get(parent) if parent is not None else None
            while ev is not None and not ev.wait(WAIT):
                if errors:
                    raise _Cancelled()

        return wait

    def work() -> None:
        while not errors:
            with lock:
                if not queue:
                    return
                job = queue.pop(0)
            try:
                rec = _put(store, job, parent_ready(job.parent))
                published[rec.chain_id].set()
            except BaseException as e:
                errors.append(e)
                return

    threads = [
        threading.Thread(target=work, daemon=True, name=f"extract-{i}")
        for i in range(min(workers, len(todo)))
    ]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(WAIT)  # a short join keeps Ctrl-C responsive
    real = [e for e in errors if not isinstance(e, _Cancelled)]
    if real or errors:
        raise (real or errors)[0]
