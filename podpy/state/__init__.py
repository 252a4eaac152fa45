"""JSON state: atomic documents with a schema version, fcntl locks, the on-disk layout."""

from podpy.state.atomic import atomic_write_bytes, atomic_write_json, read_json
from podpy.state.lock import FileLock

__all__ = ["FileLock", "atomic_write_bytes", "atomic_write_json", "read_json"]
