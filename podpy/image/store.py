"""The image index: image records by ID plus their names (tags) and digests, in one JSON document.

One document (images/images.json) under the store lock keeps tag moves atomic: a tag names at
most one image, and taking it from another image happens in the same write.
"""

from __future__ import annotations

from podpy.errors import InvalidReference, NoSuchImage
from podpy.image import reference
from podpy.record import asdict, field, record
from podpy.state import FileLock, atomic_write_json, read_json
from podpy.state.layout import Layout

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


@record
class LayerRef:
    """One layer of an image: its blob and the digest of its uncompressed tar."""

    digest: str  # blob digest in the content store (compressed as received)
    media_type: str
    size: int
    diff_id: str


@record
class ImageRecord:
    """One image's record in the tag index."""

    id: str  # sha256:<hex> of the config blob
    manifest: str  # digest of the manifest blob
    manifest_media_type: str
    layers: list[LayerRef]
    top_layer: str | None  # chain ID of the last layer (None: no layers)
    created: str
    names: list[str] = field(default_factory=list)  # fully qualified repo:tag
    digests: list[str] = field(default_factory=list)  # repo@sha256:... (after pull/push)
    size: int = 0
    added: float = 0.0  # when it entered this store (the order `images` lists)
    names_history: list[str] = field(default_factory=list)  # every name it was given, newest first

    def remember_names(self, names: list[str]) -> None:
        """Names it has just been given go to the front of its name history (as containers/storage)."""
        for n in names:
            self.names_history = [n, *(h for h in self.names_history if h != n)]

    @property
    def hex(self) -> str:
        return self.id.removeprefix("sha256:")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ImageRecord:
        d = dict(d)
        d["layers"] = [LayerRef(**x) for x in d.get("layers", [])]
        return cls(**d)


class ImageIndex:
    def __init__(self, layout: Layout) -> None:
        self.path = layout.images_json
        self.lock = FileLock(layout.store_lock)

    def load(self) -> dict[str, ImageRecord]:
        doc = read_json(self.path, default={"images": {}})
        return {k: ImageRecord.from_json(v) for k, v in doc["images"].items()}

    def save(self, images: dict[str, ImageRecord]) -> None:
        """Caller holds self.lock."""
        atomic_write_json(self.path, {"images": {k: v.to_json() for k, v in images.items()}})

    def lookup(self, images: dict[str, ImageRecord], ref: str) -> ImageRecord:
        """Resolve a name, name:tag, name@digest, full ID or unique ID prefix."""
        found = find(images, ref)
        if found is None:
            raise NoSuchImage(ref)
        return found


def find(images: dict[str, ImageRecord], ref: str) -> ImageRecord | None:
    hexref = ref.removeprefix("sha256:")
    if hexref in images:
        return images[hexref]
    try:
        parsed = reference.parse(ref)
    except InvalidReference:
        parsed = None
    if parsed is not None:
        key = str(parsed)
        for img in images.values():
            if key in img.names or key in img.digests:
                return img
            if parsed.digest and img.manifest == parsed.digest and any(
                n.startswith(parsed.name + ":") or n.startswith(parsed.name + "@") for n in img.names + img.digests
            ):
                return img
        # Podman: a name without a registry part also matches localhost/NAME.
        first = ref.split("/", 1)[0]
        if "/" not in ref or not ("." in first or ":" in first or first == "localhost"):
            try:
                local = str(reference.parse("localhost/" + ref))
            except InvalidReference:
                local = ""
            for img in images.values():
                if local in img.names:
                    return img
    if reference.looks_like_id_prefix(ref):
        matches = [img for h, img in images.items() if h.startswith(hexref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidReference(ref, "short ID is ambiguous")
    return None


def untag_everywhere(images: dict[str, ImageRecord], name: str) -> None:
    for img in images.values():
        if name in img.names:
            img.names.remove(name)
