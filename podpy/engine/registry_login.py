"""`login` / `logout`: credentials verified against the registry, then kept in auth.json."""

from __future__ import annotations

from pathlib import Path

from podpy.engine.registry_session import RegistryOptions
from podpy.errors import InvalidArgument, RegistryAuthError, RegistryError
from podpy.registry import credentials, regconf, tls
from podpy.registry.credentials import Credentials
from podpy.registry.transport import Transport


def login_key(registry: str | None) -> str:
    """What a login is for: `host[:port]` or `host[:port]/namespace` (URLs and docker.io aliases folded)."""
    if not registry:
        search = regconf.load().search
        if not search:
            raise InvalidArgument("please provide a registry to log in to")
        registry = search[0]
    key = credentials.normalize_key(registry)
    if not key or " " in key:
        raise InvalidArgument(f"invalid registry {registry!r}")
    return key


def verify(key: str, creds: Credentials, opts: RegistryOptions | None = None) -> None:
    """Raise RegistryAuthError unless the registry accepts `creds` (nothing is stored here)."""
    opts = opts or RegistryOptions()
    host = key.split("/", 1)[0]
    cfg = tls.load(host, opts.tls_verify, regconf.load().insecure(host), opts.cert_dir)
    t = Transport(host, cfg, creds, retries=opts.retries)
    try:
        t.ping()
        ch = t.challenge
        if ch is None:
            return  # an open registry: any credentials do
        if ch.scheme == "bearer":
            t.token("")  # the token server checks the password; no scope needed
            return
        resp = t.request("GET", "/v2/")
        with resp:
            if resp.status_code in (401, 403):
                raise RegistryAuthError(f'logging into "{key}": invalid username/password')
            if resp.status_code != 200:
                t.fail(resp, "logging into")
    except RegistryAuthError as e:
        if "invalid username/password" in str(e):
            raise RegistryAuthError(f'logging into "{key}": invalid username/password') from None
        raise
    finally:
        t.close()


def login(registry: str | None, creds: Credentials, opts: RegistryOptions | None = None) -> Path:
    """Verify `creds` and store them; returns the auth file written."""
    if not creds.username:
        raise InvalidArgument("username must be specified")
    if not creds.password:
        raise InvalidArgument("password must be specified")
    key = login_key(registry)
    verify(key, creds, opts)
    return credentials.store(key, creds, (opts or RegistryOptions()).auth_file)


def logout(registry: str | None, all_: bool = False, auth_file: Path | None = None) -> str:
    """Forget credentials; returns the key removed ("" for --all)."""
    if all_:
        credentials.remove(None, auth_file)
        return ""
    key = login_key(registry)
    if credentials.remove(key, auth_file):
        return key
    host = key.split("/", 1)[0]
    if credentials.lookup(host, key.partition("/")[2] or None, None) is not None and auth_file is None:
        raise RegistryError(
            f"not logged into {key} with podpy: existing credentials were stored by another tool "
            f"(~/.config/containers/auth.json or ~/.docker/config.json); log out with that tool"
        )
    raise RegistryError(f"not logged into {key}")
