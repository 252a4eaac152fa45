"""--squash: a build's new layers merged into one OCI layer tar, with the layers' own rules: a later
entry replaces an earlier one, a whiteout removes what earlier new layers added under it (and stays,
for the base layers), an opaque directory hides everything earlier, and a directory made again after
its deletion becomes opaque (the base's old contents must not show through).
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from podpy.engine.core import Engine

WH = ".wh."
OPQ = ".wh..wh..opq"


def _norm(name: str) -> str:
    return name.strip("/").removeprefix("./")


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/") or top == ""


@dataclass
class _Plan:
    keep: dict[str, int] = field(default_factory=dict)  # path → the layer whose entry survives
    whiteouts: dict[str, int] = field(default_factory=dict)  # deleted path → layer of its whiteout
    opaque: dict[str, int] = field(default_factory=dict)  # directory → layer whose marker survives
    recreated: dict[str, int] = field(default_factory=dict)  # directory made again after a whiteout

    def drop_under(self, top: str, before: int, *, self_too: bool) -> None:
        for table in (self.keep, self.whiteouts, self.opaque, self.recreated):
            for p in [p for p, i in table.items() if i < before and _under(p, top) and (self_too or p != top)]:
                del table[p]

    def add(self, idx: int, m: tarfile.TarInfo) -> None:
        path = _norm(m.name)
        parent, _, base = path.rpartition("/")
        if base == OPQ:
            self.drop_under(parent, idx, self_too=False)
            self.opaque[parent] = idx
        elif base.startswith(WH):
            target = f"{parent}/{base[len(WH):]}" if parent else base[len(WH):]
            self.drop_under(target, idx, self_too=True)
            self.whiteouts[target] = idx
        else:
            if path in self.whiteouts and m.isdir():
                self.recreated[path] = idx  # made again after its deletion: hide the base's contents
            self.whiteouts.pop(path, None)
            self.keep[path] = idx


def squash(layers: list[Callable[[], AbstractContextManager[BinaryIO]]], out: BinaryIO) -> None:
    """Merge uncompressed layer tars (oldest first; each an opener) into one tar written to `out`."""
    plan = _Plan()
    for idx, opener in enumerate(layers):
        with opener() as f, tarfile.open(fileobj=f, mode="r|") as tf:
            for m in tf:
                plan.add(idx, m)
                tf.members.clear()
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as dst:
        for idx, opener in enumerate(layers):
            with opener() as f, tarfile.open(fileobj=f, mode="r|") as tf:
                for m in tf:
                    _emit(plan, idx, m, tf, dst)
                    tf.members.clear()


def _emit(plan: _Plan, idx: int, m: tarfile.TarInfo, tf: tarfile.TarFile, dst: tarfile.TarFile) -> None:
    path = _norm(m.name)
    parent, _, base = path.rpartition("/")
    if base == OPQ:
        if plan.opaque.get(parent) == idx:
            dst.addfile(m)
        return
    if base.startswith(WH):
        target = f"{parent}/{base[len(WH):]}" if parent else base[len(WH):]
        if plan.whiteouts.get(target) == idx:
            dst.addfile(m)
        return
    if plan.keep.get(path) != idx:
        return
    dst.addfile(m, tf.extractfile(m) if m.isreg() else None)
    if m.isdir() and plan.recreated.get(path) == idx and plan.opaque.get(path) is None:
        marker = tarfile.TarInfo(f"{path}/{OPQ}")
        marker.mtime = m.mtime
        dst.addfile(marker)


def squashed_history(entries: list[dict], keep: int) -> list[dict]:
    """As Podman (buildah without layers) records it: the base's entries as they were, the build's
    steps as empty layers but the last one, which carries the one new layer."""
    base, seen = 0, 0
    for h in entries:
        if seen >= keep and not h.get("empty_layer"):
            break
        base += 1
        seen += 0 if h.get("empty_layer") else 1
    built = [{**h, "empty_layer": True} for h in entries[base:]]
    if built:
        built[-1].pop("empty_layer")
    return [*entries[:base], *built]


def squash_image(engine: Engine, image_id: str, keep: int) -> str:
    """The image with its layers after the first `keep` (the base's) merged into one new layer."""
    import json
    import tempfile

    from podpy.engine import build_support as bs
    from podpy.engine.images import NewLayer
    from podpy.image import manifest as mf

    img = engine.images.get(image_id)
    base, new = img.layers[:keep], img.layers[keep:]
    if len(new) < 2:
        return image_id  # nothing to merge
    doc = json.loads(engine.content.read(img.id))
    engine.layout.ingest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=engine.layout.ingest) as tmp:
        squash([lambda d=x.digest: engine.content.open(d) for x in new], tmp)  # type: ignore[misc]
        tmp.seek(0)
        digest, size = engine.content.ingest(tmp)
    doc["rootfs"] = {"type": "layers", "diff_ids": [*(x.diff_id for x in base), digest]}
    doc["history"] = squashed_history(doc.get("history") or [], keep)
    layers = [*bs.image_layers(img)[:keep], NewLayer(digest, mf.OCI_LAYER, size, digest)]
    return bs.register(engine, doc, layers, []).id
