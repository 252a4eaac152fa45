"""`import`: a root filesystem tarball (file, stdin or URL) becomes a one-layer image."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from podpy.engine import events as ev
from podpy.engine.images import NewLayer
from podpy.errors import InvalidArgument, PodpyError
from podpy.image import manifest as mf
from podpy.image.changes import apply_change
from podpy.timeutil import now_rfc3339

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.image.store import ImageRecord


def go_arch() -> str:
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(m, m)


@contextmanager
def open_source(source: str) -> Iterator[BinaryIO]:
    """A file path, `-` for stdin, or an http(s) URL."""
    if source == "-":
        if sys.stdin.isatty():
            raise InvalidArgument("cannot read a tarball from a terminal: redirect stdin or give a file")
        yield sys.stdin.buffer
    elif source.startswith(("http://", "https://")):
        import requests

        try:
            resp = requests.get(source, stream=True, timeout=30)
            resp.raise_for_status()
        except requests.RequestException as e:
            raise PodpyError(f"fetching {source}: {e}") from None
        with resp:
            resp.raw.decode_content = True
            yield resp.raw
    else:
        try:
            f = open(source, "rb")
        except OSError as e:
            raise InvalidArgument(f"{source}: {os.strerror(e.errno or 0) or e}") from None
        with f:
            yield f


def new_config(changes: list[str], comment: str, platform: tuple[str, str, str] = ("", "", "")) -> dict:
    """`platform`: (os, arch, variant) to record instead of the host's (import --os/--arch/--variant)."""
    cfg: dict = {}
    for c in changes:
        apply_change(cfg, c)
    now = now_rfc3339()
    os_, arch, variant = platform
    return {
        "created": now,
        "architecture": arch or go_arch(),
        "os": os_ or "linux",
        **({"variant": variant} if variant else {}),
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created": now, "created_by": "/bin/sh -c #(nop) ADD file in /", "comment": comment}],
    }


def import_image(
    engine: Engine, source: str, name: str | None, changes: list[str], message: str | None,
    platform: tuple[str, str, str] = ("", "", ""),
) -> ImageRecord:
    from podpy.image import reference
    from podpy.storage.compress import open_decompressed

    names = [str(reference.parse(name))] if name else []  # validate before reading anything
    config = new_config(changes, message or f"imported from {source}", platform)
    with open_source(source) as raw:
        tar, _ = open_decompressed(raw)
        with tar:
            digest, size = engine.content.ingest(tar)  # stored uncompressed: the digest is the diff ID
    config["rootfs"]["diff_ids"] = [digest]
    layer = NewLayer(digest, mf.OCI_LAYER, size, digest)
    raw_cfg = json.dumps(config, separators=(",", ":")).encode()
    img = engine.images.register(raw_cfg, [layer], names)
    ev.image(engine, "import", img.id, source)
    return img
