"""Published ports: `-p` parsing, host port assignment with conflict checks, the live bindings
(<runroot>/ports/<id>.json) and Docker's `Ports` map.

Forwarding is kernel DNAT (nft.add_ports): research measured 1.0-1.3 GB/s against 0.6-1.0 GB/s
for a splice proxy, and it needs no process per container.
"""

from __future__ import annotations

import errno
from pathlib import Path

from podpy.errors import InvalidArgument, PodpyError
from podpy.state import atomic_write_json, read_json
from podpy.state.layout import Layout

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

PROTOCOLS = ("tcp", "udp")


def _range(text: str, what: str) -> list[int]:
    lo, _, hi = text.partition("-")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text!r}") from None
    if not (0 < a <= b <= 65535):
        raise InvalidArgument(f"invalid {what} {text!r}")
    return list(range(a, b + 1))


def _split_ip(item: str) -> tuple[str, str]:
    """`[::1]:8080:80` / `127.0.0.1:8080:80` / `8080:80` / `80` -> (host ip, the rest)."""
    if item.startswith("["):
        ip, _, rest = item[1:].partition("]:")
        return ip, rest
    parts = item.split(":")
    if len(parts) == 3:
        return parts[0], f"{parts[1]}:{parts[2]}"
    return "", item


def parse_publish(item: str) -> list[dict[str, Any]]:
    """`[ip:][hostPort:]containerPort[/proto]`, ranges on both sides (same length, or one host range
    for one container port: any free port of it)."""
    body, _, proto = item.partition("/")
    proto = proto or "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid protocol {proto!r} in -p {item} (tcp or udp)")
    ip, rest = _split_ip(body)
    if ip:
        ip = _host_ip(ip, item)
    host, _, ctr = rest.rpartition(":")
    ctr_ports = _range(ctr, "container port")
    host_ports = _range(host, "host port") if host else [0] * len(ctr_ports)
    if len(host_ports) != len(ctr_ports):
        raise InvalidArgument(f"invalid -p {item}: host and container port ranges differ in length")
    return [{"host_ip": ip, "host_port": h, "container_port": c, "protocol": proto}
            for h, c in zip(host_ports, ctr_ports, strict=True)]  # fmt: skip


def _host_ip(ip: str, item: str) -> str:
    """The -p host address, checked (IPv6 in its compressed form; its loopback cannot be forwarded:
    the kernel never routes ::1 off the host, there is no route_localnet for IPv6)."""
    import ipaddress

    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidArgument(f"invalid host IP {ip!r} in -p {item}") from None
    if addr.version == 6 and addr.is_loopback:
        raise InvalidArgument(f"-p {item}: IPv6 loopback cannot be forwarded to a container; publish on 127.0.0.1 "
                              "or another host address")  # fmt: skip
    return str(addr)


def parse_expose(item: str) -> list[str]:
    """`--expose 80`, `8000-8002/udp` -> ["80/tcp"], [...] (Docker's ExposedPorts keys)."""
    body, _, proto = item.partition("/")
    proto = proto or "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid protocol {proto!r} in --expose {item}")
    return [f"{p}/{proto}" for p in _range(body, "port")]


def _path(layout: Layout, cid: str) -> Path:
    return layout.runroot / "ports" / f"{cid}.json"


def load(layout: Layout, cid: str) -> list[dict[str, Any]]:
    return list(read_json(_path(layout, cid), {}).get("bindings") or [])


def drop(layout: Layout, cid: str) -> None:
    _path(layout, cid).unlink(missing_ok=True)


def taken(layout: Layout, but: str) -> set[tuple[str, int]]:
    """(protocol, host port) bound by other live containers (their files; gone containers skipped)."""
    base = layout.runroot / "ports"
    out: set[tuple[str, int]] = set()
    if base.is_dir():
        for p in base.glob("*.json"):
            cid = p.name.removesuffix(".json")
            if cid != but and (layout.containers / cid).is_dir():
                out |= {(b["protocol"], int(b["host_port"])) for b in load(layout, cid)}
    return out


def _probe(ip: str, port: int, proto: str) -> int:
    """Bind the host port (0: the kernel picks one) to see it is free; the port bound."""
    import socket  # ~3 ms to import: only run/create with -p probe ports (inspect and ps read them)

    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:  # a listener still fails; connections in TIME_WAIT do not
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip or "0.0.0.0", port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PodpyError(f"cannot listen on the {proto.upper()} port {port}: address already in use") from None
            raise PodpyError(f"cannot bind {ip or '0.0.0.0'}:{port}/{proto}: {e.strerror}") from None
        return int(s.getsockname()[1])


def assign(layout: Layout, cid: str, wanted: list[dict[str, Any]], ip: str, ip6: str = "") -> list[dict[str, Any]]:
    """Host ports for `wanted` (random ones picked), checked free; saved. Caller holds the networks lock.
    `ip6`: the container's IPv6 address on a dual-stack network (the host's IPv6 addresses forward too)."""
    busy = taken(layout, cid)
    out = []
    for w in wanted:
        port = int(w["host_port"])
        for _ in range(20):
            got = _probe(w["host_ip"], port, w["protocol"])
            if (w["protocol"], got) not in busy:
                break
            if port:
                raise PodpyError(f"cannot listen on the {w['protocol'].upper()} port {port}: "
                                 "already published by another container")  # fmt: skip
        busy.add((w["protocol"], got))
        if ":" in w["host_ip"] and not ip6:
            raise PodpyError(f"cannot publish on {w['host_ip']}: the container's network has no IPv6 subnet")
        out.append({**w, "host_port": got, "container_ip": ip, **({"container_ip6": ip6} if ip6 else {})})
    atomic_write_json(_path(layout, cid), {"bindings": out}, durable=False)
    return out


def docker_ports(spec_ports: list[dict[str, Any]], live: list[dict[str, Any]]) -> dict[str, Any]:
    """inspect's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}."""
    out: dict[str, Any] = {}
    for b in live or spec_ports:
        key = f"{b['container_port']}/{b['protocol']}"
        out.setdefault(key, []).append({"HostIp": b["host_ip"] or "0.0.0.0",
                                        "HostPort": str(b["host_port"] or "")})  # fmt: skip
    return out


def port_lines(live: list[dict[str, Any]], which: str = "") -> list[str]:
    """`port CTR [PORT[/PROTO]]`, Docker's lines: `80/tcp -> 0.0.0.0:8080` (or only the addresses)."""
    want_port, _, want_proto = which.partition("/")
    lines = []
    for b in live:
        if want_port and (str(b["container_port"]) != want_port or b["protocol"] != (want_proto or "tcp")):
            continue
        addr = _host_addr(b)
        lines.append(addr if which else f"{b['container_port']}/{b['protocol']} -> {addr}")
    return lines


def ps_text(live: list[dict[str, Any]]) -> str:
    """ps's PORTS column, Docker's form: `127.0.0.1:8080->80/tcp, 0.0.0.0:8443->443/tcp`."""
    return ", ".join(f"{_host_addr(b)}->{b['container_port']}/{b['protocol']}" for b in live)


def _host_addr(b: dict[str, Any]) -> str:
    ip = b["host_ip"] or "0.0.0.0"
    return f"[{ip}]:{b['host_port']}" if ":" in ip else f"{ip}:{b['host_port']}"
