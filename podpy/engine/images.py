"""Image services: list, tag, remove, inspect, history, prune, and creating images from layers.

Every way an image enters the store (import, load, pull, commit, build) ends in `register`.
"""

from __future__ import annotations

import json
import time

from podpy.engine import events as ev
from podpy.errors import CorruptContent, ImageInUse, InvalidArgument, NoSuchImage, PodpyError
from podpy.image import manifest as mf
from podpy.image import reference
from podpy.image.store import ImageRecord, LayerRef, find, untag_everywhere
from podpy.record import record
from podpy.state import read_json

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine


@record
class RemoveReport:
    """What `rmi` removed: untagged names and deleted image IDs."""

    untagged: list[str]
    deleted: list[str]
    size: int = 0  # bytes freed


@record
class NewLayer:
    """A layer blob already in the content store, with the diff ID of its uncompressed tar."""

    digest: str
    media_type: str
    size: int
    diff_id: str


def chain_ids(diff_ids: list[str]) -> list[str]:
    from podpy.storage import LayerStore

    out: list[str] = []
    parent: str | None = None
    for d in diff_ids:
        parent = LayerStore.chain_id(parent, d)
        out.append(parent)
    return out


class ImageService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.index = engine.index
        self.content = engine.content

    # ---- reading
    def list(self) -> list[ImageRecord]:
        return sorted(self.index.load().values(), key=lambda i: i.added, reverse=True)

    def get(self, ref: str) -> ImageRecord:
        return self.index.lookup(self.index.load(), ref)

    def exists(self, ref: str) -> bool:
        return find(self.index.load(), ref) is not None

    def config(self, img: ImageRecord) -> dict[str, Any]:
        """The image config, its field types checked (a store from before the check may hold bad ones)."""
        from podpy.image.config_check import check

        try:
            doc = json.loads(self.content.read(img.id))
        except ValueError as e:
            raise CorruptContent(f"image {img.hex[:12]}: config is not valid JSON: {e}") from None
        return check(doc, f"image {img.hex[:12]}: config")

    def layer_sizes(self, img: ImageRecord) -> list[int]:
        return [self.engine.layers.get(c).size for c in chain_ids([x.diff_id for x in img.layers])]

    # ---- names
    def tag(self, ref: str, new_names: list[str]) -> ImageRecord:
        parsed = [str(reference.parse(n)) for n in new_names]
        with self.index.lock:
            images = self.index.load()
            img = self.index.lookup(images, ref)
            before = [(i.names[:], i.names_history[:]) for i in images.values()]
            for name in parsed:
                untag_everywhere(images, name)
                img.names.append(name)
            img.remember_names(parsed)
            if [(i.names, i.names_history) for i in images.values()] != before:  # a rebuild's tag: often no change
                self.index.save(images)
        ev.images(self.engine, "tag", img.id, parsed)
        return img

    def untag(self, ref: str, names: list[str]) -> None:
        with self.index.lock:
            images = self.index.load()
            img = self.index.lookup(images, ref)
            targets = [str(reference.parse(n)) for n in names] if names else list(img.names)
            for name in targets:
                if name not in img.names:
                    raise PodpyError(f"{reference.familiar(name)}: tag not known")
                img.names.remove(name)
            self.index.save(images)
        ev.images(self.engine, "untag", img.id, targets)

    # ---- removal
    def users(self, image_id: str) -> list[str]:
        """IDs of containers created from `image_id` (the check rmi must make)."""
        out = []
        root = self.engine.layout.containers
        if root.exists():
            for doc in root.glob("*/container.json"):
                try:
                    if read_json(doc).get("image") == image_id:
                        out.append(doc.parent.name)
                except (OSError, PodpyError):
                    continue
        return out

    def remove(self, ref: str, force: bool = False) -> RemoveReport:
        """`rmi`: untag a name given by name (if the image has others), else delete the image."""
        with self.index.lock:
            images = self.index.load()
            img = self.index.lookup(images, ref)
            by_name = self._name_of(ref, img)
            if by_name and len(img.names) > 1 and not force:
                img.names.remove(by_name)
                self.index.save(images)
                ev.images(self.engine, "untag", img.id, [by_name])
                return RemoveReport([by_name], [])
            if not by_name and len(img.names) > 1 and not force:
                raise PodpyError(
                    f"unable to delete image {img.hex[:12]} (must force) - image is referenced in multiple tags"
                )
            users = self.users(img.id)
            if users:  # even with -f: removing the containers first is the caller's job
                raise ImageInUse(img.id, users[0])
            untagged = list(img.names) + list(img.digests)
            del images[img.hex]
            self.index.save(images)
        self._collect(img, images)
        ev.images(self.engine, "untag", img.id, img.names)
        ev.image(self.engine, "remove", img.id, img.names[0] if img.names else "")
        return RemoveReport(untagged, [img.id], img.size)

    @staticmethod
    def _name_of(ref: str, img: ImageRecord) -> str | None:
        try:
            name = str(reference.parse(ref))
        except PodpyError:
            return None
        return name if name in img.names else None

    def _collect(self, gone: ImageRecord, remaining: dict[str, ImageRecord]) -> None:
        """Delete blobs and layers only `gone` used (outside the lock: nothing references them now)."""
        used_blobs = {b for i in remaining.values() for b in [i.id, i.manifest, *(x.digest for x in i.layers)]}
        used_chains = set()
        for i in remaining.values():
            used_chains.update(chain_ids([x.diff_id for x in i.layers]))
        for blob in [gone.id, gone.manifest, *(x.digest for x in gone.layers)]:
            if blob not in used_blobs:
                self.content.delete(blob)
        chains = reversed(chain_ids([x.diff_id for x in gone.layers]))
        going = [c for c in chains if c not in used_chains and not self._chain_used_by_containers(c)]
        for blob in {x.digest for x in gone.layers} & used_blobs:  # kept as a tar-split of a layer that goes
            if self.content.split_chain(blob) in going:
                self.content.materialize(blob)
        for chain in going:
            self.engine.layers.remove(chain)

    def _chain_used_by_containers(self, chain: str) -> bool:
        root = self.engine.layout.containers
        if not root.exists():
            return False
        for doc in root.glob("*/container.json"):
            try:
                if read_json(doc).get("topLayer") == chain:
                    return True
            except (OSError, PodpyError):
                continue
        return False

    def prune(self, all_images: bool = False) -> list[RemoveReport]:
        """Dangling images (no names), or with `all_images` every image no container uses."""
        reports = []
        for img in self.list():
            if img.names and not all_images:
                continue
            if self.users(img.id):
                continue
            try:
                reports.append(self.remove(img.id, force=True))
            except (NoSuchImage, ImageInUse):
                continue
        return reports

    # ---- creation
    def register(
        self,
        config_raw: bytes,
        layers: list[NewLayer],
        names: list[str],
        manifest_raw: bytes | None = None,
        digests: list[str] | None = None,
    ) -> ImageRecord:
        """Extract missing layers, store config and manifest, and record the image under `names`."""
        config_digest = self.content.write(config_raw)
        from podpy.image.config_check import check

        try:
            config = check(json.loads(config_raw))
        except ValueError as e:
            raise CorruptContent(f"image config is not valid JSON: {e}") from None
        want = mf.diff_ids(config)
        if [x.diff_id for x in layers] != want:
            raise InvalidArgument("image config diff_ids do not match its layers")
        top = self._ensure_layers(layers)
        if manifest_raw is None:
            manifest_raw = mf.build_manifest(
                mf.Descriptor(mf.OCI_CONFIG, config_digest, len(config_raw)),
                [mf.Descriptor(x.media_type, x.digest, x.size) for x in layers],
            )
        manifest_digest = self.content.write(manifest_raw)
        media = json.loads(manifest_raw).get("mediaType") or mf.OCI_MANIFEST
        size = sum(self.engine.layers.get(c).size for c in chain_ids(want))
        full_names = [str(reference.parse(n)) for n in names]
        with self.index.lock:
            images = self.index.load()
            for n in full_names:
                untag_everywhere(images, n)
            hexid = config_digest.removeprefix("sha256:")
            old = images.get(hexid)
            rec = ImageRecord(
                id=config_digest,
                manifest=manifest_digest,
                manifest_media_type=media,
                layers=[LayerRef(x.digest, x.media_type, x.size, x.diff_id) for x in layers],
                top_layer=top,
                created=config.get("created") or "",
                names=_merge(old.names if old else [], full_names),
                digests=_merge(old.digests if old else [], digests or []),
                size=size,
                added=old.added if old else time.time(),
                names_history=list(old.names_history) if old else [],
            )
            rec.remember_names(full_names)
            images[hexid] = rec
            self.index.save(images)
        return rec

    def _ensure_layers(self, layers: list[NewLayer]) -> str | None:
        from podpy.engine.layer_extract import Job, extract_all

        parent: str | None = None
        store = self.engine.layers
        todo: list[Job] = []
        for layer in layers:
            chain = store.chain_id(parent, layer.diff_id)
            if not store.exists(chain):
                todo.append(Job(parent, layer.diff_id, lambda d=layer.digest: self.content.open(d)))  # type: ignore[misc]
            parent = chain
        extract_all(store, todo)
        return parent


def _merge(a: list[str], b: list[str]) -> list[str]:
    return a + [x for x in b if x not in a]
