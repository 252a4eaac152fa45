"""A rootless container's network (pasta / slirp4netns) over its life: the engine's side of
podpy.network.rootless (bundle paths, published ports' records, teardown)."""

from __future__ import annotations

import json
from typing import Any

from podpy.network import ports, rootless

MODES = rootless.MODES


def join_paths(doc: dict[str, Any], runroot: Any, cid: str) -> None:
    """config.json joins the holder's user and network namespaces (links made at start)."""
    for ns in doc["linux"]["namespaces"]:
        if ns["type"] == "user":
            ns["path"] = str(runroot / "userns" / cid)
        elif ns["type"] == "network":
            ns["path"] = str(runroot / "netns" / cid)


def setup(svc: Any, cid: str, spec: dict[str, Any], config: Any) -> None:
    """Holder + helper with the published ports; undone on failure."""
    doc = json.loads(config.read_text())
    linux = doc.get("linux") or {}
    maps = (linux.get("uidMappings") or [], linux.get("gidMappings") or [])
    try:
        bound: list[dict[str, Any]] = []
        if spec.get("ports"):
            with svc.store.lock():
                bound = ports.assign(svc.layout, cid, spec["ports"], "")
        rootless.start(spec["network"], svc.layout.runroot, cid, maps, bound)
    except BaseException:
        teardown(svc, cid)
        raise


def teardown(svc: Any, cid: str) -> None:
    rootless.stop_all(svc.layout.runroot, cid)
    ports.drop(svc.layout, cid)
