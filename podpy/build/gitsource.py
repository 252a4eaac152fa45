"""Git repositories as build contexts (`podpy build URL#ref:subdir`) and ADD sources: a shallow
fetch of the one ref into a scratch directory with the host's `git`, without the `.git` directory
(BuildKit's default). Prompts are off and only the ordinary transports are allowed (no `ext::`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from podpy.errors import InvalidArgument

_SCHEMES = ("http://", "https://", "file://", "ssh://")


def is_git_url(arg: str) -> bool:
    """What Docker takes for a repository: git@host:…, git://…, or a URL whose path ends in .git."""
    low = arg.lower()
    if low.startswith(("git@", "git://")):
        return True
    return low.startswith(_SCHEMES) and low.split("#", 1)[0].split("?", 1)[0].rstrip("/").endswith(".git")


@contextmanager
def cloned(url: str, keep_git_dir: bool = False) -> Iterator[tuple[Path, str]]:
    """(the checked-out tree, or its `subdir`; the commit) for `URL[#ref[:subdir]]`, removed after."""
    import shutil
    import tempfile

    from podpy.storage.fsutil import force_rmtree

    repo, _, fragment = url.partition("#")
    ref, _, subdir = fragment.partition(":")
    tmp = Path(tempfile.mkdtemp(prefix="podpy-git-"))
    try:
        src = tmp / "src"
        commit = _fetch(repo, ref or "HEAD", src)
        if not keep_git_dir:
            shutil.rmtree(src / ".git")
        top = src.resolve()
        tree = (src / subdir.strip("/")).resolve() if subdir.strip("/") else top
        if tree != top and not str(tree).startswith(str(top) + os.sep):
            raise InvalidArgument(f"{url}: the subdirectory {subdir!r} leaves the repository")
        if not tree.is_dir():
            raise InvalidArgument(f"{url}: no directory {subdir!r} in the repository")
        yield tree, commit
    finally:
        force_rmtree(tmp)


def _fetch(repo: str, ref: str, dest: Path) -> str:
    import shutil
    import subprocess  # here: `is_git_url` runs on every build

    if shutil.which("git") is None:
        raise InvalidArgument("git is not installed: it is needed for a git repository as a build source")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
           "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    steps = [["init", "-q", str(dest)],
             ["-C", str(dest), "fetch", "-q", "--depth", "1", "--no-tags", repo, ref],
             ["-C", str(dest), "-c", "advice.detachedHead=false", "checkout", "-q", "FETCH_HEAD"],
             ["-C", str(dest), "rev-parse", "HEAD"]]  # fmt: skip
    out = ""
    for args in steps:
        res = subprocess.run(["git", *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        if res.returncode != 0:
            lines = [x for x in res.stderr.strip().splitlines() if x.strip()]
            raise InvalidArgument(f"fetching {ref} of {repo}: {lines[-1] if lines else 'git failed'}")
        out = res.stdout.strip()
    return out
