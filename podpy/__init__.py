"""podpy: a daemonless, Podman/Docker-compatible container engine."""

__version__ = "0.1.0"
