"""Which context files a COPY/ADD source names: wildcards (Go filepath.Match), directories copied by
their contents, `.dockerignore`d and `--exclude`d entries left out, symlinks followed only at the top.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from functools import lru_cache
from pathlib import Path

from podpy.build.dockerignore import Matcher, walk_context
from podpy.record import field, record

_WILDCARD = re.compile(r"[*?\[]")


@record(lean_init=True)
class SourceMatch:
    """One matched source: its context path and, for a directory, the included entries under it."""

    path: str  # context-relative, slash-separated ("" is the context root)
    st: os.stat_result
    entries: list[tuple[str, os.stat_result]] = field(default_factory=list)  # relative to `path`


@lru_cache(maxsize=128)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                raise ValueError(f"syntax error in pattern {pattern!r}")
            body = pattern[i:j].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = j + 1
        elif ch == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + r"\Z")


def source_kind(src: str) -> str:
    """"git" (a remote repository ADD may clone), "url" (http/https), or "local" (the context)."""
    low = src.lower()
    if low.startswith(("git://", "git@", "ssh://")) or (low.startswith("file://") and _git_path(low)):
        return "git"
    if low.startswith(("http://", "https://")):
        return "git" if _git_path(low) else "url"
    return "local"


def _git_path(url: str) -> bool:
    return url.split("#", 1)[0].split("?", 1)[0].rstrip("/").endswith(".git")


def clean_source(src: str) -> str:
    """A source as a context-relative path: `/a/../b/` → `b`; escaping the context is impossible."""
    cleaned = posixpath.normpath("/" + src).lstrip("/")
    return "" if cleaned == "." else cleaned


def resolve_sources(context: Path, sources: list[str], ignore: Matcher, exclude: list[str] | None = None,
                    ) -> list[SourceMatch]:
    """Every source's matches, in order; ValueError names a source that matches nothing."""
    excl = Matcher(exclude or [])
    out: list[SourceMatch] = []
    for src in sources:
        matches = _matches(context, clean_source(src), ignore, excl)
        if not matches and not _WILDCARD.search(src):
            raise ValueError(f'"{src}": not found in build context or excluded by .dockerignore')
        out.extend(matches)
    return out


def _matches(context: Path, src: str, ignore: Matcher, excl: Matcher) -> list[SourceMatch]:
    if not _WILDCARD.search(src):
        candidates = [src]
    else:
        rx = _glob_regex(src)
        depth = src.count("/")
        candidates = [e.path for e in walk_context(context, ignore) if e.path.count("/") == depth
                      and rx.match(e.path)]
    out = []
    for path in candidates:
        if path and ignore.excluded(path) and not _has_included_child(context, path, ignore):
            continue
        try:
            st = os.stat(context / path) if path else os.stat(context)  # the top level follows symlinks
        except FileNotFoundError:
            continue
        if _outside(context, path):
            raise ValueError(f'"{path}": a symlink out of the build context')
        if excl.excluded(posixpath.basename(path)) and not stat.S_ISDIR(st.st_mode):
            continue
        match = SourceMatch(path, st)
        if stat.S_ISDIR(st.st_mode):
            match.entries = _dir_entries(context, path, ignore, excl)
        out.append(match)
    return out


def _outside(context: Path, path: str) -> bool:
    real = os.path.realpath(context / path)
    root = os.path.realpath(context)
    return real != root and not real.startswith(root + os.sep)


def _has_included_child(context: Path, path: str, ignore: Matcher) -> bool:
    if not ignore.has_exclusions or not (context / path).is_dir():
        return False
    return any(e.path.startswith(path + "/") for e in walk_context(context, ignore))


def _dir_entries(context: Path, path: str, ignore: Matcher, excl: Matcher) -> list[tuple[str, os.stat_result]]:
    root = os.path.realpath(context / path) if path else str(context)
    prefix = path + "/" if path else ""
    out = []
    for entry in walk_context(Path(root), _Prefixed(ignore, prefix)):
        if excl.excluded(entry.path):
            continue
        out.append((entry.path, entry.st))
    return out


class _Prefixed(Matcher):
    """The context's ignore rules applied below a source directory."""

    def __init__(self, inner: Matcher, prefix: str) -> None:
        self.patterns = inner.patterns
        self.prefix = prefix

    def excluded(self, path: str) -> bool:
        return super().excluded(self.prefix + path)
