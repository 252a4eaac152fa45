"""Relative paths of a compose document made absolute against the directory they belong to."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_REMOTE = ("http://", "https://", "git://", "git@", "github.com/", "ssh://")


def _abs(path: str, base: Path, home: str) -> str:
    if path == "~" or path.startswith("~/"):
        return home + path[1:]
    if os.path.isabs(path):
        return os.path.normpath(path)
    return os.path.normpath(base / path)


def _context(path: str, base: Path, home: str) -> str:
    if path.startswith(_REMOTE) or "://" in path:
        return path
    return _abs(path, base, home)


def resolve_service(svc: dict[str, Any], base: Path, home: str) -> dict[str, Any]:
    svc = dict(svc)
    build = svc.get("build")
    if isinstance(build, dict):
        build = dict(build)
        build["context"] = _context(str(build.get("context", ".")), base, home)
        extra = build.get("additional_contexts")
        if isinstance(extra, dict):
            build["additional_contexts"] = {
                k: v if v is None or ":" in v.split("/")[0] else _context(v, base, home)
                for k, v in extra.items()}
        svc["build"] = build
    if isinstance(svc.get("volumes"), list):
        svc["volumes"] = [_bind(v, base, home) for v in svc["volumes"]]
    if isinstance(svc.get("env_file"), list):
        svc["env_file"] = [{**e, "path": _abs(e["path"], base, home)} for e in svc["env_file"]]
    if isinstance(svc.get("label_file"), list | str):
        files = svc["label_file"] if isinstance(svc["label_file"], list) else [svc["label_file"]]
        svc["label_file"] = [_abs(str(f), base, home) for f in files]
    ext = svc.get("extends")
    if isinstance(ext, dict) and ext.get("file"):
        svc["extends"] = {**ext, "file": _abs(str(ext["file"]), base, home)}
    return svc


def _bind(vol: Any, base: Path, home: str) -> Any:
    if isinstance(vol, dict) and vol.get("type") == "bind" and vol.get("source"):
        return {**vol, "source": _abs(str(vol["source"]), base, home)}
    return vol


def resolve_document(doc: dict[str, Any], base: Path, home: str) -> dict[str, Any]:
    doc = dict(doc)
    services = doc.get("services")
    if isinstance(services, dict):
        doc["services"] = {n: resolve_service(s, base, home) if isinstance(s, dict) else s
                           for n, s in services.items()}
    for kind in ("secrets", "configs"):
        section = doc.get(kind)
        if isinstance(section, dict):
            doc[kind] = {n: {**s, "file": _abs(str(s["file"]), base, home)}
                         if isinstance(s, dict) and s.get("file") else s for n, s in section.items()}
    return doc
