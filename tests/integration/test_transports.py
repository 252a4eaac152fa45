"""Image transports as Podman accepts them: pull/push/run/create/save/load with docker-archive:,
oci-archive:, oci:, dir:, docker:// and a clear error for containers-storage: (issue 11)."""

from __future__ import annotations

import json
import os
import tarfile

import pytest

from tests.integration.registry_fixtures import open_registry_fixture, registry_env_fixture  # noqa: F401

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")]  # fmt: skip


def _names(p) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())


def _fresh(p) -> None:  # type: ignore[no-untyped-def]
    p("rmi", "-af")
    assert _names(p) == []


def test_push_and_pull_every_file_transport(podpy, busybox_image, tmp_path):
    hexid = busybox_image.removeprefix("sha256:")
    pushes = {
        "docker-archive": (f"docker-archive:{tmp_path}/d.tar:ex/one:2", ["ex/one:2"]),
        "oci-archive": (f"oci-archive:{tmp_path}/o.tar", ["busybox:latest"]),
        "oci-archive-ref": (f"oci-archive:{tmp_path}/o2.tar:mytag", ["localhost/mytag:latest"]),
        "oci": (f"oci:{tmp_path}/layout:first", [f"localhost{tmp_path}/layout:latest"]),
        "dir": (f"dir:{tmp_path}/plain", ["<none>:<none>"]),
    }
    for dest, _ in pushes.values():
        res = podpy("push", "busybox", dest)
        assert res.stdout == "", res.stdout
    assert tarfile.is_tarfile(tmp_path / "d.tar") and tarfile.is_tarfile(tmp_path / "o.tar")
    assert (tmp_path / "plain" / "version").read_text() == "Directory Transport Version: 1.1\n"
    assert (tmp_path / "plain" / hexid).is_file() and (tmp_path / "plain" / "manifest.json").is_file()
    assert json.loads((tmp_path / "layout" / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    for kind, (src, names) in pushes.items():
        _fresh(podpy)
        res = podpy("pull", src)
        assert res.stdout.split() == [hexid], (kind, res.stdout)
        assert _names(podpy) == names, kind


def test_oci_layout_keeps_several_references(podpy, busybox_image, tmp_path):
    podpy("push", "busybox", f"oci:{tmp_path}/lay:first")
    podpy("push", "busybox", f"oci:{tmp_path}/lay:second")
    refs = [m["annotations"]["org.opencontainers.image.ref.name"]
            for m in json.loads((tmp_path / "lay" / "index.json").read_text())["manifests"]]  # fmt: skip
    assert refs == ["first", "second"]
    _fresh(podpy)
    assert podpy("pull", f"oci:{tmp_path}/lay:second").stdout.strip() == busybox_image.removeprefix("sha256:")
    res = podpy("pull", f"oci:{tmp_path}/lay:nope", check=False)
    assert res.returncode == 125 and "no image matching 'nope'" in res.stderr


def test_docker_archive_reference_picks_one_image(podpy, busybox_image, busybox_tar, tmp_path):
    other = podpy("import", "-c", "LABEL x=y", str(busybox_tar), "other:1").stdout.split()[-1]
    podpy("save", "-o", str(tmp_path / "two.tar"), "busybox", "other:1")
    _fresh(podpy)
    podpy("pull", f"docker-archive:{tmp_path}/two.tar:other:1")
    assert _names(podpy) == ["other:1"]
    _fresh(podpy)
    assert podpy("pull", f"docker-archive:{tmp_path}/two.tar:@0").stdout.split() == [busybox_image[7:]]
    _fresh(podpy)
    podpy("pull", f"docker-archive:{tmp_path}/two.tar")
    assert _names(podpy) == ["busybox:latest", "other:1"]
    res = podpy("pull", f"docker-archive:{tmp_path}/two.tar:nosuch:9", check=False)
    assert res.returncode == 125 and "no image matching" in res.stderr
    assert other


def test_run_and_create_from_transports(podpy, busybox_image, tmp_path):
    podpy("push", "busybox", f"docker-archive:{tmp_path}/img.tar")
    podpy("push", "busybox", f"oci:{tmp_path}/lay")
    _fresh(podpy)
    assert podpy("run", "--rm", f"docker-archive:{tmp_path}/img.tar", "echo", "from-archive").stdout == "from-archive\n"
    assert _names(podpy) == ["busybox:latest"]
    _fresh(podpy)
    cid = podpy("create", "--name", "c", f"oci:{tmp_path}/lay").stdout.strip()
    assert podpy("ps", "-a", "--format", "{{.Image}}").stdout.strip() == f"localhost{tmp_path}/lay:latest"
    podpy("rm", cid)


def test_save_and_load_directories(podpy, busybox_image, tmp_path):
    podpy("save", "--format", "oci-dir", "-o", str(tmp_path / "od"), "busybox")
    podpy("save", "--format", "docker-dir", "-o", str(tmp_path / "dd"), "busybox")
    assert (tmp_path / "od" / "index.json").is_file() and (tmp_path / "dd" / "version").is_file()
    for d in ("od", "dd"):
        _fresh(podpy)
        res = podpy("load", "-i", str(tmp_path / d))
        assert res.stdout.startswith("Loaded image: "), res.stdout
        assert podpy("images", "-q", "--no-trunc").stdout.split() == [busybox_image]
    res = podpy("save", "--format", "oci-dir", busybox_image, check=False)
    assert res.returncode == 125 and "-o DIR" in res.stderr


@pytest.mark.parametrize("src", ["containers-storage:busybox", "docker-daemon:busybox:latest"])
def test_foreign_stores_are_a_clear_error(podpy, busybox_image, src):
    for args in (["pull", src], ["run", "--rm", src, "true"], ["push", "busybox", src]):
        res = podpy(*args, check=False)
        assert res.returncode == 125, args
        assert res.stderr.count("\n") == 1 and "transport is not supported" in res.stderr, (args, res.stderr)


def test_missing_files_and_docker_scheme(podpy, busybox_image, tmp_path):
    for src in (f"docker-archive:{tmp_path}/none.tar", f"oci:{tmp_path}/nodir", f"dir:{tmp_path}/nodir"):
        res = podpy("pull", src, check=False)
        assert res.returncode == 125 and str(tmp_path) in res.stderr and "Traceback" not in res.stderr
    res = podpy("pull", "--retry", "0", "docker://127.0.0.1:9/x/y:1", check=False)  # nothing listens on port 9
    assert res.returncode == 125 and "Trying to pull 127.0.0.1:9/x/y:1" in res.stderr and "docker://" not in res.stderr


def test_docker_scheme_against_a_registry(podpy, busybox_image, open_registry, registry_env, tmp_path):
    from tests.conftest import Podpy, _cleanup_store

    dest = f"{open_registry.host}/tr/busybox:v1"
    podpy("push", "busybox", f"docker://{dest}")
    other = Podpy(tmp_path / "root2", tmp_path / "run2", ["--storage-driver", "vfs"])
    try:
        assert other("pull", "-q", f"docker://{dest}").stdout.strip() == busybox_image.removeprefix("sha256:")
        assert other("run", "--rm", f"docker://{dest}", "echo", "ok").stdout == "ok\n"
        assert other("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split() == [dest]
    finally:
        _cleanup_store(other)


def test_compress_for_dir_destinations(podpy, busybox_image, tmp_path):
    """busybox (imported) has an uncompressed layer: --compress gzips it for dir: and docker-dir."""
    podpy("push", "--compress", "busybox", f"dir:{tmp_path}/pushed")
    podpy("save", "--compress", "--format", "docker-dir", "-o", str(tmp_path / "saved"), "busybox")
    podpy("save", "--format", "docker-dir", "-o", str(tmp_path / "plain"), "busybox")
    for d in ("pushed", "saved"):
        doc = json.loads((tmp_path / d / "manifest.json").read_text())
        layer = doc["layers"][0]
        assert layer["mediaType"].endswith("gzip")
        assert (tmp_path / d / layer["digest"].removeprefix("sha256:")).read_bytes()[:2] == b"\x1f\x8b"
        _fresh(podpy)
        podpy("load", "-i", str(tmp_path / d))
        assert podpy("images", "-q", "--no-trunc").stdout.split() == [busybox_image]
    plain = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert not plain["layers"][0]["mediaType"].endswith("gzip")
    res = podpy("save", "--compress", "-o", str(tmp_path / "x.tar"), "busybox", check=False)
    assert res.returncode == 125 and "docker-dir format (dir:) only" in res.stderr
