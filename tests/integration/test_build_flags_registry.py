"""`podpy build`'s registry flags for FROM pulls: --tls-verify, --cert-dir, --creds, --authfile, --retry."""

from __future__ import annotations

import base64
import json
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


def _context(tmp_path: Path, ref: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {ref}\nENV BUILT=1\n")  # no RUN: the image has no shell
    return ctx


def test_build_pulls_from_a_private_ca_registry_with_cert_dir(podpy, tls_registry, registry_env, tmp_path):
    img = hand_image([{"tls": b"build"}])
    Seeder(tls_registry).image("secure/base", "v1", img)
    ctx = _context(tmp_path, f"{tls_registry.host}/secure/base:v1")
    res = podpy("build", "--tls-verify=true", "--retry", "0", str(ctx), check=False)
    assert res.returncode == 125 and "certificate signed by unknown authority" in res.stderr
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.crt").write_bytes(tls_registry.ca.read_bytes())
    podpy("build", "-q", "-t", "fromtls", "--tls-verify=true", "--cert-dir", str(certs), "--retry-delay", "1s", str(ctx))
    env = json.loads(podpy("image", "inspect", "fromtls").stdout)[0]["Config"]["Env"]
    assert "BUILT=1" in env


def test_build_pulls_with_creds_and_authfile(podpy, basic_registry, registry_env, tmp_path):
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    Seeder(basic_registry, auth).image("private/base", "v1", hand_image([{"p": b"private"}]))
    ctx = _context(tmp_path, f"{basic_registry.host}/private/base:v1")
    res = podpy("build", "-q", str(ctx), check=False)
    assert res.returncode == 125, res.stderr
    podpy("build", "-q", "--creds", f"{USER}:{PASSWORD}", str(ctx))
    podpy("rmi", "-a", "-f")
    authfile = tmp_path / "auth.json"
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    authfile.write_text(json.dumps({"auths": {basic_registry.host: {"auth": token}}}))
    podpy("build", "-q", "--authfile", str(authfile), str(ctx))
