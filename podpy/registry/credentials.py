"""Registry credentials in Podman's auth.json (also read from ~/.docker/config.json).

Files, first match wins: $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json (what login
writes; /run/containers/0 as root, /tmp/podpy-run-UID without XDG_RUNTIME_DIR), then ~/.config/containers/auth.json, then ~/.docker/config.json. A key may name a
registry (`host:port`) or a namespace in it (`host/ns/repo`): the most specific key is used.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from podpy.errors import InvalidArgument, RegistryError
from podpy.state import FileLock, atomic_write_bytes

DOCKER_HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = ""
    identity_token: str = ""  # an OAuth2 refresh token, used instead of the password

    def __repr__(self) -> str:  # never let a password reach a log or a traceback
        return f"Credentials(username={self.username!r}, password=***)"


def default_auth_file() -> Path:
    """Where login writes: $REGISTRY_AUTH_FILE, else the runtime dir (tmpfs: gone at reboot, like Podman)."""
    env = os.environ.get("REGISTRY_AUTH_FILE")
    if env:
        return Path(env)
    run = os.environ.get("XDG_RUNTIME_DIR")
    if run:
        return Path(run) / "containers" / "auth.json"
    if os.geteuid() == 0:
        return Path("/run/containers/0/auth.json")
    from podpy.paths import runtime_dir  # /run/user/UID, else /tmp/podpy-run-UID (as Podman)

    return runtime_dir() / "containers" / "auth.json"


def _config_home() -> Path:
    env = os.environ.get("XDG_CONFIG_HOME")
    return Path(env) if env else Path.home() / ".config"


def search_files(auth_file: Path | None = None) -> list[Path]:
    """The files read for credentials, in order. An explicit --authfile is the only one read."""
    if auth_file is not None:
        return [auth_file]
    files = [default_auth_file()]
    if not os.environ.get("REGISTRY_AUTH_FILE"):
        files.append(_config_home() / "containers" / "auth.json")
        docker = os.environ.get("DOCKER_CONFIG")
        files.append((Path(docker) if docker else Path.home() / ".docker") / "config.json")
    return files


def _read(path: Path) -> dict:
    try:
        doc = json.loads(path.read_bytes() or b"{}")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise RegistryError(f"reading credentials from {path}: {e}") from None
    return doc if isinstance(doc, dict) else {}


def normalize_key(key: str) -> str:
    """Legacy Docker keys are URLs (`https://index.docker.io/v1/`): keep host[/path] only."""
    key = key.removeprefix("https://").removeprefix("http://")
    key = key.removesuffix("/v1/").removesuffix("/v1").rstrip("/")
    return "docker.io" if key in DOCKER_HUB_KEYS else key


def _candidates(registry: str, repository: str | None) -> list[str]:
    """host/ns/repo, host/ns, host: the most specific key first."""
    out = []
    if repository:
        parts = repository.split("/")
        out = [f"{registry}/{'/'.join(parts[:i])}" for i in range(len(parts), 0, -1)]
    return [*out, registry]


def _decode(entry: dict, where: Path) -> Credentials | None:
    token = entry.get("identitytoken") or ""
    auth = entry.get("auth") or ""
    if not auth:
        return Credentials("<token>", "", token) if token else None
    try:
        user, _, password = base64.b64decode(auth).decode().partition(":")
    except ValueError:
        raise RegistryError(f"{where}: invalid credentials entry") from None
    return Credentials(user, password, token)


def lookup(registry: str, repository: str | None = None, auth_file: Path | None = None) -> Credentials | None:
    """Stored credentials for `registry` (optionally a repository in it), or None."""
    host = normalize_key(registry)
    wanted = _candidates(host, repository)
    for path in search_files(auth_file):
        doc = _read(path)
        helpers = {normalize_key(k): v for k, v in (doc.get("credHelpers") or {}).items()}
        if host in helpers:
            return _from_helper(str(helpers[host]), registry)
        auths = {normalize_key(k): v for k, v in doc.get("auths", {}).items() if isinstance(v, dict)}
        for key in wanted:
            if key in auths:
                found = _decode(auths[key], path)
                if found:
                    return found
        if doc.get("credsStore"):
            found = _from_helper(str(doc["credsStore"]), registry)
            if found:
                return found
    return None


def _from_helper(helper: str, registry: str) -> Credentials | None:
    """Ask a Docker credential helper (`docker-credential-NAME get`, server on stdin)."""
    import subprocess

    try:
        proc = subprocess.run([f"docker-credential-{helper}", "get"], input=registry.encode(),
                              capture_output=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RegistryError(f"credential helper docker-credential-{helper}: {e}") from None
    if proc.returncode != 0:  # "credentials not found in native keychain"
        return None
    try:
        doc = json.loads(proc.stdout)
        user, secret = str(doc["Username"]), str(doc["Secret"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"credential helper docker-credential-{helper} gave an invalid answer") from None
    return Credentials("<token>", "", secret) if user == "<token>" else Credentials(user, secret)


def store(key: str, creds: Credentials, auth_file: Path | None = None) -> Path:
    """Record credentials under `key` in the auth file (0600, in a 0700 directory)."""
    path = auth_file or default_auth_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with FileLock(path.with_name(path.name + ".lock")):
        doc = _read(path)
        auths = doc.setdefault("auths", {})
        raw = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
        auths[normalize_key(key)] = {"auth": raw}
        atomic_write_bytes(path, (json.dumps(doc, indent=1) + "\n").encode(), mode=0o600)
    return path


def remove(key: str | None, auth_file: Path | None = None) -> bool:
    """Forget `key` (every registry when None). False when there was nothing to forget."""
    path = auth_file or default_auth_file()
    if not path.exists():
        return False
    with FileLock(path.with_name(path.name + ".lock")):
        doc = _read(path)
        auths = doc.get("auths", {})
        if key is None:
            found = bool(auths)
            doc["auths"] = {}
        else:
            matching = [k for k in auths if normalize_key(k) == normalize_key(key)]
            found = bool(matching)
            for k in matching:
                del auths[k]
        if found:
            atomic_write_bytes(path, (json.dumps(doc, indent=1) + "\n").encode(), mode=0o600)
    return found


def parse_creds(value: str) -> Credentials:
    """`--creds user[:password]` (a missing password is asked for by the CLI)."""
    user, sep, password = value.partition(":")
    if not user:
        raise InvalidArgument("credentials must be given as USERNAME[:PASSWORD]")
    return Credentials(user, password if sep else "")
