"""`images` rows: one per name, filtered like Docker (reference, dangling, label, before, since)."""

from __future__ import annotations

from podpy.engine import filters as flt
from podpy.engine.image_views import list_rows
from podpy.errors import PodpyError
from podpy.image import reference
from podpy.timeutil import parse_time

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine
    from podpy.image.store import ImageRecord

ALLOWED = ("reference", "dangling", "label", "before", "since")


def _labels(engine: Engine, img: ImageRecord) -> dict[str, str]:
    try:
        cfg = engine.images.config(img)
    except PodpyError:  # a missing config must not hide the rest of the list
        return {}
    return (cfg.get("config") or {}).get("Labels") or {}


def _keep(engine: Engine, img: ImageRecord, f: dict[str, list[str]], bounds: dict[str, float]) -> bool:
    familiar = [reference.familiar(n) for n in img.names]
    if "reference" in f and not flt.match_reference(familiar, f["reference"]):
        return False
    if "dangling" in f and not flt.match_bool(not img.names, f["dangling"], "dangling"):
        return False
    if "label" in f and not flt.match_labels(_labels(engine, img), f["label"]):
        return False
    created = parse_time(img.created)
    if "before" in bounds and not created < bounds["before"]:
        return False
    return not ("since" in bounds and not created > bounds["since"])


def list_images(engine: Engine, repository: str | None, raw_filters: list[str],
                all_: bool = True) -> list[dict[str, Any]]:  # fmt: skip
    """`images` rows; without `all_`, unnamed images that are build steps (intermediate) are left out."""
    f = flt.parse_filters(raw_filters, ALLOWED)
    hidden = set() if all_ else _intermediate(engine)
    if repository:
        f.setdefault("reference", []).append(repository)
    bounds = {k: parse_time(engine.images.get(f[k][-1]).created) for k in ("before", "since") if k in f}
    rows: list[dict[str, Any]] = []
    for img in engine.images.list():
        if not _keep(engine, img, f, bounds) or (img.id in hidden and not img.names):
            continue
        labels = _labels(engine, img) if "label" in f else None
        for row in list_rows(img, labels):
            if "reference" in f and row["Repository"] != "<none>":
                if not flt.match_reference([f"{row['Repository']}:{row['Tag']}"], f["reference"]):
                    continue
            rows.append(row)
    return rows


def _intermediate(engine: Engine) -> set[str]:
    from podpy.engine.build_support import intermediate_ids

    return intermediate_ids(engine)
