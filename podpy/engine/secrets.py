"""Secrets with Podman's `file` driver: `secret create/ls/inspect/rm` and run/create's --secret.

The store is ROOT/secrets: secrets.json (the records) and data/ID (the bytes, mode 0444 in a 0700
directory). `--secret NAME[,type=mount|env][,target=T]` bind-mounts the data read-only at
/run/secrets/NAME (or T), or puts it in the environment as T (default NAME) when the container is
created. A secret a container uses cannot be removed.
"""

from __future__ import annotations

import json
import os
import re
import secrets as pysecrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podpy.errors import InvalidArgument, PodpyError
from podpy.state import FileLock, atomic_write_json, read_json
from podpy.timeutil import now_rfc3339

if TYPE_CHECKING:
    from podpy.engine.core import Engine

MAX_SIZE = 512_000  # Podman's limit on a secret's size
NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
SECRETS_DIR = "/run/secrets"


class NoSuchSecret(PodpyError):
    def __init__(self, ref: str) -> None:
        super().__init__(f'no secret with name or id "{ref}": no such secret')


@dataclass
class SecretRecord:
    """One secret's JSON document."""

    id: str
    name: str
    created: str
    driver: str = "file"
    labels: dict[str, str] = field(default_factory=dict)

    def inspect(self, data_path: Path) -> dict[str, Any]:
        """Podman's `secret inspect` document."""
        return {"ID": self.id, "CreatedAt": self.created, "UpdatedAt": self.created,
                "Spec": {"Name": self.name, "Driver": {"Name": self.driver, "Options": {"path": str(data_path.parent)}},
                         "Labels": dict(self.labels)}}  # fmt: skip


class SecretStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dir = engine.layout.root / "secrets"
        self.index = self.dir / "secrets.json"

    def _lock(self) -> FileLock:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return FileLock(self.dir / "lock")

    def _load(self) -> dict[str, SecretRecord]:
        doc = read_json(self.index, default={"secrets": {}})
        return {k: SecretRecord(**v) for k, v in doc["secrets"].items()}

    def _save(self, recs: dict[str, SecretRecord]) -> None:
        atomic_write_json(self.index, {"secrets": {k: asdict(v) for k, v in recs.items()}})

    def data_path(self, rec: SecretRecord) -> Path:
        return self.dir / "data" / rec.id

    def list(self) -> list[SecretRecord]:
        return sorted(self._load().values(), key=lambda r: r.created)

    def get(self, ref: str) -> SecretRecord:
        recs = self._load()
        for r in recs.values():
            if r.name == ref or r.id == ref:
                return r
        matches = [r for r in recs.values() if ref and r.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        raise NoSuchSecret(ref)

    def create(self, name: str, data: bytes, driver: str = "file", labels: dict[str, str] | None = None,
               replace: bool = False) -> SecretRecord:  # fmt: skip
        if driver != "file":
            raise InvalidArgument(f"unsupported secret driver {driver!r}: only file")
        if not NAME_RE.fullmatch(name) or len(name) > 253:
            raise InvalidArgument(f"invalid secret name {name!r}")
        if not data:
            raise InvalidArgument("secret data must be larger than 0")
        if len(data) >= MAX_SIZE:
            raise InvalidArgument(f"secret data must be less than {MAX_SIZE} bytes")
        with self._lock():
            recs = self._load()
            old = next((r for r in recs.values() if r.name == name), None)
            if old is not None and not replace:
                raise PodpyError(f"{name}: secret name in use")
            if old is not None:
                del recs[old.id]
                self.data_path(old).unlink(missing_ok=True)
            rec = SecretRecord(pysecrets.token_hex(13)[:25], name, now_rfc3339(), driver, dict(labels or {}))
            data_dir = self.dir / "data"
            data_dir.mkdir(mode=0o700, exist_ok=True)
            tmp = data_dir / f".{rec.id}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o444)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.data_path(rec))
            recs[rec.id] = rec
            self._save(recs)
        return rec

    def users(self, rec: SecretRecord) -> list[str]:
        """IDs of containers whose spec uses the secret."""
        out = []
        for c in self.engine.containers.list(all_=True):
            if rec.id in (c.spec.get("annotations") or {}).get(SECRETS_ANNOTATION, "").split(","):
                out.append(c.id)
        return out

    def remove(self, ref: str) -> SecretRecord:
        with self._lock():
            rec = self.get(ref)
            users = self.users(rec)
            if users:
                raise PodpyError(f"secret {rec.name} is in use by container(s) {', '.join(u[:12] for u in users)}")
            recs = self._load()
            del recs[rec.id]
            self._save(recs)
            self.data_path(rec).unlink(missing_ok=True)
        return rec


SECRETS_ANNOTATION = "io.podpy.secrets"  # the IDs a container uses (secret rm refuses those)


@dataclass(frozen=True)
class SecretUse:
    """One --secret flag: the secret and how the container gets it."""

    name: str
    kind: str = "mount"  # or "env"
    target: str = ""


def parse_secret_flag(value: str) -> SecretUse:
    """--secret NAME[,type=mount|env][,target=T] (uid/gid/mode only at their defaults: 0, 0, 0444)."""
    name, *opts = [x.strip() for x in value.split(",")]
    if not name:
        raise InvalidArgument(f"invalid --secret {value!r}: no secret name")
    kind, target = "mount", ""
    for opt in opts:
        key, eq, val = opt.partition("=")
        if not eq:
            raise InvalidArgument(f"invalid --secret option {opt!r}: expected KEY=VALUE")
        if key == "type":
            if val not in ("mount", "env"):
                raise InvalidArgument(f"type {val!r} is invalid: must be mount or env")
            kind = val
        elif key == "target":
            target = val
        elif key in ("uid", "gid", "mode"):
            if val not in {"uid": ("0",), "gid": ("0",), "mode": ("0444", "444", "292")}[key]:
                raise InvalidArgument(f"--secret {key}={val}: podpy mounts secrets as root-owned 0444 files only")
        else:
            raise InvalidArgument(f"option {key!r} invalid for --secret")
    if kind == "env" and opts and any(o.split("=")[0] in ("uid", "gid", "mode") for o in opts):
        raise InvalidArgument("uid, gid and mode apply to mount secrets only")
    return SecretUse(name, kind, target)


def for_create(engine: Engine, values: list[str]) -> tuple[list[Any], list[str], list[str]]:
    """(mounts, env entries, secret IDs) for the --secret values."""
    from podpy.engine.spec import Mount

    store = SecretStore(engine)
    mounts, env, ids = [], [], []
    for value in values:
        use = parse_secret_flag(value)
        rec = store.get(use.name)
        ids.append(rec.id)
        path = store.data_path(rec)
        if use.kind == "env":
            try:
                env.append(f"{use.target or rec.name}={path.read_text()}")
            except (OSError, UnicodeDecodeError) as e:
                raise PodpyError(f"reading secret {rec.name}: {e}") from None
            continue
        target = use.target or rec.name
        dest = target if target.startswith("/") else f"{SECRETS_DIR}/{target}"
        mounts.append(Mount(os.path.normpath(dest), "bind", str(path), ("rbind", "rprivate", "ro")))
    return mounts, env, ids


def read_source(source: str, from_env: bool) -> bytes:
    """`secret create NAME FILE|-` (or --env: the value of the environment variable FILE names)."""
    import sys

    if from_env:
        value = os.environ.get(source)
        if value is None:
            raise InvalidArgument(f"cannot create store secret data: environment variable {source} is not set")
        return value.encode()
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise InvalidArgument(f"reading {source}: {e.strerror}") from None


def inspect_json(store: SecretStore, recs: list[SecretRecord]) -> str:
    return json.dumps([r.inspect(store.data_path(r)) for r in recs], indent=4)
