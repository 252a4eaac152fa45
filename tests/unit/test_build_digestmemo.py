"""Remembered context file digests (podpy.build.digestmemo): reused only while stat says the file is
unchanged, never for a file changed in the last moments, and the COPY content digest is the same
with or without them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from podpy.build import digestmemo
from podpy.build import instructions as ins
from podpy.build.cachekey import _file_digest, content_digest
from podpy.build.digestmemo import DigestMemo, memo_path
from podpy.build.dockerignore import Matcher

OLD = 1_600_000_000


def _old_file(path: Path, data: bytes) -> os.stat_result:
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return path.stat()


class _Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path) -> str:
        self.calls += 1
        return _file_digest(path)


@pytest.fixture(autouse=True)
def _ctime_in_the_past(monkeypatch: pytest.MonkeyPatch) -> None:
    """ctime cannot be set back: treat files as hashed long after they were written instead."""
    monkeypatch.setattr(digestmemo, "RACY_NS", -(10**12))


def test_reused_while_unchanged_and_saved(tmp_path: Path) -> None:
    f, store = tmp_path / "f", memo_path(tmp_path / "cache", tmp_path)
    st = _old_file(f, b"one")
    count = _Counting()
    memo = DigestMemo(store)
    first = memo.digest(f, st, count)
    assert first == _file_digest(f) and memo.digest(f, st, count) == first and count.calls == 1
    memo.save()
    again = DigestMemo(store)  # the next build
    assert again.digest(f, f.stat(), count) == first and count.calls == 1


@pytest.mark.parametrize("change", ["content", "same size", "mode", "replaced"])
def test_any_stat_change_rehashes(tmp_path: Path, change: str) -> None:
    f, store = tmp_path / "f", memo_path(tmp_path / "cache", tmp_path)
    st = _old_file(f, b"one")
    memo = DigestMemo(store)
    memo.digest(f, st, _file_digest)
    memo.save()
    if change == "content":
        f.write_bytes(b"longer")
    elif change == "same size":
        f.write_bytes(b"two")
        os.utime(f, (OLD, OLD))  # mtime put back: ctime still moved
    elif change == "mode":
        f.chmod(0o600)
    else:
        (tmp_path / "g").write_bytes(b"two")
        os.utime(tmp_path / "g", (OLD, OLD))
        os.replace(tmp_path / "g", f)
    count = _Counting()
    assert DigestMemo(store).digest(f, f.stat(), count) == _file_digest(f) and count.calls == 1


def test_recent_files_are_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digestmemo, "RACY_NS", 2_000_000_000)
    f, store = tmp_path / "f", memo_path(tmp_path / "cache", tmp_path)
    f.write_bytes(b"fresh")  # ctime is now: a second write in the same tick might not move it
    memo = DigestMemo(store)
    memo.digest(f, f.stat(), _file_digest)
    memo.save()
    assert not store.exists()


def test_no_path_remembers_nothing(tmp_path: Path) -> None:
    f = tmp_path / "f"
    st = _old_file(f, b"x")
    memo = DigestMemo(None)
    count = _Counting()
    memo.digest(f, st, count)
    memo.save()
    assert count.calls == 1 and not (tmp_path / "cache").exists()


def test_corrupt_memo_is_ignored(tmp_path: Path) -> None:
    f, store = tmp_path / "f", memo_path(tmp_path / "cache", tmp_path)
    st = _old_file(f, b"x")
    store.parent.mkdir(parents=True)
    store.write_text(json.dumps({"version": 1, "files": {str(f): [1, 2, "x"]}}))
    assert DigestMemo(store).digest(f, st, _file_digest) == _file_digest(f)
    store.write_text("not json")
    assert DigestMemo(store).digest(f, st, _file_digest) == _file_digest(f)


def test_content_digest_is_the_same_with_the_memo(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "dir").mkdir(parents=True)
    for name, data in (("a", b"1"), ("dir/b", b"22"), ("dir/c", b"333")):
        _old_file(ctx / name, data)
    inst = ins.Copy(sources=["a", "dir"], dest="/x/")
    plain = content_digest(ctx, inst, Matcher([]))
    store = memo_path(tmp_path / "cache", ctx)
    memo = DigestMemo(store)
    assert content_digest(ctx, inst, Matcher([]), memo) == plain
    memo.save()
    assert content_digest(ctx, inst, Matcher([]), DigestMemo(store)) == plain
    _old_file(ctx / "dir" / "c", b"444")
    changed = content_digest(ctx, inst, Matcher([]), DigestMemo(store))
    assert changed != plain and changed == content_digest(ctx, inst, Matcher([]))
