"""Network records (<root>/networks/<name>.json) and the default network.

The record holds Podman's fields (its `network inspect` form is the record itself); Docker's form
is derived from it. Creation and removal run under the networks lock (<runroot>/locks/networks.lock),
the same lock IPAM allocates under.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

from podpy.errors import InvalidArgument, NotFound, PodpyError
from podpy.record import field, record
from podpy.state import FileLock, atomic_write_json, read_json
from podpy.state.layout import Layout

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

DEFAULT_NETWORK = "podman"  # Podman's name; Docker's `bridge` is its alias
DEFAULT_SUBNET = "10.88.0.0/16"
RESERVED = ("none", "host", "private", "default", "container", "ns")
NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
IFACE_PREFIX = "podpy"  # bridges are podpy0, podpy1, ...; a Podman on the same host uses podman*
DRIVERS = ("bridge", "macvlan", "ipvlan")
MACVLAN_MODES = ("bridge", "private", "vepa", "passthru")
IPVLAN_MODES = ("l2", "l3", "l3s")


class NoSuchNetwork(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"unable to find network with name or ID {name}: network not found")
        self.name = name


class NetworkExists(PodpyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"network name {name} already used: network already exists")


class NetworkInUse(PodpyError):
    def __init__(self, name: str, containers: list[str]) -> None:
        ids = ", ".join(c[:12] for c in containers)
        super().__init__(f'"{name}" has associated containers with it ({ids}). Use -f to forcibly delete containers '
                         f"and pods: network is being used")  # fmt: skip


@record(lean_init=True)
class Subnet:
    """One subnet of a network, with its gateway and lease range."""

    subnet: str
    gateway: str
    lease_range: dict[str, str] = field(default_factory=dict)  # {"start_ip", "end_ip"} from --ip-range

    @property
    def net(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.subnet)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"subnet": self.subnet, "gateway": self.gateway}
        if self.lease_range:
            doc["lease_range"] = dict(self.lease_range)
        return doc


@record(lean_init=True)
class NetworkRecord:
    """One network's JSON document."""

    name: str
    id: str
    driver: str = "bridge"
    network_interface: str = ""
    created: str = ""
    subnets: list[Subnet] = field(default_factory=list)
    ipv6_enabled: bool = False
    internal: bool = False
    dns_enabled: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_NETWORK

    @property
    def mtu(self) -> int:
        return int(self.options.get("mtu") or 0)

    def v4(self) -> Subnet | None:
        return next((s for s in self.subnets if s.net.version == 4), None)

    def v6(self) -> Subnet | None:
        return next((s for s in self.subnets if s.net.version == 6), None)

    @property
    def is_bridge(self) -> bool:
        return self.driver == "bridge"

    def to_json(self) -> dict[str, Any]:
        """Podman's `network inspect` object (also the record on disk): labels and options are left
        out when empty, as Podman does."""
        doc: dict[str, Any] = {"name": self.name, "id": self.id, "driver": self.driver,
                               "network_interface": self.network_interface, "created": self.created,
                               "subnets": [s.to_json() for s in self.subnets], "ipv6_enabled": self.ipv6_enabled,
                               "internal": self.internal, "dns_enabled": self.dns_enabled}  # fmt: skip
        if self.labels:
            doc["labels"] = dict(self.labels)
        if self.options:
            doc["options"] = dict(self.options)
        doc["ipam_options"] = {"driver": "host-local"}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> NetworkRecord:
        subnets = [Subnet(str(s["subnet"]), str(s.get("gateway") or ""), dict(s.get("lease_range") or {}))
                   for s in doc.get("subnets") or []]  # fmt: skip
        return cls(name=str(doc["name"]), id=str(doc["id"]), driver=str(doc.get("driver") or "bridge"),
                   network_interface=str(doc.get("network_interface") or ""), created=str(doc.get("created") or ""),
                   subnets=subnets, ipv6_enabled=bool(doc.get("ipv6_enabled")), internal=bool(doc.get("internal")),
                   dns_enabled=bool(doc.get("dns_enabled")), labels=dict(doc.get("labels") or {}),
                   options=dict(doc.get("options") or {}))  # fmt: skip


def validate_name(name: str) -> str:
    if not NAME_RE.fullmatch(name) or len(name) > 253:
        raise InvalidArgument(f"network name {name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    if name in RESERVED:
        raise InvalidArgument(f"network name {name} invalid: it is a reserved network mode")
    return name


def new_id() -> str:
    return os.urandom(32).hex()  # not `secrets`: its hmac/hashlib imports cost ~3 ms on `run`


class NetworkStore:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.base = layout.networks

    def lock(self) -> FileLock:
        return FileLock(self.layout.locks / "networks.lock")

    def path(self, name: str) -> Path:
        return self.base / f"{name}.json"

    def list(self) -> list[NetworkRecord]:
        if not self.base.is_dir():
            return []
        out = []
        for p in sorted(self.base.glob("*.json")):
            try:
                out.append(NetworkRecord.from_json(read_json(p)))
            except FileNotFoundError:
                continue  # removed meanwhile
        return out

    def find(self, ref: str) -> NetworkRecord:
        """By name, full ID or unique ID prefix; `bridge` means the default network."""
        name = DEFAULT_NETWORK if ref == "bridge" else ref
        if NAME_RE.fullmatch(name) and self.path(name).is_file():
            try:
                return NetworkRecord.from_json(read_json(self.path(name)))
            except FileNotFoundError:
                pass
        hits = [r for r in self.list() if r.id.startswith(ref)] if len(ref) >= 3 else []
        if len(hits) == 1:
            return hits[0]
        raise NoSuchNetwork(ref)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def save(self, rec: NetworkRecord) -> None:
        atomic_write_json(self.path(rec.name), rec.to_json())

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
