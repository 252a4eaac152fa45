"""pull against real registries on loopback: open, htpasswd; indexes, --all-tags, digests, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.registry_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    USER,
    Seeder,
    basic_registry_fixture,
    free_port,
    hand_image,
    open_registry_fixture,
    proxy_fixture,
    registry_env_fixture,
    sha,
)

pytestmark = pytest.mark.integration


def _seed(reg, repo: str, tag: str, n_layers: int = 2, salt: str = ""):  # type: ignore[no-untyped-def]
    img = hand_image([{f"f{i}.txt": f"{repo}{salt} layer {i}\n".encode() * (i + 1)} for i in range(n_layers)])
    Seeder(reg).image(repo, tag, img)
    return img


def _ids(podpy) -> list[str]:  # type: ignore[no-untyped-def]
    out = podpy("images", "-q", "--no-trunc").stdout.split()
    return [x.removeprefix("sha256:") for x in out]


def _blobs(podpy) -> set[str]:  # type: ignore[no-untyped-def]
    d = podpy.root / "blobs" / "sha256"
    return {p.name for p in d.iterdir()} if d.exists() else set()


def _ingest_bytes(ingest: Path) -> int:
    total = 0
    for p in ingest.rglob("*") if ingest.exists() else []:
        try:
            total += p.stat().st_size if p.is_file() else 0
        except FileNotFoundError:  # committed meanwhile
            continue
    return total


def test_pull_prints_id_and_records_digest(podpy, open_registry, registry_env):
    img = _seed(open_registry, "pull/basic", "v1")
    ref = f"{open_registry.host}/pull/basic:v1"
    res = podpy("pull", ref)
    assert res.stdout.strip() == img.id.removeprefix("sha256:")
    assert f"Trying to pull {ref}..." in res.stderr
    assert "Copying blob" in res.stderr and "Writing manifest to image destination" in res.stderr
    info = json.loads(podpy("image", "inspect", ref).stdout)[0]
    assert info["RepoDigests"] == [f"{open_registry.host}/pull/basic@{img.digest}"]
    assert info["RepoTags"] == [ref]
    # the layers are extracted: a container filesystem would see them
    listing = podpy("images", "--digests", "--format", "{{.Digest}} {{.Repository}}:{{.Tag}}").stdout
    assert f"{img.digest} {open_registry.host}/pull/basic:v1" in listing


def test_pull_quiet_and_by_digest(podpy, open_registry, registry_env):
    img = _seed(open_registry, "pull/bydigest", "v1")
    ref = f"{open_registry.host}/pull/bydigest@{img.digest}"
    res = podpy("pull", "-q", ref)
    assert res.stdout.strip() == img.id.removeprefix("sha256:") and res.stderr == ""
    info = json.loads(podpy("image", "inspect", ref).stdout)[0]
    assert info["RepoTags"] == [] and info["RepoDigests"] == [ref]


def test_second_pull_skips_present_blobs(podpy, open_registry, registry_env):
    base = {"base.txt": b"shared base layer\n" * 100}
    a = hand_image([base, {"a": b"a"}])
    b = hand_image([base, {"b": b"b"}])
    Seeder(open_registry).image("pull/share-a", "v1", a)
    Seeder(open_registry).image("pull/share-b", "v1", b)
    podpy("pull", f"{open_registry.host}/pull/share-a:v1")
    res = podpy("pull", f"{open_registry.host}/pull/share-b:v1")
    shared = sha(a.layers[0])
    assert f"Copying blob {shared[7:19]} skipped: already exists" in res.stderr
    assert not open_registry.requests("GET", f"/pull/share-b/blobs/{shared}")
    assert sorted(_ids(podpy)) == sorted([a.id[7:], b.id[7:]])


def test_multi_platform_index_resolves_to_host(podpy, open_registry, registry_env):
    from podpy.registry.platforms import host

    here = host().arch
    other = "arm64" if here != "arm64" else "amd64"
    images = {("linux", here): hand_image([{"arch": here.encode()}], arch=here),
              ("linux", other): hand_image([{"arch": other.encode()}], arch=other)}  # fmt: skip
    index = Seeder(open_registry).index("pull/multi", "v1", images)
    ref = f"{open_registry.host}/pull/multi:v1"
    assert podpy("pull", "-q", ref).stdout.strip() == images[("linux", here)].id[7:]
    info = json.loads(podpy("image", "inspect", ref).stdout)[0]
    assert f"{open_registry.host}/pull/multi@{sha(index)}" in info["RepoDigests"]
    assert podpy("pull", "-q", "--platform", f"linux/{other}", ref).stdout.strip() == images[("linux", other)].id[7:]
    res = podpy("pull", "--platform", "linux/s390x", ref, check=False)
    assert res.returncode == 125 and "no image found in manifest list for architecture s390x" in res.stderr


def test_all_tags(podpy, open_registry, registry_env):
    ids = {tag: _seed(open_registry, "pull/alltags", tag, 1, salt=tag).id[7:] for tag in ("one", "two", "three")}
    res = podpy("pull", "-q", "--all-tags", f"{open_registry.host}/pull/alltags")
    assert sorted(res.stdout.split()) == sorted(ids.values())
    tags = podpy("images", "--format", "{{.Tag}}", f"{open_registry.host}/pull/alltags").stdout.split()
    assert sorted(tags) == ["one", "three", "two"]
    bad = podpy("pull", "--all-tags", f"{open_registry.host}/pull/alltags:one", check=False)
    assert bad.returncode == 125 and "tag can't be used with --all-tags" in bad.stderr


def test_basic_auth_registry(podpy, basic_registry, registry_env):
    from tests.integration.registry_fixtures import hand_image as hi

    img = hi([{"secret": b"basic"}])
    auth = "Basic " + __import__("base64").b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    Seeder(basic_registry, auth).image("private/img", "v1", img)
    ref = f"{basic_registry.host}/private/img:v1"
    anon = podpy("pull", ref, check=False)
    assert anon.returncode == 125
    assert f"{basic_registry.host}/private/img" in anon.stderr and "unauthorized" in anon.stderr
    wrong = podpy("pull", "--creds", f"{USER}:nope", ref, check=False)
    assert wrong.returncode == 125 and "unauthorized" in wrong.stderr
    assert _ids(podpy) == [] and not _blobs(podpy)
    assert podpy("pull", "-q", "--creds", f"{USER}:{PASSWORD}", ref).stdout.strip() == img.id[7:]


def test_missing_tag_and_repository(podpy, open_registry, registry_env):
    _seed(open_registry, "pull/exists", "v1")
    res = podpy("pull", f"{open_registry.host}/pull/exists:nope", check=False)
    assert res.returncode == 125
    assert res.stderr.strip().endswith("manifest unknown: manifest unknown")
    assert f"reading manifest nope in {open_registry.host}/pull/exists" in res.stderr
    res = podpy("pull", f"{open_registry.host}/pull/never-pushed:v1", check=False)
    assert res.returncode == 125 and "never-pushed" in res.stderr
    assert _ids(podpy) == []


def test_registry_down(podpy, registry_env):
    host = f"127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    res = podpy("pull", f"{host}/x/y:latest", check=False)
    assert res.returncode == 125
    assert f"pinging container registry {host}" in res.stderr and "connection refused" in res.stderr
    assert time.monotonic() - t0 < 10


def test_corrupt_blob_in_registry_storage_is_refused(podpy, open_registry, registry_env):
    img = _seed(open_registry, "pull/corrupt", "v1", 1, salt="corrupt")
    data = open_registry.blob_data(sha(img.layers[0]))
    original = data.read_bytes()
    data.write_bytes(original[:-8] + bytes(8))  # same size, wrong bytes
    try:
        res = podpy("pull", f"{open_registry.host}/pull/corrupt:v1", check=False)
    finally:
        data.write_bytes(original)
    assert res.returncode == 125 and ("digest mismatch" in res.stderr or "corrupt" in res.stderr), res.stderr
    assert _ids(podpy) == []
    assert sha(img.layers[0])[7:] not in _blobs(podpy)
    layers = podpy.root / "layers"
    assert not layers.exists() or not [p for p in layers.iterdir() if not p.name.startswith(".")]


def test_corrupt_bottom_layer_publishes_no_layer_above_it(podpy, open_registry, registry_env):
    """Layers are extracted in parallel: the ones above a layer that fails must not be published
    (a store must never hold a layer whose parent it lacks)."""
    img = _seed(open_registry, "pull/corrupt-bottom", "v1", 4, salt="bottom")
    data = open_registry.blob_data(sha(img.layers[0]))
    original = data.read_bytes()
    data.write_bytes(original[:-8] + bytes(8))
    try:
        res = podpy("pull", f"{open_registry.host}/pull/corrupt-bottom:v1", check=False)
    finally:
        data.write_bytes(original)
    assert res.returncode == 125, res.stdout
    layers = podpy.root / "layers"
    for rec in layers.glob("*/layer.json") if layers.exists() else []:
        parent = json.loads(rec.read_text()).get("parent")
        assert parent is None or (layers / parent[7:] / "layer.json").is_file(), rec
    assert not [p for p in layers.iterdir() if p.name.startswith(".tmp")] if layers.exists() else True
    assert podpy("pull", "-q", f"{open_registry.host}/pull/corrupt-bottom:v1").stdout.strip() == img.id[7:]


def test_corrupting_proxy_is_refused(podpy, open_registry, proxy, registry_env):
    img = _seed(open_registry, "pull/proxied-corrupt", "v1", 1, salt="proxy")
    proxy.faults.corrupt_blobs = True
    res = podpy("pull", f"{proxy.host}/pull/proxied-corrupt:v1", check=False)
    assert res.returncode == 125, res.stdout
    assert _ids(podpy) == [] and img.id[7:] not in _blobs(podpy)


def test_server_errors_are_retried(podpy, open_registry, proxy, registry_env):
    img = _seed(open_registry, "pull/flaky", "v1")
    proxy.faults.fail_next, proxy.faults.match = 3, "/blobs/"
    assert podpy("pull", "-q", f"{proxy.host}/pull/flaky:v1").stdout.strip() == img.id[7:]
    assert proxy.faults.fail_next == 0


def test_dropped_connection_resumes_with_range(podpy, open_registry, proxy, registry_env):
    big = os.urandom(3 << 20)  # incompressible: the blob stays ~3 MiB
    img = hand_image([{"big.bin": big}])
    Seeder(open_registry).image("pull/resume", "v1", img)
    proxy.faults.drop_blob_after = 1 << 20
    assert podpy("pull", "-q", f"{proxy.host}/pull/resume:v1").stdout.strip() == img.id[7:]
    ranged = [r for r in open_registry.log_lines() if "/pull/resume/blobs/" in r and '" 206 ' in r]
    assert ranged, "the second request should have asked for the rest with Range"


def test_kill9_mid_pull_then_clean_repull(podpy, open_registry, proxy, registry_env):
    img = hand_image([{"a.bin": os.urandom(2 << 20)}, {"b.bin": os.urandom(2 << 20)}])
    Seeder(open_registry).image("pull/killed", "v1", img)
    proxy.faults.throttle = 0.05  # ~1.3 MB/s: the pull takes seconds
    ref = f"{proxy.host}/pull/killed:v1"
    proc = subprocess.Popen(podpy.argv("pull", ref), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ingest = podpy.root / "ingest"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _ingest_bytes(ingest):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _ids(podpy) == []  # no half image is visible
    partial = [p for p in (ingest / "partial").iterdir() if p.stat().st_size > 0]
    assert partial, "the killed pull keeps what it had downloaded"
    proxy.faults.throttle = 0
    assert podpy("pull", "-q", ref).stdout.strip() == img.id[7:]
    resumed = [ln for ln in open_registry.log_lines() if f"/blobs/sha256:{partial[0].name}" in ln and '" 206 ' in ln]
    assert resumed, "the re-pull asks only for the rest of the blob (Range)"
    assert not [p for p in ingest.rglob("*") if p.is_file()], "nothing is left in the ingest area"
    assert not [p for p in (podpy.root / "layers").iterdir() if p.name.startswith(".tmp")]


def test_pull_through_cli_short_name_search_registry(podpy, open_registry, registry_env, tmp_path: Path):
    img = _seed(open_registry, "shortname", "latest", 1, salt="short")
    conf = Path(os.environ["CONTAINERS_REGISTRIES_CONF"])
    conf.write_text(f'unqualified-search-registries = ["{open_registry.host}"]\n')
    assert podpy("pull", "-q", "shortname").stdout.strip() == img.id[7:]
    assert podpy("images", "--format", "{{.Repository}}").stdout.split() == [f"{open_registry.host}/shortname"]
    conf.write_text(f'[aliases]\n"nick" = "{open_registry.host}/shortname"\n')
    assert podpy("pull", "-q", "nick").stdout.strip() == img.id[7:]


def test_ctrl_c_mid_pull(podpy, open_registry, proxy, registry_env):
    img = hand_image([{"c.bin": os.urandom(2 << 20)}])
    Seeder(open_registry).image("pull/interrupted", "v1", img)
    proxy.faults.throttle = 0.05
    proc = subprocess.Popen(podpy.argv("pull", f"{proxy.host}/pull/interrupted:v1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    ingest = podpy.root / "ingest"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _ingest_bytes(ingest):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    assert proc.wait(10) == 130
    assert time.monotonic() - t0 < 5  # download threads do not hold the exit
    assert _ids(podpy) == []


def test_concurrent_pulls_of_one_image(podpy, open_registry, registry_env):
    img = hand_image([{"x.bin": os.urandom(1 << 20)}, {"y.bin": os.urandom(1 << 20)}])
    Seeder(open_registry).image("pull/concurrent", "v1", img)
    ref = f"{open_registry.host}/pull/concurrent:v1"
    procs = [subprocess.Popen(podpy.argv("pull", "-q", ref), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]  # fmt: skip
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert {o[0].decode().strip() for o in outs} == {img.id[7:]}
    assert _ids(podpy) == [img.id[7:]]


def test_short_name_without_search_registries_fails_locally(podpy, registry_env):
    Path(os.environ["CONTAINERS_REGISTRIES_CONF"]).write_text("unqualified-search-registries = []\n")
    res = podpy("pull", "nosuchimage", check=False)
    assert res.returncode == 125 and "no unqualified-search registries are defined" in res.stderr


def test_registries_conf_mirror_and_location(podpy, open_registry, registry_env):
    img = _seed(open_registry, "mirrored/img", "v1", 1, salt="mirror")
    down = f"127.0.0.1:{free_port()}"  # the "real" registry is down: the mirror serves
    Path(os.environ["CONTAINERS_REGISTRIES_CONF"]).write_text(
        f'[[registry]]\nlocation = "{down}"\n[[registry.mirror]]\nlocation = "{open_registry.host}"\n'
        f'[[registry]]\nprefix = "moved.example/team"\nlocation = "{open_registry.host}/mirrored"\n')
    assert podpy("pull", "-q", f"{down}/mirrored/img:v1").stdout.strip() == img.id[7:]
    assert podpy("pull", "-q", "moved.example/team/img:v1").stdout.strip() == img.id[7:]
    names = podpy("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert sorted(names) == sorted([f"{down}/mirrored/img:v1", "moved.example/team/img:v1"])


def test_repeated_layer_in_one_image(podpy, open_registry, registry_env):
    empty = {"marker": b""}
    img = hand_image([empty, {"a": b"a" * 1000}, empty, {"b": b"b"}, empty])
    Seeder(open_registry).image("pull/repeated", "v1", img)
    assert podpy("pull", "-q", f"{open_registry.host}/pull/repeated:v1").stdout.strip() == img.id[7:]
    gets = open_registry.requests("GET", f"/pull/repeated/blobs/{sha(img.layers[0])}")
    assert len(gets) == 1  # fetched once, used three times
