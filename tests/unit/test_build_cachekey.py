"""Explicit cache keys: golden digests, and what must and must not invalidate a step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podpy.build import instructions as ins
from podpy.build.buildargs import Platform
from podpy.build.cachekey import CacheKey, content_digest, step_key
from podpy.build.dockerignore import Matcher
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.build.parser import parse
from podpy.build.plan import make_plan

AMD64 = Platform("linux", "amd64")
BASE = "sha256:" + "b" * 64


def _keys(text: str, build_args: dict | None = None, context: Path | None = None, ignore: Matcher | None = None,
          sources: dict | None = None) -> list[CacheKey]:
    """Key every step of the last stage the way an executor chains them."""
    plan = make_plan(parse(text), build_args, None, AMD64, AMD64)
    scope = StageScope(plan, ["PATH=/usr/bin:/bin"])
    parent, keys = BASE, []
    for raw in plan.stages[plan.target].instructions:
        inst = scope.expand(raw)
        content = ""
        if isinstance(inst, ins.Copy) and context is not None and not inst.from_:
            content = content_digest(context, inst, ignore or Matcher([]))
        key = step_key(parent, inst, scope, content=content, platform="linux/amd64", sources=sources)
        keys.append(key)
        parent = key.digest()
    return keys


def test_key_digest_is_golden() -> None:
    key = CacheKey(parent=BASE, instruction="RUN |1 A=1 /bin/sh -c echo hi # buildkit", env=("A=1",))
    assert key.canonical() == (
        '{"content":"","env":["A=1"],"instruction":"RUN |1 A=1 /bin/sh -c echo hi # buildkit",'
        '"options":[],"parent":"' + BASE + '","platform":"","version":1,"workdir":"/"}'
    )
    assert key.digest() == GOLDEN_KEY


GOLDEN_KEY = "sha256:5b0167c93bc4387e864ff7bc4ac80087794253a8ffe73ab90e4c3618f6295dfe"
# A change here invalidates every user's build cache: bump cachekey.VERSION on purpose, then update.
GOLDEN_CHAIN = [
    "sha256:801ce4bf245465b592f1fb1e7b636cb867ac5f87b5f3f016ab735257e33e2d36",
    "sha256:ea22f429729b98eed763e4008252b6cd7a2f4359de349cc537bf78dad1e6769b",
    "sha256:7c665131eaf4d39e0be8d5011030baa10c85bcd63dcd357a647561d4b7d8b55d",
    "sha256:d1683cb741b05944c0e4382e0e63a0f12f662acdcfe6621a475219b084bfecd9",
    "sha256:a981e0b56ea9dc36500a7a07440b84f1fc072802ee0704365c38005db4d50271",
    "sha256:95731bc9e6aaa3b0d278db7e3e1ec1c8e137779153828e221342e7a72d7c7e0a",
]
GOLDEN_CONTENT = "sha256:fd45ac51bbce31a909fcc7a28aac63a101e47403c2a37ec9de06d4be0ee6a23c"

DOCKERFILE = """FROM busybox
ARG V=1
ENV P=/opt
WORKDIR $P
COPY app/ ./app/
RUN --mount=type=cache,target=/c echo $V
CMD ["run"]
"""


def _context(root: Path) -> Path:
    files = {"app/main.py": "print('hi')\n", "app/lib/util.py": "X = 1\n", "app/notes.tmp": "scratch\n",
             "README": "readme\n"}
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(data)
        p.chmod(0o644)
    for d in ("app", "app/lib"):
        (root / d).chmod(0o755)
    os.symlink("main.py", root / "app" / "link")
    return root


def test_chain_is_golden(tmp_path: Path) -> None:
    keys = _keys(DOCKERFILE, context=_context(tmp_path))
    assert [k.instruction for k in keys] == [
        "ARG V=1", "ENV P=/opt", "WORKDIR /opt", "COPY app/ ./app/ # buildkit",
        "RUN |1 V=1 /bin/sh -c echo $V # buildkit", 'CMD ["run"]',
    ]
    assert keys[3].content == GOLDEN_CONTENT
    assert keys[4].env == ("PATH=/usr/bin:/bin", "V=1", "P=/opt")
    assert [k.digest() for k in keys] == GOLDEN_CHAIN


def test_same_inputs_same_keys(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    assert _keys(DOCKERFILE, context=ctx) == _keys(DOCKERFILE, context=ctx)


def _digests(tmp_path: Path, **kw) -> list[str]:
    return [k.digest() for k in _keys(DOCKERFILE, context=tmp_path, **kw)]


def test_mtime_and_owner_do_not_invalidate(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    before = _digests(ctx)
    os.utime(ctx / "app" / "main.py", (1, 1))
    os.chown(ctx / "app" / "main.py", 1234, 1234)
    assert _digests(ctx) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda c: (c / "app" / "main.py").write_text("print('changed')\n"),
        lambda c: (c / "app" / "main.py").chmod(0o755),
        lambda c: (c / "app" / "new.py").write_text(""),
        lambda c: (c / "app" / "lib" / "util.py").rename(c / "app" / "lib" / "util2.py"),
        lambda c: (os.unlink(c / "app" / "link"), os.symlink("lib", c / "app" / "link")),
    ],
    ids=["content", "mode", "added", "renamed", "symlink-target"],
)
def test_copied_file_changes_invalidate_from_that_step_on(tmp_path: Path, change) -> None:
    ctx = _context(tmp_path)
    before = _digests(ctx)
    change(ctx)
    after = _digests(ctx)
    assert after[:3] == before[:3]
    assert all(a != b for a, b in zip(after[3:], before[3:], strict=True))


def test_ignored_and_uncopied_files_do_not_invalidate(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    ignore = Matcher(["**/*.tmp"])
    before = _digests(ctx, ignore=ignore)
    (ctx / "app" / "notes.tmp").write_text("changed\n")
    (ctx / "README").write_text("changed\n")
    assert _digests(ctx, ignore=ignore) == before


def test_build_arg_changes_run_key_only_from_its_arg(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    a, b = _digests(ctx), _digests(ctx, build_args={"V": "2"})
    assert a[0] != b[0]  # the ARG line records its value
    assert _keys(DOCKERFILE, {"V": "2"}, ctx)[4].instruction == "RUN |1 V=2 /bin/sh -c echo $V # buildkit"


def test_from_source_image_id_is_part_of_the_key() -> None:
    text = "FROM a AS s\nFROM b\nCOPY --from=s /x /y\n"
    one = _keys(text, sources={"s": "sha256:1"})
    two = _keys(text, sources={"s": "sha256:2"})
    assert one[0].options == (("from", "sha256:1"),)
    assert one[0].digest() != two[0].digest()


def test_heredoc_contents_are_keyed(tmp_path: Path) -> None:
    one = _keys("FROM a\nCOPY <<EOF /f\none\nEOF\n", context=tmp_path)
    two = _keys("FROM a\nCOPY <<EOF /f\ntwo\nEOF\n", context=tmp_path)
    assert one[0].content != two[0].content


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found in build context"):
        _keys("FROM a\nCOPY nope /x\n", context=tmp_path)


def test_wildcard_may_match_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    keys = _keys("FROM a\nCOPY *.md *.txt /x/\n", context=tmp_path)
    assert keys[0].content.startswith("sha256:")


def test_symlink_out_of_context_is_refused(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    os.symlink("/etc", ctx / "escape")
    with pytest.raises(ValueError, match="out of the build context"):
        _keys("FROM a\nCOPY escape /x\n", context=ctx)


def test_bad_mount_in_key_is_a_build_error() -> None:
    with pytest.raises(BuildError, match="RUN: unsupported mount type"):
        _keys("FROM a\nRUN --mount=type=nope,target=/x true\n")
