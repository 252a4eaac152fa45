"""A container's filesystem as the container sees it (its rootfs plus its volumes), for `cp`.

Running: `/proc/<pid>/root` of its init is a handle on its root in its own mount namespace, with
every volume and mount it has; the descriptor pins that view even if the container exits
meanwhile. Nothing is mounted and nothing joins a namespace: the walk stays in-process.

Stopped (or created): a forked child takes a private mount namespace (a user namespace too when
rootless), mounts the rootfs and binds the container's volumes on a scratch directory, and does
the work there. The mounts are invisible to the host and vanish with the child, even if it is
killed; the container lock is held meanwhile, so `start` cannot mount the same upper dir at once.

Either way the caller's function gets a Root and must resolve every path through it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from podpy import errors
from podpy.engine import container_record as cr
from podpy.errors import ContainerState, PodpyError
from podpy.inroot import Root
from podpy.storage.fsutil import proc_fd_path

if TYPE_CHECKING:
    from podpy.engine.core import Engine

T = TypeVar("T")
# kernel filesystems a running container has mounted: cp shows their mount points, not their content
PSEUDO_FS = frozenset({"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs",
                       "securityfs", "bpf", "configfs", "fusectl", "pstore", "binfmt_misc"})  # fmt: skip


@dataclass(frozen=True)
class View:
    root: Root
    pseudo_devs: frozenset[int] = frozenset()  # st_dev of those kernel filesystems


def with_rootfs(engine: Engine, rec: cr.ContainerRecord, fn: Callable[[View], T]) -> T:
    """Run `fn` on the container's filesystem view (see the module doc)."""
    svc = engine.containers
    from podpy.engine.fsview_mapped import rootless_maps

    mapped = rootless_maps(engine, rec)
    for _ in range(5):  # a container starting or stopping under us: look again
        if _alive(rec) and mapped is not None:  # as its root, in its user namespace
            return run_forked(lambda r=rec: _in_container_userns(r, fn))  # type: ignore[misc]
        if _alive(rec):
            root = _proc_root(rec)
            if root is not None:
                with root:
                    return fn(View(root, _pseudo_devs(rec.state.pid)))
        with svc.lock(rec.id):
            rec = cr.load(svc.cdir(rec.id))
            if not _alive(rec):
                return _stopped(engine, rec, fn)
    raise ContainerState(f"container {rec.short_id} keeps changing state: try again")


def _alive(rec: cr.ContainerRecord) -> bool:
    """Its init runs (running, or paused: then too its rootfs must not be mounted a second time)."""
    return cr.alive(rec.state.pid, rec.state.pid_start)


def _proc_root(rec: cr.ContainerRecord) -> Root | None:
    """The init's root directory, if that init (same pid and start time) is still alive."""
    try:
        root = Root(Path(f"/proc/{rec.state.pid}/root"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    except PermissionError:
        raise PodpyError(
            f"cannot reach the filesystem of container {rec.short_id}: permission denied"
        ) from None
    if not cr.alive(rec.state.pid, rec.state.pid_start):  # the pid was reused before we opened it
        root.close()
        return None
    return root


def _pseudo_devs(pid: int) -> frozenset[int]:
    """Device numbers of the kernel filesystems mounted in the container's mount namespace."""
    out = set()
    try:
        with open(f"/proc/{pid}/mountinfo") as f:
            for line in f:
                fields, _, rest = line.partition(" - ")
                major, _, minor = fields.split()[2].partition(":")
                if rest.split(" ", 1)[0] in PSEUDO_FS:
                    out.add(os.makedev(int(major), int(minor)))
    except (OSError, ValueError, IndexError):
        pass
    return frozenset(out)


def _stopped(engine: Engine, rec: cr.ContainerRecord, fn: Callable[[View], T]) -> T:
    run_dir = engine.containers.run_dir(rec.id)
    run_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="view-", dir=run_dir))
    try:
        return run_forked(lambda: _in_private_view(engine, rec, scratch, fn))
    finally:
        try:
            scratch.rmdir()
        except OSError:
            pass


def _in_private_view(engine: Engine, rec: cr.ContainerRecord, target: Path, fn: Callable[[View], T]) -> T:
    """In the forked child: mount the view on `target` privately, then run `fn` on it."""
    from podpy.runtime import syscalls as sc

    rootless = engine.opts.rootless  # asked before: in our own user namespace we look like root
    driver = None if rec.rootfs else engine.containers.storage_driver  # it records `rootless` now
    from podpy.engine import fsview_mapped

    maps = fsview_mapped.rootless_maps(engine, rec) if rootless else None
    if maps is not None:
        fsview_mapped.enter_namespace(sc, *maps)
    elif rootless:
        _own_user_namespace(sc)
    else:
        sc.unshare(sc.CLONE_NEWNS)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)  # nothing we mount propagates to the host
    if rec.rootfs:
        sc.mount(rec.rootfs, target, None, sc.MS_BIND | sc.MS_REC)
    else:
        driver.mount(rec.id, rec.top_layer, target)  # type: ignore[union-attr]
    with Root(target) as root:
        for m in rec.spec.get("mounts") or []:
            if m.get("type") == "bind" and m.get("source"):
                _bind(sc, root, m)
        if rec.spec.get("read_only"):  # --read-only: cp may read the rootfs, not write (volumes: their own)
            sc.mount(None, target, None, sc.MS_REMOUNT | sc.MS_BIND | sc.MS_RDONLY)
        return fn(View(root))


def _own_user_namespace(sc: Any) -> None:
    """Rootless: a user namespace where we are root (our own id only), to be allowed to mount."""
    uid, gid = os.getuid(), os.getgid()
    sc.unshare(sc.CLONE_NEWUSER | sc.CLONE_NEWNS)
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _in_container_userns(rec: cr.ContainerRecord, fn: Callable[[View], T]) -> T:
    """In a forked child: join the running container's user namespace as its root, then work on
    its init's root directory (its caps there cover every id the container has)."""
    from podpy.runtime import syscalls as sc

    try:
        fd = os.open(f"/proc/{rec.state.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise PodpyError(f"cannot reach the user namespace of container {rec.short_id}: {e.strerror}") from None
    try:
        sc.setns(fd, sc.CLONE_NEWUSER)
    finally:
        os.close(fd)
    from podpy.engine.fsview_mapped import as_root

    as_root()
    root = _proc_root(rec)
    if root is None:
        raise ContainerState(f"container {rec.short_id} stopped meanwhile: try again")
    with root:
        return fn(View(root, _pseudo_devs(rec.state.pid)))


def _bind(sc: Any, root: Root, m: dict[str, Any]) -> None:
    """Bind a volume or host directory at its destination, resolved inside the view."""
    try:
        is_dir = os.path.isdir(m["source"])
    except OSError:
        return
    parts = [p for p in str(m.get("destination") or "").split("/") if p]
    if not parts or not os.path.exists(m["source"]):
        return
    if is_dir:
        with root.dir(parts, create=True) as d:
            sc.mount(m["source"], proc_fd_path(d.fd), None, sc.MS_BIND | sc.MS_REC)
    else:
        with root.dir(parts[:-1], create=True) as d:
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(parts[-1], flags, 0o644, dir_fd=d.fd))
            fd = os.open(parts[-1], os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=d.fd)
            try:
                sc.mount(m["source"], proc_fd_path(fd), None, sc.MS_BIND | sc.MS_REC)
            finally:
                os.close(fd)
    if "ro" in (m.get("options") or []):
        _remount_ro(sc, root, parts)


def _remount_ro(sc: Any, root: Root, parts: list[str]) -> None:
    """Looked up again: the new descriptor is the bind mount's root, which remount needs."""
    with root.dir(parts[:-1], create=False) as d:
        fd = os.open(parts[-1], os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=d.fd)
        try:
            sc.mount(None, proc_fd_path(fd), None, sc.MS_REMOUNT | sc.MS_BIND | sc.MS_RDONLY)
        finally:
            os.close(fd)


# --- fork and report back ------------------------------------------------------------------------


def run_forked(fn: Callable[[], T]) -> T:
    """`fn()` in a forked child; its JSON result is returned, its PodpyError/OSError re-raised here."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        _child(fn, w)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as f:
        while chunk := f.read(65536):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        code = os.waitstatus_to_exitcode(status)
        raise PodpyError(f"the copy process died unexpectedly (status {code})")
    return _outcome(json.loads(b"".join(chunks)))


def _child(fn: Callable[[], Any], w: int) -> None:  # pragma: no cover - runs in the child
    try:
        msg: dict[str, Any] = {"ok": fn()}
    except PodpyError as e:
        msg = {"error": type(e).__name__, "message": str(e), "code": e.exit_code}
    except OSError as e:
        msg = {"errno": e.errno, "message": e.strerror or str(e), "filename": e.filename}
    except BaseException as e:  # noqa: BLE001 - whatever happens, the parent hears of it
        msg = {"error": "PodpyError", "message": f"internal error: {type(e).__name__}: {e}", "code": 125}
    try:
        try:
            sys.stdout.flush()
        except OSError:
            pass  # a reader that went away (a closed pipe): the result still goes back
        data = json.dumps(msg).encode()
        while data:
            data = data[os.write(w, data) :]
    finally:
        os._exit(0)


def _outcome(msg: dict[str, Any]) -> Any:
    if "ok" in msg:
        return msg["ok"]
    if "errno" in msg:
        raise OSError(msg["errno"], msg["message"], msg.get("filename"))
    cls = getattr(errors, str(msg.get("error")), None)
    if not (isinstance(cls, type) and issubclass(cls, PodpyError)):
        cls = PodpyError
    err = cls.__new__(cls)  # the message is already formatted: skip the class's own __init__
    Exception.__init__(err, msg.get("message", ""))
    err.exit_code = int(msg.get("code", 125))
    raise err
