"""docker-archive: the tar layout `docker save` writes (and `docker load` reads).

    manifest.json           [{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": [...]}]
    repositories            {"busybox": {"latest": "<top layer dir>"}}
    <config-hex>.json       the image config, byte for byte (so the image ID survives)
    <diffid-hex>/layer.tar  each layer, uncompressed
    <diffid-hex>/VERSION    "1.0"
    <diffid-hex>/json       legacy v1 layer metadata (id, parent)

Docker 25+ writes `blobs/sha256/<hex>` paths in manifest.json instead; the reader follows
whatever paths manifest.json names. Pure format code: no store access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from podpy.errors import PodpyError

MANIFEST = "manifest.json"
REPOSITORIES = "repositories"
LAYER_VERSION = b"1.0"


@dataclass
class DockerEntry:
    """One image of manifest.json."""

    config: str  # path of the config inside the archive
    layers: list[str]  # paths of the layer tars, bottom first
    repo_tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"Config": self.config, "RepoTags": self.repo_tags or None, "Layers": self.layers}


def config_path(config_digest: str) -> str:
    return config_digest.removeprefix("sha256:") + ".json"


def layer_dir(diff_id: str) -> str:
    return diff_id.removeprefix("sha256:")


def layer_path(diff_id: str) -> str:
    return f"{layer_dir(diff_id)}/layer.tar"


def layer_json(diff_id: str, parent: str | None, created: str) -> bytes:
    """The legacy per-layer `json`: old loaders want id/parent to chain layers."""
    doc: dict[str, Any] = {"id": layer_dir(diff_id)}
    if parent:
        doc["parent"] = layer_dir(parent)
    doc["created"] = created or "1970-01-01T00:00:00Z"
    doc["container_config"] = {}
    return json.dumps(doc, separators=(",", ":")).encode()


def split_tag(familiar_name: str) -> tuple[str, str]:
    """busybox:latest -> (busybox, latest); localhost:5000/a:b -> (localhost:5000/a, b)."""
    repo, _, tag = familiar_name.rpartition(":")
    if not repo or "/" in tag:
        return familiar_name, "latest"
    return repo, tag


def encode_manifest(entries: list[DockerEntry]) -> bytes:
    return json.dumps([e.to_json() for e in entries], separators=(",", ":")).encode()


def encode_repositories(entries: list[DockerEntry], top_layers: list[str | None]) -> bytes | None:
    """{"repo": {"tag": "<top layer dir>"}}; None when nothing is tagged (Docker omits the file)."""
    repos: dict[str, dict[str, str]] = {}
    for entry, top in zip(entries, top_layers, strict=True):
        for name in entry.repo_tags:
            repo, tag = split_tag(name)
            repos.setdefault(repo, {})[tag] = layer_dir(top) if top else ""
    if not repos:
        return None
    return json.dumps(repos, separators=(",", ":")).encode()


def parse_manifest(raw: bytes) -> list[DockerEntry]:
    """manifest.json -> entries; a clear error for anything that is not Docker's shape."""
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise PodpyError(f"docker-archive: manifest.json is not valid JSON: {e}") from None
    if not isinstance(doc, list) or not doc:
        raise PodpyError("docker-archive: manifest.json lists no images")
    out = []
    for item in doc:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise PodpyError("docker-archive: manifest.json entry without a Config")
        layers = item.get("Layers") or []
        tags = item.get("RepoTags") or []
        if not all(isinstance(x, str) for x in [*layers, *tags]):
            raise PodpyError("docker-archive: manifest.json has malformed Layers or RepoTags")
        out.append(DockerEntry(item["Config"], list(layers), list(tags)))
    return out
