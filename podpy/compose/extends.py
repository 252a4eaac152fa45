"""`extends`: a service built on another one, in the same file or another file.

The base is resolved first (it may extend too), its relative paths made absolute against its own file's
directory, then the extending service is merged onto it with the usual merge rules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from podpy.compose.errors import ComposeError
from podpy.compose.merge import merge_mapping
from podpy.compose.resolve import resolve_service

# loads another compose file as a normalised document (parsed, interpolated, validated)
LoadFile = Callable[[Path], dict[str, Any]]


class Extender:
    def __init__(self, load_file: LoadFile, home: str) -> None:
        self.load_file = load_file
        self.home = home

    def apply(self, services: dict[str, Any], source: Path | None) -> dict[str, Any]:
        return {name: self._service(name, services, source, ()) for name in services}

    def _service(self, name: str, services: dict[str, Any], source: Path | None,
                 chain: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        svc = services.get(name)
        if not isinstance(svc, dict) or not svc.get("extends"):
            return svc if svc is not None else {}
        key = (str(source), name)
        if key in chain:
            cycle = " -> ".join(n for _, n in (*chain, key))
            raise ComposeError(f"circular reference with extends: {cycle}")
        ext = svc["extends"]
        ext = {"service": ext} if isinstance(ext, str) else ext
        base_name = str(ext.get("service") or "")
        if ext.get("file"):
            base_file = Path(str(ext["file"]))
            if not base_file.is_absolute() and source is not None:
                base_file = source.parent / base_file
            base_services = self.load_file(base_file).get("services") or {}
            origin: Path | None = base_file
        else:
            base_services, origin = services, source
        if base_name not in base_services:
            where = f" in {origin}" if origin else ""
            raise ComposeError(f'cannot extend service "{name}": service "{base_name}" not found{where}')
        base = self._service(base_name, base_services, origin, (*chain, key))
        if origin is not None and origin != source:
            base = resolve_service(base, origin.parent, self.home)
        local = {k: v for k, v in svc.items() if k != "extends"}
        return merge_mapping(base, local)
