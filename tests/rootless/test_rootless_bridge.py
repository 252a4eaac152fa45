"""Bridge networks as an ordinary user: the rootless network namespace (a holder with pasta for
outbound access) where podpy makes bridges, veths and nft rules; containers reach each other by
name and alias, published ports go through podpy's forwarder, and the holder, its helper and the
forwarders go with the last container. /dev/net/tun is opened for the tests (tun_open). Run under
the rootless lock (see BRIEF)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from tests.rootless.conftest import Rootless, net_processes

HTTPD = "mkdir -p /w && echo hello-$(hostname) > /w/index.html && exec httpd -f -p 80 -h /w"
WGET = "for i in $(seq 100); do wget -qO- http://{}/ && exit 0; sleep 0.1; done; exit 1"
NO_DNS = ("--dns", "127.0.0.1")  # a name not in /etc/hosts fails here, never asked upstream
GET = ("timeout", "5", "wget", "-qO-")


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


def _gone(rl: Rootless) -> bool:
    end = time.monotonic() + 5
    while net_processes(rl.user.uid) and time.monotonic() < end:
        time.sleep(0.05)
    return net_processes(rl.user.uid) == []


def test_rootless_user_network_by_name_alias_and_ip(rl: Rootless, tun_open: None) -> None:
    rl("network", "create", "rlnet")
    try:
        rl("run", "-d", "--name", "web", "--hostname", "web", "--network", "rlnet", "--network-alias", "www",
           "busybox", "sh", "-c", HTTPD)  # fmt: skip
        assert any("podpy-rootless-netns" in p for p in net_processes(rl.user.uid))
        for name in ("web", "www"):
            out = rl("run", "--rm", "--network", "rlnet", "busybox", "sh", "-c", WGET.format(name)).stdout
            assert out == "hello-web\n"
        # container:web joins web's namespace (and so the rootless network namespace's user namespace)
        out = rl("run", "--rm", "--network", "container:web", "busybox", "wget", "-qO-", "http://127.0.0.1/").stdout
        assert out == "hello-web\n"
        res = rl("run", "--rm", "--cap-add", "NET_RAW", "--network", "rlnet", "busybox", "ping", "-c1", "-W2",
                 "web")  # fmt: skip
        assert "1 packets received" in res.stdout
        doc = json.loads(rl("inspect", "web").stdout)[0]
        ip = doc["NetworkSettings"]["Networks"]["rlnet"]["IPAddress"]
        assert ip.startswith("10.89.")
        assert f"{ip}\tweb web\n" in rl("exec", "web", "cat", "/etc/hosts").stdout  # hostname, name
        # the default network reaches by IP, resolves no names (Docker's behaviour)
        rl("run", "-d", "--name", "dflt", "--network", "bridge", "busybox", "sh", "-c", HTTPD)
        dip = json.loads(rl("inspect", "dflt").stdout)[0]["NetworkSettings"]["IPAddress"]
        assert dip.startswith("10.88.")
        out = rl("run", "--rm", "--network", "bridge", "busybox", "sh", "-c", WGET.format(dip)).stdout
        assert out.startswith("hello-")
        res = rl("run", "--rm", "--network", "bridge", *NO_DNS, "busybox", *GET, "http://dflt/", check=False)
        assert res.returncode != 0
        rl("rm", "-f", "web", "dflt")
        assert _gone(rl)
    finally:
        rl("rm", "-af", check=False)
        rl("network", "rm", "-f", "rlnet", check=False)
    assert _gone(rl)


def test_rootless_published_port_connect_disconnect(rl: Rootless, tun_open: None) -> None:
    port = _free_port()
    rl("network", "create", "front")
    rl("network", "create", "back")
    try:
        cid = rl("run", "-d", "--name", "srv", "--hostname", "srv", "--network", "back",
                 "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c", HTTPD).stdout.strip()  # fmt: skip
        assert b"hello-srv" in _get(port)
        assert rl("port", cid).stdout.strip() == f"80/tcp -> 127.0.0.1:{port}"
        assert any("podpy-portfwd" in p for p in net_processes(rl.user.uid))
        # a client on another network cannot reach it until srv is connected to that network
        rl("run", "-d", "--name", "cli", "--network", "front", *NO_DNS, "busybox", "sleep", "300")
        res = rl("exec", "cli", *GET, "http://srv/", check=False)
        assert res.returncode != 0
        rl("network", "connect", "front", "srv")
        assert rl("exec", "cli", "sh", "-c", WGET.format("srv")).stdout == "hello-srv\n"
        rl("network", "disconnect", "front", "srv")
        res = rl("exec", "cli", *GET, "http://srv/", check=False)
        assert res.returncode != 0
        assert b"hello-srv" in _get(port)  # still published
        busy = rl("run", "--rm", "--network", "back", "-p", f"127.0.0.1:{port}:80", "busybox", "true",
                  check=False)  # fmt: skip
        assert busy.returncode == 125 and f"Error: cannot listen on the TCP port {port}" in busy.stderr
        rl("rm", "-f", "srv", "cli")
        assert _gone(rl)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        rl("rm", "-af", check=False)
        rl("network", "rm", "-f", "front", "back", check=False)
    assert _gone(rl)


def test_rootless_bridge_outbound_through_pasta(rl: Rootless, tun_open: None) -> None:
    """A listener on the host's loopback, reached from a bridge container through the rootless
    namespace's default gateway, which pasta maps to the host (nothing leaves this machine)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
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
        gw = _host_gateway()
        if not gw:
            pytest.skip("the host has no default route for pasta to copy")
        rl("run", "--rm", "--network", "bridge", "busybox", "sh", "-c",
           f"echo ping-host | nc {gw} {srv.getsockname()[1]}")  # fmt: skip
        t.join(30)
    finally:
        srv.close()
    assert got == [b"ping-host\n"]
    assert _gone(rl)


def _host_gateway() -> str:
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[1] == "00000000":
                return socket.inet_ntoa(int(parts[2], 16).to_bytes(4, "little"))
    return ""


def test_rootless_bridge_supervisor_crash_reconciled(rl: Rootless, tun_open: None) -> None:
    import os
    import signal

    cid = rl("run", "-d", "--network", "bridge", "-p", f"127.0.0.1:{_free_port()}:80", "busybox",
             "sleep", "300").stdout.strip()  # fmt: skip
    rec = json.loads((rl.store() / "containers" / cid / "container.json").read_text())
    os.kill(rec["state"]["supervisor_pid"], signal.SIGKILL)
    os.kill(rec["state"]["pid"], signal.SIGKILL)
    end = time.monotonic() + 10
    while "Exited (-1)" not in rl("ps", "-a").stdout and time.monotonic() < end:
        time.sleep(0.1)
    assert _gone(rl)
    rl("start", cid)  # a new holder, namespace and forwarder
    assert any("podpy-portfwd" in p for p in net_processes(rl.user.uid))
    rl("rm", "-f", cid)
    assert _gone(rl)
