"""--squash's layer merge: replacement, whiteouts against earlier new layers and the base, opaque dirs."""

from __future__ import annotations

import io
import tarfile
from contextlib import AbstractContextManager
from typing import BinaryIO

from podpy.build.squash import squash


def _layer(*entries: tuple[str, str | None]) -> bytes:
    """(name, content) files, (name/, None) directories, .wh. names as whiteout markers."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name.rstrip("/"))
            if name.endswith("/"):
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            else:
                raw = (data or "").encode()
                ti.size = len(raw)
                tf.addfile(ti, io.BytesIO(raw))
    return buf.getvalue()


def _merge(*layers: bytes) -> dict[str, str | None]:
    def opener(raw: bytes):  # type: ignore[no-untyped-def]
        def open_() -> AbstractContextManager[BinaryIO]:
            return io.BytesIO(raw)

        return open_

    out = io.BytesIO()
    squash([opener(raw) for raw in layers], out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tf:
        return {m.name: (tf.extractfile(m).read().decode() if m.isreg() else None) for m in tf}  # type: ignore[union-attr]


def test_later_entries_replace_earlier_ones() -> None:
    merged = _merge(_layer(("a", "1"), ("d/", None), ("d/x", "x")), _layer(("a", "2")))
    assert merged == {"a": "2", "d": None, "d/x": "x"}


def test_whiteouts_remove_new_files_and_stay_for_the_base() -> None:
    merged = _merge(_layer(("d/", None), ("d/new", "n"), ("keep", "k")), _layer(("d/.wh.new", ""), (".wh.base", "")))
    assert merged == {"d": None, "keep": "k", "d/.wh.new": "", ".wh.base": ""}


def test_deleting_a_new_directory_removes_its_contents() -> None:
    merged = _merge(_layer(("t/", None), ("t/a", "a"), ("t/s/", None), ("t/s/b", "b")), _layer((".wh.t", "")))
    assert merged == {".wh.t": ""}


def test_opaque_directory_hides_earlier_layers() -> None:
    merged = _merge(_layer(("d/", None), ("d/old", "o")), _layer(("d/", None), ("d/.wh..wh..opq", ""), ("d/n", "n")))
    assert merged == {"d": None, "d/.wh..wh..opq": "", "d/n": "n"}


def test_recreated_directory_becomes_opaque() -> None:
    merged = _merge(_layer((".wh.etc", "")), _layer(("etc/", None), ("etc/f", "f")))
    assert merged == {"etc": None, "etc/.wh..wh..opq": "", "etc/f": "f"}
