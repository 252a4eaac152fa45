"""Encrypted layers (the ocicrypt scheme of containers/image and containerd): what marks a layer
encrypted, and the private keys a user gives (`--decryption-key FILE[:PASSWORD]`).

An encrypted layer's media type ends in `+encrypted`; its descriptor carries the wrapped key
material in `org.opencontainers.image.enc.keys.<scheme>` annotations and the public cipher options
in `org.opencontainers.image.enc.pubopts`. The crypto itself lives in image/ocicrypt.py and
image/jwe.py, which import the `cryptography` package: engine/layer_decrypt.py imports them only
on the decryption path, so that commands that never meet an encrypted layer stay lean.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podpy.errors import InvalidArgument

if TYPE_CHECKING:
    from podpy.image.manifest import Descriptor

SUFFIX = "+encrypted"
ANNOTATION_PREFIX = "org.opencontainers.image.enc."
KEYS_PREFIX = "org.opencontainers.image.enc.keys."
JWE_KEYS = "org.opencontainers.image.enc.keys.jwe"
PUBOPTS = "org.opencontainers.image.enc.pubopts"


def is_encrypted(media_type: str | None) -> bool:
    return bool(media_type) and media_type.endswith(SUFFIX)  # type: ignore[union-attr]


def any_encrypted(layers: list[Descriptor]) -> bool:
    return any(is_encrypted(d.media_type) for d in layers)


def plain_media_type(media_type: str) -> str:
    return media_type.removesuffix(SUFFIX)


def plain_annotations(annotations: dict[str, str] | None) -> dict[str, str] | None:
    """A layer's annotations without the encryption ones (None when nothing is left)."""
    left = {k: v for k, v in (annotations or {}).items() if not k.startswith(ANNOTATION_PREFIX)}
    return left or None


@dataclass(frozen=True)
class DecryptionKey:
    """A private key file's bytes and its password (None: not protected), as given on the command line."""

    path: str
    data: bytes
    password: bytes | None = None


def parse_key(spec: str) -> DecryptionKey:
    """`FILE`, `FILE:PASSWORD`, `FILE:pass=PASSWORD`, `FILE:file=PWFILE` or `FILE:fd=N` (ocicrypt's forms)."""
    path, sep, pw = spec.partition(":")
    if not path:
        raise InvalidArgument(f"--decryption-key {spec!r}: no key file")
    password = _password(spec, pw) if sep else None
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError as e:
        raise InvalidArgument(f"--decryption-key {path}: {e.strerror or e}") from None
    return DecryptionKey(path, data, password)


def _password(spec: str, pw: str) -> bytes:
    if pw.startswith("pass="):
        return pw[5:].encode()
    if pw.startswith("file="):
        try:
            with open(pw[5:], "rb") as f:
                return f.read().rstrip(b"\n")
        except OSError as e:
            raise InvalidArgument(f"--decryption-key {spec}: {pw[5:]}: {e.strerror or e}") from None
    if pw.startswith("fd="):
        try:
            return os.read(int(pw[3:]), 64).rstrip(b"\n")
        except (ValueError, OSError) as e:
            raise InvalidArgument(
                f"--decryption-key {spec}: could not read the password from {pw}: {e}"
            ) from None
    return pw.encode()


def parse_keys(specs: list[str] | None) -> tuple[DecryptionKey, ...]:
    """Every `--decryption-key`, read (engine/layer_decrypt.load_keys also checks each is a key)."""
    return tuple(parse_key(s) for s in specs or [])
