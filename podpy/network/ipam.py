"""Address leases: <runroot>/networks/<name>.leases.json, one per attached container.

Leases live on the runroot (tmpfs): a reboot, which ends every container, ends them too. Callers
hold the networks lock. Reading reconciles: a lease of a container whose directory is gone (its
supervisor crashed before releasing, then the container was removed) is dropped.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from podpy.errors import InvalidArgument, PodpyError
from podpy.network.model import NetworkRecord, Subnet
from podpy.record import asdict, field, record
from podpy.state import atomic_write_json, read_json
from podpy.state.layout import Layout

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


@record
class Lease:
    """An address given to one container on one network."""

    ip: str
    prefix: int
    gateway: str
    mac: str
    ifname: str  # inside the container: eth0, eth1, ...
    veth: str  # the host end
    name: str  # the container's name (name resolution)
    aliases: list[str] = field(default_factory=list)
    ip6: str = ""  # on networks with an IPv6 subnet
    prefix6: int = 0
    gateway6: str = ""

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Lease:
        return cls(**{k: doc[k] for k in cls.__record_fields__ if k in doc})


def _path(layout: Layout, network: str) -> Path:
    return layout.runroot / "networks" / f"{network}.leases.json"


def load(layout: Layout, network: str) -> dict[str, Lease]:
    """Container ID -> lease, minus containers that no longer exist."""
    doc = read_json(_path(layout, network), {})
    out = {}
    for cid, lease in (doc.get("leases") or {}).items():
        if (layout.containers / cid).is_dir():
            out[cid] = Lease.from_json(lease)
    return out


def save(layout: Layout, network: str, leases: dict[str, Lease]) -> None:
    path = _path(layout, network)
    if not leases:
        path.unlink(missing_ok=True)
        return
    atomic_write_json(path, {"leases": {cid: asdict(x) for cid, x in leases.items()}}, durable=False)


def mac_for(ip: str) -> str:
    """Docker's scheme: 02:42 and the four address bytes (unique on the network, stable)."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


def _pool(sub: Subnet) -> tuple[int, int]:
    net = sub.net
    lo, hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
    if sub.lease_range:
        lo = max(lo, int(ipaddress.ip_address(sub.lease_range["start_ip"])))
        hi = min(hi, int(ipaddress.ip_address(sub.lease_range["end_ip"])))
    return lo, hi


def pick(rec: NetworkRecord, taken: set[str], want: str = "", version: int = 4) -> tuple[str, Subnet]:
    """The requested address (checked), else the lowest free one of the network's IPv4 (IPv6) subnet."""
    sub = rec.v4() if version == 4 else rec.v6()
    if sub is None:
        raise PodpyError(f"network {rec.name} has no IPv{version} subnet")
    used = taken | {sub.gateway}
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    if want:
        try:
            addr = cls(want)
        except ValueError:
            raise InvalidArgument(f"invalid IPv{version} address {want!r}") from None
        want = str(addr)  # IPv6: the compressed form, as the leases hold it
        if addr not in sub.net or addr in (sub.net.network_address, sub.net.broadcast_address):
            raise InvalidArgument(f"requested ip address {want} is not in a subnet of network {rec.name}")
        if want in used:
            raise PodpyError(f"requested ip address {want} is already allocated to another container "
                             f"on network {rec.name}")  # fmt: skip
        return want, sub
    lo, hi = _pool(sub)
    for n in range(lo, min(hi, lo + 65536) + 1):  # IPv6: a /64 is not walked to its end
        ip = str(cls(n))
        if ip not in used:
            return ip, sub
    raise PodpyError(f"IPAM error: failed to find free IP in range: {sub.subnet}")


def used_subnets(records: list[NetworkRecord]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [s.net for r in records for s in r.subnets]


def free_subnet(records: list[NetworkRecord], avoid: list[ipaddress.IPv4Network] | None = None) -> str:
    """Podman's pool for new networks: the first 10.89.N.0/24 no other network (nor `avoid`: what
    the host routes already) overlaps."""
    used = [*used_subnets(records), *(avoid or [])]
    for n in range(256):
        cand = ipaddress.ip_network(f"10.89.{n}.0/24")
        if not any(cand.overlaps(u) for u in used if u.version == 4):
            return str(cand)
    raise PodpyError("could not find a free subnet for the network: pass --subnet")


def _host_v6_nets() -> list[ipaddress.IPv6Network]:
    """The IPv6 prefixes (/64) of the host's own addresses (/proc/net/if_inet6: no netlink dump)."""
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        hexaddr, _, plen = line.split()[:3]
        addr = ipaddress.IPv6Address(int(hexaddr, 16))
        out.append(ipaddress.IPv6Network((addr, int(plen, 16)), strict=False))
    return out


def free_subnet6(records: list[NetworkRecord]) -> str:
    """Podman's automatic IPv6 subnet: a random unique-local /64 (fdXX:XXXX:XXXX:XXXX::/64, RFC 4193)
    that no network and no host address overlaps."""
    used = [u for u in used_subnets(records) if u.version == 6] + _host_v6_nets()
    for _ in range(100):
        prefix = b"\xfd" + os.urandom(7)
        cand = ipaddress.IPv6Network((int.from_bytes(prefix + bytes(8), "big"), 64))
        if not any(cand.overlaps(u) for u in used):
            return str(cand)
    raise PodpyError("could not find a free IPv6 subnet for the network: pass --subnet")
