"""podpy's built-in OCI runtime: one module per kernel concept (namespaces, mounts, devices,
capabilities, cgroups, process), glued by launch (the fork dance) and runtime (the public class).

BuiltinRuntime is imported lazily so that specgen can use `capabilities` without the rest."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


__all__ = ["BuiltinRuntime"]


def __getattr__(name: str) -> Any:
    if name == "BuiltinRuntime":
        from podpy.runtime.builtin.runtime import BuiltinRuntime

        return BuiltinRuntime
    raise AttributeError(name)
