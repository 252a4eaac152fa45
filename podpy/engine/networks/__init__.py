"""Networks in the engine: the service behind `network ...`, and a container's setup/teardown.

The names are loaded on first use (PEP 562): `inspect` of a created container needs the service
but not the setup/teardown code (attach, ~2 ms of imports)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from podpy.engine.networks.attach import for_create, leases_of, netns_path, setup, teardown
    from podpy.engine.networks.service import CreateRequest, NetworkService

__all__ = ["CreateRequest", "NetworkService", "for_create", "leases_of", "netns_path", "setup", "teardown"]

_SERVICE = ("CreateRequest", "NetworkService")


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    module = import_module(f"{__name__}.{'service' if name in _SERVICE else 'attach'}")
    return getattr(module, name)
