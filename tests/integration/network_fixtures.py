"""Fixtures for the network tests: a store whose networks are removed afterwards (the default one's
bridge too), and a module-wide check that nothing is left on the host: interfaces, nft table,
pinned namespaces, leases."""

from __future__ import annotations

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
    res = subprocess.run(["nft", "list", "table", "ip", "podpy"], capture_output=True, text=True)
    return res.stdout if res.returncode == 0 else ""


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


def no_veths() -> bool:
    """Container veths go with their namespace, which the kernel cleans up a moment later."""
    return wait_until(lambda: not [x for x in host_links() if x.startswith("veth")], timeout=10)


def leftovers(p: Podpy) -> dict[str, object]:
    netns = p.runroot / "netns"
    leases = p.runroot / "networks"
    return {"links": podpy_links(), "nft": nft_table(), "netns": sorted(os.listdir(netns)) if netns.is_dir() else [],
            "leases": sorted(os.listdir(leases)) if leases.is_dir() else []}  # fmt: skip


CLEAN = {"links": [], "nft": "", "netns": [], "leases": []}


@pytest.fixture(scope="module", autouse=True)
def host_stays_clean():  # type: ignore[no-untyped-def]
    """Before and after the module: no podpy interface and no podpy nft table on the host."""
    before = podpy_links()
    yield
    no_veths()
    assert podpy_links() == before
    assert nft_table() == "" or before


@pytest.fixture
def net(ctr: Podpy):  # type: ignore[no-untyped-def]  # noqa: F811
    """`ctr` whose networks go after the test, checked to leave nothing behind."""
    yield ctr
    subprocess.run(ctr.argv("rm", "-af"), capture_output=True, timeout=120)
    remove_networks(ctr)
    no_veths()
    assert leftovers(ctr) == CLEAN
