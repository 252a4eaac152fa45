"""`save`: images to a docker-archive or oci-archive, streamed to stdout or a file.

A file is written under a temp name and renamed into place, so an interrupted save leaves no
half archive under the real name. Pure layout rules live in podpy/image/archive_{docker,oci}.py.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from podpy.engine import events as ev
from podpy.errors import CorruptContent, InvalidArgument, PodpyError
from podpy.image import archive_docker as dk
from podpy.image import archive_oci as oci
from podpy.image import manifest as mf
from podpy.image import reference
from podpy.image.archive_tar import ArchiveWriter

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.image.archive_dir import DirWriter
    from podpy.image.content import ContentStore
    from podpy.image.store import ImageRecord, LayerRef
    from podpy.storage.layers import LayerStore

FORMATS = {"docker-archive": "docker", "docker": "docker", "oci-archive": "oci", "oci": "oci",
           "oci-dir": "oci-dir", "docker-dir": "dir"}  # fmt: skip
CHUNK = 1 << 20


def save_archive(engine: Engine, refs: list[str], fmt: str, output: str | None, ref_name: str | None = None,
                 compress: bool = False) -> None:  # fmt: skip
    """Write the images `refs` name as one archive to `output` (None: stdout), or into the directory
    `output` for oci-dir (an OCI layout; images already there under other names stay) and docker-dir
    (the dir: layout). `ref_name` (push to `docker-archive:P:REF`, `oci:DIR:REF`, ...) is the name
    the one image gets in the archive instead of its own. `compress` (--compress, docker-dir only):
    uncompressed layers are written gzipped, with a manifest that says so."""
    kind = FORMATS.get(fmt)
    if kind is None:
        raise InvalidArgument(f"unsupported save format {fmt!r} (use docker-archive, oci-archive, oci-dir or docker-dir)")
    if compress and kind != "dir":
        raise InvalidArgument("--compress applies to the docker-dir format (dir:) only")
    plan = _resolve(engine, refs)  # before writing anything: an unknown image leaves no file
    if kind in ("oci-dir", "dir"):
        _save_dir(engine, plan, kind, output, ref_name, compress)
        return
    if ref_name is not None:
        plan = [(img, [str(reference.parse(ref_name))] if kind == "docker" else [ref_name]) for img, _ in plan]
    with _destination(output) as dst, ArchiveWriter(dst) as w:
        if kind == "docker":
            _write_docker(engine.content, plan, w, engine.layers)
        else:
            _write_oci(engine.content, plan, w)
    for img, _names in plan:
        ev.image(engine, "save", img.id, output or "-")


def _save_dir(engine: Engine, plan: list[tuple[ImageRecord, list[str]]], kind: str, output: str | None,
              ref_name: str | None, compress: bool = False) -> None:  # fmt: skip
    from podpy.image.archive_dir import DIR_MANIFEST, DIR_VERSION, DIR_VERSION_FILE, DirWriter

    if not output:
        raise InvalidArgument(f"{'oci-dir' if kind == 'oci-dir' else 'docker-dir'} needs a directory: use -o DIR")
    root = Path(output)
    if kind == "dir":
        if len(plan) != 1:
            raise InvalidArgument("a dir: image holds exactly one image")
        img = plan[0][0]
        manifest = engine.content.read(img.manifest)
        layers = [x.digest for x in img.layers]
        if compress and any(x.media_type in (mf.OCI_LAYER, mf.DOCKER_LAYER) for x in img.layers):
            manifest, layers = _gzipped(engine, img)
        with DirWriter(root, flat_blobs=True) as w:
            for digest in [img.id, *layers]:
                with engine.content.open(digest) as f:
                    w.add_stream(oci.blob_path(digest), f, engine.content.size(digest))
            w.add_bytes(DIR_MANIFEST, manifest)
            w.add_bytes(DIR_VERSION_FILE, DIR_VERSION)
        return
    if ref_name is not None:
        plan = [(img, [ref_name]) for img, _ in plan]
    with DirWriter(root) as w:
        _write_oci(engine.content, plan, w, _existing_index(root))


def _gzipped(engine: Engine, img: ImageRecord) -> tuple[bytes, list[str]]:
    """The image's manifest and layer digests with its uncompressed layers gzipped (into the content
    store, remembered as push does)."""
    from podpy.engine.registry_blobcache import BlobInfoCache, Compressed
    from podpy.storage.compress import compress_gzip

    docker = img.manifest_media_type == mf.DOCKER_MANIFEST
    cache = BlobInfoCache(engine.layout.root)
    descs = []
    for x in img.layers:
        if x.media_type not in (mf.OCI_LAYER, mf.DOCKER_LAYER):
            descs.append(mf.Descriptor(x.media_type, x.digest, x.size))
            continue
        hit = cache.get(x.diff_id, "gzip")
        if hit is None or not engine.content.exists(hit.digest):
            engine.layout.ingest.mkdir(parents=True, exist_ok=True)
            with engine.content.open(x.digest) as src, tempfile.TemporaryFile(dir=engine.layout.ingest) as tmp:
                compress_gzip(src, tmp)
                tmp.seek(0)
                digest, size = engine.content.ingest(tmp)
            hit = Compressed(digest, size)
            cache.put(x.diff_id, "gzip", hit)
        descs.append(mf.Descriptor(mf.DOCKER_LAYER_GZIP if docker else mf.OCI_LAYER_GZIP, hit.digest, hit.size))
    config = mf.Descriptor(mf.DOCKER_CONFIG if docker else mf.OCI_CONFIG, img.id, engine.content.size(img.id))
    return mf.build_manifest(config, descs, oci=not docker), [d.digest for d in descs]


def _existing_index(root: Path) -> list[mf.Descriptor]:
    """The descriptors of an OCI layout already at `root` (pushing adds to it)."""
    path = root / oci.INDEX_FILE
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_bytes())
        return [mf.Descriptor.from_json(d) for d in doc.get("manifests") or []]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise PodpyError(f"{path}: not a valid OCI image index") from None


def _resolve(engine: Engine, refs: list[str]) -> list[tuple[ImageRecord, list[str]]]:
    """Each image once (in the order first named) with the names the user gave for it."""
    images = engine.index.load()
    plan: dict[str, tuple[ImageRecord, list[str]]] = {}
    for ref in refs:
        img = engine.index.lookup(images, ref)
        names = plan.setdefault(img.hex, (img, []))[1]
        name = _name_in(ref, img)
        if name and name not in names:
            names.append(name)
    return list(plan.values())


def _name_in(ref: str, img: ImageRecord) -> str | None:
    """The image's name `ref` refers to; None when `ref` is an ID or a digest reference."""
    for candidate in (ref, "localhost/" + ref):
        try:
            full = str(reference.parse(candidate))
        except PodpyError:
            continue
        if full in img.names:
            return full
    return None


@contextmanager
def _destination(output: str | None) -> Iterator[BinaryIO]:
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise InvalidArgument(f"cannot write {output}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # an interrupted save leaves no half archive under the real name
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_docker(content: ContentStore, plan: list[tuple[ImageRecord, list[str]]], w: ArchiveWriter,
                  layers: LayerStore | None = None) -> None:  # fmt: skip
    entries, tops = [], []
    for img, names in plan:
        diff_ids = [x.diff_id for x in img.layers]
        tags = [reference.familiar(n) for n in names]
        entries.append(dk.DockerEntry(dk.config_path(img.id), [dk.layer_path(d) for d in diff_ids], tags))
        tops.append(diff_ids[-1] if diff_ids else None)
    w.add_bytes(dk.MANIFEST, dk.encode_manifest(entries))
    repos = dk.encode_repositories(entries, tops)
    if repos is not None:
        w.add_bytes(dk.REPOSITORIES, repos)
    steps: list[tuple[str, bytes] | _LayerData] = []  # in archive order; layers made ready one ahead
    for img, _ in plan:
        steps.append((dk.config_path(img.id), content.read(img.id)))  # the exact bytes: same image ID
        parent: str | None = None
        chain: str | None = None
        for layer in img.layers:
            chain = _chain(chain, layer.diff_id)
            if all(not isinstance(s, _LayerData) or s.layer.diff_id != layer.diff_id for s in steps):
                steps.append(_LayerData(content, layer, parent, img.created, _tar_size(layers, chain)))
            parent = layer.diff_id
    pending = [s for s in steps if isinstance(s, _LayerData)]
    try:
        for step in steps:
            if not isinstance(step, _LayerData):
                w.add_bytes(*step)
                continue
            nxt = pending.index(step) + 1
            if nxt < len(pending):
                pending[nxt].start()  # inflating (or rebuilding) the next layer while this one is written
            step.write(w)
    finally:
        for step in pending:
            step.close()


def _chain(parent: str | None, diff_id: str) -> str:
    from podpy.storage.layers import LayerStore

    return LayerStore.chain_id(parent, diff_id)


def _tar_size(layers: LayerStore | None, chain: str) -> int:
    """The uncompressed size the layer store recorded when it extracted the layer (0: unknown)."""
    if layers is None:
        return 0
    try:
        return layers.get(chain).tar_size if layers.exists(chain) else 0
    except (PodpyError, OSError, ValueError, KeyError):
        return 0


class _LayerData:
    """One layer of a docker-archive: its uncompressed tar, inflated or rebuilt (in a thread) from
    `start()` on, so the next layer can get ready while the current one is written."""

    def __init__(self, content: ContentStore, layer: LayerRef, parent: str | None, created: str,
                 known_size: int = 0) -> None:  # fmt: skip
        self.content, self.layer, self.parent, self.created, self.known = content, layer, parent, created, known_size
        self._stream: BinaryIO | None = None
        self._open: list[BinaryIO] = []
        self.size = 0

    def start(self) -> None:
        from podpy.storage.compress import NONE, open_decompressed
        from podpy.storage.readahead import ReadAhead, chunks_of

        if self._stream is not None:
            return
        digest = self.layer.digest
        f = self.content.open(digest)
        self._open.append(f)
        stream, kind = open_decompressed(f)  # (peeks at the magic bytes and hands them back)
        if kind == NONE:  # a blob file, or a rebuilt tar (a read-ahead reader of its own)
            self._stream, self.size = stream, self.content.size(digest)
            return
        # a tar header needs the size before the data: recorded at extraction, else counted (a pass)
        if not self.known:
            self.known = _count(stream)
            f.seek(0)
            stream = open_decompressed(f)[0]
        self.size = self.known
        ahead = ReadAhead(chunks_of(stream))
        self._open.insert(0, ahead)  # type: ignore[arg-type]
        ahead.start()
        self._stream = ahead  # type: ignore[assignment]

    def write(self, w: ArchiveWriter) -> None:
        self.start()
        assert self._stream is not None
        d = dk.layer_dir(self.layer.diff_id)
        w.add_bytes(f"{d}/VERSION", dk.LAYER_VERSION)
        w.add_bytes(f"{d}/json", dk.layer_json(self.layer.diff_id, self.parent, self.created))
        w.add_stream(dk.layer_path(self.layer.diff_id), self._stream, self.size)  # raises if shorter
        if self._stream.read(1):
            raise CorruptContent(f"layer {self.layer.digest} is longer than its recorded size {self.size}")
        self.close()

    def close(self) -> None:
        for f in self._open:
            f.close()
        self._open.clear()


def _count(stream: BinaryIO) -> int:
    n = 0
    while chunk := stream.read(CHUNK):
        n += len(chunk)
    return n


def _write_oci(content: ContentStore, plan: list[tuple[ImageRecord, list[str]]], w: ArchiveWriter | DirWriter,
               existing: list[mf.Descriptor] | None = None) -> None:  # fmt: skip
    descs = []
    for img, names in plan:
        size = content.size(img.manifest)
        for name in names or [None]:  # one index entry per name; an unnamed image gets one bare entry
            ann = _annotations(name)
            descs.append(mf.Descriptor(img.manifest_media_type, img.manifest, size, ann))
    taken = {(d.annotations or {}).get(oci.REF_NAME) for d in descs} - {None}
    kept = [d for d in existing or [] if (d.annotations or {}).get(oci.REF_NAME) not in taken]
    if isinstance(w, ArchiveWriter):
        w.add_bytes(oci.LAYOUT_FILE, oci.encode_layout())
        w.add_bytes(oci.INDEX_FILE, oci.encode_index(kept + descs))
    _write_oci_blobs(content, plan, w)
    if not isinstance(w, ArchiveWriter):  # a directory: the index last, once every blob is there
        w.add_bytes(oci.LAYOUT_FILE, oci.encode_layout())
        w.add_bytes(oci.INDEX_FILE, oci.encode_index(kept + descs))


def _annotations(name: str | None) -> dict[str, str] | None:
    """A full name the way containerd writes it; a bare `oci:DIR:REF` reference as it was given."""
    if name is None:
        return None
    try:
        full = str(reference.parse(name))
    except PodpyError:
        return {oci.REF_NAME: name}
    return oci.name_annotations(full) if full == name else {oci.REF_NAME: name}


def _write_oci_blobs(content: ContentStore, plan: list[tuple[ImageRecord, list[str]]],
                     w: ArchiveWriter | DirWriter) -> None:  # fmt: skip
    for img, _ in plan:
        for digest in [img.manifest, img.id, *(x.digest for x in img.layers)]:
            path = oci.blob_path(digest)
            if path not in w.written:
                with content.open(digest) as f:
                    w.add_stream(path, f, content.size(digest))


