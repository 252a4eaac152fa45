"""The file steps of a build: COPY/ADD (sources from the context, a stage or image, a named context or
downloaded URLs) and WORKDIR's directories, written into a step container's root by copystep.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from podpy.build import instructions as ins
from podpy.build.dockerignore import Matcher
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.engine import build_support as bs

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.build.executor import Executor


def url_sources(ex: Executor, inst: ins.Copy) -> bool:
    """Whether the sources are http(s) URLs (ADD); git and mixed sources are errors."""
    from podpy.build.copysources import source_kind

    kinds = {source_kind(s) for s in inst.sources}
    if "git" in kinds and (len(inst.sources) != 1 or not isinstance(inst, ins.Add)):
        raise BuildError("a git repository can only be ADDed, as the only source", file=ex.plan.file,
                         line=inst.line, instruction=inst.name)  # fmt: skip
    if kinds & {"url", "git"} and (len(kinds) != 1 or inst.from_ or inst.contents):
        raise BuildError("ADD cannot mix URLs with other sources here", file=ex.plan.file,
                         line=inst.line, instruction=inst.name)  # fmt: skip
    return kinds in ({"url"}, {"git"})


def fetch_sources(ex: Executor, inst: ins.Copy) -> str:
    """Download the URL sources into this step's scratch context; their digest is the key content."""
    import hashlib
    import tempfile

    from podpy.build.copysources import source_kind
    from podpy.build.download import fetch

    if ex._downloads is None:
        ex._downloads = Path(tempfile.mkdtemp(prefix="podpy-add-"))
    ex._url_ctx = Path(tempfile.mkdtemp(dir=ex._downloads))
    if source_kind(inst.sources[0]) == "git":
        return _fetch_git(ex, inst, ex._url_ctx)
    h = hashlib.sha256()
    for url in inst.sources:
        _, digest = fetch(url, ex._url_ctx, getattr(inst, "checksum", None))
        h.update(f"{url} {digest}\n".encode())
    return "sha256:" + h.hexdigest()


GIT_DIR_NAME = "repo"  # where an ADDed repository sits in the step's scratch context


def _fetch_git(ex: Executor, inst: ins.Copy, into: Path) -> str:
    """ADD URL.git#ref:subdir: the tree (with .git only with --keep-git-dir); the commit is the key
    content, and what --checksum checks."""
    import shutil

    from podpy.build.gitsource import cloned

    url = inst.sources[0]
    keep = bool(getattr(inst, "keep_git_dir", False))
    with cloned(url, keep_git_dir=keep) as (tree, commit):
        checksum = getattr(inst, "checksum", None)
        if checksum and not commit.startswith(checksum.removeprefix("sha1:")):
            raise BuildError(f"{url}: expected commit {checksum}, got {commit}", file=ex.plan.file,
                             line=inst.line, instruction=inst.name)  # fmt: skip
        shutil.copytree(tree, into / GIT_DIR_NAME, symlinks=True)
    return f"git:{commit}:{url.partition('#')[2]}:{int(keep)}"


def copy_files(ex: Executor, inst: ins.Copy, scope: StageScope, rec: Any) -> None:
    """COPY/ADD into the step container: the sources resolved here, written by copystep in its root."""
    from podpy.build.copysources import resolve_sources, source_kind
    from podpy.build.copystep import CopyJob, run_copy
    from podpy.build.download import file_name

    dest = inst.dest if inst.dest.startswith("/") else posixpath.join(scope.workdir, inst.dest)
    if inst.dest.endswith("/") and not dest.endswith("/"):
        dest += "/"
    url_ctx = ex._url_ctx
    sources = [file_name(s) for s in inst.sources] if url_ctx else inst.sources
    if url_ctx and (url_ctx / GIT_DIR_NAME).is_dir() and source_kind(inst.sources[0]) == "git":
        sources = [GIT_DIR_NAME]  # the repository's contents into dest
    with _source_root(ex, inst) as (context, ignore):
        if url_ctx:
            context, ignore = url_ctx, Matcher([])
        keep: list[str] | None = None
        if inst.parents and not url_ctx:
            matches, keep = ex._guard(inst, lambda: _with_parents(context, sources, ignore, inst.exclude))
        else:
            matches = ex._guard(inst, lambda: resolve_sources(context, sources, ignore, inst.exclude))
        unpack = isinstance(inst, ins.Add) and inst.unpack is not False and not url_ctx
        job = CopyJob(str(context), matches, dest, [(c.path, c.data.encode()) for c in inst.contents],
                      inst.chown, inst.chmod, unpack=unpack,
                      wildcard=any(c in s for s in sources for c in "*?["),
                      rootless=ex.engine.opts.rootless, defer_ids=bs.owners_deferred(ex.engine),
                      keep=keep)  # fmt: skip
        owners = bs.write_into(ex.engine, rec, lambda root: run_copy(root, job))
        bs.set_owners(ex.engine, rec, owners)


def _with_parents(context: Path, sources: list[str], ignore: Matcher, exclude: list[str]) -> tuple[list[Any], list[str]]:
    """COPY --parents: the matches and, for each, the path kept below the destination: the whole
    context path, or what follows a `/./` pivot in its source (`a/./b/c` keeps `b/c`)."""
    from podpy.build.copysources import clean_source, resolve_sources

    matches, keep = [], []
    for src in sources:
        pivot = clean_source(src.split("/./", 1)[0]) if "/./" in src else ""
        for m in resolve_sources(context, [src], ignore, exclude):
            inside = pivot and (m.path == pivot or m.path.startswith(pivot + "/"))
            matches.append(m)
            keep.append(m.path[len(pivot):].lstrip("/") if inside else m.path)
    return matches, keep


def make_workdir(root: Any, parts: list[str], user: str, defer: bool = False) -> list[list[Any]]:
    """WORKDIR: the missing directories, owned by the stage's USER (as BuildKit makes them). With
    `defer` (rootless with subordinate ids) the owners are returned for set_owners instead."""
    from podpy.build.copystep import resolve_owner
    from podpy.storage.fsutil import proc_fd_path

    ids = resolve_owner(root, user) if user else None
    owners: list[list[Any]] = []
    for i in range(1, len(parts) + 1):
        try:
            with root.dir(parts[:i], create=False):
                continue
        except FileNotFoundError:
            pass
        with root.dir(parts[:i], create=True) as d:
            if ids is not None and defer:
                if ids != (0, 0):
                    owners.append([list(d.real), *ids, None])
            elif ids is not None:
                os.chown(proc_fd_path(d.fd), *ids)  # an O_PATH descriptor: through /proc
    return owners


class _source_root:  # noqa: N801 - used as a context manager
    """The build context, or for COPY --from the source image's paths exported to a scratch dir."""

    def __init__(self, ex: Executor, inst: ins.Copy) -> None:
        self.ex, self.inst = ex, inst
        self.tmp: str | None = None

    def __enter__(self) -> tuple[Path, Matcher]:
        if not self.inst.from_:
            return self.ex.opts.context, self.ex.opts.ignore
        named = self.ex._context_dir(self.inst.from_)
        if named is not None:
            return named, Matcher([])
        import tempfile

        image = self.ex._source_image(self.inst.from_)
        self.tmp = tempfile.mkdtemp(prefix="podpy-from-")
        rec = bs.create_step(self.ex.engine, image, bs.StepSpec())
        try:
            for src in self.inst.sources:
                bs.export_path(self.ex.engine, rec, src, Path(self.tmp))
        finally:
            bs.discard(self.ex.engine, rec)
        return Path(self.tmp), Matcher([])

    def __exit__(self, *exc: object) -> None:
        if self.tmp:
            from podpy.storage.fsutil import force_rmtree

            force_rmtree(Path(self.tmp))
