"""The few rtnetlink requests a bridge network needs, hand-packed.

Why not pyroute2: importing it costs ~100-150 ms, which would more than double `run --rm` on a
network; the requests here (link add/del/set, address, default route) are a dozen structs.
A `Netlink` is bound to the network namespace it was opened in (see netns.open_netlink).
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from podpy.record import record

RTM_NEWLINK, RTM_DELLINK, RTM_SETLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 17, 19, 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR, NLA_F_NESTED = 2, 0x8000
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 1, 3, 4, 10, 18, 28
IFLA_LINK, IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 5, 1, 2, 1
IFLA_MACVLAN_MODE, IFLA_IPVLAN_MODE = 1, 1
MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8}
IPVLAN_MODES = {"l2": 0, "l3": 1, "l3s": 2}
IFA_ADDRESS, IFA_LOCAL = 1, 2
IFA_F_NODAD = 0x02  # IPv6: usable at once, no duplicate address detection (netavark does the same)
RTA_GATEWAY = 5
IFF_UP = 0x1
RT_TABLE_MAIN, RTPROT_BOOT, RTN_UNICAST = 254, 3, 1


def attr(kind: int, data: bytes) -> bytes:
    raw = struct.pack("HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def nested(kind: int, *attrs: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def ifname(name: str) -> bytes:
    return name.encode() + b"\0"


def ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


@record
class Netlink:
    """A rtnetlink socket and its sequence numbers."""

    sock: socket.socket
    seq: int = 0

    @classmethod
    def open(cls) -> Netlink:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
        s.bind((0, 0))
        return cls(s)

    def close(self) -> None:
        self.sock.close()

    def request(self, kind: int, body: bytes, flags: int = 0) -> None:
        """Send one request and wait for its ack; an error reply raises OSError(errno)."""
        self.seq += 1
        head = struct.pack("IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0)
        self.sock.send(head + body)
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, mtype, _, seq, _ = struct.unpack_from("IHHII", data, off)
                if mtype == NLMSG_ERROR and seq == self.seq:
                    err = struct.unpack_from("i", data, off + 16)[0]
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    return
                off += max(length + (-length % 4), 16)

    # ---- links
    def add_bridge(self, name: str, mtu: int = 0) -> None:
        attrs = attr(IFLA_IFNAME, ifname(name)) + nested(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"bridge"))
        if mtu:
            attrs += attr(IFLA_MTU, struct.pack("I", mtu))
        self.request(RTM_NEWLINK, ifinfo() + attrs, NLM_F_CREATE | NLM_F_EXCL)

    def add_veth(self, host: str, peer: str, peer_netns_fd: int, master: int, mtu: int = 0,
                 peer_mac: str = "") -> None:  # fmt: skip
        """A veth pair: `host` attached to the bridge `master`, `peer` created inside the netns."""
        peer_attrs = attr(IFLA_IFNAME, ifname(peer)) + attr(IFLA_NET_NS_FD, struct.pack("I", peer_netns_fd))
        if peer_mac:
            peer_attrs += attr(IFLA_ADDRESS, mac_bytes(peer_mac))
        if mtu:
            peer_attrs += attr(IFLA_MTU, struct.pack("I", mtu))
        info = nested(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"veth"),
                      nested(IFLA_INFO_DATA, nested(VETH_INFO_PEER, ifinfo() + peer_attrs)))  # fmt: skip
        attrs = attr(IFLA_IFNAME, ifname(host)) + info + attr(IFLA_MASTER, struct.pack("I", master))
        if mtu:
            attrs += attr(IFLA_MTU, struct.pack("I", mtu))
        self.request(RTM_NEWLINK, ifinfo(flags=IFF_UP, change=IFF_UP) + attrs, NLM_F_CREATE | NLM_F_EXCL)

    def add_vlan_child(self, kind: str, name: str, parent: int, netns_fd: int, mode: str, mtu: int = 0,
                       mac: str = "") -> None:  # fmt: skip
        """A macvlan/ipvlan device on the host interface `parent`, created inside the netns `netns_fd`."""
        mode_attr = (attr(IFLA_MACVLAN_MODE, struct.pack("I", MACVLAN_MODES[mode])) if kind == "macvlan"
                     else attr(IFLA_IPVLAN_MODE, struct.pack("H", IPVLAN_MODES[mode])))  # fmt: skip
        attrs = (attr(IFLA_IFNAME, ifname(name)) + attr(IFLA_LINK, struct.pack("I", parent))
                 + attr(IFLA_NET_NS_FD, struct.pack("I", netns_fd))
                 + nested(IFLA_LINKINFO, attr(IFLA_INFO_KIND, kind.encode()), nested(IFLA_INFO_DATA, mode_attr)))
        if mac and kind == "macvlan":
            attrs += attr(IFLA_ADDRESS, mac_bytes(mac))
        if mtu:
            attrs += attr(IFLA_MTU, struct.pack("I", mtu))
        self.request(RTM_NEWLINK, ifinfo() + attrs, NLM_F_CREATE | NLM_F_EXCL)

    def set_up(self, index: int) -> None:
        self.request(RTM_NEWLINK, ifinfo(index, IFF_UP, IFF_UP))

    def delete_link(self, name: str) -> bool:
        """False when there is no such link."""
        try:
            self.request(RTM_DELLINK, ifinfo() + attr(IFLA_IFNAME, ifname(name)))
        except OSError as e:
            if e.errno in (errno.ENODEV, errno.ENOENT):
                return False
            raise
        return True

    # ---- addresses and routes
    def add_address(self, index: int, ip: str, prefix: int) -> None:
        family, packed = _family(ip)
        flags = IFA_F_NODAD if family == socket.AF_INET6 else 0
        body = struct.pack("BBBBI", family, prefix, flags, 0, index)
        body += (attr(IFA_LOCAL, packed) if family == socket.AF_INET else b"") + attr(IFA_ADDRESS, packed)
        self.request(RTM_NEWADDR, body, NLM_F_CREATE | NLM_F_EXCL)

    def add_default_route(self, gateway: str) -> None:
        family, packed = _family(gateway)
        body = struct.pack("BBBBBBBBI", family, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, 0, RTN_UNICAST, 0)
        body += attr(RTA_GATEWAY, packed)
        self.request(RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_EXCL)


def _family(ip: str) -> tuple[int, bytes]:
    if ":" in ip:
        return socket.AF_INET6, socket.inet_pton(socket.AF_INET6, ip)
    return socket.AF_INET, socket.inet_aton(ip)


def index_of(name: str) -> int:
    """Interface index in the caller's network namespace, 0 when missing (stdlib, no netlink)."""
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return 0
