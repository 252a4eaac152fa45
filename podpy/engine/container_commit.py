"""`commit`: a container's image plus its writable layer, as a new image.

The new layer is the storage driver's rw tar (uncompressed, so its digest is its diff ID); the
config starts from the image's, takes the container's own settings (what `run` flags changed) and
then the `--change` instructions, and gets one more history entry.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.engine.images import NewLayer
from podpy.errors import InvalidArgument
from podpy.image import manifest as mf
from podpy.image.changes import apply_change
from podpy.timeutil import now_rfc3339

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.image.store import ImageRecord


@dataclass(frozen=True)
class CommitOptions:
    changes: list[str] = field(default_factory=list)  # -c: Dockerfile-like instructions
    message: str = ""  # -m
    author: str = ""  # -a
    pause: bool = False  # -p: freeze the container while its layer is read (podman's default: no)
    format: str = "oci"  # -f: the manifest's media types, "oci" or "docker" (Docker schema 2)
    include_volumes: bool = False  # --include-volumes: the container's volumes become image Volumes
    squash: bool = False  # -s: the whole filesystem (base layers too) as one layer


def commit(engine: Engine, ref: str, name: str | None, opts: CommitOptions,
           warn: Callable[[str], None] | None = None) -> ImageRecord:  # fmt: skip
    """`warn` receives one-line warnings (a pause that cannot be done here)."""
    from podpy.image import reference

    rec = engine.containers.get(ref)
    if rec.rootfs or not rec.image:
        raise InvalidArgument(f"container {rec.short_id} uses --rootfs: there is no image to commit onto")
    if opts.format not in ("oci", "docker"):
        raise InvalidArgument(f'unrecognized image type "{opts.format}"')
    names = [str(reference.parse(name))] if name else []  # a bad name fails before any work
    img = engine.images.get(rec.image)
    base = json.loads(engine.content.read(img.id))
    config = container_config(base.get("config") or {}, rec)
    for change in opts.changes:
        apply_change(config, change)
    if opts.include_volumes:
        config["Volumes"] = {**(config.get("Volumes") or {}), **{d: {} for d in _volume_dests(rec)}}
    with _paused(engine, rec, opts.pause, warn or (lambda _text: None)):
        layer = _squashed(engine, rec) if opts.squash else _rw_layer(engine, rec)
    layers = [NewLayer(x.digest, x.media_type, x.size, x.diff_id) for x in img.layers]
    doc = _image_doc(base, config, rec, layer.diff_id, opts)
    if opts.squash:
        doc["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id]}
        doc["history"] = [*({**h, "empty_layer": True} for h in doc["history"][:-1]), doc["history"][-1]]
        layers = []
    raw = json.dumps(doc, separators=(",", ":")).encode()
    all_layers = [*layers, layer]
    manifest = _docker_manifest(engine, raw, all_layers) if opts.format == "docker" else None
    if manifest is not None:
        all_layers = [NewLayer(x.digest, DOCKER_KINDS.get(x.media_type, x.media_type), x.size, x.diff_id)
                      for x in all_layers]  # fmt: skip
    new = engine.images.register(raw, all_layers, names, manifest_raw=manifest)
    ev.container(engine, rec, "commit")
    return new


DOCKER_KINDS = {mf.OCI_LAYER: mf.DOCKER_LAYER, mf.OCI_LAYER_GZIP: mf.DOCKER_LAYER_GZIP}


def _volume_dests(rec: cr.ContainerRecord) -> list[str]:
    """Where the container mounts volumes (named or anonymous, not bind mounts or tmpfs)."""
    return sorted({str(m.get("Destination")) for m in rec.mounts or [] if m.get("Type") == "volume"
                   and m.get("Destination")})  # fmt: skip


def _docker_manifest(engine: Engine, raw: bytes, layers: list[NewLayer]) -> bytes:
    """A Docker schema 2 manifest for the config `raw` (-f docker), as Podman writes it."""
    digest = engine.content.write(raw)
    descs = [mf.Descriptor(DOCKER_KINDS.get(x.media_type, x.media_type), x.digest, x.size) for x in layers]
    return mf.build_manifest(mf.Descriptor(mf.DOCKER_CONFIG, digest, len(raw)), descs, oci=False)


def _squashed(engine: Engine, rec: cr.ContainerRecord) -> NewLayer:
    """The container's whole merged filesystem as one uncompressed layer (-s): nothing lies below it,
    so no whiteouts; without the empty files the runtime made to mount /etc/hosts and the like on
    (the image's own, with content, stay). Mount points' contents are not in the layers anyway."""
    import tarfile

    from podpy.engine.container_files import RUNTIME_PATHS, merged_tar

    skip = {p.lstrip("/") for p in RUNTIME_PATHS}
    engine.layout.ingest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=engine.layout.ingest) as merged, \
            tempfile.TemporaryFile(dir=engine.layout.ingest) as out:  # fmt: skip
        merged_tar(engine, rec, merged, f"squashing {rec.short_id}")  # type: ignore[arg-type]
        merged.seek(0)
        with tarfile.open(fileobj=merged, mode="r|") as src, \
                tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as dst:  # fmt: skip
            for m in src:
                name = m.name.strip("/").removeprefix("./")
                if not (name in skip and m.isreg() and m.size == 0):
                    dst.addfile(m, src.extractfile(m) if m.isreg() else None)
                src.members.clear()
        out.seek(0)
        digest, size = engine.content.ingest(out)
    return NewLayer(digest, mf.OCI_LAYER, size, digest)


def _mount_points(rec: cr.ContainerRecord) -> set[str]:
    mounts = {str(m.get("destination") or "") for m in rec.spec.get("mounts") or []}
    mounts |= {str(p.get("Destination") or "") for p in rec.mounts or []}
    mounts.discard("")
    return mounts


def container_config(image_cfg: dict[str, Any], rec: cr.ContainerRecord) -> dict[str, Any]:
    """The image's config with what the container was run with (Cmd, Entrypoint, Env, ...)."""
    spec = rec.spec
    cfg = dict(image_cfg)
    cfg["Cmd"] = list(rec.cmd) or None
    cfg["Entrypoint"] = list(rec.entrypoint) or None
    if spec.get("env"):
        cfg["Env"] = list(spec["env"])
    cfg["WorkingDir"] = spec.get("cwd") or image_cfg.get("WorkingDir") or ""
    cfg["User"] = spec.get("user") or ""
    labels = {**(image_cfg.get("Labels") or {}), **(spec.get("labels") or {})}
    cfg["Labels"] = labels or None
    if rec.stop_signal and rec.stop_signal != "SIGTERM":
        cfg["StopSignal"] = rec.stop_signal
    return {k: v for k, v in cfg.items() if v is not None}


def _image_doc(base: dict[str, Any], config: dict[str, Any], rec: cr.ContainerRecord, diff_id: str,
               opts: CommitOptions) -> dict[str, Any]:  # fmt: skip
    from podpy.engine.importer import go_arch

    now = now_rfc3339()
    entry = {"created": now, "created_by": " ".join(rec.args)}
    if opts.author:
        entry["author"] = opts.author
    if opts.message:
        entry["comment"] = opts.message
    doc: dict[str, Any] = {
        "created": now,
        "architecture": base.get("architecture") or go_arch(),
        "os": base.get("os") or "linux",
    }
    if base.get("variant"):
        doc["variant"] = base["variant"]
    if opts.author:
        doc["author"] = opts.author
    doc["config"] = config
    doc["rootfs"] = {"type": "layers", "diff_ids": [*mf.diff_ids(base), diff_id]}
    doc["history"] = [*(base.get("history") or []), entry]
    return doc


def _rw_layer(engine: Engine, rec: cr.ContainerRecord) -> NewLayer:
    """The container's changes as an uncompressed layer blob in the content store, without the files
    the runtime mounts (/etc/hosts, /etc/hostname, /etc/resolv.conf) and what lies in mount points."""
    from podpy.engine.container_files import RUNTIME_PATHS

    engine.layout.ingest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=engine.layout.ingest) as tmp:  # unnamed: nothing left if we die
        mounts = _mount_points(rec)
        engine.containers.storage_driver.rw_tar(rec.id, rec.top_layer, tmp, skip=RUNTIME_PATHS | mounts,
                                                skip_below=mounts, owner=_owner_map(engine, rec))  # fmt: skip
        tmp.seek(0)
        digest, size = engine.content.ingest(tmp)
    return NewLayer(digest, mf.OCI_LAYER, size, digest)


def _owner_map(engine: Engine, rec: cr.ContainerRecord) -> Callable[[int, int], tuple[int, int]] | None:
    """A --uidmap container writes host ids (rootless: ids of the user's namespace, as rw_tar reads
    them inside it) into its upper dir: the layer gets the container's ids back, as Podman and
    buildah commit them (ids outside the mapping stay as they are)."""
    uids, gids = rec.spec.get("uidmap"), rec.spec.get("gidmap")
    if not uids or engine.containers.storage_driver.name != "overlay":
        return None  # vfs: the ID-mapped directory itself took the writes, with the container's ids
    from podpy.engine.idmaps import container_id

    def owner(uid: int, gid: int) -> tuple[int, int]:
        u, g = container_id(uids, uid), container_id(gids or uids, gid)
        return (uid if u is None else u), (gid if g is None else g)

    return owner


def can_pause(engine: Engine, rec: cr.ContainerRecord) -> bool:
    """Root always can; rootless needs a freezer of its own (a delegated cgroup v2 subtree)."""
    if os.geteuid() == 0:
        return True
    from podpy.engine.container_cgroups import locate
    from podpy.engine.specgen import is_cgroup_v2

    return is_cgroup_v2() and bool(locate(engine.containers, rec).paths)


@contextmanager
def _paused(engine: Engine, rec: cr.ContainerRecord, pause: bool, warn: Callable[[str], None]) -> Iterator[None]:
    """Freeze a running container while its layer is read (-p), so the layer is consistent; where it
    cannot be frozen (rootless on cgroup v1) warn and commit it running, as Podman does."""
    if not pause or rec.state.status != cr.RUNNING or rec.state.paused:  # a user pause stays as it is
        yield
        return
    if not can_pause(engine, rec):
        warn(f"cannot pause container {rec.short_id} during commit (rootless without a cgroup of its own, "
             "e.g. on cgroup v1): committing it while it runs")  # fmt: skip
        yield
        return
    from podpy.engine.container_procs import get_runtime

    runtime = get_runtime(rec.runtime, engine.layout.runroot, engine.opts.runtime_flags)
    state_dir = engine.containers.run_dir(rec.id)
    runtime.pause(rec.id, state_dir)
    try:
        yield
    finally:
        runtime.resume(rec.id, state_dir)
