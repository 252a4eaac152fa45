from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from podpy.errors import StorageError
from podpy.state import FileLock, atomic_write_json, read_json


def test_atomic_write_and_schema(tmp_path):
    p = tmp_path / "d" / "doc.json"
    atomic_write_json(p, {"a": 1})
    assert read_json(p) == {"schemaVersion": 1, "a": 1}
    assert [x.name for x in p.parent.iterdir()] == ["doc.json"]


def test_missing_and_corrupt(tmp_path):
    assert read_json(tmp_path / "none.json", default={"x": []}) == {"x": []}
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{half")
    with pytest.raises(StorageError, match="corrupt"):
        read_json(bad)
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"schemaVersion": 99}))
    with pytest.raises(StorageError, match="schema"):
        read_json(future)


def _bump(path: str, lock: str, n: int) -> None:
    from pathlib import Path

    for _ in range(n):
        with FileLock(Path(lock)):
            doc = read_json(Path(path), default={"n": 0})
            atomic_write_json(Path(path), {"n": doc["n"] + 1})


def test_lock_serialises_processes(tmp_path):
    path, lock = str(tmp_path / "c.json"), str(tmp_path / "c.lock")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_bump, args=(path, lock, 25)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert read_json(tmp_path / "c.json")["n"] == 200


def test_lock_reentrant(tmp_path):
    lk = FileLock(tmp_path / "l")
    with lk, lk:
        assert lk._fd is not None
    assert lk._fd is None
    assert os.path.exists(tmp_path / "l")


def test_durable_write_syncs_the_directory(tmp_path, monkeypatch):
    """The rename is only durable once the directory is synced; the fast path skips both fsyncs."""
    import stat

    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write_json(tmp_path / "a.json", {"x": 1})
    assert synced == ["file", "dir"]
    synced.clear()
    atomic_write_json(tmp_path / "b.json", {"x": 1}, durable=False)
    assert synced == []
    assert stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode) == 0o600  # state is private by default
