"""The registry's HTTP/1.1 client (podpy.registry.wire) against an in-process http.server: keep-alive
reuse, body framings, redirects, retries of a stale socket, TLS with and without verification."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from podpy.registry import tls as tlsmod
from podpy.registry import wire
from podpy.registry.transport import Transport


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log: list[tuple[str, str, dict[str, str], bytes]] = []

    def log_message(self, *a: object) -> None:
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Transfer-Encoding" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _any(self) -> None:
        body = self._body()
        self.log.append((self.command, self.path, dict(self.headers.items()), body))
        port = self.server.server_address[1]
        path = self.path.split("?", 1)[0]
        if path == "/v2/":
            self._reply(200, b"{}")
        elif path == "/plain":
            self._reply(200, b"hello", {"X-Multi": "a"})
        elif path == "/multi":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="r1"')
            self.send_header("WWW-Authenticate", 'Basic realm="r2"')
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"abc", b"defgh", b"i" * 70000):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 100000)
            self.close_connection = True
        elif path == "/redirect":
            self._reply(307, b"", {"Location": "/plain"})
        elif path == "/away":
            self._reply(302, b"", {"Location": f"http://localhost:{port}/plain"})
        elif path == "/echo":
            self._reply(201, body, {"Location": "/v2/x/uploads/1"})
        elif path == "/close-after":
            self._reply(200, b"once")
            self.close_connection = True
        else:
            self._reply(404, b'{"errors":[{"code":"NOT_FOUND","message":"nothing"}]}')

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _any  # noqa: N815


@pytest.fixture
def server() -> Iterator[tuple[str, list]]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    _Handler.log = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _Handler.log
    srv.shutdown()
    srv.server_close()


def _pool() -> wire.Pool:
    return wire.Pool(lambda: None, 10.0)


def test_keep_alive_reuses_one_connection(server) -> None:
    base, log = server
    pool = _pool()
    first = pool.request("GET", base + "/plain")
    assert (first.status_code, first.content, first.headers.get("x-multi")) == (200, b"hello", "a")
    assert pool.request("HEAD", base + "/plain").content == b""
    resp = pool.request("GET", base + "/missing")
    assert resp.status_code == 404 and resp.json()["errors"][0]["code"] == "NOT_FOUND"
    assert len(pool.idle[("http", "127.0.0.1", int(base.rsplit(":", 1)[1]))]) == 1  # one socket, used 3 times
    pool.close()


def test_framings_and_repeated_headers(server) -> None:
    base, _ = server
    pool = _pool()
    assert pool.request("GET", base + "/chunked").content == b"abcdefgh" + b"i" * 70000
    assert pool.request("GET", base + "/until-close").content == b"x" * 100000
    assert pool.request("GET", base + "/multi").headers.get_all("www-authenticate") == [
        'Bearer realm="r1"', 'Basic realm="r2"']  # fmt: skip
    streamed = pool.request("GET", base + "/chunked")
    got = b""
    while chunk := streamed.read(1000):
        got += chunk
    assert len(got) == 8 + 70000
    pool.close()


def test_bodies_params_auth_and_redirects(server) -> None:
    base, log = server
    pool = _pool()
    resp = pool.request("PUT", base + "/echo", data=b"payload", params={"digest": "sha256:ab"}, auth=("u", "p"))
    assert resp.status_code == 201 and resp.content == b"payload" and resp.headers["Location"] == "/v2/x/uploads/1"
    method, path, headers, _ = log[-1]
    assert path == "/echo?digest=sha256%3Aab" and headers["Authorization"] == "Basic dTpw"

    class Body:  # a streamed upload body: read() and len()
        def __init__(self) -> None:
            self.parts = [b"a" * 70000, b"b"]

        def __len__(self) -> int:
            return 70001

        def read(self, n: int = -1) -> bytes:
            return self.parts.pop(0) if self.parts else b""

    assert pool.request("POST", base + "/echo", data=Body()).content == b"a" * 70000 + b"b"
    assert pool.request("POST", base + "/echo", data={"grant_type": "x y"}).content == b"grant_type=x+y"
    moved = pool.request("GET", base + "/redirect", headers={"Authorization": "Bearer t"})
    assert moved.content == b"hello" and moved.url == base + "/plain"
    assert log[-1][2].get("Authorization") == "Bearer t"  # same host: credentials kept
    away = pool.request("GET", base + "/away", headers={"Authorization": "Bearer t"})
    assert away.content == b"hello" and "Authorization" not in log[-1][2]  # another host: dropped
    assert pool.request("PUT", base + "/redirect").status_code == 307  # only GET/HEAD follow
    pool.close()


def test_stale_kept_alive_socket_is_replaced(server) -> None:
    base, log = server
    pool = _pool()
    assert pool.request("GET", base + "/close-after").content == b"once"
    # the server closed it after answering; the pool must not hand out the dead socket
    assert pool.request("GET", base + "/plain").content == b"hello"
    conn = pool.get("http", "127.0.0.1", int(base.rsplit(":", 1)[1]))
    conn.sock.close()  # a socket dead in a way select() cannot see: the request is retried once
    pool.put(conn)
    assert pool.request("GET", base + "/plain").content == b"hello"
    pool.close()


def test_errors_name_the_reason() -> None:
    pool = _pool()
    port = _free_port()
    with pytest.raises(wire.WireError) as e:
        pool.request("GET", f"http://127.0.0.1:{port}/")
    assert "Connection refused" in str(e.value)
    t = Transport(f"127.0.0.1:{port}", tlsmod.TLSConfig(verify=False, allow_http=True), retries=0)
    from podpy.errors import RegistryUnavailable

    with pytest.raises(RegistryUnavailable, match="connection refused"):
        t.ping()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)  # fmt: skip
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(crt), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"127.0.0.1:{srv.server_address[1]}", crt
    srv.shutdown()
    srv.server_close()


def test_tls_verified_unverified_and_refused(tls_server, tmp_path: Path) -> None:
    from podpy.errors import RegistryUnavailable

    host, crt = tls_server
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(crt, certs / "ca.crt")
    verified = Transport(host, tlsmod.load(host, True, False, certs), retries=0)
    resp = verified.request("GET", "/plain")
    assert resp.status_code == 200 and resp.content == b"hello"
    assert verified.session.request("GET", f"https://{host}/plain").content == b"hello"  # reused socket
    verified.close()
    with pytest.raises(RegistryUnavailable, match="certificate signed by unknown authority"):
        Transport(host, tlsmod.load(host, True, False, None), retries=0).request("GET", "/plain")
    insecure = Transport(host, tlsmod.load(host, False, False, None), retries=0)
    assert insecure.request("GET", "/plain").content == b"hello"
    insecure.close()


def test_loopback_plain_registry_is_asked_in_http_first(server, tls_server) -> None:
    base, log = server
    host = base.removeprefix("http://")
    t = Transport(host, tlsmod.load(host, None, False, None), retries=0)  # loopback: insecure by default
    t.ping()
    assert t.base == base and t.session._ctx is None  # no TLS context built, no handshake tried
    t.close()
    tls_host, _ = tls_server  # a TLS server on loopback: the plain probe fails, HTTPS follows
    t = Transport(tls_host, tlsmod.load(tls_host, None, False, None), retries=0)
    assert t.request("GET", "/plain").content == b"hello" and t.base == f"https://{tls_host}"
    t.close()
