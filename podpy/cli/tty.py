"""The user's terminal: raw mode, window size, signal proxying, and the relay loops for
`attach` (over the attach socket) and `exec -t` (over a pty master held by the CLI)."""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PROXIED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def winsize(fd: int = 0) -> tuple[int, int] | None:
    for f in (fd, 1):
        try:
            rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(f, termios.TIOCGWINSZ, b"\0" * 8))
            if rows and cols:
                return rows, cols
        except OSError:
            continue
    return None


@contextmanager
def raw_mode(fd: int, enable: bool = True) -> Iterator[None]:
    """Raw input (no echo, no line editing, no ^C signal) while the block runs; restored after."""
    if not enable or not os.isatty(fd):
        yield
        return
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextmanager
def proxy_signals(
    forward: Callable[[int], None] | None, on_winch: Callable[[], None] | None = None
) -> Iterator[None]:
    """Forward the signals the user sends to the CLI to the container (Docker's --sig-proxy)."""
    old = {}
    for sig in PROXIED if forward is not None else ():
        old[sig] = signal.signal(sig, lambda s, _f: forward(s))
    if on_winch is not None:
        old[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, lambda _s, _f: on_winch())
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def attach_socket(run_dir: Path) -> socket.socket:
    """Connect to <run_dir>/attach through /proc/self/fd (sun_path is only 108 bytes)."""
    dfd = os.open(run_dir, os.O_PATH | os.O_CLOEXEC)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.connect(f"/proc/self/fd/{dfd}/attach")
    finally:
        os.close(dfd)
    return sock


def relay_attach(sock: socket.socket, send_stdin: bool, tty: bool, keys: bytes | None = None) -> int | None:
    """Pump stdin to the socket and packets to stdout/stderr; the exit code, or None if detached."""
    from podpy.supervisor import protocol as proto

    if keys is not None:
        sock.send(proto.packet(proto.KEYS, keys))
    if tty and (size := winsize()):
        sock.send(proto.packet(proto.RESIZE, f"{size[0]} {size[1]}".encode()))
    fds = [sock.fileno()] + ([0] if send_stdin else [])
    with raw_mode(0, tty and send_stdin):
        while True:
            ready, _, _ = select.select(fds, [], [])
            if 0 in ready:
                data = os.read(0, 32768)
                sock.send(proto.packet(proto.STDIN if data else proto.STDIN_EOF, data))
                if not data:
                    fds.remove(0)
            if sock.fileno() not in ready:
                continue
            msg = sock.recv(proto.CHUNK + 1)
            if not msg:
                return None
            kind, payload = msg[0], msg[1:]
            if kind in (proto.STDOUT, proto.STDERR):
                _write_all(1 if kind == proto.STDOUT else 2, payload)
            elif kind == proto.EXIT:
                return int(payload or b"0")
            elif kind == proto.DETACHED:
                return None


def relay_pty(master: int, pid: int, interactive: bool) -> int:
    """exec -t: the user's terminal <-> the pty master until the process exits; its exit code."""
    sys.stdout.flush()
    fds = [master] + ([0] if interactive else [])
    os.set_blocking(master, True)
    with raw_mode(0, interactive):
        while master in fds:
            ready, _, _ = select.select(fds, [], [])
            if 0 in ready:
                data = os.read(0, 32768)
                if data:
                    _write_all(master, data)
                else:
                    fds.remove(0)
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    data = b""
                if not data:
                    fds.remove(master)
                else:
                    _write_all(1, data)
    os.close(master)
    return wait_exit_code(pid)


def wait_exit_code(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code
