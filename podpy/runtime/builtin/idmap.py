"""An ID-mapped rootfs for a user namespace root makes (--uidmap): a bundle whose config.json asks
for a user namespace (a new one with linux.uidMappings, or a pod's to join), run by root.

Every piece is ID-mapped with mount_setattr(MOUNT_ATTR_IDMAP) through a user namespace with the
container's mappings (made by a short-lived child that only unshares CLONE_NEWUSER; the mounts keep
it alive): for the overlay, clones (open_tree) of its lower layers under a detached overlay
(fsopen/fsmount; overlayfs itself cannot be ID-mapped), else a clone of root.path itself. The
result is a mount fd that the container's init attaches with move_mount in its own mount namespace
(built-in runtime), or that is attached on the host (external runtimes). Image files owned by 0
show as 0 inside; what the container writes lands in the upper dir with the host ids of the
mapping (commit maps them back). Everything here runs as host root, before any user namespace."""

from __future__ import annotations

import json
import os
from pathlib import Path

from podpy.errors import PodpyError
from podpy.record import field, record
from podpy.runtime import syscalls as sc
from podpy.runtime.builtin import namespaces

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

AT_FDCWD = -100


def _user_ns(cfg: dict[str, Any]) -> dict[str, Any] | None:
    linux = cfg.get("linux") or {}
    return next((ns for ns in linux.get("namespaces") or [] if ns.get("type") == "user"), None)


def wanted(cfg: dict[str, Any]) -> bool:
    """Root runs a bundle in a user namespace (a new one with mappings, or a pod's to join): its
    rootfs must be ID-mapped through it."""
    if os.geteuid() != 0:
        return False
    ns = _user_ns(cfg)
    return ns is not None and bool(ns.get("path") or (cfg.get("linux") or {}).get("uidMappings"))


def _open_userns(cfg: dict[str, Any]) -> int:
    """The user namespace to map through: the one to join, or a new one with the mappings."""
    path = (_user_ns(cfg) or {}).get("path")
    if path:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise PodpyError(f"opening user namespace {path}: {e.strerror}") from None
    linux = cfg.get("linux") or {}
    return userns_fd(linux.get("uidMappings") or [], linux.get("gidMappings") or [])


def userns_fd(uid_maps: list[dict[str, int]], gid_maps: list[dict[str, int]]) -> int:
    """An fd of a new user namespace with these mappings, from a child that exits right after."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(ready_r)
            os.close(done_w)
            sc.unshare(sc.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(done_r, 1)  # EOF once the parent holds the namespace
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(done_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise PodpyError(
                "ID-mapped rootfs: could not create a user namespace (unshare CLONE_NEWUSER failed)"
            )
        namespaces.write_id_maps(pid, uid_maps, gid_maps)
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_r)
        os.close(done_w)
        os.waitpid(pid, 0)


def _unescape(text: str) -> str:
    return text.replace("\\:", ":").replace("\\,", ",").replace("\\\\", "\\")


def _split(text: str, sep: str) -> list[str]:
    """Split on `sep` not escaped with a backslash (overlayfs' own rule)."""
    out, cur, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur += text[i : i + 2]
            i += 2
            continue
        if ch == sep:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    out.append(cur)
    return out


def _mapped_dir(path: str, ns: int) -> int:
    """A detached, ID-mapped clone of the directory `path`."""
    tree = sc.open_tree(AT_FDCWD, path, sc.OPEN_TREE_CLONE | sc.OPEN_TREE_CLOEXEC)
    try:
        sc.mount_setattr_idmap(tree, ns)
    except BaseException:
        os.close(tree)
        raise
    return tree


def _overlay(options: str, ns: int) -> int:
    """A detached overlay mount (fsopen/fsmount) over ID-mapped clones of its lower layers (overlayfs
    itself cannot be ID-mapped; its layers can, Linux 5.19), each given by itself ("lowerdir+", 6.8).
    The upper dir is not mapped: the container's files land there with the host ids of the mapping."""
    fs = sc.fsopen("overlay")
    lowers: list[int] = []
    try:
        for opt in _split(options, ","):
            key, eq, value = opt.partition("=")
            if not eq:
                sc.fsconfig(fs, sc.FSCONFIG_SET_FLAG, key)
                continue
            if key in ("lowerdir", "upperdir", "workdir"):
                paths = (
                    [_unescape(p) for p in _split(value, ":")] if key == "lowerdir" else [_unescape(value)]
                )
                if not all(os.path.isabs(p) for p in paths):
                    raise PodpyError(
                        "ID-mapped rootfs: the overlay options use relative paths (too many layers)"
                    )
                for p in paths:
                    if key == "lowerdir":
                        lowers.append(_mapped_dir(p, ns))
                        sc.fsconfig(fs, sc.FSCONFIG_SET_STRING, "lowerdir+", f"/proc/self/fd/{lowers[-1]}")
                    else:
                        sc.fsconfig(fs, sc.FSCONFIG_SET_STRING, key, p)
            else:
                sc.fsconfig(fs, sc.FSCONFIG_SET_STRING, key, value)
        sc.fsconfig(fs, sc.FSCONFIG_CMD_CREATE)
        return sc.fsmount(fs)
    finally:
        for fd in (fs, *lowers):
            os.close(fd)


def _rootfs_tree(root: Path, annotation: str | None, ns: int) -> int:
    if annotation:
        m = json.loads(annotation)
        if m.get("type", "overlay") != "overlay":
            raise PodpyError(f"ID-mapped rootfs: unsupported rootfs mount type {m.get('type')!r}")
        return _overlay(m.get("options") or "", ns)
    return _mapped_dir(str(root), ns)


def _refused(e: OSError) -> PodpyError:
    return PodpyError(
        f"--uidmap/--gidmap need an ID-mapped rootfs, which this kernel or filesystem refuses "
        f"({e.strerror}; Linux 5.12+, overlay 6.8+)"
    )


def detached_root(cfg: dict[str, Any], root: Path, annotation: str | None) -> int:
    """The container's rootfs as a detached mount fd (close-on-exec) whose files show their owners
    through the container's mappings. A clear error when the kernel or the filesystem refuses an
    ID-mapped mount: never a rootfs with the wrong owners."""
    ns = _open_userns(cfg)
    try:
        return _rootfs_tree(root, annotation, ns)
    except OSError as e:
        raise _refused(e) from None
    finally:
        os.close(ns)


@record
class Trees:
    """What the built-in runtime's launcher prepares as host root for the init to attach."""

    root: int
    binds: dict[int, int] = field(default_factory=dict)  # index in config.json mounts -> mount fd

    def fds(self) -> list[int]:
        return [self.root, *self.binds.values()]


def _is_idmapped_bind(m: dict[str, Any]) -> bool:
    return "idmap" in (m.get("options") or []) and bool(m.get("source"))


def prepare(cfg: dict[str, Any], bundle: Path, root: Path, annotation: str | None) -> Trees:
    """The ID-mapped rootfs, and an ID-mapped clone of the source of each bind mount with the
    `idmap` option (Podman's -v SRC:DST:idmap: the host's owners appear unshifted inside)."""
    ns = _open_userns(cfg)
    trees = Trees(-1)
    try:
        trees.root = _rootfs_tree(root, annotation, ns)
        for i, m in enumerate(cfg.get("mounts") or []):
            if _is_idmapped_bind(m):
                src = m["source"] if os.path.isabs(m["source"]) else str(bundle / m["source"])
                rec = "rbind" in (m.get("options") or [])
                flags = sc.OPEN_TREE_CLONE | sc.OPEN_TREE_CLOEXEC | (sc.AT_RECURSIVE if rec else 0)
                try:
                    tree = sc.open_tree(AT_FDCWD, src, flags)
                except OSError as e:
                    raise PodpyError(f'mounting "{m["source"]}" (idmap): {e.strerror}') from None
                trees.binds[i] = tree
                try:
                    sc.mount_setattr_idmap(tree, ns, rec)
                except OSError as e:
                    raise PodpyError(f'ID-mapped mount of "{m["source"]}" refused: {e.strerror}') from None
    except OSError as e:
        for fd in trees.fds():
            if fd >= 0:
                os.close(fd)
        raise _refused(e) from None
    except BaseException:
        for fd in trees.fds():
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        os.close(ns)
    return trees


def attach(tree: int, target: str | Path) -> None:
    """Mount the detached `tree` on `target` (in the caller's mount namespace)."""
    try:
        sc.move_mount(tree, "", AT_FDCWD, str(target), sc.MOVE_MOUNT_F_EMPTY_PATH)
    except OSError as e:
        raise PodpyError(f"attaching the ID-mapped rootfs on {target}: {e.strerror}") from None


def become_root() -> None:
    """In the container's user namespace, before the rootfs is filled: act as its root (the host id
    mapped to 0) so that files made on the rootfs and the fresh tmpfs have an owner there (runc too)."""
    try:
        os.setgroups([])
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
    except OSError as e:
        raise PodpyError(
            f"switching to the user namespace's root: {e.strerror} (are uid and gid 0 mapped?)"
        ) from None


TREE_KEY = "podpy.tree"  # a mount entry to attach from this detached mount fd (mounts.mount_entry)


def pin_sources(
    mounts: list[dict[str, Any]], bundle: Path, binds: dict[int, int]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Bind sources opened now (O_PATH, as host root) and named /proc/self/fd/N: the user namespace's
    root may not be able to walk to them (a 0700 store directory), the descriptor needs no walk.
    An `idmap` bind gets its prepared mount fd instead."""
    out, fds = [], []
    for i, m in enumerate(mounts):
        opts = m.get("options") or []
        source = m.get("source") or ""
        if i in binds:
            out.append({**m, TREE_KEY: binds[i]})
            continue
        if (m.get("type") == "bind" or "bind" in opts or "rbind" in opts) and source:
            path = source if os.path.isabs(source) else str(bundle / source)
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                out.append(m)  # the mount reports it
                continue
            fds.append(fd)
            m = {**m, "source": f"/proc/self/fd/{fd}", "podpy.source": source}  # the latter for messages
        out.append(m)
    return out, fds


def attach_external(cfg: dict[str, Any], root: Path, annotation: str | None, bundle: Path) -> None:
    """For an external runtime (runc, crun): the ID-mapped rootfs mounted on `root` on the host, and
    the directories above it and the bundle made searchable (o+x) for the container's root, which
    the runtime becomes before it mounts anything (Podman's makeAccessible does the same)."""
    if any(_is_idmapped_bind(m) for m in cfg.get("mounts") or []):
        raise PodpyError("volumes with the idmap option need the built-in runtime")
    tree = detached_root(cfg, root, annotation)
    try:
        attach(tree, root)
    finally:
        os.close(tree)
    for path in (root, Path(bundle)):
        make_searchable(Path(path).absolute().parent)
    make_searchable(Path(bundle).absolute())


def make_searchable(path: Path) -> None:
    """Add the search bit for others on `path` and each parent that lacks it."""
    for d in (path, *path.parents):
        try:
            st = os.stat(d)
            if not st.st_mode & 0o001:
                os.chmod(d, (st.st_mode & 0o7777) | 0o001)
        except OSError:
            continue
