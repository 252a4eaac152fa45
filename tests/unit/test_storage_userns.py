"""Rootless ownership mapping: host ids back to container ids, and deferred owners in TreeWriter."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from podpy.inroot import Root
from podpy.storage.treewrite import TreeWriter, WriteOptions
from podpy.storage.userns import OVERFLOW_ID, IdMapping, Owner, _column


def test_column_puts_own_id_first_then_the_ranges() -> None:
    assert _column(1000, [(100000, 65536), (300000, 10)]) == ((0, 1000, 1), (1, 100000, 65536),
                                                              (65537, 300000, 10))  # fmt: skip


def test_to_container_maps_back_and_overflows() -> None:
    m = IdMapping(_column(1000, [(100000, 65536)]), _column(1001, [(200000, 65536)]))
    assert m.full
    assert m.to_container(1000, 1001) == (0, 0)
    assert m.to_container(100999, 200004) == (1000, 5)
    assert m.to_container(42, 42) == (OVERFLOW_ID, OVERFLOW_ID)
    assert not IdMapping(_column(1000, []), _column(1000, [])).full


def test_treewrite_defers_non_root_owners(tmp_path: Path) -> None:
    opts = WriteOptions(keep_ids=True, strict_ids=False, defer_ids=True)
    with Root(tmp_path) as root:
        w = TreeWriter(root, (), opts)
        for name, uid, mode in (("a", 0, 0o644), ("b", 7, 0o4755)):
            ti = tarfile.TarInfo(name)
            ti.uid = ti.gid = uid
            ti.size, ti.mode = 1, mode
            w.put(ti, io.BytesIO(b"x"))
        w.finish()
    assert w.owners == [Owner(("b",), 7, 7, 0o4755)]
