"""Docker-compatible views of an image: inspect JSON, `images` rows and `history` rows (plain data)."""

from __future__ import annotations

from podpy.image import reference
from podpy.image.store import ImageRecord

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine

CONFIG_KEYS = (
    "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts",
    "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "Image", "Volumes", "WorkingDir",
    "Entrypoint", "OnBuild", "Labels", "StopSignal",
)  # fmt: skip


def _image_config_section(cfg: dict[str, Any]) -> dict[str, Any]:
    c = cfg.get("config") or {}
    out: dict[str, Any] = {k: None for k in CONFIG_KEYS}
    out.update({"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
                "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Image": "",
                "WorkingDir": "", "Labels": None})  # fmt: skip
    out.update({k: v for k, v in c.items() if k in CONFIG_KEYS or k in ("ArgsEscaped", "Shell")})  # those two: when set
    return out


def inspect(engine: Engine, img: ImageRecord, cfg: dict[str, Any]) -> dict[str, Any]:
    from podpy.engine.images import chain_ids

    chains = chain_ids([x.diff_id for x in img.layers])
    layer_dirs = [str(engine.layers.diff_path(c)) for c in reversed(chains)]
    graph: dict[str, Any] = {"Name": engine.driver, "Data": {}}
    if layer_dirs:
        graph["Data"] = {"UpperDir": layer_dirs[0]}
        if len(layer_dirs) > 1:
            graph["Data"]["LowerDir"] = ":".join(layer_dirs[1:])
    return {
        "Id": img.id,
        "RepoTags": [reference.familiar(n) for n in img.names],
        "RepoDigests": [reference.familiar(d) for d in img.digests],
        "Parent": "",
        "Comment": _comment(cfg),
        "Created": cfg.get("created", ""),
        "DockerVersion": cfg.get("docker_version", ""),
        "Author": cfg.get("author", ""),
        "Config": _image_config_section(cfg),
        "Architecture": cfg.get("architecture", ""),
        "Variant": cfg.get("variant", ""),
        "Os": cfg.get("os", ""),
        "Size": img.size,
        "VirtualSize": img.size,
        "GraphDriver": graph,
        "RootFS": {"Type": "layers", "Layers": [x.diff_id for x in img.layers]},
        "Metadata": {"LastTagTime": ""},
        "History": cfg.get("history", []),
        "Digest": img.manifest,
        "ManifestType": img.manifest_media_type,
        "NamesHistory": list(img.names),
    }


def _comment(cfg: dict[str, Any]) -> str:
    hist = cfg.get("history") or []
    return hist[-1].get("comment", "") if hist else ""


def list_rows(img: ImageRecord, labels: dict[str, str] | None) -> list[dict[str, Any]]:
    """One `images` row per name (or one `<none>` row), with Docker's template fields."""
    base = {
        "ID": img.hex[:12],
        "FullID": img.id,
        "Digest": img.manifest,
        "CreatedAt": img.created,
        "Size": img.size,
        "Labels": labels or {},
        "Containers": "N/A",
        "Dangling": not img.names,
        "History": ", ".join(img.names_history),  # images --history
    }
    names = img.names or [None]
    rows = []
    for name in names:
        repo, tag = "<none>", "<none>"
        if name:
            r = reference.parse(name, default_tag=False)
            repo, tag = r.familiar_name, r.tag or "<none>"
        rows.append({**base, "Repository": repo, "Tag": tag})
    return rows


def history_rows(img: ImageRecord, cfg: dict[str, Any], layer_sizes: list[int]) -> list[dict[str, Any]]:
    """Newest first; layer-producing entries take the next layer's size, empty ones 0."""
    entries = list(cfg.get("history") or [])
    if not entries:
        entries = [{"created": cfg.get("created", ""), "created_by": ""} for _ in layer_sizes]
    sizes = iter(layer_sizes)
    rows = []
    for e in entries:
        empty = bool(e.get("empty_layer"))
        rows.append({
            "ID": "<missing>", "CreatedAt": e.get("created", ""), "CreatedBy": e.get("created_by", ""),
            "Size": 0 if empty else next(sizes, 0), "Comment": e.get("comment", ""), "Tags": [],
        })  # fmt: skip
    rows.reverse()
    if rows:
        rows[0]["ID"] = img.id
        rows[0]["Tags"] = [reference.familiar(n) for n in img.names]
    return rows
