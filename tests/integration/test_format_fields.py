"""The --format fields the man pages and completions document (podpy/docgen/formats.py) are the
fields the commands render: each is evaluated through the real command, on a store with one object
of each kind. Also `image import-busybox`, the registry-free image maker scripts/install.sh uses."""

from __future__ import annotations

import json

import pytest

from podpy.docgen.formats import BY_PATH
from tests.conftest import Podpy


@pytest.fixture
def store(podpy: Podpy, busybox_image: str) -> Podpy:
    podpy("create", "--name", "made", "--label", "app=web", "busybox", "true")
    podpy("volume", "create", "vol")
    podpy("network", "create", "--subnet", "10.231.7.0/24", "fmtnet")
    return podpy


def _template(fields: tuple[str, ...]) -> str:
    return "|".join(f"{{{{.{f}}}}}" for f in fields)


@pytest.mark.parametrize("path", [("ps", "-a"), ("images",), ("volume", "ls"), ("network", "ls"), ("system", "df"),
                                  ("history", "busybox")])  # fmt: skip
def test_documented_fields_render(store: Podpy, path: tuple[str, ...]) -> None:
    key = tuple(w for w in path if w not in ("-a", "busybox"))
    fields = BY_PATH[key].fields
    res = store(*path, "--format", _template(fields))
    lines = res.stdout.splitlines()
    assert lines and all(line.count("|") == len(fields) - 1 for line in lines), res.stdout
    if key == ("ps",):
        assert lines[0].split("|")[fields.index("Names")] == "made"


def test_stats_fields_render(store: Podpy) -> None:
    cid = store("run", "-d", "--network", "none", "busybox", "sleep", "30").stdout.strip()
    fields = BY_PATH[("stats",)].fields
    out = store("stats", "--no-stream", "--format", _template(fields), cid).stdout.splitlines()
    assert len(out) == 1 and out[0].count("|") == len(fields) - 1
    store("rm", "-f", cid)


def test_import_busybox_is_the_test_image(podpy: Podpy, busybox_image: str) -> None:
    """The same deterministic tar as the tests' busybox (the same layer), and a default CMD."""
    podpy("image", "import-busybox", "sample:1")
    made, test = (json.loads(podpy("image", "inspect", ref).stdout)[0] for ref in ("sample:1", busybox_image))
    assert made["RootFS"]["Layers"] == test["RootFS"]["Layers"]
    assert made["Config"]["Cmd"] == ["/bin/sh"]
    assert podpy("run", "--rm", "sample:1", "echo", "hi").stdout == "hi\n"
