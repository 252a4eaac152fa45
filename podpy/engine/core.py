"""Engine: one object per CLI invocation, building each store lazily (start-up stays cheap)."""

from __future__ import annotations

from functools import cached_property

from podpy.config import STORAGE_DRIVERS, Options
from podpy.errors import StorageError
from podpy.state import FileLock, atomic_write_json, read_json
from podpy.state.layout import Layout, ensure_private

TYPE_CHECKING = False  # typing's, without importing typing at start-up

if TYPE_CHECKING:
    from podpy.engine.containers import ContainerService
    from podpy.engine.networks import NetworkService
    from podpy.engine.volumes import VolumeService
    from podpy.image.content import ContentStore
    from podpy.image.store import ImageIndex
    from podpy.storage import LayerStore


class Engine:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.layout = Layout(opts.root, opts.runroot)
        ensure_private(self.layout)  # two stats; creates or migrates the store to 0700 when needed

    @cached_property
    def content(self) -> ContentStore:
        from podpy.image.content import ContentStore

        return ContentStore(self.layout.blobs, self.layout.ingest, self.layout.layers)

    @cached_property
    def index(self) -> ImageIndex:
        from podpy.image.store import ImageIndex

        return ImageIndex(self.layout)

    @cached_property
    def driver(self) -> str:
        """The store's storage driver: recorded at first use; a different --storage-driver is refused."""
        recorded = read_json(self.layout.storage_json, default={}).get("driver")
        wanted = self.opts.storage_driver
        if wanted and wanted not in STORAGE_DRIVERS:
            raise StorageError(f"unknown storage driver {wanted!r} (choose overlay or vfs)")
        if recorded:
            if wanted and wanted != recorded:
                raise StorageError(
                    f'database storage graph driver "{recorded}" does not match our storage graph driver '
                    f'"{wanted}": database configuration mismatch'
                )
            return recorded
        with FileLock(self.layout.store_lock):
            recorded = read_json(self.layout.storage_json, default={}).get("driver")
            if recorded:
                return recorded
            from podpy.storage import detect_driver

            chosen = wanted or detect_driver(self.layout, self.opts.rootless)
            atomic_write_json(self.layout.storage_json, {"driver": chosen})
            return chosen

    @cached_property
    def layers(self) -> LayerStore:
        from podpy.storage import LayerStore

        return LayerStore(self.layout, self.driver, self.opts.rootless)

    @cached_property
    def images(self):  # type: ignore[no-untyped-def]
        from podpy.engine.images import ImageService

        return ImageService(self)

    @cached_property
    def containers(self) -> ContainerService:
        from podpy.engine.containers import ContainerService

        return ContainerService(self)

    @cached_property
    def volumes(self) -> VolumeService:
        from podpy.engine.volumes import VolumeService

        return VolumeService(self)

    @cached_property
    def networks(self) -> NetworkService:
        from podpy.engine.networks import NetworkService

        return NetworkService(self)
