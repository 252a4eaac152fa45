"""Top-level `inspect`: containers first, then images (Docker's order), or one `--type`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podpy.errors import InvalidArgument, NoSuchObject, PodpyError

if TYPE_CHECKING:
    from podpy.engine.core import Engine

TYPES = ("all", "container", "image")


def _image(engine: Engine, name: str) -> dict[str, Any] | None:
    from podpy.engine.image_views import inspect
    from podpy.image.store import find

    img = find(engine.index.load(), name)
    return inspect(engine, img, engine.images.config(img)) if img else None


def inspect_objects(engine: Engine, names: list[str], type_: str) -> list[dict[str, Any]]:
    if type_ not in TYPES:
        raise InvalidArgument(f"invalid type {type_!r}: must be one of {', '.join(TYPES)}")
    out = []
    for name in names:
        obj = None
        if type_ in ("all", "container"):
            obj = _container(engine, name)
        if obj is None and type_ in ("all", "image"):
            obj = _image(engine, name)
        if obj is None:
            raise NoSuchObject(name)
        out.append(obj)
    return out


def _container(engine: Engine, name: str) -> dict[str, Any] | None:
    finder = getattr(engine, "containers", None)
    if finder is None:
        return None
    try:
        return finder.inspect(name)
    except PodpyError:
        return None
