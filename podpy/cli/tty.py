"""The user's terminal: raw mode, window size, signal proxying, and the relay loops for
`attach` (over the attach socket) and `exec -t` (over a pty master held by the CLI)."""

from __future__ import annotations

import errno
import fcntl
import os
import select
import selectors
import signal
import struct
import sys
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    import socket

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
        import socket  # attach only: exec relays pipes or a pty

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


def relay_pty(master: int, pid: int, interactive: bool, keys: bytes = b"",
              on_detach: Callable[[], None] | None = None) -> int:  # fmt: skip
    """exec -t: the user's terminal <-> the pty master until the process exits; its exit code.
    With `keys` (exec -it's detach sequence) and `on_detach`: once they are typed the terminal is
    restored, `on_detach()` runs, and the pty is only drained until the process exits."""
    sys.stdout.flush()
    os.set_blocking(master, True)
    with raw_mode(0, interactive):
        detached = _pump_pty(master, interactive, keys if on_detach is not None else b"")
    if detached and on_detach is not None:
        on_detach()
        while _read_pty(master):
            pass
    os.close(master)
    return wait_exit_code(pid)


def _pump_pty(master: int, interactive: bool, keys: bytes) -> bool:
    """Relay until the pty reports EOF (False) or the detach sequence is typed (True)."""
    fds = [master] + ([0] if interactive else [])
    matcher = None
    while master in fds:
        ready, _, _ = select.select(fds, [], [])
        if 0 in ready:
            data = os.read(0, 32768)
            if not data:
                fds.remove(0)
            elif keys:  # the matcher only once a key is read: a plain `exec -t` never loads it
                if matcher is None:
                    from podpy.supervisor.protocol import DetachMatcher

                    matcher = DetachMatcher(keys)
                data, hit = matcher.feed(data)
                _write_all(master, data)
                if hit:
                    return True
            else:
                _write_all(master, data)
        if master in ready:
            data = _read_pty(master)
            if not data:
                fds.remove(master)
            else:
                _write_all(1, data)
    return False


def _read_pty(master: int) -> bytes:
    """One read of the pty master; b"" once every slave fd is closed (EIO)."""
    try:
        return os.read(master, 65536)
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        return b""


def relay_pipes(pid: int, stdin_w: int | None, outputs: dict[int, int]) -> int:
    """exec without -t: our stdin to the process's stdin pipe, its stdout/stderr pipes to ours (the
    process never holds the caller's own fds: it could chown them or reopen them as another user).
    Until the process exits and its pipes are drained; its exit code."""
    import selectors

    sel = selectors.PollSelector()  # not epoll: stdin may be a regular file
    pidfd = os.pidfd_open(pid)
    exited: list[bool] = []
    sel.register(pidfd, selectors.EVENT_READ, lambda: exited.append(True))
    for src in outputs:
        sel.register(src, selectors.EVENT_READ, lambda fd=src: _relay_output(sel, fd, outputs))
    pump = _StdinPump(sel, stdin_w) if stdin_w is not None else None
    while outputs and not exited:
        for key, _ in sel.select():
            key.data()
    for src in list(outputs):  # it exited: what it wrote is in the pipes already
        os.set_blocking(src, False)
        while src in outputs and _relay_output(sel, src, outputs):
            pass
    if pump is not None:
        pump.close()
    os.close(pidfd)
    sel.close()
    return wait_exit_code(pid)


def _relay_output(sel: selectors.BaseSelector, src: int, outputs: dict[int, int]) -> bool:
    """One read from `src` to its destination; False (and `src` closed) at EOF or a closed reader."""
    try:
        data = os.read(src, 65536)
    except BlockingIOError:
        return False
    try:
        if data:
            _write_all(outputs[src], data)
            return True
    except OSError:  # our reader went away (`| head`): the process sees its pipe close, as it would directly
        pass
    sel.unregister(src)
    os.close(src)
    del outputs[src]
    return False


class _StdinPump:
    """Our stdin into the process's stdin pipe, never blocking on a process that does not read it."""

    def __init__(self, sel: selectors.BaseSelector, w: int) -> None:
        import selectors

        self.sel, self.w, self.buf, self.eof = sel, w, b"", False
        self.events = selectors.EVENT_READ, selectors.EVENT_WRITE
        os.set_blocking(w, False)
        sel.register(0, self.events[0], self._readable)

    def _readable(self) -> None:
        data = os.read(0, 32768)
        self.sel.unregister(0)
        self.buf += data
        self.eof = not data
        if self.buf:
            self.sel.register(self.w, self.events[1], self._flush)
        self._flush()

    def _flush(self) -> None:
        try:
            while self.buf:
                self.buf = self.buf[os.write(self.w, self.buf) :]
        except BlockingIOError:
            return
        except OSError:  # the process closed its stdin
            self.buf, self.eof = b"", True
        if self.w in self.sel.get_map():
            self.sel.unregister(self.w)
        if self.eof:
            self.close()
        else:
            self.sel.register(0, self.events[0], self._readable)

    def close(self) -> None:
        if self.w < 0:
            return
        for fd in (0, self.w):
            if fd in self.sel.get_map():
                self.sel.unregister(fd)
        os.close(self.w)
        self.w = -1


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
