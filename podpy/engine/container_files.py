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
from collections.abc import Iterator
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
    archive: bool = False  # -a: keep uid/gid (and xattrs) from the source
    follow_link: bool = False  # -L: copy what a source symlink points to


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
        where = f": {e.filename}" if e.filename else ""
        raise PodpyError(f"{what}: {e.strerror or e}{where}") from None


# ---- container → host ---------------------------------------------------------------------------


def copy_from(engine: Engine, ref: str, src: str, dest: str, opts: CopyOptions,
              stream: BinaryIO | None = None) -> CopyReport:  # fmt: skip
    """`cp CONTAINER:SRC DEST`; with `stream`, SRC as a tar archive written to it (DEST `-`)."""
    rec = engine.containers.get(ref)
    if stream is None:
        cp_paths.host_dest(dest)  # a missing destination directory is reported before any work
    wopts = _out_options(opts.archive)  # here: the copy may run where we look like root

    def work(view: View) -> list[str]:
        try:
            source = cp_paths.container_source(view.root, src, opts.follow_link)
        except FileNotFoundError:
            raise NoSuchFile(f"Could not find the file {src} in container {ref}") from None
        try:
            with _os_errors(f"copying {src} from {ref}"):
                return _emit(source, src, dest, wopts, stream, Walker(opaque_devs=view.pseudo_devs))
        finally:
            source.close()

    return CopyReport(with_rootfs(engine, rec, work))


def _out_options(archive: bool) -> WriteOptions:
    """Out of a container, files are ours unless -a; setuid bits and device nodes only with -a (as root)."""
    return WriteOptions(keep_ids=archive, ids=None, strict_ids=False,
                        devices=archive and os.geteuid() == 0, strip_setid=not archive)  # fmt: skip


def _emit(source: cp_paths.Source, src: str, dest: str, wopts: WriteOptions, stream: BinaryIO | None,
          walker: Walker) -> list[str]:  # fmt: skip
    if stream is not None:
        write_items(walker.tree(source.dir_fd, source.name, source.base), stream)
        stream.flush()
        return walker.skipped
    target = cp_paths.host_dest(dest)
    into, arcname = cp_paths.place(source, target, src, dest)
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
            raise NoSuchFile(f"{src}: no such file or directory") from None
        except OSError as e:
            raise PodpyError(f"{src}: {e.strerror or e}") from None
    wopts = _into_options(engine, opts.archive)

    def work(view: View) -> list[str]:
        root = view.root
        try:
            target = cp_paths.container_dest(root, dest)
        except FileNotFoundError:
            missing = dest if dest.endswith("/") else os.path.dirname(dest) or "/"
            raise NoSuchFile(f"Could not find the file {missing} in container {ref}") from None
        with _os_errors(f"copying to {ref}:{dest}"):
            if source is None:
                return _extract(root, target, dest, wopts, stream)  # type: ignore[arg-type]
            into, arcname = cp_paths.place(source, target, src, dest)
            writer = TreeWriter(root, target.real if into else target.parent, wopts)
            walker = Walker()
            _feed(writer, walker.tree(source.dir_fd, source.name, arcname))
            return walker.skipped + writer.skipped

    try:
        return CopyReport(with_rootfs(engine, rec, work))
    finally:
        if source is not None:
            source.close()


def _into_options(engine: Engine, archive: bool) -> WriteOptions:
    """Into a container, files belong to its root unless -a (rootless: we are its root already)."""
    rootless = engine.opts.rootless
    return WriteOptions(keep_ids=archive, ids=None if rootless else (0, 0), strict_ids=not rootless,
                        devices=os.geteuid() == 0 and not rootless)  # fmt: skip


def _extract(root: Root, target: cp_paths.Dest, dest: str, wopts: WriteOptions, stream: BinaryIO) -> list[str]:
    import tarfile

    if target.kind != "dir":
        raise InvalidArgument(f"extraction point {dest!r} must be an existing directory")
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
    dirs, overlay = _layer_dirs(engine, rec)
    fds: list[int] = []
    try:
        for d in dirs:
            fds.append(os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        with _os_errors(f"exporting {ref}"):
            write_items(Walker(overlay=overlay).merged(fds), out)
            out.flush()
    finally:
        for fd in fds:
            os.close(fd)
    ev.container(engine, rec, "export")


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
