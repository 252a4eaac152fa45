"""SHA-256 for the short strings of cache keys without loading OpenSSL: `hashlib` imports `_hashlib`
(libcrypto, ~2 ms at start-up), while the interpreter's own SHA-256 is built in. A cached rebuild
hashes only keys (file digests come from build.digestmemo); large data (file contents) still goes
through hashlib, whose OpenSSL code is several times faster per byte."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def sha256(data: bytes = b"") -> Any:
    """A sha256 hash object (update/hexdigest), as hashlib.sha256(data) gives."""
    try:
        from _sha256 import sha256 as make  # CPython 3.11's built-in module
    except ImportError:
        try:
            from _sha2 import sha256 as make  # type: ignore[no-redef]  # CPython 3.12+
        except ImportError:
            from hashlib import sha256 as make  # type: ignore[no-redef]
    return make(data)
