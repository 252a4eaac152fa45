"""`pull` and `ensure_image` (what run/create call): registry → content store → layer store → index.

The image record is written last (ImageService.register), so an interrupted pull leaves no
visible image; the blobs and layers it completed are reused by the next pull.
"""

from __future__ import annotations

import json

from podpy.engine import events as ev
from podpy.engine.registry_partial import gc_partials
from podpy.engine.registry_session import RegistryOptions, Sessions
from podpy.errors import (
    InvalidArgument,
    InvalidReference,
    NoSuchImage,
    RegistryAuthError,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
)
from podpy.image import manifest as mf
from podpy.image import reference
from podpy.image.content import sha256_digest
from podpy.image.encryption import any_encrypted
from podpy.registry import platforms, regconf
from podpy.registry import progress as pg

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine
    from podpy.image.store import ImageRecord
    from podpy.registry.client import Manifest, Repository

POLICIES = ("missing", "always", "never", "newer")
_TRY_NEXT = (RegistryNotFound, RegistryUnavailable, RegistryAuthError)


def pull(
    engine: Engine, ref: str, opts: RegistryOptions | None = None, *, platform: str | None = None,
    all_tags: bool = False, progress: pg.ProgressFn | None = None,
) -> list[ImageRecord]:  # fmt: skip
    """Pull `ref` (every tag of the repository with `all_tags`); returns the images stored."""
    report = progress or pg.null
    want = platforms.parse(platform)
    if all_tags and ("@" in ref or ":" in ref.rsplit("/", 1)[-1]):
        raise InvalidArgument("tag can't be used with --all-tags/-a")
    engine.content.gc_ingest()  # temporary files of killed writers
    engine.layers.gc_tmp()
    gc_partials(engine.content)  # resumable downloads already complete, or abandoned for long
    with Sessions(opts or RegistryOptions()) as sessions:
        candidates = regconf.candidates(ref, sessions.conf)
        failures: list[str] = []
        for cand in candidates:
            try:
                if all_tags:
                    return _pull_tags(engine, sessions, cand, want, report)
                return [_pull_one(engine, sessions, cand, want, report)]
            except _TRY_NEXT as e:
                if len(candidates) == 1:
                    raise
                failures.append(f"{cand}: {e}")
        raise RegistryError(f"unable to pull {ref}: " + "; ".join(failures))


def _pull_tags(engine: Engine, sessions: Sessions, ref: reference.Reference, want: platforms.Platform,
               report: pg.ProgressFn) -> list[ImageRecord]:  # fmt: skip
    repo = sessions.repository(_location(sessions, ref))
    tags = repo.tags()
    if not tags:
        raise RegistryNotFound(f"{ref.name} has no tags")
    return [_pull_one(engine, sessions, ref.with_tag(t), want, report) for t in tags]


def _location(sessions: Sessions, ref: reference.Reference) -> reference.Reference:
    """Where to fetch `ref` from: a registries.conf `location` may move its prefix elsewhere."""
    moved = sessions.conf.rewrite(str(ref))
    return ref if moved == str(ref) else reference.parse(moved)


def _open_source(sessions: Sessions, ref: reference.Reference) -> tuple[Repository, Manifest]:
    """The first of `ref`'s mirrors (registries.conf), else its location, that has its manifest."""
    sources = sessions.conf.pull_sources(str(ref))
    for i, src in enumerate(sources):
        where = ref if src == str(ref) else reference.parse(src)
        repo = sessions.repository(where)
        try:
            return repo, repo.get_manifest(where.digest or where.tag or reference.DEFAULT_TAG)
        except _TRY_NEXT:
            if i == len(sources) - 1:
                raise
    raise AssertionError("unreachable")


def _pull_one(engine: Engine, sessions: Sessions, ref: reference.Reference, want: platforms.Platform,
              report: pg.ProgressFn) -> ImageRecord:  # fmt: skip
    report(pg.Progress(pg.TRYING, message=str(ref)))
    repo, top = _open_source(sessions, ref)
    image = _resolve(repo, top, want)
    config_desc, layers, _ = mf.parse_manifest(image.raw)
    digests = [f"{ref.name}@{top.digest}"] + ([f"{ref.name}@{image.digest}"] if image is not top else [])
    names = [str(ref)] if ref.tag and not ref.digest else []
    keys = _layer_keys(layers, sessions)  # encrypted layers: every key unwrapped before any download
    rec = None if keys else _unchanged(engine, config_desc.digest, image.digest, names, digests)
    if rec is None:
        config_raw = _config(engine, repo, config_desc, report)
        try:
            diff_ids = mf.diff_ids(json.loads(config_raw))
        except (ValueError, AttributeError):
            raise RegistryError(f"{ref}: image config is not valid JSON") from None
        manifest_raw, fetch_report = image.raw, report
        if keys:
            from podpy.engine import layer_decrypt

            layers = layer_decrypt.fetch(engine, repo, layers, diff_ids, keys, report)
            manifest_raw = layer_decrypt.plain_manifest(image.raw, layers)
            digests = [*digests, f"{ref.name}@{sha256_digest(manifest_raw)}"]  # the registry's: --pull=newer
            fetch_report = layer_decrypt.quiet_for(report, {layers[i].digest for i in keys})
        from podpy.engine.registry_layers import LayerFetcher  # not needed when the image is here

        new_layers = LayerFetcher(engine, repo, layers, diff_ids, fetch_report).run()
        report(pg.Progress(pg.MANIFEST, image.digest))
        rec = engine.images.register(config_raw, new_layers, names, manifest_raw=manifest_raw, digests=digests)
    else:
        for d in layers:
            report(pg.Progress(pg.BLOB_DONE, d.digest, d.size, d.size, "skipped: already exists"))
    report(pg.Progress(pg.DONE, rec.id, message=str(ref)))
    ev.image(engine, "pull", rec.id, str(ref))
    return rec


def _layer_keys(layers: list[mf.Descriptor], sessions: Sessions) -> dict[int, Any]:
    if not any_encrypted(layers):
        return {}
    from podpy.engine import layer_decrypt

    return layer_decrypt.unwrap_all(layers, sessions.opts.decryption_keys)


def _unchanged(engine: Engine, image_id: str, manifest: str, names: list[str],
               digests: list[str]) -> ImageRecord | None:  # fmt: skip
    """The local image when it already is exactly this (same manifest, names, digests, layers)."""
    rec = engine.index.load().get(image_id.removeprefix("sha256:"))
    if rec is None or rec.manifest != manifest or not set(names) <= set(rec.names):
        return None
    if not set(digests) <= set(rec.digests) or (rec.top_layer and not engine.layers.exists(rec.top_layer)):
        return None
    return rec


def _resolve(repo: Repository, top: Manifest, want: platforms.Platform) -> Manifest:
    """An index resolves to the manifest for `want`; a manifest is itself."""
    if not top.is_index:
        if top.media_type not in mf.MANIFEST_TYPES:
            raise RegistryError(f"unsupported manifest media type {top.media_type!r}")
        return top
    entry = platforms.choose(json.loads(top.raw), want)
    image = repo.get_manifest(entry["digest"])
    if image.media_type not in mf.MANIFEST_TYPES:
        raise RegistryError(f"index entry {entry['digest']} is not an image manifest ({image.media_type})")
    return image


def _config(engine: Engine, repo: Repository, desc: mf.Descriptor, report: pg.ProgressFn) -> bytes:
    if engine.content.exists(desc.digest):
        return engine.content.read(desc.digest)
    report(pg.Progress(pg.BLOB_START, desc.digest, 0, desc.size, "config"))
    raw = repo.fetch_blob(desc.digest)
    report(pg.Progress(pg.BLOB_DONE, desc.digest, len(raw), len(raw), "done"))
    return raw


# ---- run/create: make sure an image is here
def find_local(engine: Engine, ref: str) -> ImageRecord | None:
    """The local image `ref` names: by ID, name or digest, or a short name under a search registry."""
    try:
        return engine.images.get(ref)
    except NoSuchImage:
        pass
    except InvalidReference:
        reference.parse(ref)  # the index's lookup trips over host:port names it lacks; a bad ref still fails
    if regconf.is_short_name(ref) and not reference.looks_like_id_prefix(ref):
        try:
            cands = regconf.candidates(ref, regconf.load())
        except RegistryError:
            return None
        for cand in cands:
            try:
                return engine.images.get(str(cand))
            except (NoSuchImage, InvalidReference):
                continue
    return None


def ensure_image(
    engine: Engine, ref: str, policy: str = "missing", progress: pg.ProgressFn | None = None,
    opts: RegistryOptions | None = None, platform: str | None = None,
) -> ImageRecord:  # fmt: skip
    """The image for `ref` by `--pull` policy. Reports MISSING (Docker's "Unable to find image
    'x' locally") before pulling an image that is not here; prints nothing itself."""
    if policy not in POLICIES:
        raise InvalidArgument(f"invalid pull policy {policy!r}: choose one of {', '.join(POLICIES)}")
    report = progress or pg.null
    local = find_local(engine, ref)
    if policy == "never":
        if local is None:
            raise NoSuchImage(ref)
        return local
    if local is not None and (policy == "missing" or (policy == "newer" and not _remote_differs(ref, local, opts))):
        return local
    if local is None:
        report(pg.Progress(pg.MISSING, message=ref))
    return pull(engine, ref, opts, platform=platform, progress=progress)[0]


def _remote_differs(ref: str, local: ImageRecord, opts: RegistryOptions | None) -> bool:
    """--pull=newer: does the registry's manifest differ from ours? Unreachable: keep ours."""
    try:
        with Sessions(opts or RegistryOptions()) as sessions:
            cand = regconf.candidates(ref, sessions.conf)[0]
            digest = sessions.repository(_location(sessions, cand)).head_manifest(cand.digest or cand.tag or "latest")
    except (RegistryError, InvalidReference):
        return False
    if digest is None:
        return False
    return digest != local.manifest and not any(d.endswith("@" + digest) for d in local.digests)


def remote_index(ref: str, opts: RegistryOptions | None = None) -> tuple[str, dict | None]:
    """The registry's top manifest for `ref` without pulling anything: (the resolved name, its
    index as JSON), or (name, None) when it names a single image (build --all-platforms)."""
    with Sessions(opts or RegistryOptions()) as sessions:
        candidates = regconf.candidates(ref, sessions.conf)
        for i, cand in enumerate(candidates):
            try:
                _, top = _open_source(sessions, cand)
            except _TRY_NEXT:
                if i == len(candidates) - 1:
                    raise
                continue
            return cand.name, json.loads(top.raw) if top.is_index else None
    raise RegistryNotFound(f"{ref}: no registry to look it up in")
