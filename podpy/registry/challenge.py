"""`WWW-Authenticate` challenges (RFC 7235): `Bearer realm="...",service="...",scope="..."` or `Basic`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# auth-param: token "=" ( token / quoted-string ); quoted strings may hold commas and escaped quotes
_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")


def parse(header: str) -> list[Challenge]:
    """All challenges in one header value (a server may offer several schemes)."""
    out: list[Challenge] = []
    rest = header.strip()
    while rest:
        m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", rest)
        if not m:
            break
        scheme, rest = m.group(1).lower(), rest[m.end() :]
        params: dict[str, str] = {}
        while True:
            p = _PARAM.match(rest)
            # a bare token not followed by "=" starts the next challenge
            if not p or p.end() == 0:
                break
            value = p.group(2) if p.group(2) is not None else p.group(3)
            params[p.group(1).lower()] = re.sub(r"\\(.)", r"\1", value or "")
            rest = rest[p.end() :]
        out.append(Challenge(scheme, params))
        rest = rest.lstrip(" ,")
    return out


def pick(headers: list[str]) -> Challenge | None:
    """The challenge to answer: bearer beats basic; unknown schemes are ignored."""
    found = [c for h in headers for c in parse(h)]
    for scheme in ("bearer", "basic"):
        for c in found:
            if c.scheme == scheme:
                return c
    return None
