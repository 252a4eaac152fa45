"""`cp` path rules: resolving sources and destinations, and Docker's placement rules.

Paths in a container are resolved through Root (symlinks inside the container's root, never
the host's). Host paths are the user's own and resolve normally.

Docker's rules (SRC → DEST):
  file → missing DEST: a file named DEST; DEST/ (missing): error, the directory must exist;
         existing file: overwritten; existing directory: DEST/basename(SRC)
  dir  → missing DEST: DEST is created with SRC's content; existing file: error;
         existing directory: DEST/basename(SRC), or with SRC/. only SRC's content into DEST
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from podpy.errors import InvalidArgument, NoSuchFile, UnsafeArchive
from podpy.inroot import MAX_SYMLINKS, ResolvedDir, Root
from podpy.storage.treesource import lstat_at

CONTENTS = "."  # Source.base of SRC/. : only what is inside the directory


@dataclass
class Source:
    dir_fd: int  # the directory holding the entry (ours to close)
    name: str  # the entry in it; "." for the directory itself
    is_dir: bool
    base: str  # the name the copy gets by default, or CONTENTS

    def close(self) -> None:
        if self.dir_fd >= 0:
            os.close(self.dir_fd)
            self.dir_fd = -1


@dataclass(frozen=True)
class Dest:
    parent: tuple[str, ...]  # real path of the directory holding it (container) / unused (host)
    name: str | None  # None: the root directory itself
    kind: str | None  # "dir", "file" or None (missing)
    dir_hint: bool  # written with a trailing / or /.

    @property
    def real(self) -> tuple[str, ...]:
        return self.parent if self.name is None else (*self.parent, self.name)


def split(path: str) -> tuple[list[str], bool, bool]:
    """(components, written as a directory (trailing / or /.), SRC/. (contents only))."""
    contents = path in (".", "/.") or path.endswith("/.")
    hint = contents or path.endswith("/")
    return [p for p in path.split("/") if p and p != "."], hint, contents


def _lexical_base(parts: list[str], real: tuple[str, ...]) -> str:
    if parts and parts[-1] != "..":
        return parts[-1]
    return real[-1] if real else CONTENTS


def container_source(root: Root, path: str, follow: bool) -> Source:
    """The entry `path` names in the container (FileNotFoundError if none). Without `follow`,
    a symlink is copied as a symlink unless the path ends with / (then its target directory)."""
    parts, hint, contents = split(path)
    base = ""
    for _ in range(MAX_SYMLINKS):
        if not parts or hint or parts[-1] == "..":
            d = _resolve_dir(root, parts)
            src_base = CONTENTS if contents else (base or _lexical_base(parts, d.real))
            return Source(d.fd, ".", True, src_base)
        d = _resolve_dir(root, parts[:-1])
        base = base or parts[-1]
        st = lstat_at(d.fd, parts[-1])
        if st is None:
            os.close(d.fd)
            raise FileNotFoundError(path)
        if not (follow and stat.S_ISLNK(st.st_mode)):
            return Source(d.fd, parts[-1], stat.S_ISDIR(st.st_mode), base)
        parts = _link_parts(d, parts[-1])
    raise FileNotFoundError(path)  # a symlink loop


def _resolve_dir(root: Root, parts: list[str]) -> ResolvedDir:
    try:
        return root.resolve_dir(parts, create=False)
    except UnsafeArchive:  # a file on the way, or a symlink loop
        raise FileNotFoundError("/".join(parts)) from None


def _link_parts(d: ResolvedDir, name: str) -> list[str]:
    """The components of symlink `name` in `d`, as a path from the container's root."""
    try:
        target = os.readlink(name, dir_fd=d.fd)
    finally:
        os.close(d.fd)
    whole = target if target.startswith("/") else "/".join((*d.real, target))
    return [p for p in whole.split("/") if p and p != "."]


def container_dest(root: Root, path: str) -> Dest:
    """What `path` names in the container, symlinks followed inside it (the parent must exist)."""
    parts, hint, _ = split(path)
    for _ in range(MAX_SYMLINKS):
        if not parts or parts[-1] == "..":
            d = _resolve_dir(root, parts)
            os.close(d.fd)
            return Dest(d.real, None, "dir", hint)
        d = _resolve_dir(root, parts[:-1])
        st = lstat_at(d.fd, parts[-1])
        if st is not None and stat.S_ISLNK(st.st_mode):
            parts = _link_parts(d, parts[-1])
            continue
        os.close(d.fd)
        kind = None if st is None else "dir" if stat.S_ISDIR(st.st_mode) else "file"
        return Dest(d.real, parts[-1], kind, hint)
    raise FileNotFoundError(path)


def host_source(path: str, follow: bool) -> Source:
    """A host path (OSError if missing): symlinks on the way are the host's, as with any cp."""
    parts, hint, contents = split(path)
    if hint or not parts or parts[-1] == "..":
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        real = tuple(p for p in os.path.realpath(path).split("/") if p)
        return Source(fd, ".", True, CONTENTS if contents else _lexical_base(parts, real))
    target = os.path.realpath(path) if follow else os.path.abspath(path)
    st = os.lstat(target)
    parent, name = os.path.split(target)
    fd = os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return Source(fd, name or ".", stat.S_ISDIR(st.st_mode), parts[-1])


def host_dest(path: str) -> Dest:
    """A host destination: its kind (symlinks followed) and name; its parent must exist."""
    parts, hint, _ = split(path)
    try:
        st = os.stat(path)
        kind: str | None = "dir" if stat.S_ISDIR(st.st_mode) else "file"
    except FileNotFoundError:
        kind = None
    except NotADirectoryError:
        raise NoSuchFile(f'"{path}" could not be found on the host: stat {path}: not a directory') from None
    if kind is None and not os.path.isdir(os.path.dirname(os.path.abspath(path.rstrip("/")) or "/")):
        raise NoSuchFile(f'"{path}" could not be found on the host: no such file or directory')
    return Dest((), parts[-1] if parts else None, kind, hint)


def place(src: Source, dest: Dest, src_path: str, dest_path: str, where: str = "the host") -> tuple[bool, str]:
    """(write into DEST itself rather than its parent, name of the copy's top entry there).
    Errors in Podman's words; `where` is "the host" or "container NAME"."""
    if dest.kind == "dir":
        return True, src.base
    if dest.kind == "file":
        if src.is_dir:
            raise InvalidArgument("destination must be a directory when copying a directory")
        if dest.dir_hint:
            raise NoSuchFile(f'"{dest_path}" could not be found on {where}: not a directory')
        return False, str(dest.name)
    if dest.dir_hint and not src.is_dir:
        raise NoSuchFile(f'"{dest_path}" could not be found on {where}: no such file or directory')
    if src.base == CONTENTS and not src.is_dir:
        raise InvalidArgument(f"{src_path}: not a directory")
    return False, str(dest.name)
