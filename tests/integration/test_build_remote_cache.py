"""build --cache-to / --cache-from: step images shared through a real registry on loopback, so a
second store (another host, a CI runner) reuses the steps without running them."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import Podpy, _cleanup_store
from tests.integration.registry_fixtures import (  # noqa: F401  (fixtures)
    open_registry_fixture,
    registry_env_fixture,
)

pytestmark = pytest.mark.integration

DOCKERFILE = """\
FROM busybox
RUN echo "$RANDOM-$$" > /stamp
COPY f.txt /f.txt
ENV X=1
"""


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    d = tmp_path / "ctx"
    d.mkdir()
    (d / "Dockerfile").write_text(DOCKERFILE)
    (d / "f.txt").write_text("one\n")
    return d


@pytest.fixture
def other_store(podpy, busybox_image, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A second store holding the very same busybox image (loaded, so its ID is the same)."""
    podpy("save", "-o", str(tmp_path / "busybox.tar"), "busybox:latest")
    p = Podpy(tmp_path / "root2", tmp_path / "run2", ["--storage-driver", "vfs"])
    p("load", "-i", str(tmp_path / "busybox.tar"))
    yield p
    _cleanup_store(p)


def _stamp(p: Podpy, image: str) -> str:
    return p("run", "--rm", "--network", "none", image, "cat", "/stamp").stdout


def _tags(host: str, repo: str) -> list[str]:
    with urllib.request.urlopen(f"http://{host}/v2/{repo}/tags/list", timeout=10) as r:
        return json.load(r)["tags"]


def test_cache_to_then_cache_from_in_another_store(podpy, other_store, open_registry, registry_env, ctx):
    cache = f"{open_registry.host}/buildcache"
    first = podpy("build", "-q", "--cache-to", cache, "-t", "app", str(ctx)).stdout.strip()
    tags = _tags(open_registry.host, "buildcache")
    assert len(tags) == 3 and all(len(t) == 64 for t in tags)  # one per step

    res = other_store("build", "--cache-from", cache, "-t", "app", str(ctx))
    assert res.stdout.count("Using cache") == 3, res.stdout
    assert res.stdout.strip().splitlines()[-1] == first  # the same image: the steps did not run again
    assert _stamp(other_store, "app") == _stamp(podpy, "app")
    names = other_store("images", "-a", "--format", "{{.Repository}}").stdout.split()
    assert not any("buildcache" in n for n in names)  # cache images carry no name

    # a changed file misses from its step on; the RUN before it still comes from the registry
    (ctx / "f.txt").write_text("two\n")
    podpy("rmi", "-f", "app")
    podpy("builder", "prune", "-af")
    res = podpy("build", "--cache-from", cache, str(ctx))
    assert res.stdout.count("Using cache") == 1, res.stdout


def test_cache_ttl_and_bad_repositories(podpy, other_store, open_registry, registry_env, ctx):
    cache = f"{open_registry.host}/ttl"
    podpy("build", "-q", "--cache-to", cache, str(ctx))
    res = other_store("build", "--cache-from", cache, "--cache-ttl", "1ns", str(ctx))
    assert "Using cache" not in res.stdout  # every cache image is older than a nanosecond
    for bad in (f"{cache}:tag", "type=local,dest=/tmp/x"):
        res = podpy("build", "--cache-from", bad, str(ctx), check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: --cache-from"), res.stderr
        assert res.stderr.count("\n") == 1
