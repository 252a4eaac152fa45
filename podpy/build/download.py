"""ADD of an http(s) URL: fetched into a scratch directory (mode 0600, as Docker stores it), checked
against --checksum, and named like the URL path's last element; never extracted."""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path
from urllib.parse import urlsplit

from podpy.errors import PodpyError

CHUNK = 1 << 20


def file_name(url: str) -> str:
    name = posixpath.basename(urlsplit(url).path.rstrip("/"))
    return name if name not in ("", ".", "..") else "__unnamed__"


def fetch(url: str, into: Path, checksum: str | None = None) -> tuple[Path, str]:
    """(the downloaded file, its sha256 digest); PodpyError on HTTP errors or a checksum mismatch."""
    import requests

    into.mkdir(parents=True, exist_ok=True)
    path = into / file_name(url)
    h = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=60) as resp:
            resp.raise_for_status()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as f:
                for chunk in resp.iter_content(CHUNK):
                    h.update(chunk)
                    f.write(chunk)
    except requests.RequestException as e:
        raise PodpyError(f"ADD {url}: {e}") from None
    os.chmod(path, 0o600)
    digest = "sha256:" + h.hexdigest()
    if checksum and checksum != digest:
        raise PodpyError(f"ADD {url}: digest mismatch {digest}: expected {checksum}")
    return path, digest
