"""Networks as an ordinary user: a private namespace with loopback up (no pasta/slirp4netns yet), and
bridges/published ports refused with a clear error. Run under the rootless lock (see BRIEF)."""

from __future__ import annotations

import os

import pytest

from tests.rootless.conftest import Rootless, rl, rl_image, rl_user, rootless_podpy  # noqa: F401

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as the test users")]  # fmt: skip


def test_rootless_default_is_private_with_loopback_up(rl: Rootless) -> None:  # noqa: F811
    # /sys is the host's bind in a user namespace: ask the kernel through netlink instead
    links = rl("run", "--rm", "busybox", "ip", "-o", "link").stdout.splitlines()
    assert len(links) == 1 and links[0].split()[1] == "lo:" and ",UP," in links[0]
    res = rl("run", "--rm", "--cap-add", "NET_RAW", "busybox", "ping", "-c1", "-W2", "127.0.0.1")
    assert "1 packets received" in res.stdout
    res = rl("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link")
    assert ",UP," in res.stdout


@pytest.mark.parametrize("flags", [("--network", "bridge"), ("-p", "8080:80")])
def test_rootless_bridge_and_ports_are_refused_clearly(rl: Rootless, flags: tuple[str, ...]) -> None:  # noqa: F811
    res = rl("run", "--rm", *flags, "busybox", "true", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ") and "pasta or slirp4netns" in res.stderr
    assert "Traceback" not in res.stderr
