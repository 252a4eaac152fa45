"""Networks as an ordinary user: pasta (default) or slirp4netns, with outbound access and published
ports, and nothing left running after rm; with /dev/net/tun unusable (mode 0600, as on this host),
a private namespace with loopback up and a clear error for what needs a helper. Run under the
rootless lock (see BRIEF): the tun mode is changed for the test and restored."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator

import pytest

from tests.rootless.conftest import Rootless, rl, rl_image, rl_user, rootless_podpy  # noqa: F401

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as the test users")]  # fmt: skip

TUN = "/dev/net/tun"


def _tun_mode(mode: int) -> Iterator[None]:
    if not os.path.exists(TUN):
        pytest.skip("no /dev/net/tun")
    old = stat.S_IMODE(os.stat(TUN).st_mode)
    os.chmod(TUN, mode)
    try:
        yield
    finally:
        os.chmod(TUN, old)


@pytest.fixture
def tun_open() -> Iterator[None]:
    """/dev/net/tun 0666, as most distributions ship it (this host: 0600)."""
    yield from _tun_mode(0o666)


@pytest.fixture
def tun_closed() -> Iterator[None]:
    yield from _tun_mode(0o600)


def _helpers(uid: int) -> list[str]:
    """pasta / slirp4netns / namespace holder processes of the user."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cmd.startswith(("pasta", "slirp4netns", "sleep infinity")):
            out.append(f"{pid} {cmd}")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, deadline: float = 10.0) -> bytes:
    end = time.monotonic() + deadline
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                if data:
                    return data
        except OSError:
            pass
        if time.monotonic() > end:
            raise AssertionError(f"nothing served on 127.0.0.1:{port}")
        time.sleep(0.1)


@pytest.mark.parametrize("mode", ["pasta", "slirp4netns"])
def test_rootless_published_port_and_no_leak(rl: Rootless, tun_open: None, mode: str) -> None:  # noqa: F811
    port = _free_port()
    net = [] if mode == "pasta" else ["--network", mode]  # pasta is the default
    cid = rl("run", "-d", *net, "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c",
             "mkdir /w && echo hello-rootless > /w/index.html && exec httpd -f -p 80 -h /w").stdout.strip()  # fmt: skip
    assert b"hello-rootless" in _get(port)
    assert rl("port", cid).stdout.strip() == f"80/tcp -> 127.0.0.1:{port}"
    assert f"127.0.0.1:{port}->80/tcp" in rl("ps").stdout
    doc = json.loads(rl("inspect", cid).stdout)[0]
    assert doc["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert doc["HostConfig"]["NetworkMode"] == mode
    assert _helpers(rl.user.uid)
    rl("rm", "-f", cid)
    assert _helpers(rl.user.uid) == []


def test_rootless_default_is_pasta_with_outbound(rl: Rootless, tun_open: None) -> None:  # noqa: F811
    """Outbound: a listener on the host's loopback, reached through the gateway address pasta maps
    to the host (nothing leaves this machine)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)
    got: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = srv.accept()
            with conn:
                got.append(conn.recv(100))
        except OSError:
            pass

    t = threading.Thread(target=serve)
    t.start()
    try:
        script = (f"gw=$(ip route | awk '/^default/ {{print $3; exit}}'); ip -o addr show eth0 | grep -q inet && "
                  f"echo ping-host | nc $gw {srv.getsockname()[1]}")  # fmt: skip
        rl("run", "--rm", "busybox", "sh", "-c", script)
        t.join(20)
    finally:
        srv.close()
    assert got == [b"ping-host\n"]
    assert _helpers(rl.user.uid) == []


def test_rootless_without_tun_private_loopback_and_clear_errors(rl: Rootless, tun_closed: None) -> None:  # noqa: F811
    # /sys is the host's bind in a user namespace: ask the kernel through netlink instead
    links = rl("run", "--rm", "busybox", "ip", "-o", "link").stdout.splitlines()
    assert len(links) == 1 and links[0].split()[1] == "lo:" and ",UP," in links[0]
    res = rl("run", "--rm", "--cap-add", "NET_RAW", "busybox", "ping", "-c1", "-W2", "127.0.0.1")
    assert (
        "1 packets received" in res.stdout and "rootless network" not in res.stderr
    )  # said once per runroot
    res = rl("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link")
    assert ",UP," in res.stdout
    for flags in (("--network", "pasta"), ("-p", "8080:80")):
        res = rl("run", "--rm", *flags, "busybox", "true", check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and "/dev/net/tun" in res.stderr
        assert "Traceback" not in res.stderr
    res = rl("run", "--rm", "--network", "bridge", "busybox", "true", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ") and "Traceback" not in res.stderr
    assert _helpers(rl.user.uid) == []


def test_rootless_supervisor_crash_ends_pasta_on_read(rl: Rootless, tun_open: None) -> None:  # noqa: F811
    import signal

    cid = rl("run", "-d", "busybox", "sleep", "60").stdout.strip()
    rec = json.loads((rl.store() / "containers" / cid / "container.json").read_text())
    assert _helpers(rl.user.uid)
    os.kill(rec["state"]["supervisor_pid"], signal.SIGKILL)
    os.kill(rec["state"]["pid"], signal.SIGKILL)
    end = time.monotonic() + 10
    while "Exited (-1)" not in rl("ps", "-a").stdout and time.monotonic() < end:
        time.sleep(0.1)
    assert _helpers(rl.user.uid) == []


def test_rootless_pasta_lifecycle(rl: Rootless, tun_open: None) -> None:  # noqa: F811
    """exec joins the holder's namespaces; stop ends pasta, start makes a new one. (Rootless runc
    cannot mount an overlay rootfs yet, so only the built-in runtime is covered.)"""
    runtime = "builtin"
    cid = rl("--runtime", runtime, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    assert "inet " in rl("exec", cid, "ip", "-o", "-4", "addr", "show", "eth0").stdout
    rl("stop", "-t", "0", cid)
    assert _helpers(rl.user.uid) == []
    rl("--runtime", runtime, "start", cid)
    assert "inet " in rl("exec", cid, "ip", "-o", "-4", "addr", "show", "eth0").stdout
    rl("rm", "-f", cid)
    assert _helpers(rl.user.uid) == []
