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
    open_registry_fixture,
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


def test_build_all_platforms(podpy, open_registry, registry_env, tmp_path):
    """--all-platforms: bases offering one platform (a single manifest, scratch) build as usual; a
    manifest list's other platforms are built too when no RUN step needs their CPU, and refused with
    one clear line when one does."""
    from podpy.registry.platforms import host

    here = host().arch
    other = "arm64" if here != "arm64" else "amd64"
    images = {("linux", here): hand_image([{"arch": here.encode()}], arch=here),
              ("linux", other): hand_image([{"arch": other.encode()}], arch=other)}  # fmt: skip
    seeder = Seeder(open_registry)
    seeder.index("multi/base", "v1", images)
    seeder.image("single/base", "v1", hand_image([{"single": b"1"}], arch=here))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "f").write_text("payload\n")
    df = ctx / "Dockerfile"

    df.write_text(f"FROM {open_registry.host}/multi/base:v1\nCOPY f /f\nENV BUILT=1\n")
    out = podpy("build", "--all-platforms", "-t", "allp", str(ctx)).stdout
    assert f"[linux/{other}] STEP 1/3: FROM" in out and f"[linux/{here}]" not in out, out
    foreign = out.rsplit(f"[linux/{other}] --> ", 1)[1][:12]
    arch = "{{.Architecture}} {{.Config.Env}}"
    assert podpy("image", "inspect", "--format", arch, "allp").stdout.split()[0] == here
    got = podpy("image", "inspect", "--format", arch, foreign).stdout
    assert got.startswith(other) and "BUILT=1" in got
    assert podpy("image", "build", "--all-platforms=true", "-q", str(ctx)).returncode == 0  # `image build` too

    df.write_text(f"FROM {open_registry.host}/multi/base:v1\nRUN true\n")
    res = podpy("build", "--all-platforms", "-t", "withrun", str(ctx), check=False)
    assert res.returncode == 125 and res.stderr.count("\n") == 1, res.stderr
    assert f"building for linux/{other} needs emulation" in res.stderr and "RUN true" in res.stderr
    assert podpy("image", "exists", "withrun", check=False).returncode == 1

    for base in (f"{open_registry.host}/single/base:v1", "scratch"):
        df.write_text(f"FROM {base}\nCOPY f /f\n")
        out = podpy("build", "--all-platforms", "-t", "single", str(ctx)).stdout
        assert "[linux/" not in out, out
        assert podpy("image", "inspect", "--format", "{{.Architecture}}", "single").stdout.strip() == here

    res = podpy("build", "--all-platforms", "--platform", f"linux/{here}", str(ctx), check=False)
    assert res.returncode == 125 and "cannot be combined with --platform" in res.stderr
