"""The pod record on disk and --share parsing (no containers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.engine.pods import record as pr
from podpy.errors import InvalidArgument


def test_record_round_trip_ignores_unknown_keys(tmp_path: Path) -> None:
    rec = pr.PodRecord(id="a" * 64, name="p", created="2026-01-01T00:00:00Z", labels={"k": "v"}, infra_id="b" * 64)
    pr.save(tmp_path, rec)
    path = pr.pods_dir(tmp_path) / f"{rec.id}.json"
    path.write_text(path.read_text().replace('"schema"', '"future": 1, "schema"'))
    assert pr.load_all(tmp_path) == [rec]
    assert rec.shares("net") and not pr.PodRecord(id="c", name="q", created="").shares("net")


def test_parse_share() -> None:
    assert pr.parse_share("ipc, net") == ["ipc", "net"]
    assert pr.parse_share("") == []
    with pytest.raises(InvalidArgument, match="'pid' cannot be shared"):
        pr.parse_share("net,pid")


def test_missing_pod_is_no_such_pod(tmp_path: Path) -> None:
    with pytest.raises(pr.NoSuchPod):
        pr.load(tmp_path / "x.json")
