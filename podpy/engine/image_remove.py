"""`rmi [-f] [-a] IMAGE...` as Podman does it, over ImageService.remove.

- Every reference is resolved first: `rmi -f a b` where both name one image removes it once and is
  not an error for `b`.
- `-f` removes the containers that use the image first (running ones too), as Podman does.
- `-a` removes images with several names without `-f` (every name goes); in-use images still fail.
"""

from __future__ import annotations

from collections.abc import Iterator

from podpy.errors import ImageInUse, PodpyError
from podpy.image.store import find

TYPE_CHECKING = False  # typing's, without importing typing at start-up

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.engine.images import RemoveReport


def remove_images(engine: Engine, refs: list[str], force: bool = False,
                  all_: bool = False) -> Iterator[RemoveReport | PodpyError]:  # fmt: skip
    """One report (or the error) per reference, in order; an image already removed through an earlier
    reference in the same call yields nothing."""
    svc = engine.images
    if all_:
        refs = [i.id for i in svc.list()]
    images = svc.index.load()
    resolved = {ref: img.id for ref in refs if (img := find(images, ref)) is not None}
    gone: set[str] = set()
    for ref in refs:
        iid = resolved.get(ref)
        if iid is not None and iid in gone:
            continue
        try:
            report = _remove_one(engine, ref, iid, force, all_)
        except PodpyError as e:
            yield e
            continue
        if report.deleted:
            gone.update(report.deleted)
        yield report


def _remove_one(engine: Engine, ref: str, iid: str | None, force: bool, all_: bool) -> RemoveReport:
    svc = engine.images
    if iid is None or not (force or all_):
        return svc.remove(ref, force=force)
    users = svc.users(iid)
    if users and not force:
        raise ImageInUse(iid, users[0])
    for cid in users:  # Podman: rmi -f takes the containers with it
        try:
            engine.containers.remove(cid, force=True)
        except PodpyError:
            continue  # removed meanwhile; ImageService.remove re-checks
    return svc.remove(iid if all_ else ref, force=True)
