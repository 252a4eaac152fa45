"""Host-wide address claims (root): bridges, routes and the nft table are the host's, but leases
are per store, so two stores sharing a bridge (the default network's podpy0, which every store
uses) could hand out the same address. Each lease on a bridge is also claimed here, host-wide:

    /run/podpy/hostipam/<bridge>/<ip>    the owning container's directory (one line)

Claims are made and dropped with the store's lease, under a host-wide lock. A claim whose container
directory is gone (its store removed, or the container removed after a crash) is stale and ignored.
New networks' automatic subnets skip what the host already routes (`routed`), so a store does not
pick a subnet another store's bridge (or anything else on the host) uses.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from podpy.state import FileLock

BASE = Path("/run/podpy/hostipam")
LOCK = Path("/run/lock/podpy-ipam.lock")


def lock() -> FileLock:
    return FileLock(LOCK)


def _dir(bridge: str) -> Path:
    return BASE / bridge


def taken(bridge: str, owner: str) -> set[str]:
    """Addresses of the bridge claimed by live containers other than `owner` (a container directory)."""
    out = set()
    try:
        entries = list(os.scandir(_dir(bridge)))
    except OSError:
        return out
    for e in entries:
        try:
            holder = Path(e.path).read_text().strip()
        except OSError:
            continue
        if not Path(holder).is_dir():
            Path(e.path).unlink(missing_ok=True)  # stale (caller holds the lock)
        elif holder != owner:
            out.add(e.name)
    return out


def claim(bridge: str, ip: str, owner: str) -> None:
    d = _dir(bridge)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".{ip}.tmp"
    tmp.write_text(owner + "\n")
    tmp.rename(d / ip)


def release(bridge: str, ip: str, owner: str) -> None:
    """Drop the claim when it is `owner`'s (another store may hold the address by now)."""
    path = _dir(bridge) / ip
    try:
        if path.read_text().strip() == owner:
            path.unlink()
        path.parent.rmdir()  # the bridge's last claim: no empty directory left per removed network
    except OSError:
        pass


def routes() -> list[tuple[str, ipaddress.IPv4Network]]:
    """(interface, destination) of the IPv4 routes of the main table, the default route aside."""
    out = []
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) < 8 or parts[7] == "00000000":
            continue
        try:
            dest = ipaddress.IPv4Address(int(parts[1], 16).to_bytes(4, "little"))
            mask = ipaddress.IPv4Address(int(parts[7], 16).to_bytes(4, "little"))
            out.append((parts[0], ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)))
        except ValueError:
            continue
    return out


def routed() -> list[ipaddress.IPv4Network]:
    """IPv4 destinations the host routes: its interfaces' subnets, other stores' bridges, VPNs..."""
    return [net for _iface, net in routes()]


def default_subnet(bridge: str, preferred: str) -> str:
    """The default network's subnet for a new store. Every store shares its bridge, so: the subnet
    the bridge already has (another store made it); else `preferred` (Podman's 10.88.0.0/16) unless
    something else routes it (a Podman on this host has podman0 there), then the first free /16
    below it (10.87, 10.86, ...)."""
    table = routes()
    mine = [net for iface, net in table if iface == bridge]
    if mine:
        return str(mine[0])
    others = [net for iface, net in table if iface != bridge]
    first = ipaddress.IPv4Network(preferred)
    for n in range(first.network_address.packed[1], 63, -1):
        cand = ipaddress.IPv4Network(f"10.{n}.0.0/{first.prefixlen}")
        if not any(cand.overlaps(o) for o in others):
            return str(cand)
    return preferred
