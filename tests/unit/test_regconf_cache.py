"""registries.conf parsed once per change: the cached documents are used only while every file's
stat signature is the same (edited, added or removed files are parsed again)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podpy.errors import InvalidArgument
from podpy.registry import regconf


def test_cache_follows_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache.json"
    monkeypatch.setattr(regconf, "_cache_file", lambda: cache)
    monkeypatch.setattr(regconf, "RACY_NS", 0)  # every edit below changes the size too
    main, extra = tmp_path / "registries.conf", tmp_path / "extra.conf"
    main.write_text('unqualified-search-registries = ["a.example"]\n')
    assert regconf.load([main, extra]).search == ["a.example"] and cache.exists()
    assert regconf.load([main, extra]).search == ["a.example"]  # from the cache
    main.write_text('unqualified-search-registries = ["b.example", "c.example"]\n')
    assert regconf.load([main, extra]).search == ["b.example", "c.example"]
    extra.write_text('[aliases]\nfoo = "b.example/lib/foo"\n')
    conf = regconf.load([main, extra])
    assert conf.aliases == {"foo": "b.example/lib/foo"} and conf.sources == [main, extra]
    extra.unlink()
    assert regconf.load([main, extra]).aliases == {}
    main.write_text("not toml = = x\n")
    with pytest.raises(InvalidArgument, match="loading registries configuration"):
        regconf.load([main])
    cache.write_text("{garbage")
    main.write_text('unqualified-search-registries = ["d.example"]\n')
    assert regconf.load([main]).search == ["d.example"]


def test_same_size_edit_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache.json"
    monkeypatch.setattr(regconf, "_cache_file", lambda: cache)
    main = tmp_path / "registries.conf"
    main.write_text('unqualified-search-registries = ["a.example"]\n')
    st = main.stat()
    assert regconf.load([main]).search == ["a.example"]
    main.write_text('unqualified-search-registries = ["z.example"]\n')  # same size
    os.utime(main, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old mtime, perhaps the same ctime (coarse)
    assert regconf.load([main]).search == ["z.example"]  # a file this fresh was never cached
    assert not cache.exists()
