"""oci-archive: an OCI image layout (image-spec `image-layout.md`) packed in a tar.

    oci-layout              {"imageLayoutVersion": "1.0.0"}
    index.json              an image index; one manifest descriptor per name
    blobs/sha256/<hex>      manifests, configs and layers, byte for byte (compressed as stored)

Names travel in descriptor annotations: `org.opencontainers.image.ref.name` (the tag, as
containerd and Docker write it, or a full reference as some tools do) and
`io.containerd.image.name` (the full name). Pure format code: no store access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from podpy.errors import InvalidReference, PodpyError
from podpy.image import manifest as mf
from podpy.image import reference
from podpy.image.archive_tar import json_object

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_VERSION = "1.0.0"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


@dataclass
class OciEntry:
    """One image to load: its manifest (or nested index) descriptor and the names it carries."""

    descriptor: mf.Descriptor
    names: list[str] = field(default_factory=list)
    ref_names: list[str] = field(default_factory=list)  # every org.opencontainers.image.ref.name, as written


def blob_path(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"blobs/{algo}/{hexpart}"


def encode_layout() -> bytes:
    return json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode()


def name_annotations(full_name: str | None) -> dict[str, str] | None:
    """Annotations naming `full_name` (docker.io/library/busybox:latest) the way containerd does."""
    if not full_name:
        return None
    ref = reference.parse(full_name)
    return {REF_NAME: ref.tag or reference.DEFAULT_TAG, CONTAINERD_NAME: full_name}


def encode_index(manifests: list[mf.Descriptor]) -> bytes:
    doc = {"schemaVersion": 2, "mediaType": mf.OCI_INDEX, "manifests": [d.to_json() for d in manifests]}
    return json.dumps(doc, separators=(",", ":")).encode()


def names_of(desc: mf.Descriptor) -> list[str]:
    """The full name a descriptor's annotations give, if any.

    A bare tag (`latest`) in ref.name names nothing on its own: it needs io.containerd.image.name.
    """
    ann = desc.annotations or {}
    for candidate, bare_ok in ((ann.get(CONTAINERD_NAME), True), (ann.get(REF_NAME), False)):
        if not candidate or (not bare_ok and ":" not in candidate and "/" not in candidate):
            continue
        try:
            return [str(reference.parse(candidate))]
        except InvalidReference:
            continue
    return []


def parse_index(raw: bytes) -> list[OciEntry]:
    """index.json -> one entry per distinct manifest, names merged in index order."""
    doc = json_object(raw, "oci-archive: index.json")
    manifests = doc.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise PodpyError("oci-archive: index.json lists no manifests")
    by_digest: dict[str, OciEntry] = {}
    for item in manifests:
        try:
            desc = mf.Descriptor.from_json(item)
        except (KeyError, TypeError, ValueError):
            raise PodpyError("oci-archive: index.json has a malformed descriptor") from None
        entry = by_digest.setdefault(desc.digest, OciEntry(desc))
        entry.names += [n for n in names_of(desc) if n not in entry.names]
        ref_name = (desc.annotations or {}).get(REF_NAME)
        if ref_name and ref_name not in entry.ref_names:
            entry.ref_names.append(ref_name)
    return list(by_digest.values())


def choose_manifest(raw_index: bytes, os_name: str, arch: str) -> mf.Descriptor:
    """The manifest of a nested index (multi-platform image) for this platform, else the first."""
    doc = json_object(raw_index, "oci-archive: nested image index")
    items = [d for d in doc.get("manifests") or [] if isinstance(d, dict) and "digest" in d]
    if not items:
        raise PodpyError("oci-archive: nested image index lists no manifests")
    for d in items:
        plat = d.get("platform") or {}
        if plat.get("os") == os_name and plat.get("architecture") == arch:
            return mf.Descriptor.from_json(d)
    return mf.Descriptor.from_json(items[0])

