"""Encrypted layers entering the store (registry pulls, oci-archive/OCI layout loads): decrypted,
verified and kept as plain layers, as containers/image does with `--decryption-key`.

Every layer's key is unwrapped before anything is fetched, so a missing or wrong key fails
with nothing stored. A decrypted layer is stored as the blob it decrypts to (the layer as it was
before encryption, compressed or not) under its own digest: the ciphertext is checked against the
descriptor's digest and the HMAC at the end of the stream (image/ocicrypt.py), then the tar it
holds against the config's diff ID. The image's manifest is rewritten to name the plain layers
(media type without `+encrypted`, no encryption annotations).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, BinaryIO

from podpy.errors import CorruptContent, PodpyError
from podpy.image import encryption as enc
from podpy.image import manifest as mf
from podpy.registry import progress as pg

if TYPE_CHECKING:
    from types import ModuleType

    from podpy.engine.core import Engine
    from podpy.image.content import ContentStore
    from podpy.image.encryption import DecryptionKey
    from podpy.registry.client import Repository

LayerKeys = dict[int, Any]  # layer index -> ocicrypt.LayerKey, for the encrypted layers only
CHUNK = 1 << 20


def crypto() -> ModuleType:
    """image/ocicrypt (imports `cryptography`); a clear error when the package is missing."""
    try:
        from podpy.image import ocicrypt
    except ImportError as e:
        raise PodpyError(f"decrypting image layers needs the Python package 'cryptography' ({e})") from None
    return ocicrypt


def load_keys(specs: list[str] | None) -> tuple[DecryptionKey, ...]:
    """Every `--decryption-key FILE[:PASSWORD]`, each checked to be a private key its password opens."""
    keys = enc.parse_keys(specs)
    if keys:
        mod = crypto()
        for k in keys:
            mod.load_private_key(k)
    return keys


def unwrap_all(layers: list[mf.Descriptor], keys: tuple[DecryptionKey, ...]) -> LayerKeys:
    """The key of every encrypted layer; raises (DecryptionError) before anything is fetched."""
    mod = crypto()
    return {i: mod.unwrap(d, keys) for i, d in enumerate(layers) if enc.is_encrypted(d.media_type)}


def plain_descriptor(d: mf.Descriptor, digest: str, size: int) -> mf.Descriptor:
    return mf.Descriptor(
        enc.plain_media_type(d.media_type), digest, size, enc.plain_annotations(d.annotations)
    )


def plain_manifest(raw: bytes, layers: list[mf.Descriptor]) -> bytes:
    """The manifest `raw` with `layers` (the decrypted ones) in place of its layers."""
    doc = json.loads(raw)
    doc["layers"] = [d.to_json() for d in layers]
    return json.dumps(doc, separators=(",", ":")).encode()


class _Limited:
    """Counts progress and refuses a blob larger than its descriptor says."""

    def __init__(self, src: BinaryIO, d: mf.Descriptor, counter: pg.Counter | None = None) -> None:
        self.src, self.d, self.counter, self.n = src, d, counter, 0

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n)
        self.n += len(data)
        if self.d.size and self.n > self.d.size:
            raise CorruptContent(f"blob {self.d.digest} is larger than its manifest says")
        if self.counter is not None:
            self.counter.add(len(data))
        return data


def ingest(content: ContentStore, src: BinaryIO, d: mf.Descriptor, key: Any,
           counter: pg.Counter | None = None) -> mf.Descriptor:  # fmt: skip
    """Decrypt the blob `src` streams into the content store; the plain descriptor."""
    reader = crypto().DecryptingReader(_Limited(src, d, counter), key, d.digest, "encrypted layer")
    digest, size = content.ingest(reader)  # type: ignore[arg-type]
    return plain_descriptor(d, digest, size)


def diff_id_of(content: ContentStore, digest: str, what: str) -> str:
    """The digest of the uncompressed tar in blob `digest` (a broken stream: CorruptContent)."""
    import hashlib

    from podpy.storage.compress import as_corrupt, open_decompressed

    h = hashlib.sha256()
    try:
        with content.open(digest) as f:
            stream, _ = open_decompressed(f)
            while chunk := stream.read(CHUNK):
                h.update(chunk)
    except PodpyError:
        raise
    except Exception as e:
        err = as_corrupt(e)
        if isinstance(err, CorruptContent):
            raise CorruptContent(f"{what} once decrypted: {err}") from None
        raise
    return "sha256:" + h.hexdigest()


def check_diff_id(content: ContentStore, plain: mf.Descriptor, d: mf.Descriptor, diff_id: str) -> None:
    got = diff_id_of(content, plain.digest, f"layer {d.digest}")
    if got != diff_id:
        raise CorruptContent(
            f"layer {d.digest} does not match diff ID {diff_id} once decrypted (content is {got})"
        )


def fetch(engine: Engine, repo: Repository, layers: list[mf.Descriptor], diff_ids: list[str], keys: LayerKeys,
          report: pg.ProgressFn) -> list[mf.Descriptor]:  # fmt: skip
    """Download and decrypt the encrypted layers into the content store, each checked against its
    diff ID (a blob that fails is removed again unless an image uses it); the manifest's layers
    with the plain descriptors in place of the encrypted ones."""
    out = []
    for i, d in enumerate(layers):
        key = keys.get(i)
        if key is None:
            out.append(d)
            continue
        report(pg.Progress(pg.BLOB_START, d.digest, 0, d.size, "blob"))
        with repo.open_blob(d.digest, d.size or None) as src:
            plain = ingest(engine.content, src, d, key, pg.Counter(report, d.digest, d.size))
        try:
            check_diff_id(engine.content, plain, d, diff_ids[i])
        except CorruptContent:
            if not any(plain.digest == x.digest for img in engine.index.load().values() for x in img.layers):
                engine.content.delete(plain.digest)
            raise
        report(pg.Progress(pg.BLOB_DONE, d.digest, d.size, d.size, "done"))
        out.append(plain)
    return out


def quiet_for(report: pg.ProgressFn, digests: set[str]) -> pg.ProgressFn:
    """`report` without the "already exists" lines of the decrypted blobs (fetch reported them)."""

    def fn(p: pg.Progress) -> None:
        if not (p.kind == pg.BLOB_DONE and p.id in digests and p.message.startswith("skipped")):
            report(p)

    return fn
