"""Predefined build arguments: the platform ARGs BuildKit sets and the proxy ARGs Docker passes through."""

from __future__ import annotations

import os

from podpy.registry.platforms import Platform, host

# Usable in RUN without an ARG line, and never written into image history.
PROXY_ARGS = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
)


def host_platform() -> Platform:
    """The host's platform as BuildKit names it in TARGETPLATFORM (no `v8` on arm64)."""
    return host().normalised()


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
