"""Fixtures for the network tests: a store whose networks are removed afterwards (the default one's
bridge too), checked to leave nothing of its own on the host: interfaces, nft rules, pinned
namespaces, leases. (tests/conftest.py checks the whole host once the session ends.)"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import Podpy
from tests.integration.containers_fixtures import ctr, wait_until  # noqa: F401


def host_links() -> list[str]:
    return sorted(os.listdir("/sys/class/net"))


def podpy_links() -> list[str]:
    return [x for x in host_links() if x.startswith(("podpy", "veth"))]


def nft_table() -> str:
    """podpy's tables (IPv4, and IPv6 when a dual-stack network made it)."""
    out = ""
    for family in ("ip", "ip6"):
        res = subprocess.run(["nft", "list", "table", family, "podpy"], capture_output=True, text=True)
        out += res.stdout if res.returncode == 0 else ""
    return out


def remove_networks(p: Podpy) -> None:
    """Every network of the store, the default network's bridge and rules included."""
    from podpy.config import Options
    from podpy.engine.core import Engine

    if not p.root.exists():
        return
    for name in p("network", "ls", "--format", "{{.Name}}", check=False).stdout.split():
        if name != "podman":
            p("network", "rm", "-f", name, check=False)
    Engine(Options(root=p.root, runroot=p.runroot)).networks.reset()


def store_ids(p: Podpy) -> list[str]:
    d = p.root / "containers"
    return [x.name for x in d.iterdir()] if d.is_dir() else []


def store_bridges(p: Podpy) -> list[str]:
    """The bridges of the store's own networks (the default one, podpy0, is shared by every store)."""
    d = p.root / "networks"
    names = [json.loads(f.read_text()).get("network_interface", "") for f in d.glob("*.json")] if d.is_dir() else []
    return [n for n in names if n and n != "podpy0"]


def leftovers(p: Podpy, cids: list[str], bridges: list[str]) -> dict[str, object]:
    """What the test's containers and networks left: scoped to them, as other podpy stores (other
    test runs on this host) may use networks at the same time."""
    netns, leases = p.runroot / "netns", p.runroot / "networks"
    table = nft_table()
    return {"links": [x for x in host_links() if x in bridges or any(x == f"veth{c[:9]}{i}" for c in cids for i in range(4))],
            "nft": [c for c in cids if f"p_{c[:12]}" in table] + [b for b in bridges if f"_{b} " in table],
            "netns": sorted(os.listdir(netns)) if netns.is_dir() else [],
            "leases": sorted(os.listdir(leases)) if leases.is_dir() else []}  # fmt: skip


CLEAN = {"links": [], "nft": [], "netns": [], "leases": []}


@pytest.fixture
def net(ctr: Podpy):  # type: ignore[no-untyped-def]  # noqa: F811
    """`ctr` whose networks go after the test, checked to leave nothing behind."""
    yield ctr
    cids, bridges = store_ids(ctr), store_bridges(ctr)
    subprocess.run(ctr.argv("rm", "-af"), capture_output=True, timeout=120)
    remove_networks(ctr)
    assert wait_until(lambda: leftovers(ctr, cids, bridges) == CLEAN, timeout=10), leftovers(ctr, cids, bridges)
