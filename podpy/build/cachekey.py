"""Explicit cache keys: one value per build step, hashed to a digest the layer cache is indexed by.

A key holds everything that decides the step's result: the parent (the base image ID for a stage's
first step, else the previous step's key), the instruction as history records it (expanded, with the
stage's ARGs for RUN), the build-time environment RUN sees, options that change the result (mounts,
network, --from images, --link/--exclude), and for COPY/ADD a digest of the copied files' contents and
metadata (type, permission bits, symlink target; not mtime or owner, as BuildKit's content hash).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from podpy.build import instructions as ins
from podpy.build.copysources import SourceMatch, resolve_sources
from podpy.build.digestmemo import DigestMemo
from podpy.build.dockerignore import Matcher
from podpy.build.expand import StageScope
from podpy.build.history import created_by
from podpy.build.smallhash import sha256
from podpy.record import field, record

VERSION = 1


@record(frozen=True, lean_init=True)
class CacheKey:
    parent: str
    instruction: str
    env: tuple[str, ...] = ()
    workdir: str = "/"
    platform: str = ""
    content: str = ""
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    version: int = VERSION

    def canonical(self) -> str:
        fields = {n: getattr(self, n) for n in self.__record_fields__}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def digest(self) -> str:
        return "sha256:" + sha256(self.canonical().encode()).hexdigest()


def _file_digest(path: Path) -> str:
    import hashlib  # OpenSSL's SHA-256 for file contents: only when a file is read (not remembered)

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _entry_record(name: str, st: os.stat_result, full: Path, memo: DigestMemo | None = None) -> str:
    mode = st.st_mode
    perm = f"{stat.S_IMODE(mode):04o}"
    if stat.S_ISREG(mode):
        digest = memo.digest(full, st, _file_digest) if memo is not None else _file_digest(full)
        return f"f {perm} {digest} {name}"
    if stat.S_ISDIR(mode):
        return f"d {perm} {name}"
    if stat.S_ISLNK(mode):
        return f"l {perm} {os.readlink(full)} {name}"
    kind = "c" if stat.S_ISCHR(mode) else "b" if stat.S_ISBLK(mode) else "p" if stat.S_ISFIFO(mode) else "s"
    rdev = f"{os.major(st.st_rdev)},{os.minor(st.st_rdev)}" if kind in "cb" else ""
    return f"{kind} {perm} {rdev} {name}"


def digest_matches(context: Path, matches: list[SourceMatch], memo: DigestMemo | None = None) -> str:
    """One digest over every matched source and, for directories, every included entry under it
    (file digests through `memo` when given: unchanged files are not read again)."""
    h = sha256()
    for m in matches:
        top = context / m.path if m.path else context
        h.update(("source " + _entry_record(m.path or ".", m.st, top.resolve(), memo) + "\n").encode())
        base = top.resolve()
        for rel, st in m.entries:
            h.update((_entry_record(rel, st, base / rel, memo) + "\n").encode())
    return "sha256:" + h.hexdigest()


def content_digest(context: Path, inst: ins.Copy, ignore: Matcher, memo: DigestMemo | None = None) -> str:
    """The content part of a COPY/ADD key from the build context (URL sources are keyed by the URL
    and --checksum; a --from source by the executor, with the source image ID in `options`)."""
    local = [s for s in inst.sources if not _is_url(s)]
    digest = digest_matches(context, resolve_sources(context, local, ignore, inst.exclude), memo) if local else ""
    if inst.contents:
        h = sha256(digest.encode())
        for c in inst.contents:
            h.update(f"heredoc {c.path} {len(c.data)}\n".encode() + c.data.encode())
        digest = "sha256:" + h.hexdigest()
    return digest


def _is_url(src: str) -> bool:
    return src.startswith(("http://", "https://", "git@")) or src.endswith(".git") and "://" in src


def _options(inst: ins.Instruction, scope: StageScope, sources: dict[str, str]) -> list[tuple[str, str]]:
    opts: list[tuple[str, str]] = []
    if isinstance(inst, ins.Run):
        for m in scope.mounts(inst):
            opts.append(("mount", json.dumps(m.to_dict(), sort_keys=True)))
            if m.from_:
                opts.append(("mount-from", sources.get(m.from_, m.from_)))
        opts += [("network", inst.network or ""), ("security", inst.security or "")]
        opts += [("heredoc", f"{h.name}:{h.chomped()}") for h in inst.heredocs]
    elif isinstance(inst, ins.Copy):
        if inst.from_:
            opts.append(("from", sources.get(inst.from_, inst.from_)))
        opts += [("link", str(inst.link)), ("exclude", json.dumps(inst.exclude))]
        if isinstance(inst, ins.Add):
            opts += [("checksum", inst.checksum or ""), ("unpack", str(inst.unpack))]
            opts += [("keep-git-dir", str(inst.keep_git_dir))]
    return [o for o in opts if o[1] not in ("", "False", "[]", "None")]


def step_key(parent: str, inst: ins.Instruction, scope: StageScope, *, content: str = "",
             platform: str = "", sources: dict[str, str] | None = None) -> CacheKey:
    """The key of one expanded instruction, with the scope as it stands after `scope.expand(inst)`.

    `sources` maps a `--from` / `mount from=` reference to the image ID it resolved to, so a rebuilt
    stage invalidates the steps that read it.
    """
    env = tuple(scope.run_env()) if isinstance(inst, ins.Run) else ()
    return CacheKey(
        parent=parent, instruction=created_by(inst, scope), env=env, workdir=scope.workdir, platform=platform,
        content=content, options=tuple(_options(inst, scope, sources or {})),
    )
