"""COPY/ADD into a step container's root: Docker's destination rules, --chown (names looked up in the
stage's own /etc/passwd and /etc/group, read inside the root), --chmod, heredoc sources, and ADD's
auto-extraction of local archives. Every write goes through TreeWriter, so neither the context nor
a symlink in the image can make it land outside the root. Runs in the forked child of write_into.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.build.chmodspec import ModeFn, mode_function
from podpy.build.copysources import SourceMatch
from podpy.errors import InvalidArgument, UnsafeArchive
from podpy.inroot import Root, clean_parts
from podpy.storage.treesource import Walker
from podpy.storage.treewrite import TreeWriter, WriteOptions
from podpy.storage.userns import Owner

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass
class CopyJob:
    """Everything the child needs: plain values (the parent resolved the sources)."""

    context: str
    matches: list[SourceMatch]
    dest: str  # absolute, a trailing slash kept
    contents: list[tuple[str, bytes]] = field(default_factory=list)  # heredoc sources
    chown: str | None = None
    chmod: str | None = None
    unpack: bool = False  # ADD: extract local tar archives
    wildcard: bool = False
    rootless: bool = False  # other owners cannot be set here (a single-id namespace)
    defer_ids: bool = False  # rootless with subordinate ids: owners returned, set from the mapping
    keep: list[str] | None = None  # --parents: per match, the source path kept below dest


def run_copy(root: Root, job: CopyJob) -> list[list[Any]]:
    """Copy; with `defer_ids` the non-root owners to set afterwards, as [parts, uid, gid, mode]."""
    ids = resolve_owner(root, job.chown) if job.chown else (0, 0)
    strict = os.geteuid() == 0 and not job.rootless  # rootless: ownership collapses, as in layer extraction
    wopts = WriteOptions(keep_ids=False, ids=ids, strict_ids=strict, devices=strict, defer_ids=job.defer_ids)
    mode = mode_function(job.chmod) if job.chmod else None
    many = len(job.matches) + len(job.contents) > 1 or job.wildcard
    into_dir = job.dest.endswith("/") or many or _is_dir(root, job.dest)
    dest_parts = clean_parts(job.dest)
    owners: list[Owner] = []
    for i, m in enumerate(job.matches):
        is_dir = stat.S_ISDIR(m.st.st_mode)
        if job.keep is not None:  # --parents: dest is a directory, the source's path recreated in it
            kept = clean_parts(job.keep[i])
            prefix, arc = (dest_parts + kept, "") if is_dir or not kept else (dest_parts + kept[:-1], kept[-1])
        elif is_dir or into_dir:
            prefix, arc = dest_parts, "" if is_dir else posixpath.basename(m.path)
        else:
            prefix, arc = dest_parts[:-1], dest_parts[-1] if dest_parts else ""
        if job.unpack and not is_dir and _is_archive(Path(job.context) / m.path):
            owners += _extract(root, dest_parts, Path(job.context) / m.path, wopts)
            continue
        owners += _copy_tree(root, prefix, Path(job.context), m, arc, wopts, mode)
    for name, data in job.contents:
        prefix, arc = (dest_parts, name) if into_dir else (dest_parts[:-1], dest_parts[-1])
        ti = tarfile.TarInfo(arc)
        ti.size, ti.mode, ti.mtime = len(data), mode(0o644, False) if mode is not None else 0o644, 0
        writer = _writer(root, prefix, wopts)
        writer.put(ti, io.BytesIO(data))
        owners += writer.owners
    return [[list(o.parts), o.uid, o.gid, o.mode] for o in owners]


def _writer(root: Root, prefix: tuple[str, ...], wopts: WriteOptions) -> TreeWriter:
    d = root.resolve_dir(prefix, create=True)
    os.close(d.fd)
    return TreeWriter(root, d.real, wopts)


def _is_dir(root: Root, dest: str) -> bool:
    parts = clean_parts(dest)
    if not parts:
        return True
    try:
        d = root.resolve_dir(parts, create=False)
    except (FileNotFoundError, NotADirectoryError, OSError):
        return False
    os.close(d.fd)
    return True


def _copy_tree(root: Root, prefix: tuple[str, ...], context: Path, m: SourceMatch, arc: str,
               wopts: WriteOptions, mode: ModeFn | None) -> list[Owner]:  # fmt: skip
    real = Path(os.path.realpath(context / m.path)) if m.path else context
    parent_fd = os.open(real.parent if m.path else real, _DIR)
    name = real.name if m.path else "."
    allowed = {rel for rel, _ in m.entries}
    writer = _writer(root, prefix, wopts)
    walker = Walker()
    try:
        for item in walker.tree(parent_fd, name, arc):
            rel = item.info.name[len(arc):].lstrip("/") if arc else item.info.name
            if stat.S_ISDIR(m.st.st_mode) and rel and rel not in allowed:
                continue  # .dockerignore'd or --exclude'd
            if mode is not None:
                item.info.mode = mode(item.info.mode, item.info.isdir())
            if item.info.isreg() and item.info.size:
                with item.open() as data:
                    writer.put(item.info, data)  # type: ignore[arg-type]
            else:
                writer.put(item.info, None)
        writer.finish()
    finally:
        os.close(parent_fd)
    return writer.owners


def _is_archive(path: Path) -> bool:
    from podpy.storage.compress import open_decompressed

    try:
        with open(path, "rb") as f:
            stream, _ = open_decompressed(f)
            with stream:
                head = stream.read(512)
    except (OSError, ValueError, EOFError):
        return False
    if len(head) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
    except tarfile.TarError:
        return False
    return True


def _extract(root: Root, dest: tuple[str, ...], path: Path, wopts: WriteOptions) -> list[Owner]:
    from podpy.storage.compress import open_decompressed

    writer = _writer(root, dest, WriteOptions(keep_ids=True, strict_ids=wopts.strict_ids, devices=wopts.devices,
                                              defer_ids=wopts.defer_ids))  # fmt: skip
    with open(path, "rb") as f:
        stream, _ = open_decompressed(f)
        with stream, tarfile.open(fileobj=stream, mode="r|") as tf:
            for member in tf:
                writer.put(member, tf.extractfile(member) if member.isreg() else None)
                tf.members.clear()
    writer.finish()
    return writer.owners


def resolve_owner(root: Root, spec: str) -> tuple[int, int]:
    """`user[:group]` by name or number; names looked up in the root's own /etc files."""
    user, _, group = spec.partition(":")
    if user.isdecimal():
        uid = gid = int(user)
    else:
        cols = _entry(root, "passwd", user)
        uid, gid = int(cols[2]), int(cols[3])
    if group:
        gid = int(group) if group.isdecimal() else int(_entry(root, "group", group)[2])
    return uid, gid


def _entry(root: Root, db: str, name: str) -> list[str]:
    for line in _read_etc(root, db).splitlines():
        cols = line.split(":")
        if len(cols) > 3 and cols[0] == name and cols[2].isdecimal() and cols[3 if db == "passwd" else 2].isdecimal():
            return cols
    kind = "user" if db == "passwd" else "group"
    raise InvalidArgument(f"unable to find {kind} {name}: no matching entries in {db} file")


def _read_etc(root: Root, name: str) -> str:
    try:
        with root.dir(("etc",), create=False) as d:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=d.fd)
    except (OSError, UnsafeArchive):  # no such file, or a symlink loop: no names to resolve
        return ""
    with open(fd, encoding="utf-8", errors="replace") as f:
        return f.read(1 << 20)
