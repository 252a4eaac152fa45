"""Resolve paths beneath a directory as if it were `/` (what openat2's RESOLVE_IN_ROOT does).

Every component is opened with O_NOFOLLOW relative to the previous one's descriptor. A symlink
met on the way is read and its target walked again from the root's descriptor (absolute) or the
current one (relative); `..` never climbs above the root. So whatever a layer puts in its tree,
writing through it lands inside the tree.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from podpy.errors import UnsafeArchive

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SYMLINKS = 40  # the kernel's own limit for one lookup


@dataclass(frozen=True)
class ResolvedDir:
    fd: int  # O_PATH descriptor: usable as dir_fd for every *at call
    real: tuple[str, ...]  # its path below the root with all symlinks resolved


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


class SafeRoot:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> SafeRoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def dir(self, parts: Sequence[str], *, create: bool) -> Iterator[ResolvedDir]:
        """The directory `parts` (missing ones made 0755 when `create`, else FileNotFoundError)."""
        rd = self.resolve_dir(parts, create=create)
        try:
            yield rd
        finally:
            os.close(rd.fd)

    def resolve_dir(self, parts: Sequence[str], *, create: bool) -> ResolvedDir:
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
                    raise UnsafeArchive(f"{'/'.join(parts)}: too many levels of symbolic links")
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
                    os.chmod(name, 0o755, dir_fd=cur)  # whatever the umask: it is part of the image
                except FileExistsError:
                    pass
            except OSError as e:
                if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                st = os.lstat(name, dir_fd=cur)
                if stat.S_ISLNK(st.st_mode):
                    return -1
                raise UnsafeArchive(
                    f"refusing {'/'.join(parts)!r}: {name!r} on its way is not a directory"
                ) from None
        raise FileNotFoundError(name)


def _close_all(stack: list[tuple[int, str]]) -> None:
    while stack:
        os.close(stack.pop()[0])
