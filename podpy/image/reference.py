"""Image references (Docker's grammar): `busybox` -> docker.io/library/busybox:latest."""

from __future__ import annotations

import re

from podpy.errors import InvalidReference
from podpy.record import record

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN_RE = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_HEX_RE = re.compile(r"^[a-f0-9]{64}$")


@record(frozen=True)
class Reference:
    """A fully qualified reference: registry/repository[:tag][@digest]."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """registry/repository, e.g. docker.io/library/busybox."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    @property
    def familiar_name(self) -> str:
        """What Docker prints: busybox for docker.io/library/busybox, user/repo for docker.io/user/repo."""
        if self.registry == DEFAULT_REGISTRY:
            return self.repository.removeprefix("library/")
        return self.name

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, None)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return DEFAULT_REGISTRY, name


def parse(ref: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalise `ref`; raise InvalidReference naming it when malformed."""
    if not ref or ref != ref.strip():
        raise InvalidReference(ref)
    rest, _, digest = ref.partition("@")
    if digest and not _DIGEST_RE.match(digest):
        raise InvalidReference(ref, "invalid digest in reference")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise InvalidReference(ref, "invalid tag in reference")
    registry, repo = _split_domain(rest)
    if not _DOMAIN_RE.match(registry):
        raise InvalidReference(ref, "invalid registry in reference")
    if registry == DEFAULT_REGISTRY and "/" not in repo:
        repo = f"library/{repo}"
    if not _NAME_RE.match(repo):
        if repo.lower() != repo:
            raise InvalidReference(ref, "repository name must be lowercase")
        raise InvalidReference(ref)
    if len(registry) + len(repo) + 1 > 255:
        raise InvalidReference(ref, "repository name must not be more than 255 characters")
    if tag is None and not digest and default_tag:
        tag = DEFAULT_TAG
    return Reference(registry, repo, tag, digest or None)


def is_full_id(s: str) -> bool:
    return bool(_HEX_RE.match(s.removeprefix("sha256:")))


def looks_like_id_prefix(s: str) -> bool:
    """A short or full hex image/container ID, optionally with the sha256: prefix."""
    h = s.removeprefix("sha256:")
    return 3 <= len(h) <= 64 and all(c in "0123456789abcdef" for c in h)


def familiar(full: str) -> str:
    """docker.io/library/busybox:latest -> busybox:latest (Docker's display form)."""
    try:
        r = parse(full, default_tag=False)
    except InvalidReference:
        return full
    s = r.familiar_name
    if r.tag:
        s += f":{r.tag}"
    if r.digest:
        s += f"@{r.digest}"
    return s
