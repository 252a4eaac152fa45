"""Media types, manifests and image configs (OCI and Docker schema 2)."""

from __future__ import annotations

import json

from podpy.record import record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)


@record(frozen=True)
class Descriptor:
    """An OCI content descriptor: media type, digest, size."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            d["annotations"] = self.annotations
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Descriptor:
        return cls(d.get("mediaType", ""), d["digest"], int(d.get("size", 0)), d.get("annotations"))


def layer_media_type(compression: str, oci: bool = True) -> str:
    if oci:
        return {"gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD}.get(compression, OCI_LAYER)
    return DOCKER_LAYER_GZIP if compression == "gzip" else DOCKER_LAYER


def build_manifest(config: Descriptor, layers: list[Descriptor], oci: bool = True) -> bytes:
    """Serialise an image manifest (OCI by default, Docker schema 2 when oci is False)."""
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
        "config": config.to_json(),
        "layers": [layer.to_json() for layer in layers],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def parse_manifest(raw: bytes) -> tuple[Descriptor, list[Descriptor], str]:
    """(config, layers, mediaType) of an image manifest."""
    doc = json.loads(raw)
    media = doc.get("mediaType") or OCI_MANIFEST
    return Descriptor.from_json(doc["config"]), [Descriptor.from_json(x) for x in doc["layers"]], media


def diff_ids(config: dict[str, Any]) -> list[str]:
    return list(config.get("rootfs", {}).get("diff_ids", []))
