"""The supervisor's two stdio helpers: the attach socket server and the container's stdin sink."""

from __future__ import annotations

import os
import select
import socket
from pathlib import Path

from podpy.supervisor import protocol as proto

TYPE_CHECKING = False  # typing's, without importing typing on the run path
if TYPE_CHECKING:
    from podpy.supervisor.monitor import Supervisor

SEND_TIMEOUT = 5.0  # a client that stops reading is dropped rather than stalling the container


def socket_path(run_dir: Path, dir_fd: int) -> str:
    """A short name for <run_dir>/attach: sun_path holds 108 bytes, test stores live deeper."""
    del run_dir
    return f"/proc/self/fd/{dir_fd}/attach"


class _Client:
    def __init__(self, conn: socket.socket, keys: bytes) -> None:
        self.conn = conn
        self.matcher = proto.DetachMatcher(keys)


class AttachServer:
    """<run_dir>/attach: any number of clients; output goes to all, input from any."""

    def __init__(self, run_dir: Path, sup: Supervisor) -> None:
        self.sup = sup
        self.path = run_dir / "attach"
        self.clients: dict[int, _Client] = {}
        dfd = os.open(run_dir, os.O_PATH | os.O_CLOEXEC)
        try:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            old = os.umask(0o077)  # born owner-only: no window in which another user may connect
            try:
                self.sock.bind(socket_path(run_dir, dfd))
            finally:
                os.umask(old)
        finally:
            os.close(dfd)
        os.chmod(self.path, 0o600)
        self.sock.listen(16)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self, _fd: int, _ev: int) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(SEND_TIMEOUT)
        client = _Client(conn, self.sup.cfg.detach_keys)
        self.clients[conn.fileno()] = client
        self.sup.watch(conn.fileno(), select.POLLIN, self._on_client)

    def _on_client(self, fd: int, _ev: int) -> None:
        client = self.clients.get(fd)
        if client is None:
            return
        try:
            msg = client.conn.recv(proto.CHUNK + 1)
        except OSError:
            msg = b""
        if not msg:
            self._drop(fd)
            return
        kind, payload = msg[0], msg[1:]
        if kind == proto.STDIN:
            self.sup.input(payload, client.matcher, lambda: self._detach(fd))
        elif kind == proto.RESIZE:
            rows, _, cols = payload.decode().partition(" ")
            if rows.isdigit() and cols.isdigit():
                self.sup.resize(int(rows), int(cols))
        elif kind == proto.KEYS:
            client.matcher = proto.DetachMatcher(payload)
        elif kind == proto.STDIN_EOF and not self.sup.cfg.tty and self.sup.sink is not None:
            self.sup.sink.close_when_drained()

    def _detach(self, fd: int) -> None:
        client = self.clients.get(fd)
        if client is not None:
            self._send(fd, [proto.packet(proto.DETACHED)])
            self._drop(fd)

    def _drop(self, fd: int) -> None:
        client = self.clients.pop(fd, None)
        if client is not None:
            self.sup.unwatch(fd)
            client.conn.close()

    def _send(self, fd: int, pkts: list[bytes]) -> None:
        client = self.clients.get(fd)
        if client is None:
            return
        try:
            for p in pkts:
                client.conn.send(p)
        except OSError:
            self._drop(fd)

    def broadcast(self, kind: int, data: bytes) -> None:
        if self.clients:
            pkts = proto.packets(kind, data)
            for fd in list(self.clients):
                self._send(fd, pkts)

    def finish(self, exit_code: int, keep_listening: bool = False) -> None:
        """Tell the clients the container exited; `keep_listening` when it will run again (restart)."""
        for fd in list(self.clients):
            self._send(fd, [proto.packet(proto.EXIT, str(exit_code).encode())])
            self._drop(fd)
        if keep_listening:
            return
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class StdinSink:
    """Non-blocking writes to the container's stdin (pipe or pty master), buffered while it is full."""

    def __init__(self, fd: int, own: bool) -> None:
        # a pty master is also read: a dup gives it its own fd number, as poll keeps one mask per fd
        self.fd = fd if own else os.dup(fd)
        os.set_blocking(self.fd, False)
        self.pending = b""
        self.closing = False
        self.sup: Supervisor | None = None

    def attach(self, sup: Supervisor) -> None:
        self.sup = sup

    def write(self, data: bytes) -> None:
        if self.fd < 0:
            return
        self.pending += data
        self._flush()

    def close_when_drained(self) -> None:
        self.closing = True
        if not self.pending:
            self.close()

    def _flush(self, _fd: int = -1, _ev: int = 0) -> None:
        try:
            while self.pending:
                n = os.write(self.fd, self.pending[: 1 << 16])
                self.pending = self.pending[n:]
        except BlockingIOError:
            pass
        except OSError:  # EPIPE/EIO: the container closed its stdin or exited
            self.pending = b""
            self.close()
            return
        if self.sup is None:
            return
        if self.pending and self.fd not in self.sup.handlers:
            self.sup.watch(self.fd, select.POLLOUT, self._flush)
        elif not self.pending:
            self.sup.unwatch(self.fd)
            if self.closing:
                self.close()

    def close(self) -> None:
        if self.fd >= 0:
            if self.sup is not None:
                self.sup.unwatch(self.fd)
            os.close(self.fd)
            self.fd = -1
