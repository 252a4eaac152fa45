"""podpy's one nftables table (`ip podpy`): egress masquerade and isolation of internal networks.

    map masq_nets { source subnet : jump nat_<bridge> }  postrouting: ip saddr vmap @masq_nets
    map fwd_nets  { bridge name   : jump fwd_<bridge> }  forward: iifname vmap @fwd_nets (internal only)

A network adds its chain and map element when its bridge is made and removes them with the
bridge, so no rule is ever looked up by handle. The table goes when its maps are empty.
"""

from __future__ import annotations

import shutil
import subprocess

from podpy.errors import PodpyError

TABLE = "ip podpy"
BASE = f"""
table {TABLE} {{
  map masq_nets {{ type ipv4_addr : verdict; flags interval; }}
  map fwd_nets {{ type ifname : verdict; }}
  chain forward {{ type filter hook forward priority filter; policy accept;
    ct state established,related accept
    iifname vmap @fwd_nets
  }}
  chain postrouting {{ type nat hook postrouting priority srcnat; policy accept;
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


def add_network(bridge: str, subnet: str, internal: bool) -> None:
    """Two transactions: nft 1.0.6 refuses a map element jumping to a chain made in the same one."""
    script = "" if _list() is not None else BASE
    chain = f"fwd_{bridge}" if internal else f"nat_{bridge}"
    rule = f'oifname != "{bridge}" drop' if internal else f"ip daddr != {subnet} masquerade"
    _nft(script + f"add chain {TABLE} {chain}\nflush chain {TABLE} {chain}\nadd rule {TABLE} {chain} {rule}\n")
    key = f'"{bridge}"' if internal else subnet
    _nft(f"add element {TABLE} {'fwd_nets' if internal else 'masq_nets'} {{ {key} : jump {chain} }}\n")


def remove_network(bridge: str, subnet: str) -> None:
    """Tolerant: each piece may already be gone (a crash half-way, an earlier removal)."""
    listing = _list()
    if listing is None:
        return
    for cmd in (f"delete element {TABLE} masq_nets {{ {subnet} }}", f"delete chain {TABLE} nat_{bridge}",
                f'delete element {TABLE} fwd_nets {{ "{bridge}" }}', f"delete chain {TABLE} fwd_{bridge}"):  # fmt: skip
        _nft(cmd + "\n", check=False)
    listing = _list() or ""
    if "jump" not in listing:
        _nft(f"delete table {TABLE}\n", check=False)
