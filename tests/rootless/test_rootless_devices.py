"""--device and --privileged as an ordinary user: no mknod in a user namespace, so the host's nodes are
bound in, with the user's own access to them (no device cgroup narrows it, as with Podman)."""

from __future__ import annotations

from tests.rootless.conftest import Rootless


def test_device_binds_the_host_node(rl: Rootless) -> None:
    out = rl("run", "--rm", "--device", "/dev/null:/dev/xnull:r", "--device", "/dev/zero", "busybox", "sh", "-c",
             "ls -l /dev/xnull | cut -c1; cat /dev/xnull && echo read; head -c 3 /dev/zero | wc -c").stdout  # fmt: skip
    assert out.split() == ["c", "read", "3"], out
    res = rl("run", "--rm", "--device", "/dev/nosuch", "busybox", "true", check=False)
    assert res.returncode == 125 and "no such file" in res.stderr


def test_privileged_binds_the_host_devices(rl: Rootless) -> None:
    devs = rl("run", "--rm", "--privileged", "busybox", "ls", "/dev").stdout.split()
    assert {"loop-control", "kmsg"} <= set(devs) or {"fuse", "net"} <= set(devs), devs
