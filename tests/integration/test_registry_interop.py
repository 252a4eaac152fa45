"""Interop with Podman and skopeo through a registry (skipped unless they are installed)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration.registry_fixtures import open_registry_fixture, registry_env_fixture  # noqa: F401

pytestmark = pytest.mark.integration


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed")
    return path


def _run(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(argv[:4])}... exited {proc.returncode}: {proc.stderr[-500:]}"
    return proc.stdout


def test_podman_pulls_and_runs_what_podpy_pushed(podpy, busybox_image, open_registry, registry_env, tmp_path: Path):
    short = Path(tempfile.mkdtemp(prefix="pm-", dir="/tmp"))  # podman refuses a runroot over 50 characters
    podman = [_need("podman"), "--root", str(short / "root"), "--runroot", str(short / "run")]
    ref = f"{open_registry.host}/interop/podpy-pushed:v1"
    podpy("push", "-q", "busybox:latest", ref)
    try:
        _run([*podman, "pull", "-q", "--tls-verify=false", ref])
        ids = _run([*podman, "images", "-q", "--no-trunc", ref]).split()
        assert [i.removeprefix("sha256:") for i in ids] == [busybox_image.removeprefix("sha256:")]
        out = subprocess.run([*podman, "run", "--rm", "--network", "none", "--ulimit", "host", ref, "echo", "hi"],
                             capture_output=True, text=True)  # fmt: skip
        if out.returncode != 0 and "rlimit" in out.stderr.lower():
            pytest.skip(f"podman cannot run containers here: {out.stderr.strip()[-200:]}")
        assert out.stdout.strip() == "hi", out.stderr
    finally:
        subprocess.run([*podman, "system", "reset", "-f"], capture_output=True)
        shutil.rmtree(short, ignore_errors=True)


def test_podpy_pulls_what_skopeo_copied(podpy, busybox_image, open_registry, registry_env):
    skopeo = _need("skopeo")
    src = f"{open_registry.host}/interop/source:v1"
    dst = f"{open_registry.host}/interop/skopeo-copied:v1"
    podpy("push", "-q", "busybox:latest", src)
    _run([skopeo, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "v2s2",
          f"docker://{src}", f"docker://{dst}"])  # fmt: skip
    podpy("rmi", "-f", "busybox:latest")
    assert podpy("pull", "-q", dst).stdout.strip() == busybox_image.removeprefix("sha256:")
