"""Short syntaxes (ports, volumes, durations, sizes), merge rules and project names."""

from __future__ import annotations

import pytest

from podpy.compose import shortsyntax as ss
from podpy.compose.discover import normalize_project_name
from podpy.compose.errors import ComposeError
from podpy.compose.merge import merge_mapping
from podpy.compose.normalize import normalize_service


@pytest.mark.parametrize(("text", "ns"), [
    ("10s", 10 * 10**9), ("1m30s", 90 * 10**9), ("1h", 3600 * 10**9), ("500ms", 5 * 10**8),
    ("1.5s", 15 * 10**8), ("2us", 2000), (5, 5 * 10**9), ("1h2m3s", 3723 * 10**9),
])
def test_durations(text: object, ns: int) -> None:
    assert ss.parse_duration_ns(text, "p") == ns


@pytest.mark.parametrize(("ns", "text"), [
    (10**10, "10s"), (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (5 * 10**8, "500ms"),
    (15 * 10**8, "1.5s"), (0, "0s"),
])
def test_duration_format_is_gos(ns: int, text: str) -> None:
    assert ss.format_duration(ns) == text


@pytest.mark.parametrize("bad", ["10", "x", "10q", "1m-", ""])
def test_bad_durations(bad: str) -> None:
    if bad == "10":  # a bare number is seconds
        assert ss.parse_duration_ns(bad, "p") == 10**10
        return
    with pytest.raises(ComposeError):
        ss.parse_duration_ns(bad, "p")


@pytest.mark.parametrize(("text", "size"), [("64m", 64 << 20), ("1gb", 1 << 30), ("512k", 512 << 10),
                                            (1024, 1024), ("100", 100), ("1.5g", 3 << 29)])
def test_sizes(text: object, size: int) -> None:
    assert ss.parse_size(text, "p") == size


@pytest.mark.parametrize("bad", ["80:80:80:80", "abc", "70000", "10-5", "1-3:1-2", "[::1]80"])
def test_bad_ports(bad: str) -> None:
    with pytest.raises(ComposeError, match="port"):
        ss.parse_ports(bad, "services.a.ports[0]")


@pytest.mark.parametrize(("text", "expected"), [
    ("/data", {"type": "volume", "target": "/data"}),
    ("v:/d:ro", {"type": "volume", "source": "v", "target": "/d", "read_only": True}),
    ("v:/d:nocopy", {"type": "volume", "source": "v", "target": "/d", "volume": {"nocopy": True}}),
    ("/h:/c:Z", {"type": "bind", "source": "/h", "target": "/c", "bind": {"create_host_path": True,
                                                                          "selinux": "Z"}}),
])
def test_volumes(text: str, expected: dict[str, object]) -> None:
    assert ss.parse_volume(text, "p") == expected


@pytest.mark.parametrize("bad", ["a:b:c:d", ":/x", "src:"])
def test_bad_volumes(bad: str) -> None:
    with pytest.raises(ComposeError, match="invalid volume"):
        ss.parse_volume(bad, "p")


@pytest.mark.parametrize(("name", "expected"), [
    ("MyApp", "myapp"), ("my app!", "myapp"), ("_x-Y_", "x-y_"), ("--a.b", "ab"), ("123", "123"),
])
def test_project_name_normalisation(name: str, expected: str) -> None:
    assert normalize_project_name(name) == expected


def _svc(raw: dict[str, object]) -> dict[str, object]:
    return normalize_service("s", raw, "f")


def test_merge_rules_per_key() -> None:
    base = _svc({"image": "a", "command": "x y", "ports": ["80:80", "443:443"], "volumes": ["/h:/d"],
                 "environment": ["A=1"], "secrets": ["s"], "cap_add": ["A", "B"], "ulimits": {"n": 1},
                 "healthcheck": {"test": ["CMD", "a"], "interval": "5s"}, "logging": {
                     "driver": "json-file", "options": {"max-size": "1m"}}})
    over = _svc({"command": ["z"], "ports": ["80:80", "8080:8080"], "volumes": [{"type": "volume",
                 "source": "v", "target": "/d"}], "environment": {"B": "2"}, "secrets": [
                 {"source": "s", "target": "/run/secrets/s", "mode": 256}], "cap_add": ["B", "C"],
                 "healthcheck": {"test": "true"}, "logging": {"driver": "local"}})
    m = merge_mapping(base, over)
    assert m["command"] == ["z"]
    assert [p["target"] for p in m["ports"]] == [80, 443, 8080]
    assert m["volumes"] == [{"type": "volume", "source": "v", "target": "/d"}]
    assert m["environment"] == {"A": "1", "B": "2"}
    assert m["secrets"] == [{"source": "s", "target": "/run/secrets/s", "mode": 256}]
    assert m["cap_add"] == ["A", "B", "C"]
    assert m["healthcheck"] == {"test": ["CMD-SHELL", "true"], "interval": "5s"}
    assert m["logging"] == {"driver": "local"}
