"""Resolve a path inside a root directory the way the container will see it (symlinks stay inside)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

_MAX_LINKS = 255


def secure_join(root: Path, unsafe: str) -> Path:
    """`root`/`unsafe` with every symlink resolved as if `root` were `/`.

    A link to `/etc` or `../../etc` lands in `root/etc`, never on the host. Missing tail components are
    kept as they are (the caller creates them), so the result may not exist yet.
    """
    todo = [p for p in unsafe.split("/") if p]
    done: list[str] = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = os.path.join(root, *done, part)
        try:
            target = os.readlink(candidate)
        except OSError:  # not a link, or missing: keep the name as it is
            done.append(part)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, f"too many levels of symbolic links: {unsafe}")
        if target.startswith("/"):
            done = []
        todo = [p for p in target.split("/") if p] + todo
    return Path(root, *done)


def read_inside(root: Path, path: str) -> str | None:
    """Text of `path` inside `root` (symlinks resolved inside), None when missing or unreadable."""
    try:
        return secure_join(root, path).read_text(errors="replace")
    except OSError:
        return None
