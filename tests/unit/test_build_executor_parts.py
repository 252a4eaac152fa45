"""Pure or unprivileged parts of the executor: secrets, owners, URL names, COPY's destination rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podpy.build.copysources import resolve_sources
from podpy.build.copystep import CopyJob, resolve_owner, run_copy
from podpy.build.dockerignore import Matcher
from podpy.build.download import file_name
from podpy.build.runmounts import parse_secrets
from podpy.errors import InvalidArgument
from podpy.inroot import Root


def test_parse_secrets() -> None:
    assert parse_secrets(["id=a,src=/f", "id=b,env=HOME", "src=/x/tok", "env=TOKEN"]) == {
        "a": ("file", "/f"), "b": ("env", "HOME"), "tok": ("file", "/x/tok"), "TOKEN": ("env", "TOKEN")}
    with pytest.raises(ValueError):
        parse_secrets(["id=a"])


def test_url_file_names() -> None:
    assert file_name("http://h/a/b.tar.gz?x=1") == "b.tar.gz"
    assert file_name("https://h/") == "__unnamed__"


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nbob:x:1000:1001::/home/bob:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\nstaff:x:50:\n")
    (root / "tmp").mkdir()
    return root


def test_resolve_owner_reads_the_roots_own_files(tmp_path: Path) -> None:
    with Root(_root(tmp_path)) as root:
        assert resolve_owner(root, "bob") == (1000, 1001)
        assert resolve_owner(root, "bob:staff") == (1000, 50)
        assert resolve_owner(root, "7") == (7, 7)
        assert resolve_owner(root, "7:8") == (7, 8)
        with pytest.raises(InvalidArgument, match="unable to find user alice"):
            resolve_owner(root, "alice")


def test_resolve_owner_does_not_follow_an_etc_symlink_out(tmp_path: Path) -> None:
    root = tmp_path / "evil"
    root.mkdir()
    os.symlink("/etc", root / "etc")  # resolved inside the root: /etc of the root, which is itself
    with Root(root) as r:
        with pytest.raises(InvalidArgument):
            resolve_owner(r, "root")


@pytest.mark.parametrize("sources,dest,expect", [
    (["a.txt"], "/tmp", "tmp/a.txt"),  # an existing directory: into it
    (["a.txt"], "/new", "new"),  # otherwise the file itself
    (["a.txt"], "/new/", "new/a.txt"),
    (["d"], "/out", "out/x"),  # a directory's contents
    (["*.txt"], "/w", "w/a.txt"),  # a wildcard: a directory
])  # fmt: skip
def test_copy_destination_rules(tmp_path: Path, sources: list[str], dest: str, expect: str) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "d").mkdir(parents=True)
    (ctx / "a.txt").write_text("a")
    (ctx / "d" / "x").write_text("x")
    root = _root(tmp_path)
    matches = resolve_sources(ctx, sources, Matcher([]))
    job = CopyJob(str(ctx), matches, dest, wildcard=any("*" in s for s in sources))
    with Root(root) as r:
        run_copy(r, job)
    assert (root / expect).is_file()


def test_copy_cannot_write_through_a_symlink_in_the_image(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "a.txt").write_text("a")
    root = _root(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), root / "escape")
    with Root(root) as r:
        run_copy(r, CopyJob(str(ctx), resolve_sources(ctx, ["a.txt"], Matcher([])), "/escape/"))
    assert not (outside / "a.txt").exists()
    assert (root / str(outside).lstrip("/") / "a.txt").is_file()  # the link was followed inside the root


def test_build_argument_spellings() -> None:
    from podpy.cli.build import normalize_args

    assert normalize_args(["build", "--pull", "--layers=false", "--rm=false", "--no-cache=true", "--squash=false",
                           "ctx", "--", "--pull"]) == [
        "build", "--pull=always", "--no-layers", "--no-rm", "--no-cache", "ctx", "--", "--pull"]  # fmt: skip
    assert normalize_args(["build", "--pull=never", "--layers=maybe"]) == ["build", "--pull=never", "--layers=maybe"]
