"""Parsers turning Compose short syntaxes (ports, volumes, durations, sizes) into the long form."""

from __future__ import annotations

import re
from typing import Any

from podpy.compose.errors import ComposeError

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtpe]?)(i?b?)$", re.IGNORECASE)
_SIZE_POW = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
_PORT_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")
_VOLUME_FLAGS = {"ro", "rw", "z", "Z", "nocopy", "shared", "rshared", "slave", "rslave", "private",
                 "rprivate", "cached", "delegated", "consistent"}


def parse_duration_ns(value: Any, path: str) -> int:
    """Go duration ("1m30s", "500ms"); a bare number is seconds."""
    if isinstance(value, bool):
        raise ComposeError(f"{path}: invalid duration {value!r}")
    if isinstance(value, int | float):
        return int(value * 10**9)
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    total, pos = 0, 0
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if not m:
            break
        total += int(float(m.group(1)) * _UNIT_NS[m.group(2)])
        pos = m.end()
    if not body or pos != len(body):
        if re.fullmatch(r"\d+", body):
            return sign * int(body) * 10**9
        raise ComposeError(f"{path}: invalid duration {value!r}")
    return sign * total


def format_duration(ns: int) -> str:
    """Go's time.Duration.String(), which Compose uses when printing a model."""
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
        return f"{sign}{ns}ns"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    secs = _trim(rest / 10**9)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def _trim(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_size(value: Any, path: str) -> int:
    """Byte sizes ("64m", "1gb", 1024) as Docker parses them (binary multiples)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _SIZE.match(str(value).strip())
    if not m:
        raise ComposeError(f"{path}: invalid size {value!r}")
    return int(float(m.group(1)) * 1024 ** _SIZE_POW[m.group(2).lower()])


def parse_ports(value: Any, path: str) -> list[dict[str, Any]]:
    """One short-syntax port ("127.0.0.1:8080-8081:80-81/udp", 80) as long-syntax entries."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [{"mode": "ingress", "target": value, "protocol": "tcp"}]
    text = str(value).strip()
    spec, _, proto = text.partition("/")
    host_ip = ""
    if spec.startswith("["):
        close = spec.find("]")
        if close < 0 or spec[close + 1 : close + 2] != ":":
            raise ComposeError(f"{path}: invalid port {text!r}")
        host_ip, spec = spec[1:close], spec[close + 2 :]
    parts = spec.split(":")
    if len(parts) == 3 and not host_ip:
        host_ip, parts = parts[0], parts[1:]
    if len(parts) > 2 or (host_ip and len(parts) != 2):
        raise ComposeError(f"{path}: invalid port {text!r}")
    published, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    targets = _port_range(target, text, path)
    pubs = _port_range(published, text, path) if published else []
    if pubs and len(targets) > 1 and len(pubs) != len(targets):
        raise ComposeError(f"{path}: invalid port {text!r}: published and target ranges differ in size")
    out = []
    for i, tgt in enumerate(targets):
        entry: dict[str, Any] = {"mode": "ingress"}
        if host_ip:
            entry["host_ip"] = host_ip
        entry["target"] = tgt
        if pubs:
            entry["published"] = str(pubs[i]) if len(targets) > 1 else published
        entry["protocol"] = proto or "tcp"
        out.append(entry)
    return out


def _port_range(text: str, whole: str, path: str) -> list[int]:
    m = _PORT_RANGE.match(text)
    if not m:
        raise ComposeError(f"{path}: invalid port {whole!r}")
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    if hi < lo or hi > 65535:
        raise ComposeError(f"{path}: invalid port range {whole!r}")
    return list(range(lo, hi + 1))


def is_file_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or re.match(r"^[A-Za-z]:[\\/]", source) is not None


def parse_volume(value: str, path: str) -> dict[str, Any]:
    """"[source:]target[:flags]" as a long-syntax mount (bind when the source is a path)."""
    parts = value.split(":")
    flags: list[str] = []
    if len(parts) >= 2 and all(f in _VOLUME_FLAGS for f in parts[-1].split(",")) and parts[-1]:
        flags = parts[-1].split(",")
        parts = parts[:-1]
    if len(parts) == 1:
        if flags and len(value.split(":")) == 2 and not value.startswith("/"):
            raise ComposeError(f"{path}: invalid volume specification {value!r}")
        return {"type": "volume", "target": parts[0], **({"read_only": True} if "ro" in flags else {})}
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ComposeError(f"{path}: invalid volume specification {value!r}")
    source, target = parts
    entry: dict[str, Any] = {"type": "bind" if is_file_path(source) else "volume", "source": source,
                             "target": target}
    if "ro" in flags:
        entry["read_only"] = True
    if entry["type"] == "bind":
        bind: dict[str, Any] = {"create_host_path": True}
        selinux = [f for f in flags if f in ("z", "Z")]
        if selinux:
            bind["selinux"] = selinux[0]
        prop = [f for f in flags if f.endswith(("shared", "slave", "private"))]
        if prop:
            bind["propagation"] = prop[0]
        entry["bind"] = bind
    elif "nocopy" in flags:
        entry["volume"] = {"nocopy": True}
    return entry
