"""The IPv6 half of podpy's rules: a second table, `ip6 podpy`, beside nft.py's `ip podpy`.

    map masq_nets { source subnet : jump nat_<bridge> }  postrouting: ip6 saddr vmap @masq_nets
    map fwd_nets  { bridge name   : jump fwd_<bridge> }  forward: iifname vmap @fwd_nets (internal only)
    map ports_tcp { host port : jump p_<id> }            prerouting/output to a local address: DNAT
                                                         to the container's IPv6 address

A table of its own rather than one `inet` table: the IPv4 table (and everything that lists it:
reload, the tests' leak checks) stays as it was, and a host without IPv6 networks never gets this
one. Ports published by a container on a dual-stack network are forwarded from the host's IPv6
addresses too (not ::1: IPv6 has no route_localnet). Changes run under nft.py's host-wide lock.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

from podpy.network.nft import _delete, _nft, host_lock

TABLE = "ip6 podpy"
BASE = f"""
table {TABLE} {{
  map masq_nets {{ type ipv6_addr : verdict; flags interval; }}
  map fwd_nets {{ type ifname : verdict; }}
  chain forward {{ type filter hook forward priority filter; policy accept;
    ct state established,related accept
    iifname vmap @fwd_nets
  }}
  map ports_tcp {{ type inet_service : verdict; }}
  map ports_udp {{ type inet_service : verdict; }}
  chain ports {{
    tcp dport vmap @ports_tcp
    udp dport vmap @ports_udp
  }}
  chain prerouting {{ type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump ports
  }}
  chain output {{ type nat hook output priority -100; policy accept;
    fib daddr type local jump ports
  }}
  chain postrouting {{ type nat hook postrouting priority srcnat; policy accept;
    ip6 saddr vmap @masq_nets
  }}
}}
"""


def _list() -> str | None:
    exe = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    if exe is None:
        return None
    res = subprocess.run([exe, "list", "table", *TABLE.split()], capture_output=True, text=True)
    return res.stdout if res.returncode == 0 else None


def add_network(bridge: str, subnet: str, internal: bool) -> None:
    with host_lock():
        script = "" if _list() is not None else BASE
        chain = f"fwd_{bridge}" if internal else f"nat_{bridge}"
        # as nft.py: DNATed traffic from the subnet (to a neighbour's published port) is masqueraded too
        rules = [f'oifname != "{bridge}" drop'] if internal else [f"ip6 daddr != {subnet} masquerade",
                                                                  "ct status dnat masquerade"]  # fmt: skip
        adds = "".join(f"add rule {TABLE} {chain} {r}\n" for r in rules)
        _nft(script + f"add chain {TABLE} {chain}\nflush chain {TABLE} {chain}\n{adds}")
        key = f'"{bridge}"' if internal else subnet
        _nft(f"add element {TABLE} {'fwd_nets' if internal else 'masq_nets'} {{ {key} : jump {chain} }}\n")


def remove_network(bridge: str, subnet: str) -> None:
    with host_lock():
        if _list() is None:
            return
        _delete(f"delete element {TABLE} masq_nets {{ {subnet} }}", f"delete chain {TABLE} nat_{bridge}")
        _delete(f'delete element {TABLE} fwd_nets {{ "{bridge}" }}', f"delete chain {TABLE} fwd_{bridge}")
        _drop_table_if_unused()


def _drop_table_if_unused() -> None:
    listing = _list()
    if listing is not None and not re.search(r"jump (nat|fwd|p)_", listing):  # no network, no port left
        _nft(f"delete table {TABLE}\n", check=False)


def _v6(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bindings forwarded over IPv6: to a container with an IPv6 address, on every host address
    or on an IPv6 one."""
    return [b for b in bindings if b.get("container_ip6") and (not b["host_ip"] or ":" in b["host_ip"])]


def add_ports(cid: str, bindings: list[dict[str, Any]]) -> None:
    """A chain p_<id> of DNAT rules and one map element per host port jumping to it."""
    todo = _v6(bindings)
    if not todo:
        return
    chain = f"p_{cid[:12]}"
    lines = []
    for b in todo:
        match = f"ip6 daddr {b['host_ip']} " if b["host_ip"] else ""
        lines.append(f"add rule {TABLE} {chain} {match}{b['protocol']} dport {b['host_port']} "
                     f"dnat to [{b['container_ip6']}]:{b['container_port']}\n")  # fmt: skip
    elements = "".join(f"add element {TABLE} ports_{b['protocol']} {{ {b['host_port']} : jump {chain} }}\n"
                       for b in todo)  # fmt: skip
    with host_lock():
        base = "" if _list() is not None else BASE
        _nft(base + f"add chain {TABLE} {chain}\nflush chain {TABLE} {chain}\n" + "".join(lines))
        _nft(elements)


def remove_ports(cid: str, bindings: list[dict[str, Any]]) -> None:
    todo = _v6(bindings)
    if not todo:
        return
    with host_lock():
        if _list() is None:
            return
        _delete(*(f"delete element {TABLE} ports_{b['protocol']} {{ {b['host_port']} }}" for b in todo),
                f"delete chain {TABLE} p_{cid[:12]}")  # fmt: skip
        _drop_table_if_unused()
