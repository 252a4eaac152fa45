"""What pull, push, login and search share: options and one transport per registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from podpy.errors import RegistryError
from podpy.image.reference import Reference
from podpy.registry import credentials, regconf, tls
from podpy.registry.client import Repository
from podpy.registry.credentials import Credentials
from podpy.registry.transport import Transport

if TYPE_CHECKING:
    from podpy.image.encryption import DecryptionKey


@dataclass
class RegistryOptions:
    tls_verify: bool | None = None  # None: verify unless loopback or insecure in registries.conf
    cert_dir: Path | None = None
    creds: Credentials | None = None  # --creds; else the auth files
    auth_file: Path | None = None  # --authfile
    retries: int = 4
    retry_delay: float | None = None  # --retry-delay seconds (else the transport's backoff)
    decryption_keys: tuple[DecryptionKey, ...] = ()  # --decryption-key: for encrypted layers


@dataclass
class Sessions:
    """Transports by (registry, credentials), so every blob of one pull shares a connection pool."""

    opts: RegistryOptions = field(default_factory=RegistryOptions)
    conf: regconf.RegistriesConf = field(default_factory=regconf.load)
    _transports: dict[tuple[str, Credentials | None], Transport] = field(default_factory=dict)

    def transport(self, registry: str, repository: str | None = None) -> Transport:
        creds = self.opts.creds or credentials.lookup(registry, repository, self.opts.auth_file)
        key = (registry, creds)
        if key not in self._transports:
            cfg = tls.load(registry, self.opts.tls_verify, self.conf.insecure(registry), self.opts.cert_dir)
            extra = {} if self.opts.retry_delay is None else {"backoff": self.opts.retry_delay}
            self._transports[key] = Transport(registry, cfg, creds, retries=self.opts.retries, **extra)
        return self._transports[key]

    def repository(self, ref: Reference) -> Repository:
        if self.conf.blocked(ref.name):
            raise RegistryError(f"registry {ref.registry} is blocked in registries.conf")
        return Repository(self.transport(ref.registry, ref.repository), ref.repository)

    def close(self) -> None:
        for t in self._transports.values():
            t.close()
        self._transports.clear()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
