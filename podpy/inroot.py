"""The one resolver of "a path inside a root": symlinks and `..` never leave the root directory.

Everything podpy does inside a tree it does not trust (a layer being extracted, a container's rootfs
while the runtime builds it, `cp`, copy-up, reading /etc/passwd of an image) goes through `Root`:
it hands out file descriptors, and the caller works with them (`dir_fd=`, `/proc/self/fd/N` for
mount(2)), never with a path string a symlink could redirect between check and use.

Resolution is what openat2(2) does with RESOLVE_IN_ROOT: an absolute symlink restarts at the root,
`..` stops there. The kernel does it where it has openat2 (5.6+); elsewhere, and where the caller
needs to know the path it reached (`ResolvedDir.real`), a walk does it one component at a time,
each opened O_NOFOLLOW relative to the previous one's descriptor.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from podpy.errors import UnsafeArchive
from podpy.record import record

MAX_SYMLINKS = 40  # the kernel's own limit for one lookup
_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_RETRIES = 8  # openat2 says EAGAIN when a rename raced the lookup
# None: not probed yet; False: the kernel has no openat2 (tests set it to force the walk)
openat2_ok: bool | None = None
# syscalls.RESOLVE_* (not imported at load: ctypes is only needed once a path is resolved)
_NO_MAGICLINKS = 0x02  # /proc/<pid>/root and friends would jump anywhere
_NO_SYMLINKS = 0x04


@record(frozen=True)
class ResolvedDir:
    """A directory inside a root, resolved without leaving it."""

    fd: int  # O_PATH descriptor: usable as dir_fd for every *at call
    real: tuple[str, ...]  # its path below the root with all symlinks resolved


def split(path: str | Sequence[str]) -> list[str]:
    """Components of a path (a string or already split), without empty and `.` ones."""
    parts = path.split("/") if isinstance(path, str) else path
    return [p for p in parts if p not in ("", ".")]


def clean_parts(name: str) -> tuple[str, ...]:
    """Lexically normalise an archive path; refuse one that climbs out with `..`."""
    out: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                raise UnsafeArchive(f"refusing {name!r}: path climbs out of the layer")
            out.pop()
            continue
        out.append(part)
    return tuple(out)


def _openat2(dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int | None:
    """openat2 with RESOLVE_IN_ROOT | `resolve`; None when the caller must walk instead."""
    global openat2_ok
    if openat2_ok is False:
        return None
    import podpy.runtime.syscalls as sc

    for _ in range(_RETRIES):
        try:
            fd = sc.openat2(dir_fd, path or ".", flags | os.O_CLOEXEC, mode, sc.RESOLVE_IN_ROOT | resolve)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                continue
            if e.errno == errno.ENOSYS:
                openat2_ok = False
                return None
            raise
        openat2_ok = True
        return fd
    return None


class Root:
    """A directory treated as `/`. Owns its O_PATH descriptor; use as a context manager."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Root:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- whole paths -----------------------------------------------------------------------------

    def open(self, path: str | Sequence[str], flags: int = os.O_PATH, mode: int = 0o644, *,
             follow: bool = True) -> int:  # fmt: skip
        """A descriptor for `path` (a final symlink followed inside the root when `follow`)."""
        parts = split(path)
        creating = flags & os.O_CREAT or flags & os.O_TMPFILE == os.O_TMPFILE
        how_mode = mode if creating else 0  # openat2 refuses a mode it would not use
        try:
            fd = _openat2(self.fd, "/".join(parts), flags | (0 if follow else os.O_NOFOLLOW), how_mode,
                          _NO_MAGICLINKS)  # fmt: skip
        except OSError as e:
            if e.errno != errno.ELOOP:  # ELOOP: a /proc magic link; the walk reads it as a plain link
                raise
            fd = None
        return fd if fd is not None else self._walk_open(parts, flags, mode, follow)

    def _walk_open(self, parts: list[str], flags: int, mode: int, follow: bool) -> int:
        for _ in range(MAX_SYMLINKS + 1):
            if not parts or parts[-1] == "..":
                with self._walked(parts, create=False) as d:
                    return os.open(".", flags | os.O_CLOEXEC, dir_fd=d.fd)
            with self._walked(parts[:-1], create=False) as d:
                name = parts[-1]
                try:
                    fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=d.fd)
                except OSError as e:
                    if e.errno not in (errno.ELOOP, errno.ENOTDIR) or not follow or not _is_link(d.fd, name):
                        raise
                    fd = -1
                if fd >= 0 and not (follow and stat.S_ISLNK(os.fstat(fd).st_mode)):
                    return fd  # O_PATH | O_NOFOLLOW opens a symlink itself
                if fd >= 0:
                    os.close(fd)
                parts = _link_parts(d, name)
        raise OSError(errno.ELOOP, "too many levels of symbolic links", "/".join(parts))

    def mkdirs(self, path: str | Sequence[str]) -> int:
        """An O_PATH descriptor of directory `path`, made (0755) with any missing parent."""
        return self.resolve_dir(split(path), create=True).fd

    def make_file(self, path: str | Sequence[str], mode: int = 0o644) -> int:
        """An O_PATH descriptor of `path`, an empty file made there if nothing is (a mount target)."""
        parts = split(path)
        if not parts:
            return os.dup(self.fd)
        try:
            return self.open(parts)
        except FileNotFoundError:
            pass
        for _ in range(MAX_SYMLINKS + 1):
            with self._walked(parts[:-1], create=True) as d:
                name = parts[-1]
                try:
                    flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                    os.close(os.open(name, flags, mode, dir_fd=d.fd))
                except OSError as e:  # a dangling symlink: make its target, inside the root
                    if e.errno != errno.ELOOP or not _is_link(d.fd, name):
                        raise
                    parts = _link_parts(d, name)
                    continue
                return os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=d.fd)
        raise OSError(errno.ELOOP, "too many levels of symbolic links", "/".join(parts))

    def read_text(self, path: str) -> str | None:
        """Text of the file `path`, None when missing or unreadable."""
        try:
            fd = self.open(path, os.O_RDONLY)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            try:
                return f.read().decode(errors="replace")
            except OSError:
                return None

    # ---- directories, with the path they resolved to ----------------------------------------------

    @contextmanager
    def dir(self, parts: Sequence[str], *, create: bool) -> Iterator[ResolvedDir]:
        """The directory `parts` (missing ones made 0755 when `create`, else FileNotFoundError)."""
        rd = self.resolve_dir(parts, create=create)
        try:
            yield rd
        finally:
            os.close(rd.fd)

    @contextmanager
    def _walked(self, parts: Sequence[str], *, create: bool) -> Iterator[ResolvedDir]:
        """Like `dir`, with OSError (ELOOP, ENOTDIR) for what resolve_dir calls an unsafe archive."""
        rd = self._walk_dir(parts, create)
        try:
            yield rd
        finally:
            os.close(rd.fd)

    def resolve_dir(self, parts: Sequence[str], *, create: bool) -> ResolvedDir:
        """Directory `parts` and its real path; UnsafeArchive for a non-directory or a loop on the way.
        openat2 answers when no symlink and no `..` is on the way; the walk does the rest."""
        clean = split(parts)
        if ".." not in clean:  # no `..` and no symlink on the way: the real path is the path itself
            try:
                fd = _openat2(self.fd, "/".join(clean), _DIR_FLAGS, 0, _NO_MAGICLINKS | _NO_SYMLINKS)
            except OSError:
                fd = None  # a symlink, a missing or odd component: the walk knows what to do
            if fd is not None:
                return ResolvedDir(fd, tuple(clean))
        try:
            return self._walk_dir(parts, create)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafeArchive(e.strerror) from None
            raise

    def _walk_dir(self, parts: Sequence[str], create: bool) -> ResolvedDir:
        stack: list[tuple[int, str]] = []
        todo = list(reversed(parts))
        links = 0
        try:
            while todo:
                name = todo.pop()
                if name in ("", "."):
                    continue
                if name == "..":
                    if stack:
                        os.close(stack.pop()[0])
                    continue
                cur = stack[-1][0] if stack else self.fd
                fd = self._step(cur, name, create, parts)
                if fd >= 0:
                    stack.append((fd, name))
                    continue
                links += 1
                if links > MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, f"{'/'.join(parts)}: too many levels of symbolic links")
                target = os.readlink(name, dir_fd=cur)
                if target.startswith("/"):
                    _close_all(stack)
                todo.extend(reversed(target.split("/")))
            real = tuple(n for _, n in stack)
            fd = stack.pop()[0] if stack else os.dup(self.fd)
            return ResolvedDir(fd, real)
        finally:
            _close_all(stack)

    def _step(self, cur: int, name: str, create: bool, parts: Sequence[str]) -> int:
        """Open directory `name` under `cur`; -1 when it is a symlink (the caller follows it)."""
        for _ in range(3):
            try:
                return os.open(name, _DIR_FLAGS, dir_fd=cur)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, 0o755, dir_fd=cur)
                    os.chmod(name, 0o755, dir_fd=cur)  # whatever the umask: it is part of the tree
                except FileExistsError:
                    pass
            except OSError as e:
                if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                if _is_link(cur, name):
                    return -1
                raise NotADirectoryError(
                    errno.ENOTDIR, f"refusing {'/'.join(parts)!r}: {name!r} on its way is not a directory"
                ) from None
        raise FileNotFoundError(name)


def walk_links(path: str, link_of: Callable[[tuple[str, ...]], str | None]) -> tuple[str, ...]:
    """The same resolution over a tree no descriptor can open (layer diffs read as one merged tree):
    `link_of(real)` gives the target of the symlink `real`, None for anything else, and raises
    FileNotFoundError when it does not exist. Returns the real path; OSError(ELOOP) on a loop."""
    todo = split(path)
    todo.reverse()
    done: list[str] = []
    links = 0
    while todo:
        part = todo.pop()
        if part == "..":
            if done:
                done.pop()
            continue
        target = link_of((*done, part))
        if target is None:
            done.append(part)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
        if target.startswith("/"):
            done = []
        todo.extend(reversed(split(target)))
    return tuple(done)


def read_inside(root: Path | str, path: str) -> str | None:
    """Text of `path` inside `root` (symlinks resolved inside), None when missing or unreadable."""
    try:
        with Root(root) as r:
            return r.read_text(path)
    except OSError:
        return None


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def _link_parts(d: ResolvedDir, name: str) -> list[str]:
    """Symlink `name` in `d` as a path from the root (absolute targets start at the root)."""
    target = os.readlink(name, dir_fd=d.fd)
    whole = target if target.startswith("/") else "/".join((*d.real, target))
    return split(whole)


def _close_all(stack: list[tuple[int, str]]) -> None:
    while stack:
        os.close(stack.pop()[0])
