"""The IPv6 half of podpy's rules: a second table, `ip6 podpy`, beside nft.py's `ip podpy`.

    map masq_nets { source subnet : jump nat_<bridge> }  postrouting: ip6 saddr vmap @masq_nets
    map fwd_nets  { bridge name   : jump fwd_<bridge> }  forward: iifname vmap @fwd_nets (internal only)

A table of its own rather than one `inet` table: the IPv4 table (and everything that lists it:
reload, the tests' leak checks) stays as it was, and a host without IPv6 networks never gets this
one. Published ports stay IPv4 (nft.py). Changes run under nft.py's host-wide lock.
"""

from __future__ import annotations

import re
import shutil
import subprocess

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
        rule = f'oifname != "{bridge}" drop' if internal else f"ip6 daddr != {subnet} masquerade"
        _nft(script + f"add chain {TABLE} {chain}\nflush chain {TABLE} {chain}\nadd rule {TABLE} {chain} {rule}\n")
        key = f'"{bridge}"' if internal else subnet
        _nft(f"add element {TABLE} {'fwd_nets' if internal else 'masq_nets'} {{ {key} : jump {chain} }}\n")


def remove_network(bridge: str, subnet: str) -> None:
    with host_lock():
        if _list() is None:
            return
        _delete(f"delete element {TABLE} masq_nets {{ {subnet} }}", f"delete chain {TABLE} nat_{bridge}")
        _delete(f'delete element {TABLE} fwd_nets {{ "{bridge}" }}', f"delete chain {TABLE} fwd_{bridge}")
        listing = _list()
        if listing is not None and not re.search(r"jump (nat|fwd)_", listing):
            _nft(f"delete table {TABLE}\n", check=False)
