"""containers.conf parsed once per change: the cache under the runroot is keyed by the files' stamps."""

from __future__ import annotations

import os

import pytest

from podpy.config import containers_conf
from podpy.errors import InvalidArgument


def _write(path, text: str, mtime_ns: int) -> None:  # type: ignore[no-untyped-def]
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_cache_is_used_and_follows_changes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conf, cache = tmp_path / "containers.conf", tmp_path / "run" / "containers-conf.json"
    cache.parent.mkdir()
    monkeypatch.setenv("CONTAINERS_CONF", str(conf))
    monkeypatch.delenv("CONTAINERS_CONF_OVERRIDE", raising=False)
    _write(conf, '[containers]\nlog_driver = "k8s-file"\ndefault_ulimits = ["nofile=10:20"]\n', 10**18)
    first = containers_conf(cache)
    assert first.log_driver == "k8s-file" and first.default_ulimits == ("nofile=10:20",)
    assert cache.exists()
    assert containers_conf(cache) == first == containers_conf()
    # same size, new mtime: parsed again
    _write(conf, '[containers]\nlog_driver = "k8s-file"\ndefault_ulimits = ["nofile=30:40"]\n', 2 * 10**18)
    assert containers_conf(cache).default_ulimits == ("nofile=30:40",)
    _write(conf, "[containers\n", 3 * 10**18)
    with pytest.raises(InvalidArgument):
        containers_conf(cache)
    conf.unlink()
    assert containers_conf(cache).log_driver is None


def test_unreadable_cache_is_ignored(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conf, cache = tmp_path / "containers.conf", tmp_path / "containers-conf.json"
    monkeypatch.setenv("CONTAINERS_CONF", str(conf))
    monkeypatch.delenv("CONTAINERS_CONF_OVERRIDE", raising=False)
    conf.write_text("[containers]\nlog_size_max = 100\n")
    cache.write_text("{not json")
    assert containers_conf(cache).log_size_max == 100
    assert containers_conf(cache).log_size_max == 100
