"""Top-level `inspect`: containers, then images, volumes, networks and pods (Podman's order), or
one `--type`."""

from __future__ import annotations

from collections.abc import Callable

from podpy.errors import InvalidArgument, NoSuchObject, NotFound, PodpyError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine

TYPES = ("all", "container", "image", "volume", "network", "pod")
Finder = Callable[[str], "dict[str, Any] | None"]


def _image(engine: Engine, name: str) -> dict[str, Any] | None:
    from podpy.engine.image_views import inspect
    from podpy.image.store import find

    img = find(engine.index.load(), name)
    return inspect(engine, img, engine.images.config(img)) if img else None


def container_size(engine: Engine, doc: dict[str, Any]) -> None:
    """Docker's SizeRw / SizeRootFs (inspect --size)."""
    from podpy.storage.fsutil import disk_usage

    svc = engine.containers
    rw = disk_usage(svc.cdir(doc["Id"]) / "rw")
    image = 0
    if doc.get("Image"):
        try:
            image = engine.images.get(doc["Image"]).size
        except PodpyError:
            image = 0
    doc["SizeRw"], doc["SizeRootFs"] = rw, rw + image


def finders(engine: Engine, pod_doc: Finder | None = None, size: bool = False) -> dict[str, Finder]:
    """type -> a lookup returning the inspect document, or None when there is no such object."""

    def container(name: str) -> dict[str, Any] | None:
        doc = engine.containers.inspect(name)
        if size:
            container_size(engine, doc)
        return doc

    # lambdas: a service is built (and its modules imported, ~6 ms for networks) only when asked
    out: dict[str, Finder] = {"container": container, "image": lambda n: _image(engine, n),
                              "volume": lambda n: engine.volumes.inspect(n),
                              "network": lambda n: engine.networks.docker_inspect(n)}  # fmt: skip
    if pod_doc is not None:
        out["pod"] = pod_doc
    return out


def inspect_objects(engine: Engine, names: list[str], type_: str, pod_doc: Finder | None = None,
                    size: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    if type_ not in TYPES:
        raise InvalidArgument(f"invalid type {type_!r}: must be one of {', '.join(TYPES)}")
    table = finders(engine, pod_doc, size)
    order = [t for t in TYPES[1:] if t in table and type_ in ("all", t)]
    out = []
    for name in names:
        obj = None
        for kind in order:
            try:
                obj = table[kind](name)
            except NotFound:  # a broken object (e.g. an image config of wrong types) is an error
                obj = None
            if obj is not None:
                break
        if obj is None:
            raise NoSuchObject(name)
        out.append(obj)
    return out
