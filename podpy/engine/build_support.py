"""What a Dockerfile build needs from the engine: a step container, running it, writing into it,
committing its changes as a layer, and images made from a config document plus layers.

A step container is an ordinary container (same create, same runtime, same supervisor as `run`);
its changes become a layer through the same code as `commit`. The build package drives these.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from podpy.errors import PodpyError
from podpy.record import field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from podpy.engine.container_record import ContainerRecord
    from podpy.engine.core import Engine
    from podpy.engine.images import NewLayer
    from podpy.image.store import ImageRecord
    from podpy.inroot import Root

    T = TypeVar("T")


@record(frozen=True)
class StepSpec:
    """How a RUN (or a file step's container) runs: the image config is not consulted for these."""

    argv: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    workdir: str = "/"
    user: str = ""
    network: str = ""  # "", "none" or "host"
    mounts: list[str] = field(default_factory=list)  # --mount values as `run` takes them
    extra: dict[str, Any] = field(default_factory=dict)  # more CreateOptions fields (build's RUN flags)


# CreateOptions fields `podpy build` may set for its RUN containers (the flags `run` has too).
STEP_FIELDS = ("cap_add", "cap_drop", "devices", "security_opt", "userns", "volumes", "resources", "net", "more",
               "interactive")  # fmt: skip


def create_step(engine: Engine, image_id: str, spec: StepSpec) -> ContainerRecord:
    """A container of `image_id` that will run `spec.argv` (entrypoint cleared, no health check)."""
    from podpy.engine.container_config import CreateOptions

    opts = CreateOptions(
        image=image_id, command=list(spec.argv) or ["/bin/true"], entrypoint="", env=list(spec.env),
        workdir=spec.workdir or "/", user=spec.user, network=spec.network, pull="never",
        no_healthcheck=True, mounts=list(spec.mounts), labels=["io.podpy.build=step"],
        image_volumes=False,  # BuildKit keeps what a RUN writes below a VOLUME
        **{k: v for k, v in spec.extra.items() if k in STEP_FIELDS},
    )  # fmt: skip
    return engine.containers.create(opts)


def run_step(engine: Engine, rec: ContainerRecord, out_fd: int, stdin: int | None = None) -> int:
    """Run the step container to its end with its output on `out_fd` (and `stdin`, --stdin); its exit code."""
    from podpy.engine.container_lifecycle import AttachRequest

    _rec, launch = engine.containers.start(rec.id, AttachRequest(stdin=stdin, stdout=out_fd, stderr=out_fd))
    if launch is None:
        raise PodpyError(f"build container {rec.short_id} was already running")
    try:
        outcome = launch.wait()
    finally:
        launch.close()
    return 0 if outcome.exit_code is None else outcome.exit_code


def write_into(engine: Engine, rec: ContainerRecord, fn: Callable[[Root], T]) -> T:
    """`fn` on the (stopped) step container's root, every path resolved inside it (a forked child:
    its result must be JSON-able)."""
    from podpy.engine.container_fsview import with_rootfs

    return with_rootfs(engine, rec, lambda view: fn(view.root))


def owners_deferred(engine: Engine) -> bool:
    """Rootless with subordinate ids: write_into cannot chown to other ids (its namespace maps only
    ours), so file steps return their owners for `set_owners`."""
    if not engine.opts.rootless:
        return False
    from podpy.storage import userns

    mapping = userns.current()
    return mapping is not None and mapping.full and engine.containers.storage_driver.name == "overlay"


def set_owners(engine: Engine, rec: ContainerRecord, owners: list[list[Any]]) -> None:
    """Give what a file step wrote its container owners ([parts, uid, gid, mode] from the step),
    from inside the user's mapping, on the step container's upper dir (where the writes landed)."""
    if not owners:
        return
    from podpy.storage import userns

    mapping = userns.current()
    assert mapping is not None
    upper = engine.containers.storage_driver.rw_dir(rec.id) / "upper"
    userns.apply_owners(mapping, upper, [userns.Owner(tuple(p), u, g, m) for p, u, g, m in owners])


def own_path(path: Path, uid: int, gid: int) -> None:
    """chown a file the build made on the host (a secret, a cache dir) to container ids: rootless,
    our own id is the container's root and other ids are set from inside the user's mapping."""
    if os.geteuid() == 0:
        os.chown(path, uid, gid)
        return
    if (uid, gid) == (0, 0):
        return
    from podpy.storage import userns

    mapping = userns.current()
    if mapping is None or not mapping.full:
        return  # a single-id namespace: one owner, as everywhere rootless
    userns.apply_owners(mapping, path.parent, [userns.Owner((path.name,), uid, gid)])


def prune_mount_points(engine: Engine, rec: ContainerRecord, targets: list[str]) -> None:
    """RUN --mount targets the runtime had to create, and the parents it made for them, leave the
    step's upper dir while they are empty and absent from the image (BuildKit leaves none behind)."""
    driver = engine.containers.storage_driver
    if driver.name != "overlay" or not targets:
        return
    from podpy.storage.diffwalk import LowerView

    lower = LowerView([driver.layers.diff_path(r.chain_id) for r in driver.layers.lineage(rec.top_layer)])
    upper = driver.rw_dir(rec.id) / "upper"
    for target in targets:
        parts = [p for p in target.split("/") if p and p != "."]
        if parts and ".." not in parts:
            _prune(upper, parts, lower)


def _prune(upper: Path, parts: list[str], lower: Any) -> None:
    """Walk `parts` in `upper` by descriptor, never through a symlink the step may have left; then
    remove from the deepest up what is new and empty."""
    import stat

    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fds = [os.open(upper, flags)]
    try:
        for name in parts[:-1]:
            try:
                fds.append(os.open(name, flags, dir_fd=fds[-1]))
            except OSError:
                return  # missing, or not a real directory: nothing of ours
        for i in range(len(parts), 0, -1):
            try:
                if lower.lookup("/" + "/".join(parts[:i])) is not None:
                    return
            except OSError:
                return  # an image directory we may not read (rootless): leave it as it is
            dfd, name = fds[i - 1], parts[i - 1]
            try:
                st = os.lstat(name, dir_fd=dfd)
                if stat.S_ISDIR(st.st_mode):
                    os.rmdir(name, dir_fd=dfd)
                elif stat.S_ISREG(st.st_mode) and st.st_size == 0:  # a file's mount point
                    os.unlink(name, dir_fd=dfd)
                else:
                    return
            except OSError:
                return  # not empty: the step wrote there too
    finally:
        for fd in fds:
            os.close(fd)


def commit_layer(engine: Engine, rec: ContainerRecord) -> NewLayer:
    """The container's changes as an uncompressed layer in the content store (as `commit` makes it)."""
    from podpy.engine.container_commit import _rw_layer

    return _rw_layer(engine, rec)


def discard(engine: Engine, rec: ContainerRecord) -> None:
    engine.containers.remove(rec.id, force=True, volumes=True)


def register(engine: Engine, doc: dict[str, Any], layers: list[NewLayer], names: list[str]) -> ImageRecord:
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return engine.images.register(raw, layers, names)


def image_layers(img: ImageRecord) -> list[NewLayer]:
    from podpy.engine.images import NewLayer

    return [NewLayer(x.digest, x.media_type, x.size, x.diff_id) for x in img.layers]


def null_fd() -> int:
    return os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)


def export_path(engine: Engine, rec: ContainerRecord, src: str, into: Path) -> None:
    """COPY --from: `src` (up to its first wildcard) copied out of the container to the same path
    below `into`, so the copy step can treat `into` as its context."""
    from podpy.engine.container_files import CopyOptions, copy_from
    from podpy.errors import NoSuchFile

    parts = [p for p in src.split("/") if p and p != "."]
    fixed = []
    for p in parts:
        if any(c in p for c in "*?["):
            break
        fixed.append(p)
    if not fixed:
        raise PodpyError(f"COPY --from: copying {src!r} (the whole root) is not supported")
    parent = into.joinpath(*fixed[:-1])
    parent.mkdir(parents=True, exist_ok=True)
    try:
        copy_from(engine, rec.id, "/" + "/".join(fixed), str(parent) + "/", CopyOptions(archive=True))
    except NoSuchFile:
        pass  # resolve_sources names the missing source


def cache_index(engine: Engine) -> Path:
    """The build cache's index (written by podpy.build.cache, read here for listings and prune)."""
    return engine.layout.root / "build-cache" / "index.json"


def intermediate_ids(engine: Engine) -> set[str]:
    """Images that are a build step's result and not a build's final image (`images` hides them)."""
    from podpy.state import read_json

    if not cache_index(engine).exists():
        return set()
    return set(read_json(cache_index(engine), default={}).get("intermediate") or [])


def cache_usage(engine: Engine) -> dict[str, Any]:
    """`system df`'s Build Cache row: the intermediate images and the layers only they hold."""
    from podpy.engine.images import chain_ids

    inter = intermediate_ids(engine)
    imgs = engine.images.list()
    kept = {c for i in imgs if i.id not in inter or i.names for c in chain_ids([x.diff_id for x in i.layers])}
    only = {c for i in imgs if i.id in inter and not i.names for c in chain_ids([x.diff_id for x in i.layers])}
    size = sum(engine.layers.get(c).size for c in only - kept if engine.layers.exists(c))
    count = sum(1 for i in imgs if i.id in inter and not i.names)
    return {"Type": "Build Cache", "TotalCount": count, "Active": 0, "RawSize": size, "RawReclaimable": size}


def prune_cache(engine: Engine) -> tuple[list[str], int]:
    """`builder prune`: every intermediate image no container uses, and the cache index; (IDs, bytes)."""
    from podpy.errors import ImageInUse, NoSuchImage

    removed, freed = [], 0
    for img_id in sorted(intermediate_ids(engine)):
        try:
            img = engine.images.get(img_id)
            if img.names or engine.images.users(img.id):
                continue
            report = engine.images.remove(img.id, force=True)
        except (NoSuchImage, ImageInUse):
            continue
        removed += report.deleted
        freed += report.size
    index = cache_index(engine)
    if index.exists():
        from podpy.state import FileLock, atomic_write_json

        with FileLock(index.parent / "lock"):
            atomic_write_json(index, {"entries": {}, "intermediate": []})
    if (index.parent / "digests").exists():  # the remembered context file digests (build.digestmemo)
        from podpy.storage.fsutil import force_rmtree

        force_rmtree(index.parent / "digests")
    return removed, freed


def remanifest(engine: Engine, image_id: str, docker: bool, annotations: dict[str, str]) -> str:
    """The same image (same config, same ID) with a Docker schema 2 manifest (--format docker) and/or
    manifest annotations (--annotation)."""
    from podpy.engine.images import NewLayer
    from podpy.image import manifest as mf

    img = engine.images.get(image_id)
    raw = engine.content.read(img.id)
    kinds = {mf.OCI_LAYER: mf.DOCKER_LAYER, mf.OCI_LAYER_GZIP: mf.DOCKER_LAYER_GZIP} if docker else {}
    layers = [NewLayer(x.digest, kinds.get(x.media_type, x.media_type), x.size, x.diff_id) for x in img.layers]
    config_type = mf.DOCKER_CONFIG if docker else mf.OCI_CONFIG
    manifest = mf.build_manifest(mf.Descriptor(config_type, img.id, len(raw)),
                                 [mf.Descriptor(x.media_type, x.digest, x.size) for x in layers], oci=not docker)  # fmt: skip
    if annotations:
        doc = json.loads(manifest)
        doc["annotations"] = dict(sorted(annotations.items()))
        manifest = json.dumps(doc, separators=(",", ":")).encode()
    return engine.images.register(raw, layers, [], manifest_raw=manifest).id


def squash_all(engine: Engine, image_id: str) -> str:
    """--squash-all: the image's whole filesystem as one layer (same config; history kept, as empty)."""
    import tempfile

    from podpy.engine.container_files import export
    from podpy.engine.images import NewLayer
    from podpy.image import manifest as mf

    doc = json.loads(engine.content.read(image_id))
    rec = create_step(engine, image_id, StepSpec())
    try:
        engine.layout.ingest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=engine.layout.ingest) as tmp:
            export(engine, rec.id, tmp)  # type: ignore[arg-type]
            tmp.seek(0)
            digest, size = engine.content.ingest(tmp)
    finally:
        discard(engine, rec)
    doc["rootfs"] = {"type": "layers", "diff_ids": [digest]}
    history = [{**h, "empty_layer": True} for h in doc.get("history") or []]
    history.append({"created": doc.get("created", ""), "created_by": "podpy build --squash-all", "comment": "squashed"})
    doc["history"] = history
    return register(engine, doc, [NewLayer(digest, mf.OCI_LAYER, size, digest)], []).id


def restamp(engine: Engine, layer: NewLayer, mtime: int) -> NewLayer:
    """The layer with every entry's modification time set to `mtime` (--timestamp: the same files
    give the same layer, so the same image ID)."""
    import tarfile
    import tempfile

    from podpy.engine.images import NewLayer

    engine.layout.ingest.mkdir(parents=True, exist_ok=True)
    times = ("mtime", "atime", "ctime")
    with engine.content.open(layer.digest) as src, tempfile.TemporaryFile(dir=engine.layout.ingest) as tmp:
        with tarfile.open(fileobj=src, mode="r|") as tin, tarfile.open(fileobj=tmp, mode="w|", format=tarfile.PAX_FORMAT) as tout:  # fmt: skip
            for m in tin:
                m.mtime = mtime
                m.pax_headers = {k: v for k, v in m.pax_headers.items() if k not in times}
                tout.addfile(m, tin.extractfile(m) if m.isreg() else None)
                tin.members.clear()
        tmp.seek(0)
        digest, size = engine.content.ingest(tmp)
    return NewLayer(digest, layer.media_type, size, digest)
