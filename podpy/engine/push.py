"""`push`: a local image to a registry. Blobs the repository has are skipped (HEAD), blobs another
repository of the same registry has are mounted, the rest uploaded (monolithic, or in chunks).

Layers keep their stored compressed bytes, so digests stay stable; a layer stored uncompressed is
gzipped once and the result remembered (registry_blobcache). When nothing needed converting the
stored manifest is pushed byte for byte, so the registry's digest is the local one.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from podpy.engine import events as ev
from podpy.engine.registry_blobcache import BlobInfoCache, Compressed
from podpy.engine.registry_session import RegistryOptions, Sessions
from podpy.errors import InvalidArgument, InvalidReference, PodpyError, StorageError
from podpy.image import manifest as mf
from podpy.image import reference
from podpy.registry import progress as pg
from podpy.registry.client import sha256_digest

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import BinaryIO

    from podpy.engine.core import Engine
    from podpy.image.store import ImageRecord, LayerRef
    from podpy.registry.client import Repository

FORMATS = {"oci": True, "v2s2": False, "docker": False}
_TO_DOCKER = {mf.OCI_LAYER_GZIP: mf.DOCKER_LAYER_GZIP, mf.OCI_LAYER: mf.DOCKER_LAYER}
_TO_OCI = {v: k for k, v in _TO_DOCKER.items()}
CHUNK = 1 << 20
HEAD_WORKERS = 6  # concurrent HEADs (blobs and the manifest) before a push


@dataclass
class PushResult:
    digest: str  # manifest digest in the registry
    reference: str  # where it went, fully qualified


def push(
    engine: Engine, source: str, dest: str | None = None, opts: RegistryOptions | None = None, *,
    fmt: str | None = None, digestfile: Path | None = None, chunk_size: int = 0,
    progress: pg.ProgressFn | None = None, workers: int = 3, compression: str | None = None,
) -> PushResult:  # fmt: skip
    """`compression` (--compression-format): gzip or zstd; layers compressed otherwise are recompressed
    (as containers/image does); None keeps each layer's own (uncompressed ones are gzipped)."""
    report = progress or pg.null
    if fmt and fmt not in FORMATS:
        raise InvalidArgument(f"unknown manifest format {fmt!r}: choose oci or v2s2")
    img = engine.images.get(source)
    target = _destination(source, dest)
    oci = FORMATS[fmt] if fmt else img.manifest_media_type != mf.DOCKER_MANIFEST
    check_compression(compression, oci)
    report(pg.Progress(pg.TRYING, message=str(target)))
    with Sessions(opts or RegistryOptions()) as sessions:
        repo = sessions.repository(target)
        pusher = _Pusher(engine, repo, img, _mount_sources(img, target), chunk_size, report, compression)
        config = mf.Descriptor(mf.OCI_CONFIG if oci else mf.DOCKER_CONFIG, img.id, engine.content.size(img.id))
        tag = target.digest or target.tag or reference.DEFAULT_TAG
        known = pusher.known_layers(oci)
        found = pusher.already_there(config, known, tag, oci) if len(known) == len(img.layers) else None
        if found is not None:
            digest = found
        else:
            pusher.check_all([config, *known], tag, manifest=len(known) != len(img.layers))
            layers = pusher.layers(oci, workers)
            pusher.blob(config, "config")
            raw = _manifest(engine, img, config, layers, oci)
            media = mf.OCI_MANIFEST if oci else mf.DOCKER_MANIFEST
            digest = sha256_digest(raw)
            if not pusher.manifest_there(digest):  # `tag` names these very bytes already: nothing to write
                digest = repo.put_manifest(tag, raw, media)
    report(pg.Progress(pg.MANIFEST, digest))
    _record_digest(engine, img, f"{target.name}@{digest}")
    if digestfile is not None:
        digestfile.write_text(digest)
    report(pg.Progress(pg.DONE, digest, message=str(target)))
    ev.image(engine, "push", img.id, str(target))
    return PushResult(digest, str(target))


_OTHER_TRANSPORTS = ("oci-archive", "docker-archive", "oci", "dir", "containers-storage", "docker-daemon")


def _destination(source: str, dest: str | None) -> reference.Reference:
    name = dest or source
    if name.startswith("docker://"):
        name = name[len("docker://") :]
    elif "://" in name or name.split(":", 1)[0] in _OTHER_TRANSPORTS:
        raise InvalidArgument(f"unsupported push destination {name!r}: only registries (docker://) are supported")
    if dest is None and reference.looks_like_id_prefix(source):
        raise InvalidArgument("an image ID cannot be pushed without a destination name")
    return reference.parse(name)


def _mount_sources(img: ImageRecord, target: reference.Reference) -> list[str]:
    """Other repositories of the target registry that hold this image (pulled or pushed there)."""
    out: list[str] = []
    for n in img.names + img.digests:
        try:
            r = reference.parse(n)
        except InvalidReference:
            continue
        if r.registry == target.registry and r.repository != target.repository and r.repository not in out:
            out.append(r.repository)
    return out


def _manifest(engine: Engine, img: ImageRecord, config: mf.Descriptor, layers: list[mf.Descriptor],
              oci: bool) -> bytes:  # fmt: skip
    """The stored manifest when it already says exactly this; else a new one."""
    try:
        stored = engine.content.read(img.manifest)
        s_config, s_layers, s_media = mf.parse_manifest(stored)
        if (s_media == (mf.OCI_MANIFEST if oci else mf.DOCKER_MANIFEST) and s_config.digest == config.digest
                and [(x.digest, x.media_type) for x in s_layers] == [(x.digest, x.media_type) for x in layers]):
            return stored
    except (StorageError, ValueError, KeyError):
        pass
    return mf.build_manifest(config, layers, oci=oci)


def _record_digest(engine: Engine, img: ImageRecord, digest_ref: str) -> None:
    with engine.index.lock:
        images = engine.index.load()
        rec = images.get(img.hex)
        if rec is not None and digest_ref not in rec.digests:
            rec.digests.append(digest_ref)
            engine.index.save(images)


COMPRESSIONS = ("gzip", "zstd")


def check_compression(compression: str | None, oci: bool) -> None:
    """--compression-format: gzip, or zstd (in an OCI manifest, with the zstandard module)."""
    if compression is None:
        return
    if compression == "zstd:chunked":
        raise InvalidArgument("compression format zstd:chunked is not supported by podpy: use gzip or zstd")
    if compression not in COMPRESSIONS:
        raise InvalidArgument(f"unknown compression format {compression!r}: choose gzip or zstd")
    if compression == "zstd":
        if not oci:
            raise InvalidArgument("zstd layers need an OCI manifest: use --format oci")
        try:
            import zstandard  # noqa: F401
        except ImportError:
            raise InvalidArgument("--compression-format zstd needs the 'zstandard' Python package, "
                                  "which is not installed: use gzip") from None  # fmt: skip


class _Gzipper:
    """Reads as the gzip (zlib level 6, like storage.compress) of `src` (or as `comp` makes it, e.g. a
    zstd compressobj): no temporary file."""

    def __init__(self, src: BinaryIO, comp: object | None = None) -> None:
        self.src = src
        self.comp = comp or zlib.compressobj(6, zlib.DEFLATED, 31)  # type: ignore[assignment]
        self.buf = b""
        self.eof = False

    def read(self, n: int = -1) -> bytes:
        while not self.eof and (n < 0 or len(self.buf) < n):
            chunk = self.src.read(CHUNK)
            self.buf += self.comp.compress(chunk) if chunk else self.comp.flush()
            self.eof = not chunk
        n = len(self.buf) if n < 0 else n
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class _Pusher:
    def __init__(self, engine: Engine, repo: Repository, img: ImageRecord, sources: list[str],
                 chunk_size: int, report: pg.ProgressFn, compression: str | None = None) -> None:  # fmt: skip
        self.engine, self.repo, self.img, self.sources = engine, repo, img, sources
        self.chunk_size, self.report, self.compression = chunk_size, report, compression
        self._lock = threading.Lock()
        self.cache = BlobInfoCache(engine.layout.root)
        self._heads: dict[str, tuple[threading.Event, dict[str, object]]] = {}
        self._manifest_head: tuple[threading.Event, dict[str, object]] | None = None

    # ---- which blobs the repository has: every HEAD at once
    def known_layers(self, oci: bool) -> list[mf.Descriptor]:
        """The descriptors of the layers that need no compressing to know (most of them)."""
        return [d for d in (self._ready(layer, oci) for layer in self.img.layers) if d is not None]

    def already_there(self, config: mf.Descriptor, layers: list[mf.Descriptor], tag: str, oci: bool) -> str | None:
        """The manifest's digest when `tag` in the repository names exactly the manifest this push
        would write (one HEAD): the registry accepted that manifest only with every blob it lists
        present in the repository, so nothing is to be uploaded or written. None otherwise."""
        digest = sha256_digest(_manifest(self.engine, self.img, config, layers, oci))
        try:
            if self.repo.head_manifest(tag, scope=self.repo.push_scope) != digest:
                return None
        except PodpyError:  # told by the blob-by-blob path that follows
            return None
        for d in (*layers, config):
            self.report(pg.Progress(pg.BLOB_DONE, d.digest, d.size, d.size, "skipped: already exists"))
        return digest

    def check_all(self, descs: list[mf.Descriptor], tag: str, manifest: bool = True) -> None:
        """HEAD every blob (and with `manifest` the manifest `tag` names), all at once (HEAD_WORKERS
        connections): one round trip, not one per layer. `_has` takes a blob's answer (and raises
        its HEAD's error there), `manifest_there` the manifest's."""
        self.repo.transport.ping()  # once, before the threads (they would queue on it)
        jobs: list[tuple[str, str]] = [("manifest", tag)] if manifest else []
        for d in descs:
            if d.digest not in self._heads:
                self._heads[d.digest] = (threading.Event(), {})
                jobs.append(("blob", d.digest))
        self._manifest_head = (threading.Event(), {}) if manifest else None

        def work() -> None:
            while True:
                with self._lock:
                    if not jobs:
                        return
                    kind, name = jobs.pop(0)
                done, box = self._manifest_head if kind == "manifest" else self._heads[name]  # type: ignore[misc]  # noqa: E501
                try:
                    if kind == "manifest":
                        box["digest"] = self.repo.head_manifest(name, scope=self.repo.push_scope)
                    else:
                        box["size"] = self.repo.blob_size(name, scope=self.repo.push_scope)
                except BaseException as e:  # told where the answer is used (a manifest's: never, it is written)
                    box["error"] = e
                finally:
                    done.set()

        for _ in range(min(HEAD_WORKERS, len(jobs))):
            threading.Thread(target=work, daemon=True, name="head").start()

    def manifest_there(self, digest: str) -> bool:
        """Does the registry's manifest for the tag have this digest already?"""
        if self._manifest_head is None:
            return False
        done, box = self._manifest_head
        while not done.wait(0.2):  # a short wait keeps Ctrl-C responsive
            pass
        return box.get("digest") == digest

    def _has(self, digest: str) -> bool:
        found = self._heads.get(digest)
        if found is None:
            return self.repo.blob_size(digest, scope=self.repo.push_scope) is not None
        done, box = found
        while not done.wait(0.2):
            pass
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["size"] is not None

    def layers(self, oci: bool, workers: int) -> list[mf.Descriptor]:
        """Prepare and upload every layer, `workers` at a time; their descriptors in order. Layers
        the registry has (check_all's answers) are reported here, without a thread."""
        out: list[mf.Descriptor | None] = [None] * len(self.img.layers)
        errors: list[BaseException] = []
        todo = []
        for i, layer in enumerate(self.img.layers):
            ready = self._ready(layer, oci)
            if ready is not None and ready.digest in self._heads and self._has(ready.digest):
                self.report(pg.Progress(pg.BLOB_DONE, ready.digest, ready.size, ready.size, "skipped: already exists"))
                out[i] = ready
            else:
                todo.append((i, layer))
        lock = threading.Lock()

        def work() -> None:
            while not errors:
                with lock:
                    if not todo:
                        return
                    i, layer = todo.pop(0)
                try:
                    desc = self._prepare(layer, oci)
                    self.blob(desc, "blob")
                    out[i] = desc
                except BaseException as e:
                    errors.append(e)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(min(workers, len(todo)))]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)  # a short join keeps Ctrl-C responsive
        if errors:
            raise errors[0]
        return [d for d in out if d is not None]

    def _prepare(self, layer: LayerRef, oci: bool) -> mf.Descriptor:
        """The blob to push for `layer`: its own bytes if compressed (and allowed in the format),
        else a gzipped copy (uncompressed layers; zstd ones in a v2s2 manifest)."""
        ready = self._ready(layer, oci)
        if ready is not None:
            return ready
        kind = self.compression or "gzip"
        from podpy.storage.compress import open_decompressed

        comp = None
        if kind == "zstd":
            import zstandard

            comp = zstandard.ZstdCompressor(level=3).compressobj()
        with self.engine.content.open(layer.digest) as f:
            reader, _ = open_decompressed(f)
            digest, size = self.engine.content.ingest(_Gzipper(reader, comp))  # type: ignore[arg-type]
        hit = Compressed(digest, size)
        self.cache.put(layer.diff_id, kind, hit)
        return _compressed(hit, kind, oci)

    def _ready(self, layer: LayerRef, oci: bool) -> mf.Descriptor | None:
        """The blob to push for `layer` when no compressing is needed: its own bytes, or a compressed
        copy made before (registry_blobcache); None when it must be compressed first."""
        media = layer.media_type
        is_gzip, is_zstd = media in (mf.OCI_LAYER_GZIP, mf.DOCKER_LAYER_GZIP), media == mf.OCI_LAYER_ZSTD
        want = self.compression
        if (is_gzip and want in (None, "gzip")) or (is_zstd and oci and want in (None, "zstd")):
            return mf.Descriptor(_convert(media, oci), layer.digest, layer.size)
        kind = want or "gzip"
        hit = self.cache.get(layer.diff_id, kind)
        if hit is None or not self.engine.content.exists(hit.digest):
            return None
        return _compressed(hit, kind, oci)

    def blob(self, desc: mf.Descriptor, kind: str) -> None:
        """Skip (HEAD), mount from a sibling repository, or upload one blob."""
        rp = self.report
        if self._has(desc.digest):
            rp(pg.Progress(pg.BLOB_DONE, desc.digest, desc.size, desc.size, "skipped: already exists"))
            return
        location = None
        for src in self.sources[:1]:  # one attempt: a registry without the blob answers 202 anyway
            location = self.repo.mount_blob(desc.digest, src)
            if location is None:
                rp(pg.Progress(pg.BLOB_DONE, desc.digest, desc.size, desc.size, f"mounted from {src}"))
                return
        rp(pg.Progress(pg.BLOB_START, desc.digest, 0, desc.size, kind))
        counter = pg.Counter(rp, desc.digest, desc.size)
        self.repo.upload_blob(desc.digest, desc.size, lambda: self.engine.content.open(desc.digest),
                              location=location, chunk_size=self.chunk_size, progress=counter.add)  # fmt: skip
        rp(pg.Progress(pg.BLOB_DONE, desc.digest, desc.size, desc.size, "done"))


def _compressed(hit: Compressed, kind: str, oci: bool) -> mf.Descriptor:
    if kind == "zstd":
        return mf.Descriptor(mf.OCI_LAYER_ZSTD, hit.digest, hit.size)
    return mf.Descriptor(mf.OCI_LAYER_GZIP if oci else mf.DOCKER_LAYER_GZIP, hit.digest, hit.size)


def _convert(media: str, oci: bool) -> str:
    return _TO_OCI.get(media, media) if oci else _TO_DOCKER.get(media, media)
