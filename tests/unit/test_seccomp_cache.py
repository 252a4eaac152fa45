"""Compiled seccomp programs kept under the runroot: the same program as compiling, one file per
profile, and a file that was not made from this exact profile is never used."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from podpy.runtime.seccomp import _compiled, prepare
from podpy.runtime.seccomp.default_profile import default_profile
from podpy.runtime.seccomp.profile import to_oci

CAPS = ["CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"]


def _linux(**changes: object) -> dict:  # type: ignore[type-arg]
    doc = to_oci(default_profile(), CAPS)
    doc.update(changes)
    return {"seccomp": doc}


def _fresh(linux: dict) -> bytes:  # type: ignore[type-arg]
    return _compiled(json.dumps(linux["seccomp"], sort_keys=True)).program


def test_cached_program_equals_compiled(tmp_path: Path) -> None:
    cache = tmp_path / "seccomp"
    first = prepare(_linux(), cache)
    files = list(cache.iterdir())
    assert len(files) == 1 and stat.S_IMODE(cache.stat().st_mode) == 0o700
    second = prepare(_linux(), cache)  # read back from the file
    assert first is not None and second is not None
    assert first.program == second.program == _fresh(_linux())
    assert first.flags == second.flags


def test_other_profile_gets_its_own_program(tmp_path: Path) -> None:
    cache = tmp_path / "seccomp"
    a = prepare(_linux(), cache)
    b = prepare(_linux(defaultAction="SCMP_ACT_KILL_PROCESS"), cache)
    assert a is not None and b is not None and a.program != b.program
    assert b.program == _fresh(_linux(defaultAction="SCMP_ACT_KILL_PROCESS"))
    assert len(list(cache.iterdir())) == 2


def test_tampered_or_foreign_file_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "seccomp"
    prepare(_linux(), cache)
    (path,) = cache.iterdir()
    head, _, rest = path.read_bytes().partition(b"\0")
    # the same name holding another key (a crc32 collision) or a cut program: compiled again
    for data in (head + b" " + b"\0" + rest, head + b"\0" + rest[:-3], b"garbage"):
        path.write_bytes(data)
        got = prepare(_linux(), cache)
        assert got is not None and got.program == _fresh(_linux())
    assert path.read_bytes() == head + b"\0" + rest  # rewritten with the right program


def test_unwritable_cache_still_compiles(tmp_path: Path) -> None:
    blocker = tmp_path / "seccomp"
    blocker.write_text("not a directory")
    got = prepare(_linux(), blocker)
    assert got is not None and got.program == _fresh(_linux())


def test_no_seccomp_section() -> None:
    assert prepare({}, None) is None and prepare(None, None) is None
