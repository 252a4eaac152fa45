"""login/logout and auth.json, bearer-token auth against a token server, TLS with a private CA."""

from __future__ import annotations

import base64
import json
import os
import stat
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
    token_registry_fixture,
)

pytestmark = pytest.mark.integration


def _auth_file() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"


def _basic(user: str = USER, pw: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def _bearer(reg, scopes: list[str]) -> str:  # type: ignore[no-untyped-def]
    """A token straight from the fixture's token server (to seed images as USER)."""
    import time

    ts = reg.token_server
    now = int(time.time())
    claims = {"iss": ts.ISSUER, "sub": USER, "aud": ts.SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
              "jti": "seed", "access": ts.grant(USER, scopes)}  # fmt: skip
    return "Bearer " + ts.sign(claims)


# ---------------------------------------------------------------- login / logout (htpasswd registry)
def test_login_stores_verified_credentials(podpy, basic_registry, registry_env):
    host = basic_registry.host
    Seeder(basic_registry, _basic()).image("login/img", "v1", img := hand_image([{"x": b"login"}]))
    res = podpy("login", "-u", USER, "-p", PASSWORD, host)
    assert res.stdout.strip() == "Login Succeeded!" and PASSWORD not in res.stdout + res.stderr
    path = _auth_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert base64.b64decode(doc["auths"][host]["auth"]).decode() == f"{USER}:{PASSWORD}"
    assert podpy("login", "--get-login", host).stdout.strip() == USER
    res = podpy("login", "-v", "-u", USER, "-p", PASSWORD, host)
    assert res.stdout == f"Used: {path}\nLogin Succeeded!\n"
    assert podpy("pull", "-q", f"{host}/login/img:v1").stdout.strip() == img.id[7:]
    assert podpy("logout", host).stdout.strip() == f"Removed login credentials for {host}"
    assert host not in json.loads(path.read_text())["auths"]
    again = podpy("logout", host, check=False)
    assert again.returncode == 125 and f"not logged into {host}" in again.stderr
    assert podpy("pull", f"{host}/login/img:v1", check=False).returncode == 125


def test_wrong_password_stores_nothing(podpy, basic_registry, registry_env):
    res = podpy("login", "-u", USER, "-p", "wrong-password", basic_registry.host, check=False)
    assert res.returncode == 125
    assert res.stderr.strip() == f'Error: logging into "{basic_registry.host}": invalid username/password'
    assert "wrong-password" not in res.stdout + res.stderr
    assert not _auth_file().exists()


def test_password_stdin_and_logout_all(podpy, basic_registry, open_registry, registry_env):
    podpy("login", "-u", USER, "--password-stdin", basic_registry.host, input=PASSWORD + "\n")
    podpy("login", "-u", "anyone", "-p", "anything", open_registry.host)  # open registry: accepted
    assert set(json.loads(_auth_file().read_text())["auths"]) == {basic_registry.host, open_registry.host}
    assert podpy("logout", "--all").stdout.strip() == "Removed login credentials for all registries"
    assert json.loads(_auth_file().read_text())["auths"] == {}


def test_docker_config_and_authfile_are_read(podpy, basic_registry, registry_env, tmp_path):
    Seeder(basic_registry, _basic()).image("login/docker", "v1", img := hand_image([{"d": b"docker"}]))
    docker = registry_env / ".docker" / "config.json"
    docker.parent.mkdir()
    docker.write_text(json.dumps({"auths": {f"http://{basic_registry.host}": {
        "auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}))  # fmt: skip
    assert podpy("pull", "-q", f"{basic_registry.host}/login/docker:v1").stdout.strip() == img.id[7:]
    res = podpy("logout", basic_registry.host, check=False)
    assert res.returncode == 125 and "another tool" in res.stderr
    docker.unlink()
    custom = tmp_path / "my-auth.json"
    podpy("login", "--authfile", str(custom), "-u", USER, "-p", PASSWORD, basic_registry.host)
    assert not _auth_file().exists()
    assert podpy("pull", "-q", "--authfile", str(custom), f"{basic_registry.host}/login/docker:v1").returncode == 0


# ---------------------------------------------------------------- bearer tokens
def test_token_auth_anonymous_and_authenticated(podpy, token_registry, registry_env):
    reg, ts = token_registry, token_registry.token_server
    pub = hand_image([{"pub": b"public"}])
    Seeder(reg, _bearer(reg, ["repository:public/img:pull,push"])).image("public/img", "v1", pub)
    priv = hand_image([{"priv": b"private"}])
    Seeder(reg, _bearer(reg, ["repository:private/img:pull,push"])).image("private/img", "v1", priv)

    ts.issued.clear()
    assert podpy("pull", "-q", f"{reg.host}/public/img:v1").stdout.strip() == pub.id[7:]
    assert ts.issued == [(None, ["repository:public/img:pull"])]  # one anonymous token, cached for all blobs

    denied = podpy("pull", f"{reg.host}/private/img:v1", check=False)
    assert denied.returncode == 125 and "unauthorized" in denied.stderr and f"{reg.host}/private/img" in denied.stderr

    bad = podpy("login", "-u", USER, "-p", "nope", reg.host, check=False)
    assert bad.returncode == 125 and "invalid username/password" in bad.stderr
    podpy("login", "-u", USER, "-p", PASSWORD, reg.host)
    assert podpy("pull", "-q", f"{reg.host}/private/img:v1").stdout.strip() == priv.id[7:]


def test_token_auth_push_and_mount_scopes(podpy, busybox_image, token_registry, registry_env):
    reg, ts = token_registry, token_registry.token_server
    podpy("login", "-u", USER, "-p", PASSWORD, reg.host)
    podpy("push", "-q", "busybox:latest", f"{reg.host}/team/one:v1")
    ts.issued.clear()
    res = podpy("push", "busybox:latest", f"{reg.host}/team/two:v1")
    assert "mounted from team/one" in res.stderr
    scopes = [s for _, ss in ts.issued for s in ss]
    assert "repository:team/two:pull,push" in scopes and "repository:team/one:pull" in scopes
    assert all(user == USER for user, _ in ts.issued)


# ---------------------------------------------------------------- TLS with a private CA
def test_tls_registry_with_private_ca(podpy, tls_registry, registry_env, tmp_path):
    reg = tls_registry
    img = hand_image([{"tls": b"tls"}])
    Seeder(reg).image("secure/img", "v1", img)
    ref = f"{reg.host}/secure/img:v1"
    res = podpy("pull", "--tls-verify=true", ref, check=False)
    assert res.returncode == 125 and "certificate signed by unknown authority" in res.stderr
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.crt").write_bytes(reg.ca.read_bytes())
    assert podpy("pull", "-q", "--tls-verify=true", "--cert-dir", str(certs), ref).stdout.strip() == img.id[7:]
    podpy("rmi", ref)
    certs_d = registry_env / ".config" / "containers" / "certs.d" / reg.host
    certs_d.mkdir(parents=True)
    (certs_d / "ca.crt").write_bytes(reg.ca.read_bytes())
    assert podpy("pull", "-q", "--tls-verify=true", ref).stdout.strip() == img.id[7:]
    podpy("rmi", ref)
    # loopback registries are insecure by default (as with Docker): HTTPS without verification
    (certs_d / "ca.crt").unlink()
    assert podpy("pull", "-q", ref).stdout.strip() == img.id[7:]


def test_tls_verify_false_allows_plain_http(podpy, open_registry, registry_env, tmp_path):
    img = hand_image([{"plain": b"http"}])
    Seeder(open_registry).image("plain/img", "v1", img)
    ref = f"{open_registry.host}/plain/img:v1"
    res = podpy("pull", "--tls-verify=true", ref, check=False)
    assert res.returncode == 125 and "server gave HTTP response to HTTPS client" in res.stderr
    assert podpy("pull", "-q", "--tls-verify=false", ref).stdout.strip() == img.id[7:]
