"""podpy's one nftables table (`ip podpy`): egress masquerade and isolation of internal networks.

    map masq_nets { source subnet : jump nat_<bridge> }  postrouting: ip saddr vmap @masq_nets
    map fwd_nets  { bridge name   : jump fwd_<bridge> }  forward: iifname vmap @fwd_nets (internal only)
    map ports_tcp { host port : jump p_<id> }            prerouting/output to a local address: DNAT
                                                         to the container (127.0.0.1 too: the bridge
                                                         has route_localnet, 127/8 is masqueraded)

A network adds its chain and map element when its bridge is made and removes them with the
bridge, so no rule is ever looked up by handle. The table goes when its maps are empty.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from podpy.errors import PodpyError
from podpy.state import FileLock

TABLE = "ip podpy"
LOCK = "/run/lock/podpy-nftables.lock"
BASE = f"""
table {TABLE} {{
  map masq_nets {{ type ipv4_addr : verdict; flags interval; }}
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
    ip saddr 127.0.0.0/8 ct status dnat masquerade
    ip saddr vmap @masq_nets
  }}
}}
"""


def _nft(script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    if exe is None:
        raise PodpyError("nft not found: install nftables to use bridge networks")
    res = subprocess.run([exe, "-f", "-"], input=script, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise PodpyError(f"nftables: {res.stderr.strip() or 'failed'}")
    return res


def _list() -> str | None:
    exe = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    if exe is None:
        return None
    res = subprocess.run([exe, "list", "table", *TABLE.split()], capture_output=True, text=True)
    return res.stdout if res.returncode == 0 else None


def host_lock() -> AbstractContextManager[Any]:
    """The table is the host's, shared by every podpy store: changes to it are serialized host-wide
    (a store's networks lock only covers that store). In a user namespace (rootless podpy's network
    namespace) the table is that namespace's own, under the store's networks lock: no host lock."""
    with open("/proc/self/uid_map") as f:
        if f.read().split() != ["0", "0", "4294967295"]:
            return nullcontext()
    return FileLock(Path(LOCK))


def add_network(bridge: str, subnet: str, internal: bool) -> None:
    with host_lock():
        _add_network(bridge, subnet, internal)


def _add_network(bridge: str, subnet: str, internal: bool) -> None:
    """Two transactions: nft 1.0.6 refuses a map element jumping to a chain made in the same one."""
    script = "" if _list() is not None else BASE
    chain = f"fwd_{bridge}" if internal else f"nat_{bridge}"
    # DNATed traffic from the subnet (to a port published by a neighbour) is masqueraded too, so
    # that replies come back through the host and not straight over the bridge
    rules = [f'oifname != "{bridge}" drop'] if internal else [f"ip daddr != {subnet} masquerade", "ct status dnat masquerade"]
    adds = "".join(f"add rule {TABLE} {chain} {r}\n" for r in rules)
    _nft(script + f"add chain {TABLE} {chain}\nflush chain {TABLE} {chain}\n{adds}")
    key = f'"{bridge}"' if internal else subnet
    _nft(f"add element {TABLE} {'fwd_nets' if internal else 'masq_nets'} {{ {key} : jump {chain} }}\n")


def _delete(*cmds: str) -> None:
    """One transaction: an element and the chain it jumps to must go together (deleted apart, the
    chain can still count the element as a user and refuse with EBUSY). When some piece is gone
    already (a crash half-way, an earlier removal), each is tried on its own."""
    script = "".join(c + "\n" for c in cmds)
    if _nft(script, check=False).returncode != 0:
        for c in cmds:
            _nft(c + "\n", check=False)


def _drop_table_if_unused() -> None:
    listing = _list()
    if listing is not None and not re.search(r"jump (nat|fwd|p)_", listing):  # no network, no port left
        _nft(f"delete table {TABLE}\n", check=False)


def remove_network(bridge: str, subnet: str) -> None:
    with host_lock():
        _remove_network(bridge, subnet)


def _remove_network(bridge: str, subnet: str) -> None:
    if _list() is None:
        return
    _delete(f"delete element {TABLE} masq_nets {{ {subnet} }}", f"delete chain {TABLE} nat_{bridge}")
    _delete(f'delete element {TABLE} fwd_nets {{ "{bridge}" }}', f"delete chain {TABLE} fwd_{bridge}")
    _drop_table_if_unused()


def add_ports(cid: str, bindings: list[dict[str, Any]]) -> None:
    """A chain p_<id> of DNAT rules and one map element per host port jumping to it."""
    if not bindings:
        return
    with host_lock():
        _add_ports(cid, bindings)


def _add_ports(cid: str, bindings: list[dict[str, Any]]) -> None:
    chain = f"p_{cid[:12]}"
    rules = []
    for b in bindings:
        if ":" in b["host_ip"]:  # an IPv6 host address: nft6's table only
            continue
        match = f"ip daddr {b['host_ip']} " if b["host_ip"] and b["host_ip"] != "0.0.0.0" else ""
        rules.append(f"add rule {TABLE} {chain} {match}{b['protocol']} dport {b['host_port']} "
                     f"dnat to {b['container_ip']}:{b['container_port']}\n")  # fmt: skip
    base = "" if _list() is not None else BASE  # removed behind our back (flushed ruleset): make it again
    _nft(base + f"add chain {TABLE} {chain}\nflush chain {TABLE} {chain}\n" + "".join(rules))
    elements = "".join(f"add element {TABLE} ports_{b['protocol']} {{ {b['host_port']} : jump {chain} }}\n"
                       for b in bindings if ":" not in b["host_ip"])  # fmt: skip
    _nft(elements)


def remove_ports(cid: str, bindings: list[dict[str, Any]]) -> None:
    with host_lock():
        if _list() is None:
            return
        _delete(*(f"delete element {TABLE} ports_{b['protocol']} {{ {b['host_port']} }}" for b in bindings
                  if ":" not in b["host_ip"]), f"delete chain {TABLE} p_{cid[:12]}")  # fmt: skip
