"""Real registries on loopback for the registry tests: Debian's docker-registry (open, htpasswd,
token auth with a token server in this process, TLS with a self-signed CA), a fault-injecting
proxy, and images built by hand and pushed with plain HTTP (an oracle independent of podpy).

Every server is started by a fixture and stopped by its finalizer; ports are free loopback ports.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USER, PASSWORD = "alice", "s3cret-pw"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def openssl(*args: str, cwd: Path, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], cwd=cwd, input=input, capture_output=True, check=True).stdout


# ---------------------------------------------------------------- docker-registry
@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    dir: Path
    proc: subprocess.Popen[bytes]
    scheme: str = "http"
    ca: Path | None = None

    @property
    def storage(self) -> Path:
        return self.dir / "storage"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_lines(self) -> list[str]:
        return (self.dir / "registry.log").read_text(errors="replace").splitlines()

    def requests(self, method: str, contains: str = "") -> list[str]:
        """Access-log lines (`"GET /v2/... HTTP/1.1" 200 ...`) for `method` whose path holds `contains`."""
        return [ln for ln in self.log_lines() if f'"{method} /v2/' in ln and contains in ln.split('"')[1]]

    def blob_data(self, digest: str) -> Path:
        hexd = digest.removeprefix("sha256:")
        return self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"


def start_registry(d: Path, auth: dict | None = None, tls: tuple[Path, Path] | None = None) -> Registry:
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    http_conf: dict = {"addr": f"127.0.0.1:{port}", "secret": "podpy-test-secret"}
    if tls:
        http_conf["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    conf = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(d / "storage")}, "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": http_conf,
    }  # fmt: skip
    if auth:
        conf["auth"] = auth
    (d / "config.yml").write_text(json.dumps(conf))  # JSON is YAML
    log = open(d / "registry.log", "ab")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(d / "config.yml")], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    log.close()
    reg = Registry(f"127.0.0.1:{port}", d, proc, "https" if tls else "http")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(d / 'registry.log').read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return reg
        except OSError:
            time.sleep(0.02)
    reg.stop()
    raise RuntimeError("docker-registry did not start listening")


def htpasswd_file(d: Path, users: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    path = d / "htpasswd"
    lines = []
    for user, pw in users.items():
        if shutil.which("htpasswd"):
            out = subprocess.run(["htpasswd", "-nbB", "-C", "4", user, pw], capture_output=True, check=True)
            lines.append(out.stdout.decode().strip())
        else:
            bcrypt = pytest.importorskip("bcrypt")
            lines.append(f"{user}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4)).decode()}")
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- TLS: a CA and a server certificate
def make_ca(d: Path) -> tuple[Path, Path, Path]:
    """(ca.crt, server.crt, server.key) for 127.0.0.1 and localhost."""
    d.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=podpy test CA", cwd=d)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)  # fmt: skip
    return d / "ca.crt", d / "server.crt", d / "server.key"


# ---------------------------------------------------------------- token server (JWT RS256 via openssl)
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Issues registry tokens: USER/PASSWORD get every action asked for; anonymous callers get
    `pull` on repositories under `public/` only. Wrong credentials get 401."""

    SERVICE, ISSUER = "podpy-test-registry", "podpy-test-issuer"

    def __init__(self, d: Path) -> None:
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key", "-out", "token.crt",
                "-days", "2", "-subj", "/CN=podpy token issuer", cwd=d)  # fmt: skip
        der = openssl("x509", "-in", "token.crt", "-outform", "DER", cwd=d)
        self.x5c = base64.b64encode(der).decode()
        self.issued: list[tuple[str | None, list[str]]] = []  # (user, scopes)
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def cert(self) -> Path:
        return self.dir / "token.crt"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sign(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = openssl("dgst", "-sha256", "-sign", "token.key", cwd=self.dir, input=signing_input.encode())
        return f"{signing_input}.{_b64(sig)}"

    def grant(self, user: str | None, scopes: list[str]) -> list[dict]:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            allowed = wanted if user else [a for a in wanted if a == "pull" and name.startswith("public/")]
            if allowed:
                access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def _handler(self):  # type: ignore[no-untyped-def]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                user = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if (u, p) != (USER, PASSWORD):
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    user = u
                scopes = q.get("scope", [])
                outer.issued.append((user, scopes))
                now = int(time.time())
                claims = {"iss": outer.ISSUER, "sub": user or "", "aud": q.get("service", [""])[0],
                          "exp": now + 300, "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8),
                          "access": outer.grant(user, scopes)}  # fmt: skip
                body = json.dumps({"token": outer.sign(claims), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


# ---------------------------------------------------------------- fault-injecting proxy
@dataclass
class Faults:
    fail_next: int = 0  # answer this many requests (matching `match`) with `status`
    status: int = 503
    match: str = "/v2/"
    corrupt_blobs: bool = False  # flip a byte in every blob body
    drop_blob_after: int = 0  # close blob responses after this many bytes (once per blob)
    ignore_range: bool = False  # answer Range requests with the whole blob (200)
    throttle: float = 0.0  # seconds to sleep per 64 KiB of blob body
    seen: list[str] = field(default_factory=list)
    _dropped: set[str] = field(default_factory=set)


class Proxy:
    """HTTP proxy in front of a registry that can fail, corrupt, cut or slow its answers."""

    def __init__(self, upstream: Registry) -> None:
        self.upstream = upstream
        self.faults = Faults()
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):  # type: ignore[no-untyped-def]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def _any(self) -> None:
                try:
                    self._forward()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client went away (killed on purpose)

            def _forward(self) -> None:
                f = outer.faults
                f.seen.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if f.fail_next and f.match in self.path:
                    f.fail_next -= 1
                    self.send_response(f.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                if f.ignore_range:
                    headers.pop("Range", None)
                up = http.client.HTTPConnection(outer.upstream.host, timeout=30)
                up.request(self.command, self.path, body=body, headers=headers)
                resp = up.getresponse()
                self._relay(resp, f)
                up.close()

            def _relay(self, resp: http.client.HTTPResponse, f: Faults) -> None:
                is_blob = "/blobs/sha256:" in self.path and self.command == "GET" and resp.status in (200, 206)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(k, v)
                if resp.getheader("Content-Length") is None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command == "HEAD":
                    return
                sent, first = 0, True
                while chunk := resp.read(65536):
                    if is_blob and f.corrupt_blobs and first:
                        chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                    first = False
                    if is_blob and f.drop_blob_after and self.path not in f._dropped and sent + len(chunk) > f.drop_blob_after:
                        f._dropped.add(self.path)
                        self.wfile.write(chunk[: f.drop_blob_after - sent])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if is_blob and f.throttle:
                        time.sleep(f.throttle)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any  # noqa: N815

        return Handler


# ---------------------------------------------------------------- images by hand, pushed with plain HTTP
def tar_layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, body in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(body), 1700000000, 0o644
            tf.addfile(ti, io.BytesIO(body))
    return buf.getvalue()


@dataclass
class HandImage:
    config: bytes
    layers: list[bytes]  # gzip-compressed blobs
    manifest: bytes

    @property
    def id(self) -> str:
        return sha(self.config)

    @property
    def digest(self) -> str:
        return sha(self.manifest)


def hand_image(layer_files: list[dict[str, bytes]], arch: str = "amd64", os_: str = "linux") -> HandImage:
    tars = [tar_layer(f) for f in layer_files]
    blobs = [gzip.compress(t, compresslevel=1, mtime=0) for t in tars]
    config = json.dumps({
        "created": "2024-01-02T03:04:05Z", "architecture": arch, "os": os_,
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in tars]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(tars))],
    }).encode()  # fmt: skip
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha(b), "size": len(b)} for b in blobs],
    }).encode()  # fmt: skip
    return HandImage(config, blobs, manifest)


class Seeder:
    """Puts blobs and manifests into a registry with http.client only."""

    def __init__(self, reg: Registry, auth: str | None = None) -> None:
        self.reg = reg
        self.auth = auth  # an Authorization header value

    def _conn(self) -> http.client.HTTPConnection:
        host, port = self.reg.host.split(":")
        if self.reg.scheme == "https":
            import ssl

            ctx = ssl.create_default_context(cafile=str(self.reg.ca))
            return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
        return http.client.HTTPConnection(host, int(port), timeout=30)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):  # type: ignore[no-untyped-def]
        c = self._conn()
        h = dict(headers or {})
        if self.auth:
            h["Authorization"] = self.auth
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def blob(self, repo: str, data: bytes) -> None:
        status, headers, _ = self.call("POST", f"/v2/{repo}/blobs/uploads/")
        assert status == 202, status
        loc = urllib.parse.urlparse(headers["Location"])
        path = f"{loc.path}?{loc.query}&digest={sha(data)}"
        status, _, body = self.call("PUT", path, data, {"Content-Type": "application/octet-stream"})
        assert status == 201, (status, body)

    def manifest(self, repo: str, ref: str, raw: bytes, media_type: str) -> None:
        status, _, body = self.call("PUT", f"/v2/{repo}/manifests/{ref}", raw, {"Content-Type": media_type})
        assert status == 201, (status, body)

    def image(self, repo: str, tag: str, img: HandImage) -> None:
        for b in [img.config, *img.layers]:
            self.blob(repo, b)
        self.manifest(repo, tag, img.manifest, OCI_MANIFEST)

    def index(self, repo: str, tag: str, images: dict[tuple[str, str], HandImage]) -> bytes:
        """A multi-platform index over `images` keyed by (os, arch)."""
        for img in images.values():
            self.image(repo, img.digest, img)
        raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": img.digest, "size": len(img.manifest),
             "platform": {"os": os_, "architecture": arch}} for (os_, arch), img in images.items()]}).encode()  # fmt: skip
        self.manifest(repo, tag, raw, OCI_INDEX)
        return raw


# ---------------------------------------------------------------- pytest fixtures
@pytest.fixture(name="registry_env")
def registry_env_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME, runtime dir and registries.conf: no real credentials or config are read."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    run = tmp_path / "xdg-run"
    run.mkdir(mode=0o700)
    conf = tmp_path / "registries.conf"
    conf.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    monkeypatch.setenv("CONTAINERS_REGISTRIES_CONF", str(conf))
    for var in ("XDG_CONFIG_HOME", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return home


def _need_registry() -> None:
    if not os.path.exists(REGISTRY_BIN):
        pytest.skip("docker-registry is not installed")


@pytest.fixture(scope="module", name="open_registry")
def open_registry_fixture(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("open-registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module", name="basic_registry")
def basic_registry_fixture(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    _need_registry()
    d = tmp_path_factory.mktemp("basic-registry")
    pw = htpasswd_file(d, {USER: PASSWORD})
    reg = start_registry(d, auth={"htpasswd": {"realm": "podpy-basic", "path": str(pw)}})
    yield reg
    reg.stop()


@pytest.fixture(scope="module", name="token_registry")
def token_registry_fixture(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    _need_registry()
    d = tmp_path_factory.mktemp("token-registry")
    ts = TokenServer(d / "token")
    auth = {"token": {"realm": ts.realm, "service": ts.SERVICE, "issuer": ts.ISSUER,
                      "rootcertbundle": str(ts.cert)}}  # fmt: skip
    reg = start_registry(d, auth=auth)
    reg.token_server = ts  # type: ignore[attr-defined]
    yield reg
    reg.stop()
    ts.stop()


@pytest.fixture(scope="module", name="tls_registry")
def tls_registry_fixture(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    _need_registry()
    d = tmp_path_factory.mktemp("tls-registry")
    ca, cert, key = make_ca(d / "pki")
    reg = start_registry(d, tls=(cert, key))
    reg.ca = ca
    yield reg
    reg.stop()


@pytest.fixture(name="proxy")
def proxy_fixture(open_registry: Registry):  # type: ignore[no-untyped-def]
    p = Proxy(open_registry)
    yield p
    p.stop()
