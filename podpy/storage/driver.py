"""The storage driver interface (storage/drivers.py detects and constructs the drivers).

A driver turns a chain of layers plus a container's own writable layer into a root filesystem:
    containers/<cid>/rw/{upper,work}   overlay (plus rw/l/<n> short links for long chains)
    containers/<cid>/rw/rootfs         vfs: a full copy of the top layer's snapshot
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable
from pathlib import Path

from podpy.errors import StorageError
from podpy.storage import _mount
from podpy.storage.fsutil import force_rmtree
from podpy.storage.layers import LayerStore

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:  # diffwalk only for diff, export and commit: start and rm load this module
    from typing import BinaryIO

    from podpy.storage.diffwalk import Entry, OwnerMap


class Driver(ABC):
    name: str = ""

    def __init__(self, layers: LayerStore) -> None:
        self.layers = layers
        self.rootless = layers.rootless

    def rw_dir(self, cid: str) -> Path:
        return self.layers.layout.container_dir(cid) / "rw"

    @abstractmethod
    def create_rw(self, cid: str, top_chain: str | None) -> None:
        """Make the container's writable layer on top of `top_chain` (None: an empty image)."""

    @abstractmethod
    def mount_options(self, cid: str, top_chain: str | None) -> tuple[str, str]:
        """(fstype, data) for a runtime that mounts the rootfs itself (e.g. in a user namespace).

        overlay: ("overlay", "lowerdir=...,upperdir=...,workdir=..."). The paths are absolute,
        unless that string would not fit in a page: then they are relative to `rw_dir(cid)`,
        where the caller must chdir before mount(2). vfs: ("bind", <source directory>).
        """

    @abstractmethod
    def prepare_start(self, cid: str, top_chain: str | None) -> None:
        """Before each start: no symlink on the paths runtimes mount on or write to (see initlayer)."""

    @abstractmethod
    def _entries(self, cid: str, top_chain: str | None) -> Iterable[Entry]:
        """The container's changes in tar order."""

    @abstractmethod
    def _mount(self, cid: str, top_chain: str | None, target: str) -> None: ...

    def mount(self, cid: str, top_chain: str | None, target: Path) -> None:
        """Mount the container's rootfs at `target` (needs CAP_SYS_ADMIN in the mount namespace)."""
        target = target.absolute()
        target.mkdir(parents=True, exist_ok=True)
        try:
            self._mount(cid, top_chain, str(target))
        except OSError as e:
            raise StorageError(f"mounting the rootfs of {cid[:12]}: {e.strerror or e}") from None

    def unmount(self, target: Path) -> None:
        """Detach whatever is mounted at `target` (all stacked mounts); nothing mounted is fine."""
        for _ in range(16):
            try:
                if not _mount.umount(str(target.absolute())):
                    return
            except OSError as e:
                raise StorageError(str(e)) from None

    def remove_rw(self, cid: str) -> None:
        force_rmtree(self.rw_dir(cid))

    def changes(self, cid: str, top_chain: str | None) -> list[tuple[str, str]]:
        """Like `docker diff`: ("A"|"C"|"D", "/path") sorted by path."""
        from podpy.storage.diffwalk import changes_of

        return changes_of(self._entries(cid, top_chain))

    def rw_tar(self, cid: str, top_chain: str | None, out: BinaryIO, skip: Collection[str] = (),
               skip_below: Collection[str] = (), owner: OwnerMap | None = None) -> None:  # fmt: skip
        """Write the container's changes to `out` as an uncompressed OCI layer tar (for commit),
        leaving out the paths in `skip` and whatever lies below those in `skip_below` (mount points
        the runtime made: /etc/hosts and friends, volume contents)."""
        below = tuple(p.rstrip("/") + "/" for p in skip_below)
        entries = (e for e in self._entries(cid, top_chain)
                   if e.path not in skip and not (e.path.startswith(below) if below else False))  # fmt: skip
        from podpy.storage import userns
        from podpy.storage.diffwalk import write_tar

        mapping = userns.current() if self.rootless else None
        if mapping is None:
            write_tar(entries, out, owner)  # owner: a root-mapped container's host ids -> its own (--uidmap)
        elif mapping.full:  # inside the mapping: container ids, and dirs of other ids readable

            def inside() -> None:  # owner: a rootless --uidmap container's ids of our namespace -> its own
                write_tar(entries, out, owner)
                out.flush()

            userns.run_mapped(mapping, inside)
        else:
            write_tar(entries, out, mapping.to_container)  # our own id is the container's root
