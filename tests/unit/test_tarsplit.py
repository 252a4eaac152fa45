"""Tar-split: the extraction pass records what rebuilds the layer tar byte for byte from the tree;
rebuilding reads only regular files inside the tree and checks the digest before the last byte."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest

from podpy.errors import CorruptContent, StorageError
from podpy.storage.readahead import ReadAhead
from podpy.storage.tarsafe import extract_layer
from podpy.storage.tarsplit import RebuiltTar, SplitWriter, encode

ROOT = os.geteuid() == 0


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def info(name: str, kind: bytes = tarfile.REGTYPE, **kw: object) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mtime = 1700000000
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def make_tar(entries: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in entries:
            if data is not None:
                ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def f(name: str, data: bytes, **kw: object) -> tuple[tarfile.TarInfo, bytes]:
    return info(name, **kw), data


def extract(raw: bytes, tree: Path, mode: str = "overlay"):  # type: ignore[no-untyped-def]
    tree.mkdir(exist_ok=True)
    return extract_layer(io.BytesIO(raw), tree, whiteouts=mode, allow_devices=ROOT, rootless=False, record_split=True)


def rebuilt(tmp: Path, raw: bytes, tree: Path, records: bytes) -> RebuiltTar:
    split = tmp / "split"
    split.write_bytes(encode(sha(raw), "sha256:" + "0" * 64, len(raw), records))
    return RebuiltTar(split, tree, sha(raw), len(raw))


def round_trip(tmp: Path, raw: bytes, mode: str = "overlay") -> Path:
    tree = tmp / "tree"
    stats = extract(raw, tree, mode)
    assert stats.diff_id == sha(raw) and stats.tar_size == len(raw)
    assert stats.split is not None
    with rebuilt(tmp, raw, tree, stats.split) as r:
        assert r.read() == raw
    with rebuilt(tmp, raw, tree, stats.split) as r:  # small reads, as tarfile's copy makes
        got = b"".join(iter(lambda: r.read(777), b""))
    assert got == raw
    return tree


def test_every_kind_of_entry_round_trips(tmp_path: Path) -> None:
    raw = make_tar([
        (info("./", tarfile.DIRTYPE), None),
        (info("d", tarfile.DIRTYPE, mode=0o700), None),
        f("d/a", os.urandom(70000)),
        f("d/block", os.urandom(4096)),  # a multiple of 512: no padding
        f("d/empty", b""),
        (info("d/hard", tarfile.LNKTYPE, linkname="d/a"), None),
        (info("d/sym", tarfile.SYMTYPE, linkname="../etc/passwd"), None),
        (info("fifo", tarfile.FIFOTYPE), None),
        f("/".join(["long" * 30] * 3), b"pax path"),
        f("x", b"xattr", pax_headers={"SCHILY.xattr.user.k": "v", "comment": "kept as bytes"}),
        (info("dirlink", tarfile.SYMTYPE, linkname="/d"), None),
        f("dirlink/through", b"written through a symlink, into d/"),
        (info("d", tarfile.DIRTYPE, mode=0o755), None),  # a directory listed again: no harm
    ]) + b"\0" * 2048 + b"trailing bytes after the end are part of the digest"  # fmt: skip
    tree = round_trip(tmp_path, raw)
    assert (tree / "d" / "through").read_bytes() == b"written through a symlink, into d/"


def test_gnu_long_names_and_odd_padding_round_trip(tmp_path: Path) -> None:
    raw = bytearray(make_tar([f("n/" + "g" * 200, b"gnu longname"), f("z", b"abc")], fmt=tarfile.GNU_FORMAT))
    pad = raw.index(b"gnu longname") + len(b"gnu longname")
    raw[pad : pad + 5] = b"JUNK!"  # padding need not be zeros: it is kept as it was
    round_trip(tmp_path, bytes(raw))


def test_whiteouts_round_trip_in_both_modes(tmp_path: Path) -> None:
    raw = make_tar([(info("d/.wh..wh..opq"), b""), f("d/new", b"new"), (info(".wh.gone"), b"")])
    round_trip(tmp_path, raw, "overlay")
    vfs = tmp_path / "vfs"
    vfs.mkdir()
    tree = vfs / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "d" / "lower").write_bytes(b"from the parent")
    (tree / "gone").write_bytes(b"x")
    round_trip(vfs, raw, "vfs")
    assert not (tree / "gone").exists() and not (tree / "d" / "lower").exists()


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
def test_sparse_files_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse", "wb") as fh:
        fh.seek(1 << 20)
        fh.write(b"end")
    for fmt in ("gnu", "posix"):
        raw = subprocess.run(["tar", "-c", "-S", f"--format={fmt}", "-C", str(src), "sparse"], capture_output=True,
                             check=True).stdout  # fmt: skip
        case = tmp_path / fmt
        case.mkdir()
        tree = round_trip(case, raw)
        assert (tree / "sparse").read_bytes() == b"\0" * (1 << 20) + b"end"


def test_a_tar_that_replaces_its_own_files_has_no_split(tmp_path: Path) -> None:
    for n, entries in enumerate([
        [f("f", b"first"), f("f", b"second")],
        [f("d/f", b"in a directory"), (info("d"), b"the directory replaced by a file")],
        [f("d/f", b"x"), (info("d", tarfile.SYMTYPE, linkname="/"), None)],
        [f("d/f", b"x"), (info(".wh.d"), b"")],  # a whiteout of this layer's own directory
    ]):  # fmt: skip
        raw = make_tar(entries)
        tree = tmp_path / str(n)
        stats = extract(raw, tree)
        assert stats.diff_id == sha(raw)
        assert stats.split is None, entries


def test_no_split_unless_asked(tmp_path: Path) -> None:
    raw = make_tar([f("a", b"a")])
    (tmp_path / "t").mkdir()
    stats = extract_layer(io.BytesIO(raw), tmp_path / "t", whiteouts="overlay", allow_devices=False, rootless=False)
    assert stats.split is None and stats.diff_id == sha(raw)


def _loaded(tmp: Path) -> tuple[bytes, Path, bytes]:
    raw = make_tar([f("d/a", os.urandom(5000)), f("d/b", os.urandom(300_000)), f("c", b"c")])
    tree = tmp / "tree"
    stats = extract(raw, tree)
    assert stats.split is not None
    return raw, tree, stats.split


def test_changed_content_fails_before_the_last_byte(tmp_path: Path) -> None:
    raw, tree, records = _loaded(tmp_path)
    data = bytearray((tree / "d" / "b").read_bytes())
    data[10] ^= 1
    (tree / "d" / "b").write_bytes(data)
    got = bytearray()
    with rebuilt(tmp_path, raw, tree, records) as r, pytest.raises(CorruptContent, match="changed since it was stored"):
        while len(got) < len(raw):  # a reader that stops at the size (tarfile's copy) still hears of it
            chunk = r.read(min(4096, len(raw) - len(got)))
            got += chunk
    assert len(got) < len(raw)


@pytest.mark.parametrize("tamper", ["symlinked-dir", "symlinked-file", "fifo", "size", "missing"])
def test_a_tampered_tree_is_refused_without_leaving_it(tmp_path: Path, tamper: str) -> None:
    raw, tree, records = _loaded(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a").write_bytes((tree / "d" / "a").read_bytes())  # the right bytes, outside the tree
    if tamper == "symlinked-dir":
        shutil.rmtree(tree / "d")
        (tree / "d").symlink_to(outside)
    elif tamper == "symlinked-file":
        (tree / "d" / "a").unlink()
        (tree / "d" / "a").symlink_to(outside / "a")
    elif tamper == "fifo":
        (tree / "d" / "a").unlink()
        os.mkfifo(tree / "d" / "a")
    elif tamper == "size":
        with open(tree / "d" / "a", "ab") as fh:
            fh.write(b"more")
    else:
        (tree / "d" / "a").unlink()
    with rebuilt(tmp_path, raw, tree, records) as r, pytest.raises(CorruptContent, match="d/a in its stored tree"):
        r.read()


def test_a_split_naming_a_path_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "secret").write_bytes(b"s")
    w = SplitWriter()
    w.file(("..", "secret"), 1)
    with rebuilt(tmp_path, b"s", tmp_path / "tree", w.finish()) as r, pytest.raises(StorageError, match="invalid path"):
        r.read()


def test_seek_to_the_start_rebuilds_again(tmp_path: Path) -> None:
    raw, tree, records = _loaded(tmp_path)
    with rebuilt(tmp_path, raw, tree, records) as r:
        head = r.read(6)
        r.seek(0)
        assert r.tell() == 0 and r.read() == raw and head == raw[:6]
        with pytest.raises(io.UnsupportedOperation):
            r.fileno()


def test_read_ahead_hands_over_errors_and_stops_on_close() -> None:
    def failing():  # type: ignore[no-untyped-def]
        yield b"a" * 10
        raise ValueError("boom")

    r = ReadAhead(failing)
    assert r.read(10) == b"a" * 10
    with pytest.raises(ValueError, match="boom"):
        r.read(1)

    produced = []

    def endless():  # type: ignore[no-untyped-def]
        while True:
            produced.append(1)
            yield b"x" * 1000

    r = ReadAhead(endless, depth=2)
    assert r.read(1500) == b"x" * 1500
    r.close()  # the producer was blocked on a full queue: it must end
    time.sleep(0.05)
    n = len(produced)
    time.sleep(0.1)
    assert len(produced) == n
    assert not [t for t in threading.enumerate() if t.name == "read-ahead" and t.is_alive()]


def test_the_content_store_stands_a_split_in_for_its_blob(tmp_path: Path) -> None:
    from podpy.image.content import ContentStore

    raw, tree, records = _loaded(tmp_path)
    layers = tmp_path / "layers"
    chain = "sha256:" + "c" * 64
    (layers / ("c" * 64)).mkdir(parents=True)
    tree.rename(layers / ("c" * 64) / "diff")
    store = ContentStore(tmp_path / "blobs", tmp_path / "ingest", layers)
    digest = sha(raw)
    assert not store.exists(digest)
    store.put_split(digest, encode(digest, chain, len(raw), records))
    assert not store.exists(digest)  # its layer is not published yet (no layer.json)
    (layers / ("c" * 64) / "layer.json").write_text("{}")
    assert store.exists(digest) and store.size(digest) == len(raw) and store.split_chain(digest) == chain
    assert store.read(digest) == raw
    assert not store.path(digest).exists()
    store.materialize(digest)  # its layer is about to go: a blob file instead
    assert store.path(digest).read_bytes() == raw and store.split_chain(digest) is None
    assert not (tmp_path / "blobs" / "tar-split" / digest[7:]).exists()
    store.put_split(digest, encode(digest, chain, len(raw), records))
    store.delete(digest)  # both forms go
    assert not store.exists(digest) and not (tmp_path / "blobs" / "tar-split" / digest[7:]).exists()
    assert ContentStore(tmp_path / "blobs", tmp_path / "ingest").exists(digest) is False


def test_read_ahead_returns_the_stream_whatever_the_read_sizes() -> None:
    import random

    rnd = random.Random(7)
    for _ in range(50):
        chunks = [bytes([rnd.randrange(256)]) * rnd.choice([0, 1, 7, 64, 100]) for _ in range(rnd.randrange(1, 12))]
        want = b"".join(chunks)
        got = bytearray()
        with ReadAhead(lambda c=chunks: iter(c), depth=rnd.choice([1, 2, 4])) as r:
            while True:
                data = r.read(rnd.choice([1, 7, 64, 100, 1000]))  # in step with the chunks, or not
                if not data:
                    break
                got += data
            assert r.tell() == len(want)
        assert bytes(got) == want
