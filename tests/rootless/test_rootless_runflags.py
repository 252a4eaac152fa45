"""The rarer run flags of issue 11 as an ordinary user (with subuids and with a single-id map)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.rootless.conftest import Rootless


def test_kernel_settings_and_files(rl: Rootless) -> None:
    out = rl("run", "--rm", "--sysctl", "net.ipv4.ping_group_range=0 0", "--ulimit", "nofile=512:1024",
             "--shm-size", "8m", "--timeout", "30", "busybox", "sh", "-c",
             "cat /proc/sys/net/ipv4/ping_group_range; ulimit -n; df -k /dev/shm | tail -1").stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[0].split() == ["0", "0"] and lines[1] == "512" and lines[2].split()[1] == "8192"


def test_tz_passwd_and_unsetenv(rl: Rootless) -> None:
    zone = Path("/usr/share/zoneinfo/Europe/Paris")
    if zone.exists():
        out = rl("run", "--rm", "--tz", "Europe/Paris", "busybox", "md5sum", "/etc/localtime").stdout
        assert out.split()[0] == hashlib.md5(zone.read_bytes()).hexdigest()
    if rl.user.kind == "subuid":  # a single-id map has no uid 4321
        out = rl("run", "--rm", "-u", "4321", "busybox", "grep", "^4321:", "/etc/passwd").stdout
        assert out == "4321:*:4321:0:container user:/:/bin/sh\n"
    assert "PATH=" not in rl("run", "--rm", "--unsetenv", "PATH", "busybox", "/bin/env").stdout


def test_timeout_and_pidfiles(rl: Rootless) -> None:
    assert rl("run", "--rm", "--timeout", "1", "busybox", "sleep", "30", check=False).returncode == 137
    pidfile = rl.user.home / "ctr.pid"
    cid = rl("run", "-d", "--pidfile", str(pidfile), "busybox", "sleep", "60").stdout.strip()
    assert pidfile.read_text() == rl("inspect", "-f", "{{.State.Pid}}", cid).stdout.strip()


def test_group_add_keep_groups(rl: Rootless) -> None:
    """keep-groups: no setgroups, the user's own groups stay (shown as nogroup inside)."""
    res = rl("run", "--rm", "--group-add", "keep-groups", "busybox", "id", "-G")
    assert res.returncode == 0
