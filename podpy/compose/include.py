"""`include`: other compose projects whose resources join this one.

Each entry is a path (or list of paths, merged as with several -f), with an optional
`project_directory` (relative paths of the included files resolve against it) and `env_file`.
A resource defined both here and in an included project is an error unless both are identical.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from podpy.compose.errors import ComposeError

# (files, project directory, env files) → a merged document with absolute paths
LoadIncluded = Callable[[list[Path], Path, list[Path]], dict[str, Any]]
_KINDS = ("services", "networks", "volumes", "secrets", "configs")


def _entries(value: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ComposeError(f"validating {source}: include must be a list")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict) or not item.get("path"):
            raise ComposeError(f"validating {source}: include[{i}] needs a path")
        extra = set(item) - {"path", "project_directory", "env_file"}
        if extra:
            raise ComposeError(f"validating {source}: include[{i}] additional properties "
                               f"{', '.join(repr(k) for k in sorted(extra))} not allowed")
        out.append(item)
    return out


def _as_paths(value: Any, base: Path) -> list[Path]:
    items = value if isinstance(value, list) else [value]
    return [base / str(p) for p in items]


def apply_includes(doc: dict[str, Any], base: Path, source: str, load: LoadIncluded) -> dict[str, Any]:
    doc = dict(doc)
    for entry in _entries(doc.pop("include"), source):
        files = _as_paths(entry["path"], base)
        project_dir = base / str(entry["project_directory"]) if entry.get("project_directory") else files[0].parent
        env_files = _as_paths(entry["env_file"], base) if entry.get("env_file") else []
        included = load(files, project_dir, env_files)
        for kind in _KINDS:
            theirs = included.get(kind) or {}
            ours = dict(doc.get(kind) or {})
            for name, spec in theirs.items():
                if name in ours and ours[name] != spec:
                    raise ComposeError(f"imported compose file {files[0]} defines conflicting "
                                       f"{kind[:-1]} {name}")
                ours[name] = spec
            if ours:
                doc[kind] = ours
    return doc
