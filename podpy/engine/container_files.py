"""Files of a container: `cp` (both ways, tar streams with `-`), `diff` and `export`.

cp works on the container's own view (rootfs plus volumes, see container_fsview) and resolves
every path in it through Root; the copy itself is a walk by directory descriptors
(treesource) fed to a writer that cannot leave its destination (treewrite). So a container whose
`/evil` points at `/` or `../../..` can make cp neither read nor write a host file, even if it
swaps directories for symlinks while the copy runs (the CVE-2018-15664 class).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from podpy.engine import cp_paths
from podpy.engine import events as ev
from podpy.engine.container_fsview import View, with_rootfs
from podpy.errors import InvalidArgument, NoSuchFile, PodpyError, UnsafeArchive
from podpy.inroot import Root
from podpy.storage.treesource import Item, Walker, write_items
from podpy.storage.treewrite import TreeWriter, WriteOptions

if TYPE_CHECKING:
    from podpy.engine.container_record import ContainerRecord
    from podpy.engine.core import Engine

# mount points the runtime makes for its own files: not changes a user made (podman leaves them out)
RUNTIME_PATHS = frozenset({"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv", "/.dockerenv"})


@dataclass(frozen=True)
class CopyOptions:
    """Podman's meaning of --archive (Docker's -a is the opposite): true (the default) chowns what is
    copied into a container to the container's primary uid/gid; false keeps the source's ids."""

    archive: bool = True
    follow_link: bool = False  # -L: copy what a source symlink points to
    overwrite: bool = False  # a directory may replace a non-directory and vice versa


@dataclass
class CopyReport:
    skipped: list[str] = field(default_factory=list)  # sockets, device nodes, vanished entries


@contextmanager
def _os_errors(what: str) -> Iterator[None]:
    """OSError → one readable PodpyError (the copy may run in a child: keep them typed)."""
    try:
        yield
    except (UnsafeArchive, BrokenPipeError):
        raise  # a reader that went away (`cp c:/x - | head`) is not an error of ours
    except OSError as e:
        if e.errno == errno.EROFS:
            raise PodpyError(f"{what}: read-only file system (a read-only rootfs or volume)") from None
        if e.errno == errno.EOVERFLOW:  # host root writing through an ID-mapped mount (vfs + --uidmap)
            raise PodpyError(f"{what}: not writable by the host's root through the container's ID mapping "
                             "(--uidmap on the vfs driver): stop the container first") from None  # fmt: skip
        where = f": {e.filename}" if e.filename else ""
        raise PodpyError(f"{what}: {e.strerror or e}{where}") from None


# ---- container → host ---------------------------------------------------------------------------


def copy_from(engine: Engine, ref: str, src: str, dest: str, opts: CopyOptions,
              stream: BinaryIO | None = None) -> CopyReport:  # fmt: skip
    """`cp CONTAINER:SRC DEST`; with `stream`, SRC as a tar archive written to it (DEST `-`)."""
    rec = engine.containers.get(ref)
    if stream is None:
        cp_paths.host_dest(dest)  # a missing destination directory is reported before any work
    wopts = _out_options(opts.overwrite)  # here: the copy may run where we look like root

    def work(view: View) -> list[str]:
        source = _container_source(view, src, ref, opts.follow_link)
        try:
            with _os_errors(f"copying {src} from {ref}"):
                return _emit(source, src, dest, wopts, stream, Walker(opaque_devs=view.pseudo_devs))
        finally:
            source.close()

    return CopyReport(with_rootfs(engine, rec, work))


def _container_source(view: View, src: str, ref: str, follow: bool) -> cp_paths.Source:
    try:
        return cp_paths.container_source(view.root, src, follow)
    except FileNotFoundError:
        raise NoSuchFile(f'"{src}" could not be found on container {ref}: no such file or directory') from None


def _out_options(overwrite: bool) -> WriteOptions:
    """Out of a container, files are ours (Podman: whatever --archive says); no setuid bits, no devices."""
    return WriteOptions(keep_ids=False, ids=None, strict_ids=False, devices=False, strip_setid=True,
                        overwrite=overwrite)  # fmt: skip


def _emit(source: cp_paths.Source, src: str, dest: str, wopts: WriteOptions, stream: BinaryIO | None,
          walker: Walker) -> list[str]:  # fmt: skip
    if stream is not None:
        write_items(walker.tree(source.dir_fd, source.name, source.base), stream)
        stream.flush()
        return walker.skipped
    target = cp_paths.host_dest(dest)
    into, arcname = cp_paths.place(source, target, src, dest, "the host")
    top = dest if into else os.path.dirname(os.path.abspath(dest.rstrip("/")) or "/") or "/"
    with Root(Path(top)) as hroot:
        writer = TreeWriter(hroot, (), wopts)
        _feed(writer, walker.tree(source.dir_fd, source.name, arcname))
    return walker.skipped + writer.skipped


def _feed(writer: TreeWriter, items: Iterator[Item]) -> None:
    for item in items:
        if item.info.isreg() and item.info.size:
            with item.open() as data:
                writer.put(item.info, data)  # type: ignore[arg-type]
        else:
            writer.put(item.info, None)
    writer.finish()


# ---- host → container ---------------------------------------------------------------------------


def copy_to(engine: Engine, ref: str, src: str, dest: str, opts: CopyOptions,
            stream: BinaryIO | None = None) -> CopyReport:  # fmt: skip
    """`cp SRC CONTAINER:DEST`; with `stream`, a tar archive read from it is extracted in DEST."""
    rec = engine.containers.get(ref)
    source = None
    if stream is None:
        try:
            source = cp_paths.host_source(src, opts.follow_link)
        except FileNotFoundError:
            raise NoSuchFile(f'"{src}" could not be found on the host: no such file or directory') from None
        except NotADirectoryError:
            shown = os.path.abspath(src) + ("/" if src.endswith("/") else "")
            raise NoSuchFile(f'"{src}" could not be found on the host: stat {shown}: not a directory') from None
        except OSError as e:
            raise PodpyError(f"{src}: {e.strerror or e}") from None

    def work(view: View) -> list[str]:
        root = view.root
        target = _container_dest(root, dest, ref)
        wopts = _into_options(engine, rec, root, opts)
        with _os_errors(f"copying to {ref}:{dest}"):
            if source is None:
                return _extract(root, target, dest, wopts, stream)  # type: ignore[arg-type]
            into, arcname = cp_paths.place(source, target, src, dest, f"container {ref}")
            writer = TreeWriter(root, target.real if into else target.parent, wopts)
            walker = Walker()
            _feed(writer, walker.tree(source.dir_fd, source.name, arcname))
            return walker.skipped + writer.skipped

    try:
        return CopyReport(with_rootfs(engine, rec, work))
    finally:
        if source is not None:
            source.close()


def _container_dest(root: Root, dest: str, ref: str) -> cp_paths.Dest:
    try:
        return cp_paths.container_dest(root, dest)
    except FileNotFoundError:
        raise NoSuchFile(f'"{dest}" could not be found on container {ref}: no such file or directory') from None


def _into_options(engine: Engine, rec: ContainerRecord, root: Root, opts: CopyOptions) -> WriteOptions:
    """Into a container: owned by its primary uid/gid (--archive, the default) or as in the source
    (--archive=false). Rootless, we are the container's root already: ownership stays ours."""
    rootless = engine.opts.rootless
    ids = None if rootless else _host_ids(engine, rec, _primary_ids(rec, root))
    return WriteOptions(keep_ids=not opts.archive, ids=ids, strict_ids=not rootless,
                        devices=os.geteuid() == 0 and not rootless, overwrite=opts.overwrite)  # fmt: skip


def _host_ids(engine: Engine, rec: ContainerRecord, ids: tuple[int, int]) -> tuple[int, int]:
    """A --uidmap container's ids as written from the host: its overlay upper dir (and, running, its
    ID-mapped root) holds host ids; a stopped vfs rootfs holds the container's own."""
    uids, gids = rec.spec.get("uidmap"), rec.spec.get("gidmap")
    running = rec.state.status == "running"
    if not uids or not (running or engine.containers.storage_driver.name == "overlay"):
        return ids
    from podpy.engine.idmaps import host_id

    uid, gid = host_id(uids, ids[0]), host_id(gids or uids, ids[1])
    return (ids[0] if uid is None else uid), (ids[1] if gid is None else gid)


def _primary_ids(rec: ContainerRecord, root: Root) -> tuple[int, int]:
    """The uid/gid the container's processes run as (`--user`, else the image's USER), as exec does."""
    from podpy.engine.specgen import resolve_user

    user = str(rec.spec.get("user") or "")
    if not user:
        return (0, 0)
    try:
        u = resolve_user(user, root.read_text("/etc/passwd"), root.read_text("/etc/group"))
    except PodpyError:
        return (0, 0)
    return (u.uid, u.gid)


def _extract(root: Root, target: cp_paths.Dest, dest: str, wopts: WriteOptions, stream: BinaryIO) -> list[str]:
    import tarfile

    if target.kind != "dir":
        raise InvalidArgument("destination must be a directory when copying from stdin")
    writer = TreeWriter(root, target.real, wopts)
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tf:  # type: ignore[call-overload]
            for m in tf:
                writer.put(m, tf.extractfile(m) if m.isreg() else None)
                tf.members.clear()  # stream mode would keep every header
    except tarfile.TarError as e:
        raise InvalidArgument(f"reading the tar archive: {e}") from None
    writer.finish()
    return writer.skipped


# ---- container → container ----------------------------------------------------------------------


def copy_between(engine: Engine, src_ref: str, src: str, dest_ref: str, dest: str, opts: CopyOptions) -> CopyReport:
    """`cp C1:SRC C2:DEST`: SRC is read in C1's view as a tar spooled to an unnamed temp file, then
    placed in C2's view by the same rules as a host source. Each side is resolved in its own root."""
    import tempfile

    src_rec, dest_rec = engine.containers.get(src_ref), engine.containers.get(dest_ref)
    spool_dir = engine.content.ingest_dir
    spool_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=spool_dir, prefix="cp-") as spool:

        def read(view: View) -> dict[str, Any]:
            source = _container_source(view, src, src_ref, opts.follow_link)
            try:
                with _os_errors(f"copying {src} from {src_ref}"):
                    walker = Walker(opaque_devs=view.pseudo_devs)
                    write_items(walker.tree(source.dir_fd, source.name, source.base), spool)  # type: ignore[arg-type]
                    spool.flush()
                return {"is_dir": source.is_dir, "base": source.base, "skipped": walker.skipped}
            finally:
                source.close()

        got = with_rootfs(engine, src_rec, read)
        shape = cp_paths.Source(-1, got["base"], got["is_dir"], got["base"])

        def write(view: View) -> list[str]:
            spool.seek(0)
            root = view.root
            target = _container_dest(root, dest, dest_ref)
            into, arcname = cp_paths.place(shape, target, src, dest, f"container {dest_ref}")
            writer = TreeWriter(root, target.real if into else target.parent, _into_options(engine, dest_rec, root, opts))
            with _os_errors(f"copying to {dest_ref}:{dest}"):
                _feed_renamed(writer, spool, shape.base, arcname)  # type: ignore[arg-type]
            return writer.skipped

        return CopyReport(list(got["skipped"]) + with_rootfs(engine, dest_rec, write))


def _feed_renamed(writer: TreeWriter, stream: BinaryIO, base: str, arcname: str) -> None:
    """Extract the spooled tar with its top entry `base` renamed `arcname`."""
    import tarfile

    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for m in tf:
            m.name = _renamed(m.name, base, arcname)
            writer.put(m, tf.extractfile(m) if m.isreg() else None)
            tf.members.clear()
    writer.finish()


def _renamed(name: str, base: str, arcname: str) -> str:
    if base == cp_paths.CONTENTS:
        rest = name.removeprefix(".").lstrip("/")
        return arcname if not rest else f"{arcname}/{rest}"
    if name == base:
        return arcname
    return arcname + name[len(base):] if name.startswith(base + "/") else name


# ---- diff and export ----------------------------------------------------------------------------


def diff(engine: Engine, ref: str) -> list[tuple[str, str]]:
    """`diff`: ("A"|"C"|"D", path) sorted by path, without the runtime's own mount points."""
    rec = engine.containers.get(ref)
    if rec.rootfs:
        raise InvalidArgument(f"container {rec.short_id} uses --rootfs: it has no layers to compare")
    changes = engine.containers.storage_driver.changes(rec.id, rec.top_layer)
    dropped = {p for k, p in changes if k == "A" and p in RUNTIME_PATHS}
    if not dropped:
        return changes
    kept = [(k, p) for k, p in changes if p not in dropped]
    # a directory shown as changed only because of those mount points goes too
    parents = {p.rpartition("/")[0] for p in dropped}
    return [(k, p) for k, p in kept if not (k == "C" and p in parents and not _has_child(p, kept))]


def _has_child(path: str, changes: list[tuple[str, str]]) -> bool:
    return any(p.startswith(path + "/") for _, p in changes)


def export(engine: Engine, ref: str, out: BinaryIO) -> None:
    """The container's whole filesystem (merged view, no volumes) as a tar stream."""
    rec = engine.containers.get(ref)
    merged_tar(engine, rec, out, f"exporting {ref}")
    ev.container(engine, rec, "export")


def merged_tar(engine: Engine, rec: ContainerRecord, out: BinaryIO, doing: str) -> None:
    """The container's merged filesystem (no volumes) as a tar stream to `out` (export, commit -s)."""
    dirs, overlay = _layer_dirs(engine, rec)
    fds: list[int] = []
    try:
        for d in dirs:
            fds.append(os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        items = Walker(overlay=overlay).merged(fds)
        owner = _rootless_owner(rec) if engine.opts.rootless else None
        if owner is not None:  # read from the host: host ids -> the container's
            items = _owned(items, owner)
        with _os_errors(doing):
            write_items(items, out)
            out.flush()
    finally:
        for fd in fds:
            os.close(fd)


def _rootless_owner(rec: ContainerRecord) -> Callable[[int, int], tuple[int, int]] | None:
    """Rootless: host ids -> ids of the user's namespace (the default container's), then, for a
    --uidmap container, -> its own ids (ids outside its mapping stay as the namespace shows them)."""
    from podpy.storage import userns

    mapping = userns.current()
    if mapping is None:
        return None
    uids, gids = rec.spec.get("uidmap"), rec.spec.get("gidmap")

    def owner(uid: int, gid: int) -> tuple[int, int]:
        u, g = mapping.to_container(uid, gid)
        if uids:
            from podpy.engine.idmaps import container_id

            cu, cg = container_id(uids, u), container_id(gids or uids, g)
            u, g = (u if cu is None else cu), (g if cg is None else cg)
        return u, g

    return owner


def _owned(items: Iterator[Any], owner: Callable[[int, int], tuple[int, int]]) -> Iterator[Any]:
    for item in items:
        item.info.uid, item.info.gid = owner(item.info.uid, item.info.gid)
        yield item


def export_file(engine: Engine, ref: str, path: Path) -> None:
    """export to `path`, atomically: a temp file beside it, renamed once complete."""
    engine.containers.get(ref)  # no such container: no temp file either
    path = path.absolute()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            export(engine, ref, f)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _layer_dirs(engine: Engine, rec: ContainerRecord) -> tuple[list[Path], bool]:
    """The directories whose merge is the rootfs (top first), and whether they are overlay layers."""
    if rec.rootfs:
        return [Path(rec.rootfs)], False
    driver: Any = engine.containers.storage_driver
    if driver.name != "overlay":
        return [driver.rw_dir(rec.id) / "rootfs"], False
    lowers = [engine.layers.diff_path(r.chain_id) for r in engine.layers.lineage(rec.top_layer)]
    return [driver.rw_dir(rec.id) / "upper", *lowers], True
