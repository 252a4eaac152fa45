"""Image transports (containers-transports(5)) where Podman accepts them: pull, push, run/create, load.

    docker://REF                 a registry (the default when no transport is given)
    docker-archive:PATH[:REF]    a `docker save` tar; REF picks an image of it (name or @INDEX)
    oci-archive:PATH[:REF]       an OCI layout in a tar; REF picks by org.opencontainers.image.ref.name
    oci:DIR[:REF]                an OCI layout directory
    dir:DIR                      the containers/image directory layout (manifest.json, version, blobs)
    containers-storage:, docker-daemon:  other engines' stores: a clear error

Reading reuses the load code (engine/archives.py), writing the save code (engine/archive_save.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from podpy.errors import InvalidArgument, PodpyError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.image.store import ImageRecord

FILE_TRANSPORTS = ("docker-archive", "oci-archive", "oci", "dir")
FOREIGN = ("containers-storage", "docker-daemon", "ostree", "sif", "tarball")


@dataclass(frozen=True)
class Location:
    transport: str  # docker, docker-archive, oci-archive, oci, dir
    path: str  # the file or directory; for docker: the image reference
    ref: str | None = None  # the optional :REF after the path

    def __str__(self) -> str:
        return f"{self.transport}:{self.path}" + (f":{self.ref}" if self.ref else "")


def parse(arg: str) -> Location | None:
    """The transport `arg` names, or None for a plain image reference (`busybox`, `host:5000/x`)."""
    if arg.startswith("docker://"):
        return Location("docker", arg.removeprefix("docker://"))
    name, sep, rest = arg.partition(":")
    if not sep:
        return None
    if name in FOREIGN:
        raise InvalidArgument(
            f"{arg}: the {name} transport is not supported: podpy keeps images in its own store "
            f"(move images with `podman save IMAGE | podpy load`)"
        )
    if name not in FILE_TRANSPORTS:
        return None
    path, _, ref = rest.partition(":")
    if not path:
        raise InvalidArgument(f"{arg}: no path after {name}:")
    if name == "dir" and ref:
        path = rest  # dir: takes no reference: a ':' belongs to the path
        ref = ""
    return Location(name, path, ref or None)


def is_transport(arg: str) -> bool:
    try:
        return parse(arg) is not None
    except InvalidArgument:
        return True


def pull(engine: Engine, loc: Location) -> list[ImageRecord]:
    """Copy the image(s) at a file location into the store; returns them (`podman pull` prints their IDs)."""
    from podpy.engine.archives import load_archive

    path = os.path.abspath(loc.path)
    if loc.transport in ("oci", "dir"):
        if not os.path.isdir(path):
            raise InvalidArgument(f"{loc}: {path} is not a directory")
    elif not os.path.isfile(path):
        raise InvalidArgument(f"{loc}: {path}: no such file")
    pick, names = None, None
    if loc.transport == "docker-archive" and loc.ref:
        pick, names = _docker_pick(loc.ref), _named(loc.ref)
    elif loc.transport in ("oci-archive", "oci") and loc.ref:
        pick = _oci_pick(loc.ref)
        names = [_localhost(loc.ref)] if _valid(_localhost(loc.ref)) else None  # as Podman names it
    if loc.transport == "oci":  # Podman 4.3 names an oci: image after its directory
        names = [f"localhost{path}:latest"] if _valid(f"localhost{path}:latest") else []
    elif loc.transport == "dir":
        names = []
    loaded = load_archive(engine, path, pick=pick, names=names)
    if not loaded:
        raise PodpyError(f"{loc}: no image matching {loc.ref!r} in it" if loc.ref else f"{loc}: no image in it")
    return [img for img, _ in loaded]


def _localhost(ref: str) -> str:
    """`mytag` -> `localhost/mytag` (a reference with no registry host, as Podman names it)."""
    first = ref.split("/", 1)[0]
    has_host = "/" in ref and ("." in first or ":" in first or first == "localhost")
    return ref if has_host else f"localhost/{ref}"


def _valid(name: str) -> bool:
    from podpy.image import reference

    try:
        reference.parse(name)
    except PodpyError:
        return False
    return True


def _named(ref: str) -> list[str] | None:
    return None if ref.startswith("@") else [ref]


def _docker_pick(ref: str):  # type: ignore[no-untyped-def]
    """docker-archive:P:REF picks the image tagged REF; :@N the N-th image of the manifest."""
    from podpy.image import reference

    if ref.startswith("@"):
        if not ref[1:].isdigit():
            raise InvalidArgument(f"invalid image index {ref!r}: want @N")
        want, seen = int(ref[1:]), iter(range(1 << 30))
        return lambda names, refs: next(seen) == want
    full = str(reference.parse(ref))
    return lambda names, refs: any(_same(n, full) for n in names)


def _same(name: str, full: str) -> bool:
    from podpy.image import reference

    try:
        return str(reference.parse(name)) == full
    except PodpyError:
        return False


def _oci_pick(ref: str):  # type: ignore[no-untyped-def]
    """oci(-archive):P:REF picks the manifests whose ref.name annotation is REF (as written or as a name)."""
    full = None if ":" not in ref and "/" not in ref else _full(ref)
    return lambda names, refs: ref in refs or (full is not None and full in names)


def _full(ref: str) -> str | None:
    from podpy.image import reference

    try:
        return str(reference.parse(ref))
    except PodpyError:
        return None


def push(engine: Engine, image: str, loc: Location, compress: bool = False) -> None:
    """Write a local image to a file location (the registry case is engine/push.py)."""
    from podpy.engine.archive_save import save_archive

    fmt = {"docker-archive": "docker-archive", "oci-archive": "oci-archive", "oci": "oci-dir",
           "dir": "docker-dir"}[loc.transport]  # fmt: skip
    if loc.transport == "docker-archive" and loc.ref and loc.ref.startswith("@"):
        raise InvalidArgument(f"{loc}: an image index (@N) can only be read, not written")
    if compress and loc.transport != "dir":
        raise InvalidArgument("--compress applies to dir: destinations only")
    save_archive(engine, [image], fmt, os.path.abspath(loc.path), ref_name=loc.ref, compress=compress)
