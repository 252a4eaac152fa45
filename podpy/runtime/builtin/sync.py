"""Parent <-> child synchronisation for the fork dance.

Three channels, all close-on-exec so that a successful execve closes them for us:
- msgs (child -> parent): JSON lines {"t": "userns"|"pid"|"err", ...}; EOF once every child has
  exited or exec'd, so EOF without an "err" means the container process is running;
- go (parent -> child): one byte per step the child waits for; EOF means the parent died;
- sock (child -> parent, terminal only): the pty master, passed with SCM_RIGHTS.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable

from podpy.errors import PodpyError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _above_stdio(fd: int) -> int:
    """Keep sync fds off 0-2 even if the caller runs with them closed (dup2 onto 0-2 comes later)."""
    if fd > 2:
        return fd
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return new


class Channel:
    def __init__(self, with_socket: bool = False) -> None:
        self.msg_r, self.msg_w = (_above_stdio(fd) for fd in os.pipe())
        self.go_r, self.go_w = (_above_stdio(fd) for fd in os.pipe())
        self.sock: tuple[socket.socket, socket.socket] | None = None
        if with_socket:  # a terminal only: exec and run without -t never import socket (~1.5 ms)
            import socket

            self.sock = socket.socketpair()
        self._buf = b""
        self._child = False

    # --- parent side -------------------------------------------------------------------------
    def parent_side(self) -> None:
        os.close(self.msg_w)
        os.close(self.go_r)
        if self.sock:
            self.sock[1].close()

    def recv(self) -> dict[str, Any] | None:
        """The next message, None at EOF."""
        while b"\n" not in self._buf:
            chunk = os.read(self.msg_r, 4096)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        if line[:1] == b"!" and len(line) == 2:  # from the exec stub (execstub.py): "!" errno
            return {"t": "execfail", "errno": line[1]}
        return json.loads(line)

    def go(self) -> None:
        try:
            os.write(self.go_w, b"g")
        except BrokenPipeError:
            pass  # the child is gone: its error message (or EOF) is what the caller reports

    def recv_fd(self) -> int | None:
        if not self.sock:
            return None
        self.sock[0].setblocking(False)
        try:
            import socket

            _, fds, _, _ = socket.recv_fds(self.sock[0], 16, 1)
        except BlockingIOError:
            return None
        return fds[0] if fds else None

    def close(self) -> None:
        for fd in (self.msg_r, self.go_w):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.sock:
            self.sock[0].close()

    # --- child side --------------------------------------------------------------------------
    def child_side(self) -> None:
        if self._child:  # the init inherits the launcher's already trimmed channel
            return
        self._child = True
        os.close(self.msg_r)
        os.close(self.go_w)
        if self.sock:
            self.sock[0].close()

    def send(self, **msg: Any) -> None:
        data = json.dumps(msg).encode() + b"\n"
        os.write(self.msg_w, data[:4000])  # below PIPE_BUF: one atomic write

    def wait_go(self) -> None:
        if os.read(self.go_r, 1) != b"g":
            os._exit(1)  # the parent is gone: nobody would reap or report us

    def child_fds(self) -> list[int]:
        """What the child side still needs (everything else is closed before the container's setup)."""
        return [self.msg_w, self.go_r] + ([self.sock[1].fileno()] if self.sock else [])

    def parent_gone(self) -> bool:
        """The parent holds the go pipe's write end until the child has exec'd: a hang-up means it died."""
        import select

        poller = select.poll()
        poller.register(self.go_r, select.POLLIN)
        return any(ev & (select.POLLHUP | select.POLLERR) for _, ev in poller.poll(0))

    def send_fd(self, fd: int) -> None:
        assert self.sock is not None
        import socket

        socket.send_fds(self.sock[1], [b"p"], [fd])


def describe(exc: BaseException) -> str:
    if isinstance(exc, PodpyError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    import traceback  # lazy: only a bug gets here

    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def run_child(chan: Channel, body: Callable[[], None]) -> NoReturn:
    """Run `body` in a forked child: never return into the caller's stack, report any failure."""
    code = 125
    try:
        chan.child_side()
        body()
        code = 0
    except BaseException as e:  # noqa: BLE001 - everything must reach the parent as one line
        code = e.exit_code if isinstance(e, PodpyError) else 125
        try:
            chan.send(t="err", code=code, msg=describe(e))
        except OSError:
            pass
    finally:
        os._exit(code)
