"""--privileged as Podman does it: the host's devices, no masked or read-only paths, every capability.
/proc/kcore is the usual example of a masked path; kernels without it (this one) show /proc/keys."""

from __future__ import annotations

import os

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

MASKED = "/proc/kcore" if os.path.exists("/proc/kcore") else "/proc/keys"
PROBE = (f"ls /dev | tr '\\n' ' '; echo; test -c {MASKED} && echo masked || echo plain; "
         "awk '$5 == \"/proc/sys\" {print \"readonly-path\"}' /proc/self/mountinfo")  # fmt: skip


def test_privileged_sees_host_devices_and_no_masks(ctr) -> None:  # noqa: F811
    host = [n for n in ("kmsg", "loop-control", "fuse", "net") if os.path.exists(f"/dev/{n}")]
    assert host, "this host has none of the usual devices"
    lines = ctr("run", "--rm", "--privileged", "busybox", "sh", "-c", PROBE).stdout.splitlines()
    devs = lines[0].split()
    assert set(host) <= set(devs) and {"null", "zero", "tty", "ptmx", "pts", "shm"} <= set(devs)
    assert lines[1] == "plain" and "readonly-path" not in lines
    out = ctr("run", "--rm", "--privileged", "busybox", "ls", "-l", "/dev/ptmx").stdout
    assert out.startswith("l"), out  # still the link to the container's own devpts
    plain = ctr("run", "--rm", "busybox", "sh", "-c", PROBE).stdout.splitlines()
    assert not set(host) & set(plain[0].split())
    assert plain[1] == "masked" and "readonly-path" in plain


def test_privileged_can_use_a_host_device(ctr) -> None:  # noqa: F811
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control")
    res = ctr("run", "--rm", "--privileged", "busybox", "sh", "-c",
              "dd if=/dev/loop-control of=/dev/null count=0 && echo opened")  # fmt: skip
    assert "opened" in res.stdout
    denied = ctr("run", "--rm", "busybox", "sh", "-c",
                 "mknod /tmp/lc c 10 237 && dd if=/tmp/lc of=/dev/null count=0", check=False)  # fmt: skip
    assert denied.returncode != 0 and "not permitted" in denied.stderr, denied.stderr


def test_privileged_with_the_host_dev_bound_leaves_its_nodes_alone(ctr) -> None:  # noqa: F811
    node = "/dev/loop-control" if os.path.exists("/dev/loop-control") else "/dev/kmsg"
    before = os.stat(node)
    out = ctr("run", "--rm", "--privileged", "-v", "/dev:/dev", "busybox", "ls", node).stdout
    after = os.stat(node)
    assert out.strip() == node
    assert (after.st_ino, after.st_ctime_ns, after.st_rdev) == (before.st_ino, before.st_ctime_ns, before.st_rdev)
