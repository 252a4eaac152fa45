"""`.dockerignore` with Docker's rules (moby/patternmatcher), and a context walker.

Not gitignore: patterns are anchored at the context root (`*.go` does not match `a/b.go`), `*` and `?`
never cross `/`, `**` crosses any number of directories, a pattern that matches a directory excludes
everything under it, and later `!` lines re-include. Patterns are cleaned like Go's filepath.Clean.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from podpy.record import record

_ESCAPE = set(".+()|{}$")


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file (comments, blank lines and leading `/` dropped)."""
    out: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = posixpath.normpath(pattern)
            if pattern.startswith("//"):
                pattern = "/" + pattern.lstrip("/")
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


def _to_regex(pattern: str) -> re.Pattern[str]:
    out, i, n, in_class = ["^"], 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch in _ESCAPE:
            out.append("\\" + ch)
        elif ch == "\\":
            out.append("\\" + pattern[i] if i < n else "\\\\")
            i += 1 if i < n else 0
        elif ch == "^" and not in_class:
            out.append("\\^")
        else:
            in_class = (ch == "[") or (in_class and ch != "]")
            out.append(ch)  # includes [ and ] (character classes as in filepath.Match)
    try:
        return re.compile("".join(out) + "$", re.DOTALL)
    except re.error as e:
        raise ValueError(f"invalid .dockerignore pattern {pattern!r}: {e}") from None


@record(frozen=True, lean_init=True)
class _Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


class Matcher:
    """Decides whether a context path (slash-separated, relative) is excluded."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            exclusion = raw.startswith("!")
            text = raw[1:] if exclusion else raw
            if not text:
                raise ValueError('illegal exclusion pattern: "!"')
            text = posixpath.normpath(text)
            self.patterns.append(_Pattern(text, exclusion, _to_regex(text)))

    @property
    def has_exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def excluded(self, path: str) -> bool:
        """Docker's MatchesOrParentMatches: a pattern matching a parent directory matches the path."""
        path = path.strip("/")
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for p in self.patterns:
            if p.exclusion != matched:
                continue
            hit = bool(p.regex.match(path))
            if not hit:
                hit = any(p.regex.match("/".join(parents[: i + 1])) for i in range(len(parents)))
            if hit:
                matched = not p.exclusion
        return matched


def find_ignore_file(context: Path, dockerfile: Path | None = None) -> Path | None:
    """`<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's `.containerignore`
    (Podman's name, first) or `.dockerignore`."""
    if dockerfile is not None:
        specific = dockerfile.with_name(dockerfile.name + ".dockerignore")
        if specific.is_file():
            return specific
    for name in (".containerignore", ".dockerignore"):
        if (context / name).is_file():
            return context / name
    return None


def load_matcher(context: Path, dockerfile: Path | None = None) -> Matcher:
    found = find_ignore_file(context, dockerfile)
    return Matcher(read_patterns(found.read_text(encoding="utf-8")) if found else [])


@record(frozen=True, lean_init=True)
class ContextEntry:
    path: str  # relative, slash-separated
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


def walk_context(context: Path, matcher: Matcher) -> Iterator[ContextEntry]:
    """Included entries in sorted order, symlinks not followed. An excluded directory is entered only
    when a `!` pattern might re-include something inside it; then it is yielded if anything is."""
    yield from _walk(str(context), "", matcher)


def _walk(root: str, rel: str, matcher: Matcher) -> Iterator[ContextEntry]:
    try:
        names = sorted(os.listdir(os.path.join(root, rel) if rel else root))
    except FileNotFoundError:
        return
    for name in names:
        path = f"{rel}/{name}" if rel else name
        st = os.lstat(os.path.join(root, path))
        excluded = matcher.excluded(path)
        if stat.S_ISDIR(st.st_mode):
            if excluded and not matcher.has_exclusions:
                continue
            inner = list(_walk(root, path, matcher))
            if not excluded or inner:
                yield ContextEntry(path, st)
                yield from inner
        elif not excluded:
            yield ContextEntry(path, st)
