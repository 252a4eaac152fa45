"""HTTP to one registry: scheme choice, TLS, authentication (basic, bearer tokens), retries, errors.

The first request pings `/v2/` to learn the scheme (HTTPS, or HTTP for insecure registries) and
the authentication challenge; every later request carries the credentials or the bearer token
for its scope. Tokens are cached per scope and fetched again when a request gets 401.
"""

from __future__ import annotations

import base64
import threading
import time

from podpy import __version__
from podpy.errors import RegistryAuthError, RegistryError, RegistryNotFound, RegistryUnavailable
from podpy.registry import challenge as chal
from podpy.registry.credentials import Credentials
from podpy.registry.tls import TLSConfig, is_loopback, ssl_context
from podpy.registry.wire import Pool, Response, TLSFailure, WireError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn

RETRY_STATUS = (500, 502, 503, 504, 429)
TOKEN_MIN_LIFETIME = 60  # seconds; what the token spec says to assume when expires_in is absent
API_HOSTS = {"docker.io": "registry-1.docker.io"}


def api_host(registry: str) -> str:
    return API_HOSTS.get(registry, registry)


class Transport:
    """Thread-safe: layer downloads share one transport (and its connection pool)."""

    def __init__(
        self, registry: str, tls: TLSConfig, creds: Credentials | None = None,
        *, retries: int = 4, backoff: float = 0.25, timeout: float = 60.0,
    ) -> None:  # fmt: skip
        self.registry = registry
        self.tls = tls
        self.creds = creds
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.base: str | None = None
        self.challenge: chal.Challenge | None = None
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._ping_lock = threading.Lock()  # one ping: threads starting together wait for it
        self._pool: Pool | None = None

    # ---- plumbing
    @property
    def session(self) -> Pool:
        """The connection pool (keep-alive connections, shared by the threads of one pull or push)."""
        if self._pool is None:
            self._pool = Pool(lambda: _client_context(self.tls), self.timeout)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def _send(self, method: str, url: str, headers: dict[str, str], retry: bool, **kw: Any) -> Response:
        """One request, retried with exponential back-off on connection errors and 5xx/429."""
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self.session.request(method, url, headers=headers, **kw)
            except TLSFailure as e:
                raise RegistryUnavailable(f"TLS handshake with {self.registry} failed: {_reason(e)}") from None
            except WireError as e:
                if last:
                    raise RegistryUnavailable(f"{method} {url}: {_reason(e)}") from None
                time.sleep(self.backoff * 2**attempt)
                continue
            if resp.status_code in RETRY_STATUS and not last:
                delay = _retry_after(resp) if resp.status_code == 429 else None
                resp.close()
                time.sleep(delay if delay is not None else self.backoff * 2**attempt)
                continue
            return resp
        raise AssertionError("unreachable")

    # ---- ping: scheme and challenge
    def ping(self) -> None:
        if self.base is not None:
            return
        with self._ping_lock:
            if self.base is None:
                self._ping()

    def _ping(self) -> None:
        schemes = ["https", "http"] if self.tls.allow_http else ["https"]
        if self.tls.allow_http and is_loopback(self.registry) and self._plain_loopback():
            return
        failure = ""
        for scheme in schemes:
            url = f"{scheme}://{api_host(self.registry)}/v2/"
            try:
                # connection refused is final at once: retrying a closed port only delays the error
                resp = self.session.request("GET", url, headers=self._ua())
            except TLSFailure as e:
                failure = f"TLS handshake failed: {_reason(e)}"
                continue
            except WireError as e:
                failure = _reason(e)
                continue
            if resp.status_code in RETRY_STATUS:
                resp.close()
                resp = self._send("GET", url, self._ua(), retry=True)
            with resp:
                if resp.status_code == 401:
                    self.challenge = chal.pick(_header_values(resp, "WWW-Authenticate"))
                elif resp.status_code >= 400:
                    kind = RegistryUnavailable if resp.status_code >= 500 else RegistryError
                    raise kind(f"pinging container registry {self.registry}: unexpected HTTP status {resp.status_code}")
            self.base = f"{scheme}://{api_host(self.registry)}"
            return
        raise RegistryUnavailable(f"pinging container registry {self.registry}: {failure}")

    def _plain_loopback(self) -> bool:
        """A loopback registry that may speak plain HTTP is asked in plain HTTP first: TLS protects
        nothing on loopback, and a plain registry (the usual local one) then costs neither the ssl
        module nor a failed handshake (~6 ms). Only a registry's answer to /v2/ (200, or 401 with its
        challenge) settles it; a TLS server answers 400 or garbage, and HTTPS is tried as usual."""
        url = f"http://{self.registry}/v2/"
        try:
            resp = self.session.request("GET", url, headers=self._ua())
        except WireError:
            return False
        with resp:
            if resp.status_code not in (200, 401):
                return False
            if resp.status_code == 401:
                self.challenge = chal.pick(_header_values(resp, "WWW-Authenticate"))
        self.base = f"http://{self.registry}"
        return True

    # ---- authenticated requests
    def request(
        self, method: str, path: str, *, scope: str = "", retry: bool = True,
        headers: dict[str, str] | None = None, **kw: Any,
    ) -> Response:  # fmt: skip
        """`path` is relative to the registry (`/v2/...`) or an absolute URL (upload locations)."""
        self.ping()
        url = path if path.startswith(("http://", "https://")) else f"{self.base}{path}"
        refreshed = False
        while True:
            hdrs = {**self._ua(), **self._auth_header(scope), **(headers or {})}
            resp = self._send(method, url, hdrs, retry, **kw)
            if resp.status_code != 401 or refreshed or not retry:
                return resp
            # the token expired or lacks this scope: learn the challenge again and fetch a new one
            found = chal.pick(_header_values(resp, "WWW-Authenticate"))
            if found is None:
                return resp
            resp.close()
            with self._lock:
                self.challenge = found
                self._tokens.pop(scope, None)
            refreshed = True

    def _ua(self) -> dict[str, str]:
        return {"User-Agent": f"podpy/{__version__}"}

    def _auth_header(self, scope: str) -> dict[str, str]:
        ch = self.challenge
        if ch is None:
            return {}
        if ch.scheme == "basic":
            if not self.creds:
                return {}
            raw = f"{self.creds.username}:{self.creds.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {"Authorization": f"Bearer {self.token(scope)}"}

    def token(self, scope: str) -> str:
        """A bearer token for `scope` (space-separated scopes), from the cache or the token server."""
        with self._lock:
            cached = self._tokens.get(scope)
            if cached and cached[1] > time.time():
                return cached[0]
            ch = self.challenge
            assert ch is not None
            token, lifetime = self._fetch_token(ch, scope)
            self._tokens[scope] = (token, time.time() + max(lifetime, TOKEN_MIN_LIFETIME) - 10)
            return token

    def _fetch_token(self, ch: chal.Challenge, scope: str) -> tuple[str, int]:
        if not ch.realm:
            raise RegistryAuthError(f"{self.registry}: bearer challenge without a realm")
        params: list[tuple[str, str]] = [("service", ch.service)] if ch.service else []
        params += [("scope", s) for s in scope.split()]
        creds = self.creds
        if creds and creds.identity_token:
            form = dict(params, grant_type="refresh_token", refresh_token=creds.identity_token, client_id="podpy")
            resp = self._send("POST", ch.realm, self._ua(), True, data=form)
        else:
            auth = (creds.username, creds.password) if creds else None
            if creds:
                params.append(("account", creds.username))
            resp = self._send("GET", ch.realm, self._ua(), True, params=params, auth=auth)
        with resp:
            if resp.status_code in (401, 403):
                raise RegistryAuthError(
                    f"unable to retrieve auth token for {self.registry}: invalid username/password: unauthorized"
                )
            if resp.status_code != 200:
                raise RegistryAuthError(f"token server {ch.realm} answered HTTP {resp.status_code}")
            try:
                doc = resp.json()
                return doc.get("token") or doc["access_token"], int(doc.get("expires_in") or TOKEN_MIN_LIFETIME)
            except (ValueError, KeyError):
                raise RegistryAuthError(f"token server {ch.realm} sent no token") from None

    # ---- errors
    def fail(self, resp: Response, action: str, repo: str | None = None) -> NoReturn:
        """Raise the typed error for a failed response, naming the registry and repository."""
        where = f"{self.registry}/{repo}" if repo else self.registry
        detail = _error_detail(resp)
        code = resp.status_code
        resp.close()
        if code == 401:
            raise RegistryAuthError(f"{action} {where}: {detail or 'unauthorized: authentication required'}")
        if code == 403:
            raise RegistryAuthError(f"{action} {where}: {detail or 'denied: requested access to the resource is denied'}")
        if code == 404:
            raise RegistryNotFound(f"{action} {where}: {detail or 'not found'}")
        if code == 429:
            raise RegistryError(f"{action} {where}: toomanyrequests: {detail or 'too many requests'}")
        if code >= 500:
            raise RegistryUnavailable(f"{action} {where}: received unexpected HTTP status: {code} {resp.reason}")
        raise RegistryError(f"{action} {where}: {detail or f'unexpected HTTP status {code}'}")


def _client_context(tls: TLSConfig):  # type: ignore[no-untyped-def]
    """The SSLContext for HTTPS: verifying with the system CAs (plus the configured ones) unless
    verification is off; with the client certificate when there is one."""
    import ssl

    ctx = ssl_context(tls) or ssl.create_default_context()
    if tls.client_cert:
        from podpy.errors import InvalidArgument

        try:
            ctx.load_cert_chain(str(tls.client_cert[0]), str(tls.client_cert[1]))
        except (OSError, ssl.SSLError) as e:
            raise InvalidArgument(f"loading client certificate {tls.client_cert[0]}: {e}") from None
    return ctx


def _header_values(resp: Response, name: str) -> list[str]:
    return resp.headers.get_all(name)


def _error_detail(resp: Response) -> str:
    """`code: message` of the distribution-spec error body, e.g. `manifest unknown: manifest unknown`."""
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    parts = []
    for e in errors:
        code = str(e.get("code", "")).lower().replace("_", " ")
        msg = str(e.get("message", ""))
        parts.append(f"{code}: {msg}" if code and msg else code or msg)
    return "; ".join(p for p in parts if p)


def _retry_after(resp: Response) -> float | None:
    try:
        return min(float(resp.headers.get("Retry-After", "")), 10.0)
    except ValueError:
        return None


_REASONS = (
    ("Connection refused", "connect: connection refused"),
    ("CERTIFICATE_VERIFY_FAILED", "x509: certificate signed by unknown authority (CERTIFICATE_VERIFY_FAILED)"),
    ("WRONG_VERSION_NUMBER", "server gave HTTP response to HTTPS client"),
    ("Name or service not known", "no such host"),
    ("timed out", "i/o timeout"),
    ("Connection reset", "connection reset by peer"),
    ("Remote end closed", "connection closed by the server"),
)


def _reason(e: Exception) -> str:
    """The innermost reason of a connection error ('connection refused'), not its repr soup."""
    text = str(e)
    for marker, reason in _REASONS:
        if marker in text:
            return reason
    return text
