"""Extracting several overlay layers of one image at once (load, import of archives, register).

Overlay layers do not copy their parent's tree, so each can be extracted as soon as its blob is
here; LayerStore.put(parent_ready=...) still publishes them parent first, so an interrupted or
failed extraction never leaves a layer whose parent the store lacks.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podpy.engine.images import NewLayer
    from podpy.image.content import ContentStore
    from podpy.storage.layers import LayerStore

WORKERS = 3
WAIT = 0.2


class _Cancelled(Exception):
    pass


def extract_parallel(store: LayerStore, content: ContentStore, todo: list[tuple[str | None, NewLayer]],
                     workers: int = WORKERS) -> None:  # fmt: skip
    """Extract `todo` ((parent chain, layer) bottom first, each from its blob) with up to `workers`
    threads; the first error is raised once every worker has stopped."""
    published = {store.chain_id(parent, layer.diff_id): threading.Event() for parent, layer in todo}
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
                parent, layer = queue.pop(0)
            try:
                with content.open(layer.digest) as f:
                    rec = store.put(
                        parent, f, expected_diff_id=layer.diff_id, parent_ready=parent_ready(parent)
                    )
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
