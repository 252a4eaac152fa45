"""Layer storage: layers by chain ID, safe extraction, the overlay and vfs drivers.

Exports are resolved lazily so `import podpy.storage` costs nothing (no tarfile, no zstandard).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "LayerStore": "podpy.storage.layers",
    "LayerRecord": "podpy.storage.layers",
    "Driver": "podpy.storage.driver",
    "make_driver": "podpy.storage.drivers",
    "detect_driver": "podpy.storage.drivers",
    "extract_layer": "podpy.storage.tarsafe",
    "ExtractStats": "podpy.storage.tarsafe",
    "open_decompressed": "podpy.storage.compress",
    "compress": "podpy.storage.compress",
    "compress_gzip": "podpy.storage.compress",
    "compress_zstd": "podpy.storage.compress",
    "CompressResult": "podpy.storage.compress",
    "detect_compression": "podpy.storage.compress",
}

__all__ = [
    "CompressResult",
    "Driver",
    "ExtractStats",
    "LayerRecord",
    "LayerStore",
    "compress",
    "compress_gzip",
    "compress_zstd",
    "detect_compression",
    "detect_driver",
    "extract_layer",
    "make_driver",
    "open_decompressed",
]

if TYPE_CHECKING:
    from podpy.storage.compress import (
        CompressResult,
        compress,
        compress_gzip,
        compress_zstd,
        open_decompressed,
    )
    from podpy.storage.compress import detect as detect_compression
    from podpy.storage.driver import Driver
    from podpy.storage.drivers import detect_driver, make_driver
    from podpy.storage.layers import LayerRecord, LayerStore
    from podpy.storage.tarsafe import ExtractStats, extract_layer


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'podpy.storage' has no attribute {name!r}")
    attr = "detect" if name == "detect_compression" else name
    return getattr(importlib.import_module(module), attr)
