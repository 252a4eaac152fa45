"""kube play's pull options: --creds, --authfile, --cert-dir, --tls-verify (registries on loopback)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from tests.integration.registry_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    USER,
    Seeder,
    basic_registry_fixture,
    hand_image,
    registry_env_fixture,
    tls_registry_fixture,
)

pytestmark = pytest.mark.integration

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: kp}
spec:
  containers:
  - {name: c, image: IMAGE, command: [/bin/sh]}
"""


def _yaml(tmp_path: Path, image: str) -> str:
    f = tmp_path / "pod.yaml"
    f.write_text(POD.replace("IMAGE", image))
    return str(f)


def test_play_pulls_with_creds_or_authfile(podpy, basic_registry, registry_env, tmp_path: Path):  # noqa: F811
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    Seeder(basic_registry, basic).image("kp/img", "v1", img := hand_image([{"x": b"kube"}]))
    f = _yaml(tmp_path, f"{basic_registry.host}/kp/img:v1")
    play = ("kube", "play", "--network", "none", "--start=false")
    assert podpy(*play, f, check=False).returncode == 125  # no credentials
    podpy(*play, "--creds", f"{USER}:{PASSWORD}", f)
    assert podpy("inspect", "kp-c", "--format", "{{.Image}}").stdout.strip().endswith(img.id[7:])
    podpy("kube", "down", f)
    podpy("rmi", "-a")
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auths": {basic_registry.host: {"auth": basic.split()[1]}}}))
    podpy(*play, "--authfile", str(auth), f)
    podpy("kube", "down", f)


def test_play_pulls_with_tls_verify_and_cert_dir(podpy, tls_registry, registry_env, tmp_path: Path):  # noqa: F811
    Seeder(tls_registry).image("kp/tls", "v1", hand_image([{"y": b"tls"}]))
    f = _yaml(tmp_path, f"{tls_registry.host}/kp/tls:v1")
    play = ("kube", "play", "--network", "none", "--start=false")
    res = podpy(*play, "--tls-verify=true", f, check=False)  # loopback is insecure unless asked
    assert res.returncode == 125 and "certificate signed by unknown authority" in res.stderr
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(tls_registry.ca, certs / "ca.crt")
    podpy(*play, "--tls-verify=true", "--cert-dir", str(certs), f)
    podpy("kube", "down", f)
