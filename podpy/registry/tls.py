"""TLS settings for one registry: whether to verify, extra CAs and client certificates.

Like containers/image: `*.crt` files in the host's certs.d directory are CAs added to the system
ones; `NAME.cert` + `NAME.key` is a client certificate. Directories searched (all of them):
/etc/containers/certs.d/HOST[:PORT], /etc/docker/certs.d/HOST[:PORT] and
~/.config/containers/certs.d/HOST[:PORT]; `--cert-dir DIR` replaces them with DIR itself.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from podpy.errors import InvalidArgument

SYSTEM_CERTS_DIRS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


@dataclass(frozen=True)
class TLSConfig:
    verify: bool = True  # verify the server certificate (False: --tls-verify=false or insecure)
    allow_http: bool = False  # fall back to plain HTTP when HTTPS fails (insecure registries)
    ca_files: tuple[Path, ...] = ()
    client_cert: tuple[Path, Path] | None = None  # (cert, key)
    extra: dict[str, str] = field(default_factory=dict)


def is_loopback(host: str) -> bool:
    """localhost and 127.0.0.0/8 (and ::1) may speak plain HTTP without any flag, as with Docker."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cert_dirs(host: str, cert_dir: Path | None) -> list[Path]:
    if cert_dir is not None:
        return [cert_dir]
    env = os.environ.get("XDG_CONFIG_HOME")
    user = (Path(env) if env else Path.home() / ".config") / "containers" / "certs.d"
    return [d / host for d in (*SYSTEM_CERTS_DIRS, user)]


def load(host: str, tls_verify: bool | None, insecure_conf: bool, cert_dir: Path | None) -> TLSConfig:
    """`tls_verify` None means the default: verify unless loopback or marked insecure in registries.conf."""
    if cert_dir is not None and not cert_dir.is_dir():
        raise InvalidArgument(f"--cert-dir {str(cert_dir)!r} is not a directory")
    insecure = (not tls_verify) if tls_verify is not None else (insecure_conf or is_loopback(host))
    cas: list[Path] = []
    client: tuple[Path, Path] | None = None
    for d in cert_dirs(host, cert_dir):
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if n.endswith(".crt"):
                cas.append(d / n)
            elif n.endswith(".cert") and client is None:
                key = d / (n[: -len(".cert")] + ".key")
                if not key.exists():
                    raise InvalidArgument(f"missing key {key.name} for client certificate {d / n}")
                client = (d / n, key)
    return TLSConfig(verify=not insecure, allow_http=insecure, ca_files=tuple(cas), client_cert=client)


def ssl_context(cfg: TLSConfig):  # type: ignore[no-untyped-def]
    """An SSLContext trusting the system CAs plus the configured ones (None: the defaults suffice).

    Without verification it loads no CA at all: loading the system store costs ~80 ms, wasted on
    every pull from a loopback registry (tried over HTTPS first, like Docker does)."""
    import ssl

    if not cfg.verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if not cfg.ca_files:
        return None
    ctx = ssl.create_default_context()
    for ca in cfg.ca_files:
        try:
            ctx.load_verify_locations(cafile=str(ca))
        except (OSError, ssl.SSLError) as e:
            raise InvalidArgument(f"loading CA certificate {ca}: {e}") from None
    return ctx
