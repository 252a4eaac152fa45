"""`load`: images from docker-archive and oci-archive tars (`save` lives in archive_save.py).

A plain tar file is read in place; stdin and compressed archives are spooled to an unnamed temp
file under the ingest dir first, because both formats may put their manifest after the layers.
Every layer is stored and verified before `register`, which is last: a failed or killed load
leaves no image behind (and a failed one removes the blobs and layers it added). Uncompressed layers
are extracted straight from the archive and kept once (archive_layers.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from podpy.engine import events as ev
from podpy.engine.archive_layers import LayerSource, NewContent, store_layers
from podpy.engine.archive_save import save_archive  # noqa: F401  (the CLI imports both from here)
from podpy.errors import CorruptContent, InvalidArgument, PodpyError
from podpy.image import archive_docker as dk
from podpy.image import archive_oci as oci
from podpy.image import manifest as mf
from podpy.image import reference
from podpy.image.archive_tar import ArchiveReader, json_object
from podpy.image.encryption import any_encrypted

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.engine.images import NewLayer
    from podpy.image.encryption import DecryptionKey
    from podpy.image.store import ImageRecord

CHUNK = 1 << 20


@dataclass
class _Pending:
    """An image whose blobs are all in the content store, waiting for `register`."""

    config_raw: bytes
    sources: list[LayerSource]
    names: list[str]
    manifest_raw: bytes | None = None
    layers: list[NewLayer] | None = None  # once stored


Pick = Callable[[list[str], list[str]], bool]  # (names, OCI ref.name annotations) -> load this image?


def load_archive(engine: Engine, source: str | None, pick: Pick | None = None, names: list[str] | None = None,
                 keys: tuple[DecryptionKey, ...] = ()) -> list[tuple[ImageRecord, list[str]]]:  # fmt: skip
    """Load every image of a docker-archive or oci-archive (`source` None: stdin), or of an OCI layout
    or dir: directory. `pick` narrows which images load; `names`, when given, replaces their names;
    `keys` decrypt encrypted layers (engine/layer_decrypt.py)."""
    engine.content.gc_ingest()  # spools and partial blobs of killed loads
    blobs = NewContent(engine.content)
    try:
        with _open_archive(engine, source) as reader:
            pending = _read_archive(engine, reader, blobs, pick, keys)
            for p in pending:
                p.layers = store_layers(engine, reader, p.sources, blobs)
        if names is not None:
            for p in pending:
                p.names = [str(reference.parse(n)) for n in names]
        loaded = [
            (engine.images.register(p.config_raw, p.layers or [], p.names, manifest_raw=p.manifest_raw), p.names)
            for p in pending
        ]
    except BaseException:
        blobs.discard_unreferenced(engine)
        raise
    ev.image(engine, "loadfromarchive", "", source or "-")  # as Podman: no ID, the archive's path
    return loaded


def _read_archive(engine: Engine, reader: ArchiveReader, blobs: NewContent, pick: Pick | None = None,
                  keys: tuple[DecryptionKey, ...] = ()) -> list[_Pending]:  # fmt: skip
    is_dir_image = getattr(reader, "kind", "") == "dir"  # its manifest.json is an image manifest
    if reader.has(dk.MANIFEST) and not is_dir_image:  # Docker 25+ also writes index.json: manifest.json has tags
        entries = dk.parse_manifest(reader.read(dk.MANIFEST))
        chosen = [e for e in entries if pick is None or pick(list(e.repo_tags), [])]
        return [_read_docker_image(reader, e, blobs) for e in chosen]
    if reader.has(oci.INDEX_FILE):
        known = {(x.digest, x.diff_id) for i in engine.index.load().values() for x in i.layers}
        entries = oci.parse_index(reader.read(oci.INDEX_FILE))
        chosen = [e for e in entries if pick is None or pick(e.names, e.ref_names)]
        return [_read_oci_image(reader, e, blobs, known, keys) for e in chosen]
    raise PodpyError("the archive has neither manifest.json (docker-archive) nor index.json (oci-archive)")


@contextmanager
def _open_archive(engine: Engine, source: str | None) -> Iterator[ArchiveReader]:
    """A plain tar in a regular file (also on stdin) is read in place; anything else is spooled."""
    with ExitStack() as stack:
        if source is None:
            raw: BinaryIO = sys.stdin.buffer
        elif os.path.isdir(source):  # an OCI layout or a dir: image (`save --format oci-dir|docker-dir`)
            from podpy.image.archive_dir import DirReader

            yield DirReader(Path(source))  # type: ignore[misc]
            return
        else:
            try:
                raw = stack.enter_context(open(source, "rb"))
            except OSError as e:
                raise InvalidArgument(f"{source}: {e.strerror}") from None
        if _plain_tar_file(raw):
            yield ArchiveReader(raw)
            return
        yield ArchiveReader(stack.enter_context(_spool(engine.content.ingest_dir, raw)))


def _plain_tar_file(raw: BinaryIO) -> bool:
    """A seekable regular file that is not compressed (peeked without consuming it)."""
    from podpy.storage.compress import NONE, detect

    try:
        if not stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
            return False
        start = raw.tell()
        head = raw.read(6)
        raw.seek(start)
    except (OSError, ValueError):
        return False
    return detect(head) == NONE


@contextmanager
def _spool(ingest_dir: Path, raw: BinaryIO) -> Iterator[BinaryIO]:
    """Decompress `raw` into an unnamed temp file (O_TMPFILE): even a kill -9 leaves nothing behind."""
    from podpy.storage.compress import as_corrupt, open_decompressed

    ingest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=ingest_dir, prefix=f"{os.getpid()}-load-") as spool:
        try:
            stream, _ = open_decompressed(raw)
            shutil.copyfileobj(stream, spool, CHUNK)
        except PodpyError:
            raise
        except Exception as e:
            raise as_corrupt(e) from None
        spool.seek(0)
        yield spool  # type: ignore[misc]


def _read_docker_image(reader: ArchiveReader, entry: dk.DockerEntry, blobs: NewContent) -> _Pending:
    """docker-archive layers are stored uncompressed: the blob digest is the diff ID (archive_layers
    stores them, checked as they are extracted)."""
    config_raw = reader.read(entry.config)
    _check_digest(config_raw, _digest_in_path(entry.config), entry.config)
    want = _diff_ids(config_raw, entry.config, len(entry.layers))
    names = [str(reference.parse(t)) for t in entry.repo_tags]  # a bad tag fails before any ingest
    for path in entry.layers:  # a missing layer fails before any is stored
        if not reader.has(path):
            raise PodpyError(f"the archive has no layer {path!r}")
    layers = [LayerSource(d, mf.OCI_LAYER, d, path) for path, d in zip(entry.layers, want, strict=True)]
    return _Pending(config_raw, layers, names)


def _read_oci_image(reader: ArchiveReader, entry: oci.OciEntry, blobs: NewContent, known: set[tuple[str, str]],
                    keys: tuple[DecryptionKey, ...] = ()) -> _Pending:  # fmt: skip
    from podpy.engine.importer import go_arch

    desc = entry.descriptor
    manifest_raw = _blob(reader, desc.digest)
    is_index = "manifests" in json_object(manifest_raw, f"manifest {desc.digest}")
    if desc.media_type in mf.INDEX_TYPES or is_index:
        desc = oci.choose_manifest(manifest_raw, "linux", go_arch())  # a multi-platform image
        manifest_raw = _blob(reader, desc.digest)
    try:
        config_desc, layer_descs, _ = mf.parse_manifest(manifest_raw)
    except (KeyError, TypeError, ValueError):
        raise PodpyError(f"oci-archive: manifest {desc.digest} is malformed") from None
    config_raw = _blob(reader, config_desc.digest)
    want = _diff_ids(config_raw, config_desc.digest, len(layer_descs))
    done: dict[int, LayerSource] = {}
    if any_encrypted(layer_descs):  # every key unwrapped before anything is ingested
        done, manifest_raw = _decrypt_layers(reader, manifest_raw, layer_descs, want, blobs, keys)
    pairs = enumerate(zip(layer_descs, want, strict=True))
    layers = [done.get(i) or _ingest_oci_layer(reader, d, diff_id, blobs, known) for i, (d, diff_id) in pairs]
    return _Pending(config_raw, layers, entry.names, manifest_raw)


def _decrypt_layers(reader: ArchiveReader, manifest_raw: bytes, descs: list[mf.Descriptor], diff_ids: list[str],
                    blobs: NewContent, keys: tuple[DecryptionKey, ...]) -> tuple[dict[int, LayerSource], bytes]:  # fmt: skip
    """Decrypt the encrypted layers into the content store, checked against their diff IDs: the
    plain layers by index, and the manifest naming them."""
    from podpy.engine import layer_decrypt

    layer_keys = layer_decrypt.unwrap_all(descs, keys)
    out = list(descs)
    for i, key in layer_keys.items():
        with reader.open(_blob_member(reader, descs[i].digest)) as f:
            out[i] = plain = layer_decrypt.ingest(blobs.content, f, descs[i], key)
        blobs.created.append(plain.digest)  # removed again if the load fails, unless an image uses it
        layer_decrypt.check_diff_id(blobs.content, plain, descs[i], diff_ids[i])
    done = {i: LayerSource(out[i].digest, out[i].media_type, diff_ids[i]) for i in layer_keys}
    return done, layer_decrypt.plain_manifest(manifest_raw, out)


def _ingest_oci_layer(reader: ArchiveReader, desc: mf.Descriptor, diff_id: str, blobs: NewContent,
                      known: set[tuple[str, str]]) -> LayerSource:  # fmt: skip
    """OCI layers are stored as they are (digests stay valid); the diff ID is checked before ingest.
    An uncompressed one is left to archive_layers (its digest is its diff ID, checked as it extracts)."""
    from podpy.storage.compress import NONE, detect, open_decompressed

    content = blobs.content
    media = desc.media_type or mf.OCI_LAYER
    if (desc.digest, diff_id) in known and content.exists(desc.digest):
        return LayerSource(desc.digest, media, diff_id)
    path = _blob_member(reader, desc.digest)
    mismatch = f"layer {desc.digest} does not match diff ID {diff_id}"
    with reader.open(path) as f:
        if detect(f.read(6)) == NONE:
            if desc.digest != diff_id:
                raise CorruptContent(f"{mismatch}: an uncompressed layer's digest is its diff ID")
            return LayerSource(desc.digest, media, diff_id, path)
        f.seek(0)
        got = _guarded(lambda: _sha256(open_decompressed(f)[0]), mismatch)
        if got != diff_id:
            raise CorruptContent(f"{mismatch} (content is {got})")
        f.seek(0)
        digest, _ = _guarded(lambda: blobs.ingest(f, desc.digest), f"blob {desc.digest} is corrupt")
    return LayerSource(digest, media, diff_id)


def _guarded(fn, what: str):  # type: ignore[no-untyped-def]
    """Run a copy/decompress step; a digest mismatch or a broken compressed stream becomes one clear error."""
    from podpy.storage.compress import as_corrupt

    try:
        return fn()
    except CorruptContent as e:
        raise CorruptContent(f"{what}: {e}") from None
    except PodpyError:
        raise
    except Exception as e:
        err = as_corrupt(e)
        if isinstance(err, CorruptContent):
            raise CorruptContent(f"{what}: {err}") from None
        raise


def _blob_member(reader: ArchiveReader, digest: str) -> str:
    path = oci.blob_path(digest)
    if not reader.has(path):
        raise PodpyError(f"oci-archive: blob {digest} is missing from the archive")
    return path


def _blob(reader: ArchiveReader, digest: str) -> bytes:
    raw = reader.read(_blob_member(reader, digest))
    _check_digest(raw, digest, digest)
    return raw


def _check_digest(raw: bytes, expected: str | None, what: str) -> None:
    if expected and "sha256:" + hashlib.sha256(raw).hexdigest() != expected:
        raise CorruptContent(f"{what}: content does not match its digest")


def _digest_in_path(path: str) -> str | None:
    """`<hex>.json` and `blobs/sha256/<hex>` name their content's digest; other paths don't."""
    base = path.rsplit("/", 1)[-1].removesuffix(".json")
    ok = len(base) == 64 and all(c in "0123456789abcdef" for c in base)
    return "sha256:" + base if ok else None


def _diff_ids(config_raw: bytes, what: str, n_layers: int) -> list[str]:
    want = mf.diff_ids(json_object(config_raw, f"image config {what}"))
    if len(want) != n_layers:
        raise PodpyError(f"image config {what} lists {len(want)} layers but the archive has {n_layers}")
    return want


def _sha256(stream: BinaryIO) -> str:
    h = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        h.update(chunk)
    return "sha256:" + h.hexdigest()
