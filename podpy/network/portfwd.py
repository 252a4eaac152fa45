"""Published ports of rootless bridge containers: a userspace forwarder (Podman's rootlessport).

An ordinary user cannot DNAT in the host's namespace, and the rootless network namespace's helper
(pasta) takes its forwarded ports once, when it starts, so each such container gets one detached
process: the host ports are bound and listening before it starts (a port in use is an error at
start, not a half-started container), then it joins the rootless network namespace and relays each
TCP connection (os.splice through a pipe, a thread per direction) and each UDP client (a socket per
client address) to the container's address. Measured (1 GiB host loopback -> container, see
docs): about the throughput of pasta's own forwarding of a `--network pasta` container.

    python -c <bootstrap> podpy-portfwd FD:PROTO:IP:PORT ...   (cmdline; the tests look for the marker)
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

MARKER = "podpy-portfwd"
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031


def _listen(b: dict[str, Any]) -> socket.socket:
    from podpy.errors import PodpyError

    kind = socket.SOCK_STREAM if b["protocol"] == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    try:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((b["host_ip"] or "0.0.0.0", int(b["host_port"])))
        if kind == socket.SOCK_STREAM:
            s.listen(128)
    except OSError as e:
        s.close()
        if e.errno == errno.EADDRINUSE:
            raise PodpyError(f"cannot listen on the {b['protocol'].upper()} port {b['host_port']}: "
                             "address already in use") from None  # fmt: skip
        raise PodpyError(f"cannot bind {b['host_ip'] or '0.0.0.0'}:{b['host_port']}/{b['protocol']}: "
                         f"{e.strerror}") from None  # fmt: skip
    return s


def start(bindings: list[dict[str, Any]], ns_pid: int) -> int:
    """The forwarder for `bindings` (host_ip, host_port, protocol, container_ip, container_port),
    joined to the user and network namespaces of process `ns_pid`; its pid."""
    from podpy.errors import PodpyError
    from podpy.runtime import syscalls as sc

    socks = [_listen(b) for b in bindings]
    fds = [s.fileno() for s in socks]
    args = [f"{fd}:{b['protocol']}:{b['container_ip']}:{b['container_port']}"
            for fd, b in zip(fds, bindings, strict=True)]  # fmt: skip
    root = str(Path(__file__).resolve().parent.parent.parent)
    code = f"import sys; sys.path.insert(0, {root!r}); from podpy.network.portfwd import main; main()"
    argv = [sys.executable, "-s", "-c", code, MARKER, *args]
    r, w = os.pipe()
    try:
        mid = os.fork()
        if mid == 0:  # forks the forwarder and exits (the forwarder is reparented, never a zombie)
            try:
                os.setsid()
                if os.fork() == 0:
                    os.close(r)
                    os.write(w, f"{os.getpid():>10}".encode())
                    for kind, flag in (("user", sc.CLONE_NEWUSER), ("net", sc.CLONE_NEWNET)):
                        fd = os.open(f"/proc/{ns_pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
                        sc.setns(fd, flag)
                        os.close(fd)
                    null = os.open(os.devnull, os.O_RDWR)
                    for fd in (0, 1, 2):
                        os.dup2(null, fd)
                    keep = {0, 1, 2, w, *fds}
                    for fd in range(3, max(keep) + 1):
                        if fd not in keep:
                            try:
                                os.close(fd)
                            except OSError:
                                pass
                    os.closerange(max(keep) + 1, 65536)
                    for fd in fds:
                        os.set_inheritable(fd, True)
                    os.chdir("/")
                    os.execve(sys.executable, argv, {"PATH": "/usr/bin:/bin"})
            except BaseException as e:  # noqa: BLE001 - to the parent through the pipe
                try:
                    os.write(w, f"E{e}".encode())
                except OSError:
                    pass
            finally:
                os._exit(0)
        os.close(w)
        w = -1
        os.waitpid(mid, 0)
        data = b""
        while chunk := os.read(r, 4096):  # EOF: exec'd (the pipe is close-on-exec)
            data += chunk
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
        for s in socks:
            s.close()
    head, rest = data[:10], data[10:].decode(errors="replace")
    if not head.strip().isdigit() or rest:
        raise PodpyError(f"starting the port forwarder failed: {rest.lstrip('E') or 'no process'}")
    return int(head)


# ---- the forwarder process


def main() -> None:
    threads = []
    for spec in sys.argv[2:]:
        fd, proto, ip, port = spec.split(":")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind, fileno=int(fd))
        sock.set_inheritable(False)
        loop = _accept_loop if proto == "tcp" else _udp_loop
        threads.append(threading.Thread(target=loop, args=(sock, (ip, int(port))), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _accept_loop(lsock: socket.socket, target: tuple[str, int]) -> None:
    while True:
        try:
            conn, _ = lsock.accept()
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ECONNABORTED, errno.EMFILE, errno.ENFILE):
                continue
            return
        threading.Thread(target=_relay, args=(conn, target), daemon=True).start()


def _relay(conn: socket.socket, target: tuple[str, int]) -> None:
    try:
        up = socket.create_connection(target, timeout=10)
    except OSError:
        conn.close()
        return
    up.settimeout(None)
    for s in (conn, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(up, conn), daemon=True)
    back.start()
    _pump(conn, up)
    back.join()
    conn.close()
    up.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    """src -> dst through a pipe with splice (no copy through Python); EOF passed on as a half-close."""
    r, w = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(w, F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass
    try:
        while True:
            n = os.splice(src.fileno(), w, PIPE_SIZE)
            if n == 0:
                break
            while n:
                n -= os.splice(r, dst.fileno(), n)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (src, dst):  # a reset: wake the other direction too
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    finally:
        os.close(r)
        os.close(w)


def _udp_loop(lsock: socket.socket, target: tuple[str, int]) -> None:
    peers: dict[Any, socket.socket] = {}
    while True:
        try:
            data, addr = lsock.recvfrom(65535)
        except OSError:
            continue
        s = peers.get(addr)
        if s is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.connect(target)
            except OSError:
                s.close()
                continue
            peers[addr] = s
            threading.Thread(target=_udp_back, args=(s, lsock, addr, peers), daemon=True).start()
        try:
            s.send(data)
        except OSError:
            pass


def _udp_back(s: socket.socket, lsock: socket.socket, addr: Any, peers: dict[Any, socket.socket]) -> None:
    s.settimeout(120)  # an idle client's socket goes (its next datagram makes a new one)
    try:
        while True:
            lsock.sendto(s.recv(65535), addr)
    except OSError:
        pass
    finally:
        peers.pop(addr, None)
        s.close()
