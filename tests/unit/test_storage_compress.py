"""Compression detection, streaming decompression, compression with digests; lazy imports."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import subprocess
import sys

import pytest

from podpy.errors import CorruptContent
from podpy.storage.compress import compress, compress_gzip, compress_zstd, detect, open_decompressed
from podpy.storage.tarsafe import extract_layer

DATA = os.urandom(100_000) + b"text " * 50_000


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _zstd(data: bytes) -> bytes:
    out = io.BytesIO()
    compress_zstd(io.BytesIO(data), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "pack"),
    [
        ("gzip", gzip.compress),
        ("zstd", _zstd),
        ("xz", lzma.compress),
        ("bzip2", bz2.compress),
        ("none", lambda b: b),
    ],
)
def test_detect_and_decompress(kind: str, pack) -> None:  # type: ignore[no-untyped-def]
    blob = pack(DATA)
    assert detect(blob[:6]) == kind
    reader, got = open_decompressed(io.BytesIO(blob))
    assert got == kind
    out = b""
    while chunk := reader.read(7777):  # small reads: the sniffed head must be replayed exactly
        out += chunk
    assert out == DATA


def test_tiny_and_empty_streams() -> None:
    assert open_decompressed(io.BytesIO(b""))[0].read() == b""
    assert open_decompressed(io.BytesIO(b"ab"))[0].read() == b"ab"


def test_multi_member_gzip() -> None:
    reader, _ = open_decompressed(io.BytesIO(gzip.compress(b"one") + gzip.compress(b"two")))
    assert reader.read() == b"onetwo"


def test_gzip_padding_truncation_garbage_and_big_members() -> None:
    from podpy.storage.compress import as_corrupt

    big = os.urandom(3 << 20) + b"x" * (5 << 20)  # several 1 MiB reads, and output larger than input
    packed = gzip.compress(big) + gzip.compress(b"tail")
    assert open_decompressed(io.BytesIO(packed))[0].read() == big + b"tail"
    assert open_decompressed(io.BytesIO(gzip.compress(b"pad") + bytes(1024)))[0].read() == b"pad"
    for bad in (gzip.compress(big)[:-100], gzip.compress(b"x") + b"garbage", gzip.compress(b"crc")[:-8] + bytes(8)):
        with pytest.raises(Exception) as e:
            open_decompressed(io.BytesIO(bad))[0].read()
        assert isinstance(as_corrupt(e.value), CorruptContent), e.value


def test_compress_gzip_level6_with_digests() -> None:
    out = io.BytesIO()
    res = compress_gzip(io.BytesIO(DATA), out)
    blob = out.getvalue()
    assert gzip.decompress(blob) == DATA
    assert res.digest == sha(blob) and res.size == len(blob)
    assert res.diff_id == sha(DATA) and res.uncompressed_size == len(DATA)
    assert blob[8] == 0  # XFL: neither "fastest" (4) nor "best" (2): level 6
    again = io.BytesIO()
    compress_gzip(io.BytesIO(DATA), again)
    assert again.getvalue() == blob  # no timestamp in the header: reproducible


def test_compress_zstd_and_none() -> None:
    out = io.BytesIO()
    res = compress(io.BytesIO(DATA), out, "zstd")
    assert detect(out.getvalue()) == "zstd" and res.diff_id == sha(DATA)
    plain = io.BytesIO()
    assert compress(io.BytesIO(DATA), plain, "none").digest == sha(DATA)


def test_corrupt_compressed_layer_is_corrupt_content(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blob = bytearray(gzip.compress(DATA))
    blob[len(blob) // 2] ^= 0xFF
    reader, _ = open_decompressed(io.BytesIO(bytes(blob)))
    with pytest.raises(CorruptContent):
        extract_layer(reader, tmp_path, whiteouts="vfs", allow_devices=False, rootless=os.geteuid() != 0)


def test_storage_import_is_lazy() -> None:
    code = (
        "import sys, podpy.storage, podpy.storage.compress; from podpy.storage import LayerStore, make_driver;"
        "print(sorted(m for m in ('tarfile', 'zstandard', 'gzip') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
