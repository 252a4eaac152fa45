"""Typed engine errors. The CLI maps each to one `Error: ...` line and its exit code."""

from __future__ import annotations


class PodpyError(Exception):
    """Base of every error podpy reports to the user (exit 125 like podman)."""

    exit_code = 125


class InvalidArgument(PodpyError):
    pass


class NotFound(PodpyError):
    """Base of the "no such X" errors: a lookup that found nothing (inspect tries the next kind)."""


class InvalidReference(PodpyError):
    def __init__(self, ref: str, why: str = "invalid reference format") -> None:
        super().__init__(f"{why}: {ref!r}")
        self.ref = ref


class NoSuchImage(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"{ref}: image not known")
        self.ref = ref


class ImageInUse(PodpyError):
    def __init__(self, image_id: str, container_id: str) -> None:
        super().__init__(
            f"image used by {container_id[:12]}: image is in use by a container: "
            f"consider listing external containers and force-removing image"
        )
        self.image_id = image_id
        self.container_id = container_id


class NoSuchContainer(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f'no container with name or ID "{ref}" found: no such container')
        self.ref = ref


class NoSuchObject(NotFound):
    """inspect of a name that is neither an image nor a container (nor volume/network)."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no such object: {ref!r}")


class NameInUse(PodpyError):
    pass


class ContainerState(PodpyError):
    """Operation not valid in the container's current state."""


class CorruptContent(PodpyError):
    """A blob's digest does not match what was promised."""


class UnsafeArchive(PodpyError):
    """A tar entry tried to escape its target directory."""


class StorageError(PodpyError):
    pass


class FormatError(PodpyError):
    """Bad --format template or unknown field/function."""


class RegistryError(PodpyError):
    pass


class CannotInvoke(PodpyError):
    exit_code = 126


class CommandNotFound(PodpyError):
    exit_code = 127


class RegistryAuthError(RegistryError):
    """401/403 from a registry or its token server (wrong or missing credentials)."""


class RegistryNotFound(RegistryError):
    """A repository, tag, manifest or blob the registry does not have."""


class RegistryUnavailable(RegistryError):
    """The registry could not be reached (connection refused, timeout, repeated 5xx, TLS)."""


class NoSuchVolume(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f'no volume with name "{name}" found: no such volume')
        self.name = name


class VolumeExists(PodpyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"volume with name {name} already exists: volume already exists")
        self.name = name


class VolumeInUse(PodpyError):
    def __init__(self, name: str, containers: list[str]) -> None:
        ids = ", ".join(c[:12] for c in containers)
        super().__init__(f"volume {name} is being used by the following container(s): {ids}: volume is being used")
        self.name = name
        self.containers = containers


class NoSuchFile(PodpyError):
    """cp: a path that is not there (in the container or on the host)."""
