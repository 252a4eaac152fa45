"""Networks in the engine: the service behind `network ...`, and a container's setup/teardown."""

from podpy.engine.networks.attach import for_create, leases_of, netns_path, setup, teardown
from podpy.engine.networks.service import CreateRequest, NetworkService

__all__ = ["CreateRequest", "NetworkService", "for_create", "leases_of", "netns_path", "setup", "teardown"]
