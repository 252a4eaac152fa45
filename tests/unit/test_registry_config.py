"""Registry pieces without a server: challenges, registries.conf, auth.json, platforms, TLS, progress view."""

from __future__ import annotations

import base64
import io
import json
import stat
from pathlib import Path

import pytest

from podpy.errors import InvalidArgument, RegistryError, RegistryNotFound
from podpy.registry import challenge, credentials, platforms, regconf, tls


def test_challenge_parsing():
    h = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'
    c = challenge.pick([h])
    assert c is not None and c.scheme == "bearer"
    assert c.realm == "https://auth.example.com/token" and c.service == "registry.example.com"
    assert c.params["scope"] == "repository:a/b:pull,push"
    both = challenge.parse('Basic realm="x", Bearer realm="y",error="insufficient_scope"')
    assert [x.scheme for x in both] == ["basic", "bearer"] and both[1].params["error"] == "insufficient_scope"
    assert challenge.pick(['Basic realm="r"', 'Bearer realm="t"']).scheme == "bearer"  # type: ignore[union-attr]
    assert challenge.pick(['Negotiate abc']) is None
    assert challenge.parse(r'Bearer realm="a\"b"')[0].realm == 'a"b'


def test_registries_conf(tmp_path: Path):
    main = tmp_path / "registries.conf"
    main.write_text(
        'unqualified-search-registries = ["one.example", "two.example:5000"]\n'
        '[[registry]]\nprefix = "moved.example/team"\nlocation = "new.example:5000/people"\n'
        '[[registry]]\nlocation = "insecure.example"\ninsecure = true\n'
        '[[registry]]\nprefix = "*.blocked.example"\nblocked = true\n'
        '[aliases]\n"fedora" = "registry.fedoraproject.org/fedora"\n'
    )
    drop = tmp_path / "d.conf"
    drop.write_text('unqualified-search-registries = ["three.example"]\n')
    conf = regconf.load([main, drop, tmp_path / "missing.conf"])
    assert conf.search == ["three.example"] and conf.sources == [main, drop]
    assert conf.insecure("insecure.example") and not conf.insecure("other.example")
    assert conf.blocked("a.blocked.example/x/y") and not conf.blocked("blocked.example/x")
    assert conf.rewrite("moved.example/team/app:1") == "new.example:5000/people/app:1"
    assert conf.rewrite("moved.example/teammate/app") == "moved.example/teammate/app"
    m = tmp_path / "mirror.conf"
    m.write_text('[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
                 '[[registry.mirror]]\nlocation = "mirror.example:5000/hub"\ninsecure = true\n')
    mc = regconf.load([m])
    assert mc.pull_sources("docker.io/library/busybox:1") == ["mirror.example:5000/hub/library/busybox:1",
                                                              "docker.io/library/busybox:1"]  # fmt: skip
    assert mc.insecure("mirror.example:5000") and not mc.insecure("docker.io")
    assert [str(c) for c in regconf.candidates("busybox", conf)] == ["three.example/busybox:latest"]
    assert [str(c) for c in regconf.candidates("fedora:39", conf)] == ["registry.fedoraproject.org/fedora:39"]
    assert [str(c) for c in regconf.candidates("localhost:5000/a", conf)] == ["localhost:5000/a:latest"]
    with pytest.raises(RegistryError, match="no unqualified-search registries"):
        regconf.candidates("x", regconf.RegistriesConf(search=[]))
    assert str(regconf.candidates("busybox", regconf.RegistriesConf())[0]) == "docker.io/library/busybox:latest"


def test_registries_conf_v1_and_errors(tmp_path: Path):
    v1 = tmp_path / "v1.conf"
    v1.write_text('[registries.search]\nregistries = ["a.example"]\n[registries.insecure]\nregistries = ["b.example"]\n')
    conf = regconf.load([v1])
    assert conf.search == ["a.example"] and conf.insecure("b.example")
    bad = tmp_path / "bad.conf"
    bad.write_text("this is = = not toml")
    with pytest.raises(InvalidArgument, match="bad.conf"):
        regconf.load([bad])


def test_auth_json_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for v in ("REGISTRY_AUTH_FILE", "XDG_CONFIG_HOME", "DOCKER_CONFIG"):
        monkeypatch.delenv(v, raising=False)
    creds = credentials.Credentials("bob", "pa:ss")
    path = credentials.store("reg.example:5000", creds)
    assert path == tmp_path / "run" / "containers" / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert credentials.lookup("reg.example:5000", "any/repo") == creds
    assert "pa:ss" not in repr(creds)
    # namespace keys win over the registry key
    credentials.store("reg.example:5000/team", credentials.Credentials("teamuser", "x"))
    assert credentials.lookup("reg.example:5000", "team/app").username == "teamuser"  # type: ignore[union-attr]
    assert credentials.lookup("reg.example:5000", "other/app").username == "bob"  # type: ignore[union-attr]
    assert credentials.remove("reg.example:5000") and not credentials.remove("reg.example:5000")
    # Docker's legacy URL keys
    docker = tmp_path / "home" / ".docker" / "config.json"
    docker.parent.mkdir(parents=True)
    docker.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {
        "auth": base64.b64encode(b"hub:pw").decode()}}}))  # fmt: skip
    assert credentials.lookup("docker.io", "library/busybox") == credentials.Credentials("hub", "pw")
    assert credentials.parse_creds("u:p:q") == credentials.Credentials("u", "p:q")
    with pytest.raises(InvalidArgument):
        credentials.parse_creds(":p")


def test_platforms():
    index = {"manifests": [
        {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
        {"digest": "sha256:c", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        {"digest": "sha256:d", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": "sha256:e", "platform": {"os": "unknown", "architecture": "unknown"}},
    ]}  # fmt: skip
    P = platforms.Platform
    assert platforms.choose(index, P("linux", "amd64"))["digest"] == "sha256:a"
    assert platforms.choose(index, P("linux", "arm", "v7"))["digest"] == "sha256:c"
    assert platforms.choose(index, P("linux", "arm64"))["digest"] == "sha256:d"
    with pytest.raises(RegistryNotFound, match="architecture s390x"):
        platforms.choose(index, P("linux", "s390x"))
    assert platforms.parse("linux/arm/v7") == P("linux", "arm", "v7")
    assert platforms.parse("linux/arm64", variant="") == P("linux", "arm64", "")
    with pytest.raises(InvalidArgument):
        platforms.parse("amd64")


def test_tls_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for host in ("localhost:5000", "127.0.0.1:5000", "127.3.2.1", "[::1]:5000", "localhost"):
        assert tls.is_loopback(host), host
    assert not tls.is_loopback("registry.example.com:443")
    assert tls.load("127.0.0.1:5000", None, False, None) == tls.TLSConfig(verify=False, allow_http=True)
    assert tls.load("quay.example", None, False, None) == tls.TLSConfig()
    assert tls.load("quay.example", None, True, None).allow_http
    assert tls.load("127.0.0.1:5000", True, False, None).verify
    d = tmp_path / ".config" / "containers" / "certs.d" / "quay.example"
    d.mkdir(parents=True)
    (d / "ca.crt").write_text("x")
    (d / "client.cert").write_text("x")
    with pytest.raises(InvalidArgument, match="client.key"):
        tls.load("quay.example", None, False, None)
    (d / "client.key").write_text("x")
    cfg = tls.load("quay.example", None, False, None)
    assert cfg.ca_files == (d / "ca.crt",) and cfg.client_cert == (d / "client.cert", d / "client.key")


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_view_plain_and_terminal():
    from podpy.cli.registry import ProgressView
    from podpy.registry import progress as pg

    events = [pg.Progress(pg.TRYING, message="r/x:1"), pg.Progress(pg.BLOB_START, "sha256:" + "c" * 64, 0, 9, "config"),
              pg.Progress(pg.BLOB_DONE, "sha256:" + "c" * 64, 9, 9, "done"),
              pg.Progress(pg.BLOB_START, "sha256:" + "a" * 64, 0, 100, "blob"),
              pg.Progress(pg.EXTRACT, "sha256:" + "a" * 64),
              pg.Progress(pg.BLOB_PROGRESS, "sha256:" + "a" * 64, 50, 100),
              pg.Progress(pg.BLOB_DONE, "sha256:" + "a" * 64, 100, 100, "done"),
              pg.Progress(pg.BLOB_DONE, "sha256:" + "b" * 64, 5, 5, "skipped: already exists"),
              pg.Progress(pg.MANIFEST, "sha256:" + "d" * 64)]  # fmt: skip
    plain = io.StringIO()
    with ProgressView(stream=plain) as view:
        for e in events:
            view(e)
    assert plain.getvalue().splitlines() == [
        "Trying to pull r/x:1...", "Getting image source signatures", "Copying config cccccccccccc done",
        "Copying blob aaaaaaaaaaaa done", "Copying blob bbbbbbbbbbbb skipped: already exists",
        "Writing manifest to image destination"]  # fmt: skip
    term = _TTY()
    with ProgressView(stream=term) as view:
        for e in events:
            view(e)
    assert "Copying blob aaaaaaaaaaaa done" in term.getvalue()
    quiet = io.StringIO()
    with ProgressView(quiet=True, stream=quiet) as view:
        for e in events:
            view(e)
    assert quiet.getvalue() == ""


def test_credential_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    for v in ("REGISTRY_AUTH_FILE", "XDG_CONFIG_HOME", "DOCKER_CONFIG"):
        monkeypatch.delenv(v, raising=False)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fake"
    helper.write_text('#!/bin/sh\nread host\n[ "$host" = "helped.example" ] || exit 1\n'
                      'echo \'{"ServerURL":"helped.example","Username":"hu","Secret":"hs"}\'\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    docker = tmp_path / "home" / ".docker" / "config.json"
    docker.parent.mkdir(parents=True)
    docker.write_text(json.dumps({"credHelpers": {"helped.example": "fake"}, "credsStore": "fake"}))
    assert credentials.lookup("helped.example", "a/b") == credentials.Credentials("hu", "hs")
    assert credentials.lookup("other.example", "a/b") is None  # the store has nothing for it
