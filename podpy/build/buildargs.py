"""Predefined build arguments: the platform ARGs BuildKit sets and the proxy ARGs Docker passes through."""

from __future__ import annotations

import os
import platform as _platform
from dataclasses import dataclass

# Usable in RUN without an ARG line, and never written into image history.
PROXY_ARGS = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
)

_MACHINES = {
    "x86_64": ("amd64", ""), "amd64": ("amd64", ""), "aarch64": ("arm64", ""), "arm64": ("arm64", ""),
    "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "i686": ("386", ""), "i386": ("386", ""),
    "ppc64le": ("ppc64le", ""), "s390x": ("s390x", ""), "riscv64": ("riscv64", ""),
}


@dataclass(frozen=True)
class Platform:
    os: str
    arch: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.arch, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """`os/arch[/variant]`; ValueError when malformed."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant]")
        arch, variant = parts[1], parts[2] if len(parts) == 3 else ""
        if arch == "x86_64":
            arch = "amd64"
        if arch in ("aarch64", "arm64") and variant == "v8":
            arch, variant = "arm64", ""
        return cls(parts[0], arch, variant)


def host_platform() -> Platform:
    arch, variant = _MACHINES.get(_platform.machine().lower(), (_platform.machine().lower(), ""))
    return Platform("linux", arch, variant)


def platform_args(target: Platform, build: Platform) -> dict[str, str]:
    """The automatic platform ARGs in the global scope (a stage sees them after `ARG NAME`)."""
    return {
        "TARGETPLATFORM": str(target), "TARGETOS": target.os, "TARGETARCH": target.arch,
        "TARGETVARIANT": target.variant, "BUILDPLATFORM": str(build), "BUILDOS": build.os,
        "BUILDARCH": build.arch, "BUILDVARIANT": build.variant,
    }


def parse_build_args(items: list[str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """`--build-arg NAME=value` values; a bare `NAME` takes the caller's environment (or is skipped)."""
    env = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not name:
            raise ValueError(f"invalid build arg {item!r}: empty name")
        if eq:
            out[name] = value
        elif name in env:
            out[name] = env[name]
    return out
