"""The storage conformance suite: overlay and vfs must give the same answers."""

from __future__ import annotations

import gzip
import hashlib
import io
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podpy.errors import CorruptContent, StorageError
from podpy.storage.compress import compress_zstd
from podpy.storage.layers import LayerStore
from tests.conformance.conftest import ROOT, Storage, tar_of, tree

needs_root = pytest.mark.skipif(not ROOT, reason="mounting needs root")
REPO = Path(__file__).resolve().parents[2]

L2 = tar_of(("var/www/old.html", b"old"), ("data", None), ("data/keep", None), ("data/keep/a", b"a"))
L3 = tar_of(
    ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
    ("bin/.wh.vi", b""),
    ("data/.wh.keep", b""),
    ("var/www", None),
    ("var/www/.wh..wh..opq", b""),
    ("var/www/index.html", b"index"),
)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Counting(io.RawIOBase):
    """A stream that counts what it gave out (and can be slowed down to force overlap)."""

    def __init__(self, data: bytes, delay: float = 0.0) -> None:
        self.src, self.n, self.delay = io.BytesIO(data), 0, delay

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.delay:
            time.sleep(self.delay)
        data = self.src.read(size)
        self.n += len(data)
        return data


def put_image(s: Storage, busybox: bytes) -> str:
    """busybox (gzip) + L2 (zstd) + L3 (plain); returns the top chain ID."""
    zst = io.BytesIO()
    compress_zstd(io.BytesIO(L2), zst)
    r1 = s.layers.put(None, io.BytesIO(gzip.compress(busybox)), sha(busybox))
    r2 = s.layers.put(r1.chain_id, io.BytesIO(zst.getvalue()))
    r3 = s.layers.put(r2.chain_id, io.BytesIO(L3), sha(L3))
    return r3.chain_id


def no_tmp_left(s: Storage) -> bool:
    return not list(s.layout.layers.glob(".tmp-*"))


# --- layers ---------------------------------------------------------------------------------


def test_put_records_and_chain_ids(storage: Storage, busybox_layer: bytes) -> None:
    top = put_image(storage, busybox_layer)
    r3, r2, r1 = storage.layers.lineage(top)
    assert r1.chain_id == r1.diff_id == sha(busybox_layer) and r1.parent is None
    assert r2.diff_id == sha(L2) and r2.chain_id == LayerStore.chain_id(r1.chain_id, sha(L2))
    assert r3.parent == r2.chain_id and r3.chain_id == top
    assert r1.size >= os.path.getsize("/bin/busybox") and r2.size == 4
    assert {r.chain_id for r in storage.layers.list()} == {r1.chain_id, r2.chain_id, r3.chain_id}
    assert storage.layers.get(top) == r3 and storage.layers.diff_path(top).is_dir()
    assert no_tmp_left(storage)


def test_diff_id_mismatch_is_corrupt(storage: Storage) -> None:
    with pytest.raises(CorruptContent, match="mismatch"):
        storage.layers.put(None, io.BytesIO(L2), sha(b"something else"))
    assert storage.layers.list() == [] and no_tmp_left(storage)
    assert storage.layers.put(None, io.BytesIO(L2), sha(L2)).diff_id == sha(L2)  # lock released


def test_shared_chain_extracted_once(storage: Storage) -> None:
    first = storage.layers.put(None, io.BytesIO(L2), sha(L2))
    ino = os.stat(storage.layers.diff_path(first.chain_id)).st_ino
    again = Counting(L2)
    assert storage.layers.put(None, again, sha(L2)) == first
    assert again.n == 0  # known chain: the stream is not even read
    assert storage.layers.put(None, io.BytesIO(L2)) == first  # unknown diff ID: extracted, then dropped
    assert os.stat(storage.layers.diff_path(first.chain_id)).st_ino == ino
    assert len(storage.layers.list()) == 1 and no_tmp_left(storage)


def _put_in_child(layout, driver: str, data: bytes, barrier, results) -> None:  # type: ignore[no-untyped-def]
    stream = Counting(data, delay=0.01)
    barrier.wait()
    rec = LayerStore(layout, driver, rootless=not ROOT).put(None, stream, sha(data))
    results.put((rec.chain_id, stream.n))


def test_concurrent_put_extracts_once(storage: Storage) -> None:
    data = tar_of(*[(f"f{i}", os.urandom(20000)) for i in range(40)])
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    args = (storage.layout, storage.layers.driver, data, barrier, results)
    procs = [ctx.Process(target=_put_in_child, args=args) for _ in range(2)]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    assert {c for c, _ in got} == {sha(data)}
    assert sorted(n for _, n in got) == [0, len(data)]  # one extracted, the other found it done
    assert len(storage.layers.list()) == 1 and no_tmp_left(storage)


_CHILD = """
import sys
from pathlib import Path
from podpy.state.layout import Layout
from podpy.storage.layers import LayerStore
LayerStore(Layout(Path(sys.argv[1]), Path(sys.argv[2])), sys.argv[3], sys.argv[4] == "1").put(None, sys.stdin.buffer)
"""


def test_gc_tmp_removes_only_dead_extractions(storage: Storage, busybox_layer: bytes) -> None:
    s = storage
    argv = [sys.executable, "-c", _CHILD, str(s.layout.root), str(s.layout.runroot), s.layers.driver]
    child = subprocess.Popen([*argv, "0" if ROOT else "1"], stdin=subprocess.PIPE, cwd=REPO)
    try:
        assert child.stdin is not None
        child.stdin.write(busybox_layer[: len(busybox_layer) // 2])  # then stall mid-layer
        child.stdin.flush()
        deadline = time.monotonic() + 30
        while not any((p / "diff" / "bin").exists() for p in s.layout.layers.glob(".tmp-*")):
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        assert s.layers.gc_tmp() == [] and not no_tmp_left(s)  # owner alive: kept
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert len(s.layers.gc_tmp()) == 1 and no_tmp_left(s)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_remove(storage: Storage) -> None:
    r1 = storage.layers.put(None, io.BytesIO(L2))
    r2 = storage.layers.put(r1.chain_id, io.BytesIO(L3))
    with pytest.raises(StorageError, match="parent"):
        storage.layers.remove(r1.chain_id)
    storage.layers.remove(r2.chain_id)
    storage.layers.remove(r1.chain_id)
    assert storage.layers.list() == [] and no_tmp_left(storage)
    with pytest.raises(StorageError, match="not known"):
        storage.layers.remove(r1.chain_id)


# --- containers -----------------------------------------------------------------------------


def test_fresh_container_has_no_changes(storage: Storage, busybox_layer: bytes) -> None:
    top = put_image(storage, busybox_layer)
    storage.driver.create_rw("c1", top)
    assert storage.driver.changes("c1", top) == []
    storage.driver.remove_rw("c1")
    assert not storage.driver.rw_dir("c1").exists()


def test_mount_options(storage: Storage, busybox_layer: bytes) -> None:
    top = put_image(storage, busybox_layer)
    storage.driver.create_rw("c1", top)
    fstype, data = storage.driver.mount_options("c1", top)
    if storage.driver.name == "overlay":
        lowers = [str(storage.layers.diff_path(r.chain_id)) for r in storage.layers.lineage(top)]
        init = storage.layers.layout.init_layer  # the (shared) init layer tops the image's layers
        assert fstype == "overlay" and data.startswith(f"lowerdir={':'.join([str(init), *lowers])},upperdir=")
        assert data.endswith(",userxattr" if not ROOT else ",redirect_dir=off,metacopy=off")
    else:
        assert fstype == "bind" and Path(data).is_dir()


@needs_root
def test_merged_view(storage: Storage, busybox_layer: bytes) -> None:
    top = put_image(storage, busybox_layer)
    storage.driver.create_rw("c1", top)
    m = storage.mount("c1", top)
    assert (m / "bin" / "busybox").read_bytes() == Path("/bin/busybox").read_bytes()
    assert (m / "bin" / "sh").is_symlink() and not os.path.lexists(m / "bin" / "vi")
    assert (m / "etc" / "passwd").read_text() == "root:x:0:0:root:/root:/bin/sh\n"
    assert os.listdir(m / "data") == []
    assert os.listdir(m / "var" / "www") == ["index.html"]
    storage.driver.unmount(m)
    storage.driver.unmount(m)  # idempotent
    assert not os.path.ismount(m)


def _mutate(m: Path) -> None:
    (m / "etc" / "motd2").write_text("hi")
    with open(m / "etc" / "group", "a") as f:
        f.write("extra:x:1000:\n")
    (m / "bin" / "ls").unlink()
    shutil.rmtree(m / "var" / "www")
    (m / "var" / "www").mkdir()
    (m / "var" / "www" / "new").write_text("new")
    (m / "newdir" / "sub").mkdir(parents=True)
    (m / "newdir" / "sub" / "f").write_text("f")
    (m / "data").rmdir()


EXPECTED_CHANGES = [
    ("C", "/bin"),
    ("D", "/bin/ls"),
    ("D", "/data"),
    ("C", "/etc"),
    ("C", "/etc/group"),
    ("A", "/etc/motd2"),
    ("A", "/newdir"),
    ("A", "/newdir/sub"),
    ("A", "/newdir/sub/f"),
    ("C", "/var"),
    ("C", "/var/www"),
    ("D", "/var/www/index.html"),
    ("A", "/var/www/new"),
]


@needs_root
def test_changes_and_commit_round_trip(storage: Storage, busybox_layer: bytes) -> None:
    d = storage.driver
    top = put_image(storage, busybox_layer)
    d.create_rw("c1", top)
    m1 = storage.mount("c1", top)
    _mutate(m1)
    assert d.changes("c1", top) == EXPECTED_CHANGES
    out = io.BytesIO()
    d.rw_tar("c1", top, out)
    committed = storage.layers.put(top, io.BytesIO(out.getvalue()), sha(out.getvalue()))
    d.create_rw("c2", committed.chain_id)
    m2 = storage.mount("c2", committed.chain_id)
    assert tree(m2) == tree(m1)
    assert d.changes("c2", committed.chain_id) == []


@needs_root
def test_scratch_container(storage: Storage) -> None:
    storage.driver.create_rw("s", None)
    m = storage.mount("s", None)
    assert _without_init(os.listdir(m)) == []
    (m / "f").write_text("x")
    assert storage.driver.changes("s", None) == [("A", "/f")]


def _without_init(names: list[str]) -> list[str]:
    """A listing of a rootfs less the init layer's top-level entries (overlay shows them always)."""
    from podpy.storage.initlayer import DIRS, FILES

    return [n for n in names if n not in {p.split("/")[0] for p in (*DIRS, *FILES)}]


@needs_root
def test_long_chain(storage: Storage) -> None:
    top = storage.layers.put(None, io.BytesIO(tar_of(("base", b"0")))).chain_id
    for i in range(70):
        top = storage.layers.put(top, io.BytesIO(tar_of((f"f{i:02d}", str(i).encode())))).chain_id
    storage.driver.create_rw("c", top)
    m = storage.mount("c", top)
    assert sorted(_without_init(os.listdir(m))) == ["base"] + [f"f{i:02d}" for i in range(70)]
    assert (m / "f69").read_text() == "69"
    if storage.driver.name == "overlay":  # 71 absolute lowerdirs do not fit in a page
        assert storage.driver.mount_options("c", top)[1].startswith("lowerdir=l/0:l/1:")


@needs_root
def test_renamed_lower_directory_survives_commit(storage: Storage, busybox_layer: bytes) -> None:
    d = storage.driver
    top = put_image(storage, busybox_layer)
    d.create_rw("c1", top)
    m1 = storage.mount("c1", top)
    shutil.move(m1 / "var", m1 / "var2")  # overlay: EXDEV, then copy + delete (no redirects)
    out = io.BytesIO()
    d.rw_tar("c1", top, out)
    committed = storage.layers.put(top, io.BytesIO(out.getvalue()))
    d.create_rw("c2", committed.chain_id)
    m2 = storage.mount("c2", committed.chain_id)
    assert not (m2 / "var").exists() and (m2 / "var2" / "www" / "index.html").is_file()
    assert tree(m2) == tree(m1)
