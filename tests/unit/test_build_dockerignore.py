"""`.dockerignore` with Docker's rules (not gitignore's) and the context walker."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.build.dockerignore import Matcher, find_ignore_file, load_matcher, read_patterns, walk_context


def test_read_patterns_cleans_and_skips_comments() -> None:
    text = "\ufeff# comment\n\n  *.log  \n/abs/path\n./rel//x/\n! keep.log\n#nope\n \\#hash\n../up\n"
    assert read_patterns(text) == ["*.log", "abs/path", "rel/x", "!keep.log", "\\#hash", "../up"]


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["*.go"], "a.go", True),
        (["*.go"], "dir/a.go", False),  # gitignore would say True: Docker anchors at the root
        (["**/*.go"], "a.go", True),
        (["**/*.go"], "x/y/a.go", True),
        (["dir"], "dir/sub/file", True),
        (["dir/*"], "dir/sub/file", True),  # the parent dir/sub matches
        (["dir/*"], "dir", False),
        (["*/temp*"], "somedir/temporary.txt", True),
        (["*/temp*"], "somedir/sub/temp.txt", False),
        (["*/*/temp*"], "a/b/temp", True),
        (["temp?"], "temp1", True),
        (["temp?"], "temp12", False),
        (["temp?"], "temp/", False),
        (["a/**"], "a/b/c", True),
        (["a/**"], "a", False),
        (["**"], "anything/at/all", True),
        (["a/**/b"], "a/b", True),
        (["a/**/b"], "a/x/y/b", True),
        (["[a-c].txt"], "b.txt", True),
        (["[a-c].txt"], "d.txt", False),
        (["[^a].txt"], "b.txt", True),
        (["file.txt"], "fileXtxt", False),  # '.' is literal
        (["a+b(c)"], "a+b(c)", True),
        (["\\*star"], "*star", True),
        (["\\*star"], "xstar", False),
        (["*.md", "!README.md"], "README.md", False),
        (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
        (["*.md", "!README*.md", "README-secret.md"], "README-public.md", False),
        (["dir", "!dir/keep"], "dir/keep", False),
        (["dir", "!dir/keep"], "dir/other", True),
        (["!dir/keep", "dir"], "dir/keep", True),  # order matters: the last match wins
        ([], "x", False),
    ],
)
def test_matcher(patterns: list[str], path: str, excluded: bool) -> None:
    assert Matcher(patterns).excluded(path) is excluded


def test_illegal_exclusion() -> None:
    with pytest.raises(ValueError, match="illegal exclusion"):
        Matcher(["!"])


def _tree(root: Path, files: list[str]) -> None:
    for f in files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f)


def test_walk_context(tmp_path: Path) -> None:
    _tree(tmp_path, ["Dockerfile", "a.go", "src/b.go", "node_modules/x/y.js", "logs/1.log", "logs/keep.log",
                     "docs/README.md", "docs/other.md"])
    m = Matcher(["node_modules", "logs", "!logs/keep.log", "*.go", "docs/*.md", "!docs/README.md"])
    got = [e.path for e in walk_context(tmp_path, m)]
    assert got == ["Dockerfile", "docs", "docs/README.md", "logs", "logs/keep.log", "src", "src/b.go"]


def test_walk_skips_excluded_dir_without_exclusions(tmp_path: Path) -> None:
    _tree(tmp_path, ["big/a", "big/b/c", "keep"])
    (tmp_path / "big" / "b").chmod(0o000)  # never entered, so never an error
    try:
        assert [e.path for e in walk_context(tmp_path, Matcher(["big"]))] == ["keep"]
    finally:
        (tmp_path / "big" / "b").chmod(0o755)


def test_walk_does_not_follow_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "link").symlink_to("real")
    entries = {e.path: e for e in walk_context(tmp_path, Matcher([]))}
    assert set(entries) == {"link", "real", "real/f"}
    assert not entries["link"].is_dir


def test_dockerfile_specific_ignore_wins(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("a\n")
    df = tmp_path / "sub" / "app.Dockerfile"
    df.parent.mkdir()
    df.write_text("FROM x\n")
    assert find_ignore_file(tmp_path, df) == tmp_path / ".dockerignore"
    (tmp_path / "sub" / "app.Dockerfile.dockerignore").write_text("b\n")
    assert find_ignore_file(tmp_path, df) == df.with_name("app.Dockerfile.dockerignore")
    m = load_matcher(tmp_path, df)
    assert m.excluded("b") and not m.excluded("a")
    assert find_ignore_file(tmp_path / "sub") is None
