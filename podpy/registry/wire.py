"""A small HTTP/1.1 client on sockets: what the registry transport needs and nothing more.

Why not `requests` (or http.client): importing requests costs ~55 ms and http.client ~10 ms (the
email package), more than a whole `push` of layers a registry already has takes in Podman. This
speaks HTTP/1.1 itself: keep-alive connections in a small pool per origin (threads share it),
Content-Length, chunked and read-until-close bodies, redirects for GET/HEAD, TLS through `ssl`
(the caller's SSLContext), and HTTP(S)_PROXY/NO_PROXY from the environment (CONNECT for https).

Errors: `WireError` (an OSError: connection refused, reset, timed out, closed early) and
`TLSFailure` (the handshake failed: certificate, or a plain-HTTP server on the port).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from urllib.parse import urlencode, urljoin, urlsplit

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

MAX_HEADER_LINE = 65536
MAX_HEADERS = 200
DRAIN_LIMIT = 256 << 10  # an unread body up to this size is read so its connection can be reused
MAX_REDIRECTS = 10
IDLE_PER_ORIGIN = 16


class WireError(OSError):
    """The connection failed (refused, reset, timed out, closed before the response ended)."""


class TLSFailure(WireError):
    """The TLS handshake failed."""


class Headers:
    """Response headers: case-insensitive `get`, every value of a repeated header with `get_all`."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        self._last = {k.lower(): v for k, v in items}

    def get(self, name: str, default: Any = None) -> Any:
        return self._last.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.items if k.lower() == low]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._last

    def __getitem__(self, name: str) -> str:
        return self._last[name.lower()]


class Connection:
    """One socket to one origin (or through a proxy to it)."""

    def __init__(self, scheme: str, host: str, port: int, ctx: Any, timeout: float,
                 proxy: tuple[str, int] | None = None) -> None:  # fmt: skip
        self.scheme, self.host, self.port, self.ctx, self.timeout, self.proxy = scheme, host, port, ctx, timeout, proxy
        self.sock: Any = None
        self.rfile: Any = None
        self.reused = False

    def connect(self) -> None:
        host, port = self.proxy or (self.host.strip("[]"), self.port)
        try:  # an ASCII name as bytes: a str would be encoded with the idna codec (~1-4 ms of imports)
            sock = socket.create_connection((host.encode() if host.isascii() else host, port), self.timeout)
        except OSError as e:
            raise WireError(e.errno, _text(e)) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.proxy and self.scheme == "https":
            self._tunnel(sock)
        if self.scheme == "https":
            try:
                sock = self.ctx.wrap_socket(sock, server_hostname=self.host.strip("[]"))
            except OSError as e:  # ssl.SSLError and its certificate error are OSErrors
                sock.close()
                raise TLSFailure(e.errno, _text(e)) from None
        self.sock = sock
        self.rfile = sock.makefile("rb", buffering=1 << 16)

    def _tunnel(self, sock: Any) -> None:
        hostport = f"{self.host}:{self.port}"
        sock.sendall(f"CONNECT {hostport} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        f = sock.makefile("rb")
        status, _, _ = _read_head(f)
        f.close()
        if status != 200:
            sock.close()
            raise WireError(0, f"proxy CONNECT to {hostport} answered HTTP {status}")

    def alive(self) -> bool:
        """An idle keep-alive socket the server has not closed (nothing readable on it)."""
        import select

        try:
            return self.sock is not None and not select.select([self.sock], [], [], 0)[0]
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        for f in (self.rfile, self.sock):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self.sock = self.rfile = None


class Response:
    """A response whose body is read on demand (`read`, `readinto`, `content`, `json`). Reading it to
    the end (or `close`) gives the connection back to the pool when the server keeps it open."""

    def __init__(self, pool: Pool, conn: Connection, method: str, url: str, status: int, reason: str,
                 headers: Headers, version: str) -> None:  # fmt: skip
        self.pool, self.conn, self.url = pool, conn, url
        self.status_code, self.reason, self.headers = status, reason, headers
        self.decode_content = True  # what requests' raw stream had; bodies are never content-encoded here
        self._content: bytes | None = None
        conn_hdr = (headers.get("Connection") or "").lower()
        self.keep = "close" not in conn_hdr and (version == "HTTP/1.1" or "keep-alive" in conn_hdr)
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.chunk_left = 0
        self.left: int | None = None  # bytes of body still to read; None: until close (or chunked)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self.left = 0
        elif not self.chunked:
            cl = headers.get("Content-Length")
            if cl is not None and cl.strip().isdigit():
                self.left = int(cl)
            else:
                self.keep = False
        self.done = False
        if self.left == 0:
            self._finish()

    # ---- requests-like surface
    @property
    def raw(self) -> Response:
        return self

    @property
    def content(self) -> bytes:
        if self._content is None:
            parts = []
            while chunk := self.read(1 << 20):
                parts.append(chunk)
            self._content = b"".join(parts)
        return self._content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the body
    def read(self, n: int = -1) -> bytes:
        if self.done:
            return b""
        if n is None or n < 0:
            n = 1 << 62
        f = self.conn.rfile
        try:
            if self.chunked:
                if self.chunk_left == 0 and not self._next_chunk():
                    return b""
                data = f.read(min(n, self.chunk_left))
                if not data:
                    raise WireError(0, "connection closed by the server in the middle of a chunk")
                self.chunk_left -= len(data)
                if self.chunk_left == 0:
                    f.readline(MAX_HEADER_LINE)  # the CRLF after the chunk
                return data
            if self.left is None:
                data = f.read1(n) if n < (1 << 62) else f.read()
                if not data:
                    self._finish()
                return data
            data = f.read(min(n, self.left))
        except TimeoutError:
            self._drop()
            raise WireError(0, "read timed out") from None
        except WireError:
            self._drop()
            raise
        except OSError as e:
            self._drop()
            raise WireError(e.errno, _text(e)) from None
        if not data:
            self._drop()
            raise WireError(0, f"connection closed by the server with {self.left} bytes of the body unread")
        self.left -= len(data)
        if self.left == 0:
            self._finish()
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def _next_chunk(self) -> bool:
        f = self.conn.rfile
        line = f.readline(MAX_HEADER_LINE)
        if not line:
            raise WireError(0, "connection closed by the server before the next chunk")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise WireError(0, "malformed chunked body") from None
        if size == 0:
            while f.readline(MAX_HEADER_LINE) not in (b"\r\n", b"\n", b""):
                pass
            self._finish()
            return False
        self.chunk_left = size
        return True

    def _finish(self) -> None:
        """The body is complete: the connection goes back to the pool (or is closed)."""
        if self.done:
            return
        self.done = True
        if self.keep:
            self.pool.put(self.conn)
        else:
            self.conn.close()

    def _drop(self) -> None:
        self.done = True
        self.keep = False
        self.conn.close()

    def close(self) -> None:
        if self.done:
            return
        if self.left is not None and not self.chunked and self.left <= DRAIN_LIMIT:
            try:
                while not self.done and self.read(65536):
                    pass
                return
            except OSError:
                pass
        self._drop()


class Pool:
    """Idle keep-alive connections by origin; any thread may take one and give it back."""

    def __init__(self, ctx_factory: Any, timeout: float) -> None:
        self.ctx_factory, self.timeout = ctx_factory, timeout
        self.idle: dict[tuple[str, str, int], list[Connection]] = {}
        self.lock = threading.Lock()
        self._ctx: Any = None

    def _context(self) -> Any:
        with self.lock:
            if self._ctx is None:
                self._ctx = self.ctx_factory()
            return self._ctx

    def get(self, scheme: str, host: str, port: int) -> Connection:
        key = (scheme, host, port)
        while True:
            with self.lock:
                conns = self.idle.get(key)
                conn = conns.pop() if conns else None
            if conn is None:
                break
            if conn.alive():
                conn.reused = True
                return conn
            conn.close()
        ctx = self._context() if scheme == "https" else None
        conn = Connection(scheme, host, port, ctx, self.timeout, _proxy_for(scheme, host))
        conn.connect()
        return conn

    def put(self, conn: Connection) -> None:
        key = (conn.scheme, conn.host, conn.port)
        with self.lock:
            conns = self.idle.setdefault(key, [])
            if len(conns) < IDLE_PER_ORIGIN:
                conns.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self.lock:
            conns = [c for cs in self.idle.values() for c in cs]
            self.idle.clear()
        for c in conns:
            c.close()

    # ---- one exchange
    def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, data: Any = None,
        params: Any = None, auth: tuple[str, str] | None = None, timeout: float | None = None,
        allow_redirects: bool = True, stream: bool = False,
    ) -> Response:  # fmt: skip
        """Send one request (following redirects of GET/HEAD). `data`: bytes, a dict (form), or a
        reader with `read()` and `len()`. `stream` is accepted for requests' sake: bodies are always
        read on demand."""
        hdrs = dict(headers or {})
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        if auth is not None:
            raw = f"{auth[0]}:{auth[1]}".encode()
            hdrs["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        if isinstance(data, dict):
            data = urlencode(data).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(data, str):
            data = data.encode()
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._exchange(method, url, hdrs, data)
            if not allow_redirects or method not in ("GET", "HEAD") or resp.status_code not in (301, 302, 303, 307, 308):
                return resp
            loc = resp.headers.get("Location")
            if not loc:
                return resp
            resp.close()
            nxt = urljoin(url, loc)
            if urlsplit(nxt).netloc != urlsplit(url).netloc:
                hdrs.pop("Authorization", None)  # credentials stay with their registry (as requests does)
            url = nxt
        raise WireError(0, f"{method} {url}: too many redirects")

    def _exchange(self, method: str, url: str, headers: dict[str, str], data: Any) -> Response:
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in ("http", "https"):
            raise WireError(0, f"unsupported URL scheme in {url!r}")
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = parts.port or (443 if scheme == "https" else 80)
        default_port = port == (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        replayable = data is None or isinstance(data, bytes | bytearray)
        for attempt in (0, 1):
            conn = self.get(scheme, host, port)
            if conn.proxy and scheme == "http":
                target = url
            head = [f"{method} {target} HTTP/1.1", f"Host: {host if default_port else f'{host}:{port}'}"]
            lower = {k.lower() for k in headers}
            head += [f"{k}: {v}" for k, v in headers.items()]
            if data is not None and "content-length" not in lower:
                head.append(f"Content-Length: {len(data)}")
            elif data is None and method in ("POST", "PUT", "PATCH") and "content-length" not in lower:
                head.append("Content-Length: 0")
            if "accept-encoding" not in lower:
                head.append("Accept-Encoding: identity")
            try:
                self._send(conn, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1"), data)
                status, reason, version, items = self._response_head(conn)
            except OSError as e:
                conn.close()
                # a kept-alive socket the server closed meanwhile: try once on a fresh one
                if conn.reused and attempt == 0 and replayable and not isinstance(e, TLSFailure):
                    continue
                if isinstance(e, WireError):
                    raise
                raise WireError(e.errno, "read timed out" if isinstance(e, TimeoutError) else _text(e)) from None
            return Response(self, conn, method, url, status, reason, Headers(items), version)
        raise AssertionError("unreachable")

    def _send(self, conn: Connection, head: bytes, data: Any) -> None:
        sock = conn.sock
        if data is None:
            sock.sendall(head)
        elif isinstance(data, bytes | bytearray):
            if len(data) < (64 << 10):
                sock.sendall(head + bytes(data))  # one segment for a small body (a manifest)
            else:
                sock.sendall(head)
                sock.sendall(data)
            return
        else:
            sock.sendall(head)
            while chunk := data.read(1 << 20):
                sock.sendall(chunk)

    def _response_head(self, conn: Connection) -> tuple[int, str, str, list[tuple[str, str]]]:
        while True:
            status, reason, version, items = _read_head(conn.rfile)
            if status != 100:
                return status, reason, version, items


def _read_head(f: Any) -> tuple[int, str, str, list[tuple[str, str]]]:
    line = f.readline(MAX_HEADER_LINE)
    if not line:
        raise WireError(0, "Remote end closed connection without response")
    try:
        version, code, *rest = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        status = int(code)
    except ValueError:
        raise WireError(0, f"malformed HTTP status line {line[:80]!r}") from None
    if not version.startswith("HTTP/"):
        raise WireError(0, f"malformed HTTP status line {line[:80]!r}")
    items: list[tuple[str, str]] = []
    while True:
        h = f.readline(MAX_HEADER_LINE)
        if h in (b"\r\n", b"\n", b""):
            break
        if len(items) >= MAX_HEADERS:
            raise WireError(0, "too many response headers")
        name, sep, value = h.decode("latin-1").partition(":")
        if sep:
            items.append((name.strip(), value.strip()))
    return status, rest[0] if rest else "", version, items


def _text(e: OSError) -> str:
    return str(e) or type(e).__name__


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    """HTTP(S)_PROXY for `scheme`, unless NO_PROXY (or loopback) says the host is reached directly."""
    env = os.environ
    proxy = env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY")
    if not proxy:
        return None
    name = host.strip("[]").lower()
    if name in ("localhost", "::1") or name.startswith("127."):
        return None
    for entry in (env.get("no_proxy") or env.get("NO_PROXY") or "").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (name == entry or name.endswith("." + entry))):
            return None
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return (p.hostname or "", p.port or 80)
