"""search (catalog fallback, --limit, --format, --list-tags, registries without search) and
ensure_image (run/create's --pull policies)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.registry_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    USER,
    Seeder,
    hand_image,
    open_registry_fixture,
    proxy_fixture,
    registry_env_fixture,
    token_registry_fixture,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(open_registry):  # type: ignore[no-untyped-def]
    s = Seeder(open_registry)
    for repo, tag in (("find/alpha", "v1"), ("find/alpha", "v2"), ("find/beta", "v1"), ("elsewhere/gamma", "v1")):
        s.image(repo, tag, hand_image([{repo: tag.encode()}]))
    return open_registry


def test_search_catalog(podpy, catalog, registry_env):
    host = catalog.host
    res = podpy("search", f"{host}/find")
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION"]
    assert [ln.strip() for ln in lines[1:]] == [f"{host}/find/alpha", f"{host}/find/beta"]
    assert len(podpy("search", "--limit", "1", f"{host}/find").stdout.splitlines()) == 2
    rows = json.loads(podpy("search", "--format", "json", f"{host}/gam").stdout)
    assert [r["Name"] for r in rows] == [f"{host}/elsewhere/gamma"]
    everything = podpy("search", "--format", "{{.Name}}", f"{host}/").stdout.split()
    assert {f"{host}/find/alpha", f"{host}/elsewhere/gamma"} <= set(everything)
    tags = podpy("search", "--list-tags", "--format", "{{.Tag}}", f"{host}/find/alpha").stdout.split()
    assert tags == ["v1", "v2"]


def test_search_filters_and_compatible_columns(podpy, catalog, registry_env):
    host = catalog.host
    lines = podpy("search", "--compatible", f"{host}/find").stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"]
    assert lines[1].split() == [f"{host}/find/alpha", "0"]  # a catalog has no stars, official or automated
    fmt = ("--format", "{{.Name}}")
    assert podpy("search", *fmt, "-f", "is-official=false", f"{host}/find").stdout.split() == [
        f"{host}/find/alpha", f"{host}/find/beta"]  # fmt: skip
    assert podpy("search", *fmt, "--filter", "stars=1", f"{host}/find").stdout == ""
    assert podpy("search", *fmt, "--filter=is-automated=true", f"{host}/find").stdout == ""
    for args, msg in ((["-f", "colour=red"], "invalid filter type 'colour'"),
                      (["-f", "stars=many"], "incorrect value type for stars filter"),
                      (["-f", "stars=1", "--list-tags"], "filters are not applicable to list tags result")):  # fmt: skip
        res = podpy("search", *args, f"{host}/find/alpha", check=False)
        assert res.returncode == 125 and msg in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_search_uses_search_registries(podpy, catalog, registry_env):
    Path(os.environ["CONTAINERS_REGISTRIES_CONF"]).write_text(f'unqualified-search-registries = ["{catalog.host}"]\n')
    assert podpy("search", "--format", "{{.Name}}", "beta").stdout.split() == [f"{catalog.host}/find/beta"]


def test_registry_without_search(podpy, catalog, proxy, registry_env):
    proxy.faults.fail_next, proxy.faults.status, proxy.faults.match = 5, 404, "/_catalog"
    res = podpy("search", f"{proxy.host}/find", check=False)
    assert res.returncode == 125
    assert f"{proxy.host} does not support searching" in res.stderr


def test_search_needs_catalog_permission(podpy, token_registry, registry_env):
    res = podpy("search", f"{token_registry.host}/x", check=False)
    assert res.returncode == 125 and "unauthorized" in res.stderr
    podpy("login", "-u", USER, "-p", PASSWORD, token_registry.host)
    assert podpy("search", f"{token_registry.host}/nothing-matches").returncode == 0


# ---------------------------------------------------------------- ensure_image (run/create)
def _engine(podpy):  # type: ignore[no-untyped-def]
    from podpy.config import Options
    from podpy.engine import Engine

    return Engine(Options(root=podpy.root, runroot=podpy.runroot, storage_driver="vfs"))


def test_ensure_image_policies(podpy, open_registry, proxy, registry_env):
    from podpy.engine.pull import ensure_image
    from podpy.errors import NoSuchImage
    from podpy.registry import progress as pg

    img = hand_image([{"ensure": b"v1"}])
    Seeder(open_registry).image("ensure/img", "v1", img)
    ref = f"{proxy.host}/ensure/img:v1"
    eng = _engine(podpy)
    with pytest.raises(NoSuchImage):
        ensure_image(eng, ref, "never")
    events: list[pg.Progress] = []
    assert ensure_image(eng, ref, "missing", events.append).id == img.id
    assert events[0] == pg.Progress(pg.MISSING, message=ref)
    proxy.faults.seen.clear()
    events.clear()
    assert ensure_image(eng, ref, "missing", events.append).id == img.id
    assert proxy.faults.seen == [] and events == []  # present: no registry traffic at all
    assert ensure_image(eng, ref, "newer").id == img.id
    assert not [r for r in proxy.faults.seen if "/blobs/" in r]  # same digest: only the manifest was checked
    newer = hand_image([{"ensure": b"v2"}])
    Seeder(open_registry).image("ensure/img", "v1", newer)
    assert ensure_image(eng, ref, "newer").id == newer.id
    Seeder(open_registry).image("ensure/img", "v1", img)
    assert ensure_image(eng, ref, "always").id == img.id
    assert ensure_image(eng, ref, "never").id == img.id
