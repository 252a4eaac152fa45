"""Host-wide address claims (podpy.network.hostipam) and the rootless port forwarder's relay loops
(podpy.network.portfwd), without namespaces: loopback sockets only."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from podpy.network import hostipam, portfwd


@pytest.fixture
def claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(hostipam, "BASE", tmp_path / "hostipam")
    return tmp_path


def test_claims_are_seen_by_other_owners_and_dropped_with_their_container(claims: Path) -> None:
    a, b = claims / "store-a" / "c1", claims / "store-b" / "c2"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    hostipam.claim("podpy0", "10.88.0.2", str(a))
    hostipam.claim("podpy0", "10.88.0.3", str(b))
    assert hostipam.taken("podpy0", str(a)) == {"10.88.0.3"}
    assert hostipam.taken("podpy1", str(a)) == set()
    hostipam.release("podpy0", "10.88.0.3", str(a))  # not a's: kept
    assert hostipam.taken("podpy0", str(a)) == {"10.88.0.3"}
    b.rmdir()  # its store is gone: the claim is stale, and removed
    assert hostipam.taken("podpy0", str(a)) == set()
    assert not (claims / "hostipam" / "podpy0" / "10.88.0.3").exists()
    hostipam.release("podpy0", "10.88.0.2", str(a))
    assert not (claims / "hostipam" / "podpy0" / "10.88.0.2").exists()


def test_routed_reads_the_main_table_without_the_default_route() -> None:
    nets = hostipam.routed()
    assert all(n.prefixlen > 0 for n in nets)


def test_forwarder_relays_tcp_both_ways_with_half_close() -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def echo() -> None:
        conn, _ = srv.accept()
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
            conn.sendall(data[::-1])

    threading.Thread(target=echo, daemon=True).start()
    lsock = portfwd._listen({"protocol": "tcp", "host_ip": "127.0.0.1", "host_port": 0})
    threading.Thread(target=portfwd._accept_loop, args=(lsock, srv.getsockname()), daemon=True).start()
    payload = bytes(range(256)) * 4096
    with socket.create_connection(lsock.getsockname(), timeout=10) as c:
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := c.recv(65536):
            got += chunk
    assert got == payload[::-1]
    srv.close()


def test_forwarder_relays_udp_per_client() -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))

    def echo() -> None:
        for _ in range(2):
            data, addr = srv.recvfrom(65535)
            srv.sendto(data.upper(), addr)

    threading.Thread(target=echo, daemon=True).start()
    lsock = portfwd._listen({"protocol": "udp", "host_ip": "127.0.0.1", "host_port": 0})
    threading.Thread(target=portfwd._udp_loop, args=(lsock, srv.getsockname()), daemon=True).start()
    for word in (b"one", b"two"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(5)
            c.sendto(word, lsock.getsockname())
            assert c.recvfrom(100)[0] == word.upper()
    srv.close()


def test_listen_conflict_is_a_clear_error() -> None:
    from podpy.errors import PodpyError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(PodpyError, match=f"cannot listen on the TCP port {port}: address already in use"):
            portfwd._listen({"protocol": "tcp", "host_ip": "127.0.0.1", "host_port": port})


def test_default_subnet_shares_the_bridge_and_steps_around_others(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ipaddress

    from podpy.network import hostipam

    def table(*rows: tuple[str, str]) -> None:
        monkeypatch.setattr(hostipam, "routes", lambda: [(i, ipaddress.IPv4Network(n)) for i, n in rows])

    table(("eth0", "192.168.1.0/24"))
    assert hostipam.default_subnet("podpy0", "10.88.0.0/16") == "10.88.0.0/16"
    table(("eth0", "192.168.1.0/24"), ("podman0", "10.88.0.0/16"), ("tun0", "10.87.4.0/24"))
    assert hostipam.default_subnet("podpy0", "10.88.0.0/16") == "10.86.0.0/16"  # Podman's podman0 has 10.88
    table(("podman0", "10.88.0.0/16"), ("podpy0", "10.86.0.0/16"))
    assert hostipam.default_subnet("podpy0", "10.88.0.0/16") == "10.86.0.0/16"  # what another store chose
