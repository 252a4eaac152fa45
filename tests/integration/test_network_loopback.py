"""Loopback: every private network namespace (the default, `none`) has `lo` up, with both runtimes."""

from __future__ import annotations

import os

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

# busybox ping needs CAP_NET_RAW (no ICMP datagram socket fallback)
PING = ("--cap-add", "NET_RAW", "busybox", "ping", "-c", "1", "-W", "2", "127.0.0.1")


@pytest.mark.parametrize("runtime", ["builtin", "runc"])
@pytest.mark.parametrize("network", ["none", "private"])
def test_loopback_is_up(ctr, runtime, network):  # noqa: F811
    rt = [] if runtime == "builtin" else ["--runtime", "runc"]
    res = ctr(*rt, "run", "--rm", "--network", network, *PING, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 packets received" in res.stdout
    flags = ctr(*rt, "run", "--rm", "--network", network, "busybox", "cat", "/sys/class/net/lo/flags").stdout
    assert int(flags, 16) & 1
