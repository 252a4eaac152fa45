"""The supervisor's life: start the container, relay its stdio, wait for it, record, clean up.

One thread, one poll loop. SIGCHLD wakes the loop through `signal.set_wakeup_fd`; the supervisor
is a child subreaper, so it also reaps whatever the container leaves orphaned.

Restart policies: `Hooks.exited` returning True means another run of the same container after a
back-off (supervisor/restart.py); health checks are a timer on the poll loop that execs a probe
(supervisor/health.py).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import socket
import struct
import termios
import time
from pathlib import Path

from podpy.errors import PodpyError
from podpy.record import field, record
from podpy.supervisor import protocol as proto
from podpy.supervisor.errlog import note
from podpy.supervisor.health import HealthRunner
from podpy.supervisor.logfile import K8S_FILE, PASSTHROUGH, LogConfig, LogWriter
from podpy.supervisor.relay import AttachServer, StdinSink
from podpy.supervisor.restart import Backoff

TYPE_CHECKING = False  # typing's (and dataclasses'), without importing them on the run path (~3 ms)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol
else:
    Protocol = object  # Hooks and Runtime are structural types for checkers only

DRAIN_SECONDS = 2.0  # output still buffered when init dies; leftover holders get this long


@record
class Direct:
    """The starting CLI's own stdio, inherited across the fork (`run` / `start -a`)."""

    stdin: int | None
    stdout: int
    stderr: int


@record
class SupervisorConfig:
    """What the forked supervisor needs to run one container."""

    cid: str
    bundle: Path
    run_dir: Path  # <runroot>/containers/<id>: attach socket, runtime state
    log_path: Path
    tty: bool = False
    open_stdin: bool = False
    detach_keys: bytes = b"\x10\x11"
    direct: Direct | None = None
    winsize: tuple[int, int] = (24, 80)
    health: Any = None  # a supervisor.health.HealthSpec when the container has a health check
    log: LogConfig = field(default_factory=LogConfig)  # driver and rotation; the file is log_path
    timeout: int = 0  # --timeout: seconds each run may last before the container is killed
    preserve_fds: int = 0  # --preserve-fds: the CLI's fds 3..3+N-1, kept open here at those numbers


class Hooks(Protocol):
    """What the engine does at each step (the supervisor never touches the record itself)."""

    def started(self, pid: int) -> None: ...

    def failed(self, err: PodpyError) -> None: ...

    def exited(self, exit_code: int) -> bool:
        """Record the exit and undo the setup (--rm included); True when the policy restarts it."""
        ...

    def relaunch(self) -> int | None:
        """After the back-off: the container lock to start it again with, None if that was called off."""
        ...

    def unhealthy(self, action: str) -> tuple[int, int]:
        """--health-on-failure: record what `action` (kill, stop, restart) means for the restart
        policy; (the signal to send the init, seconds before SIGKILL follows it)."""
        ...


class Runtime(Protocol):
    def start(self, cid: str, bundle: Path, stdio: Any, state_dir: Path) -> Any: ...

    def exec(self, cid: str, init_pid: int, process: dict[str, Any], stdio: Any, state_dir: Path) -> Any: ...


@record
class _Pipes:
    """Container-side fds handed to the runtime, and our ends of them."""

    child: list[int] = field(default_factory=list)  # closed once the runtime has started
    outputs: dict[int, bytes] = field(default_factory=dict)  # our read end -> stream name
    master: int | None = None


class Supervisor:
    def __init__(self, cfg: SupervisorConfig, runtime: Runtime, hooks: Hooks, ctl: socket.socket) -> None:
        self.cfg = cfg
        self.runtime = runtime
        self.hooks = hooks
        self.ctl: socket.socket | None = ctl
        self.poll = select.poll()
        self.handlers: dict[int, Callable[[int, int], None]] = {}
        self.init_pid = 0
        self.status: int | None = None
        self.pipes = _Pipes()
        self.log: LogWriter | None = None
        self.server: AttachServer | None = None
        self.sink: StdinSink | None = None
        self.direct = cfg.direct
        self.matcher = proto.DetachMatcher(cfg.detach_keys)
        self.health: HealthRunner | None = None
        self.backoff = Backoff()
        self.launched_at = 0.0
        self.last_code = 0
        self.expired = False  # --timeout killed this run
        self.kill_deadline = 0.0  # a --health-on-failure stop: SIGKILL after the stop timeout

    # ---- setup
    def run(self, lock_fd: int) -> int:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.set_wakeup_fd(wake_w)
        self.log = self._open_log()
        self.server = AttachServer(self.cfg.run_dir, self)
        if not self._launch(lock_fd):
            return 1
        self.watch(wake_r, select.POLLIN, self._on_wake)
        while self._finish(self._serve()):  # the restart policy wants another run
            self.backoff.wait(self, time.monotonic() - self.launched_at)
            lock_fd = self.hooks.relaunch()
            if lock_fd is None or not self._launch(lock_fd):
                break
        self._close_final(self.last_code)
        return 0

    def _open_log(self) -> LogWriter | None:
        lc = self.cfg.log
        if lc.driver != K8S_FILE:
            return None
        try:
            return LogWriter(self.cfg.log_path, lc.max_size, lc.max_file, on_error=self._log_failed)
        except OSError as e:  # no log file: the container still runs, its output is not kept
            self._log_failed(e)
            return None

    def _log_failed(self, err: OSError) -> None:
        """Once per run of failed log writes (ENOSPC...): to the supervisor's own error file."""
        note(self.cfg.run_dir, f"container {self.cfg.cid}: writing log {self.cfg.log_path} failed: "
                               f"{err.strerror or err}; output is dropped until a write succeeds")  # fmt: skip

    def _launch(self, lock_fd: int) -> bool:
        """Start the runtime with fresh stdio (the first run and every restart); releases the lock."""
        from podpy.runtime.base import Stdio  # lazy: only the supervisor needs the runtime

        self.pipes, self.sink, self.status = _Pipes(), None, None
        stdio = self._stdio(Stdio)
        if self.cfg.preserve_fds:
            from podpy.record import replace

            stdio = replace(stdio, preserve=self.cfg.preserve_fds)
        try:
            started = self.runtime.start(self.cfg.cid, self.cfg.bundle, stdio, self.cfg.run_dir)
        except Exception as e:  # noqa: BLE001 - every failure must reach the CLI
            err = e if isinstance(e, PodpyError) else PodpyError(f"starting container: {e}")
            self._close_all_pipes()
            try:
                self.hooks.failed(err)
            finally:
                os.close(lock_fd)
                self._ctl_send(f"err {err.exit_code} {err}")
            return False
        self.init_pid, self.launched_at, self.expired = started.pid, time.monotonic(), False
        self.kill_deadline = 0.0
        for fd in self.pipes.child:
            os.close(fd)
        self.pipes.child = []
        if started.pty_master is not None:
            self._use_pty(started.pty_master)
        try:
            self.hooks.started(self.init_pid)
        finally:
            os.close(lock_fd)  # the container is running: others may act on it now
        self._ctl_send(f"pid {self.init_pid}")
        if self.cfg.health is not None:
            self.health = HealthRunner(self, self.cfg.health)
        return True

    def _stdio(self, stdio_cls: Any) -> Any:
        """Pipes for stdout/stderr (and stdin with -i); with a terminal the runtime makes a pty."""
        p = self.pipes
        if (d := self._passthrough()) is not None:  # the CLI's own stdio
            return stdio_cls(stdin=d.stdin if self.cfg.open_stdin and d.stdin is not None else self._devnull(),
                             stdout=d.stdout, stderr=d.stderr)  # fmt: skip
        if self.cfg.tty:
            return stdio_cls()
        stdin = self._devnull()
        if self.cfg.open_stdin:
            stdin, stdin_w = os.pipe2(os.O_CLOEXEC)
            p.child.append(stdin)
            self.sink = StdinSink(stdin_w, own=True)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        p.child += [out_w, err_w]
        p.outputs[out_r], p.outputs[err_r] = b"stdout", b"stderr"
        return stdio_cls(stdin=stdin, stdout=out_w, stderr=err_w)

    def _passthrough(self) -> Direct | None:
        """The caller's stdio to hand over: never a terminal (TIOCSTI), none without a caller (a
        detached start: the output is then relayed and dropped like any other)."""
        d = self.direct
        if self.cfg.log.driver != PASSTHROUGH or d is None or self.cfg.tty:
            return None
        handed = (d.stdout, d.stderr, d.stdin if self.cfg.open_stdin else None)
        return None if any(os.isatty(fd) for fd in handed if fd is not None) else d

    def _devnull(self) -> int:
        fd = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        self.pipes.child.append(fd)
        return fd

    def _use_pty(self, master: int) -> None:
        try:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", *self.cfg.winsize, 0, 0))
        except OSError:
            pass
        os.set_blocking(master, False)
        self.pipes.master, self.pipes.outputs[master] = master, b"stdout"
        if self.cfg.open_stdin:
            self.sink = StdinSink(master, own=False)

    def _close_all_pipes(self) -> None:
        for fd in [*self.pipes.child, *self.pipes.outputs]:
            _close(fd)
        self.pipes.child, self.pipes.outputs = [], {}
        if self.sink is not None:
            self.sink.close()

    # ---- the loop
    def _serve(self) -> int:
        """Relay until the init is gone and its output drained (or the drain timed out): its exit code."""
        for fd in self.pipes.outputs:
            self.watch(fd, select.POLLIN, self._on_output)
        if self.server is not None:
            self.watch(self.server.fileno(), select.POLLIN, self.server.accept)
        if self.ctl is not None:
            self.watch(self.ctl.fileno(), select.POLLIN, self._on_ctl)
        if self.direct and self.direct.stdin is not None and self.sink is not None:
            self.watch(self.direct.stdin, select.POLLIN, self._on_direct_stdin)
        if self.sink is not None:
            self.sink.attach(self)
        deadline: float | None = None
        while True:
            if self.status is not None:  # init is gone: drain what it wrote, then stop
                deadline = deadline or time.monotonic() + DRAIN_SECONDS
                if not self.pipes.outputs or time.monotonic() >= deadline:
                    break
            for fd, ev in self.poll.poll(self._timeout(deadline)):
                handler = self.handlers.get(fd)
                if handler is not None:
                    handler(fd, ev)
            if self.status is None and self._kill_at() and time.monotonic() >= self._kill_at():
                self._expire()
            if self.health is not None:
                self.health.tick()
        return _exit_code(self.status or 0)

    def _timeout(self, deadline: float | None) -> float | None:
        """poll's timeout in ms: the drain deadline or the next health check, whichever is first."""
        due = self.health.due() if self.health is not None else None
        kill_at = self._kill_at() if self.status is None and not self.expired else None
        times = [t for t in (deadline, due, kill_at) if t]
        return max(0.0, min(times) - time.monotonic()) * 1000 if times else None

    def _kill_at(self) -> float:
        """When --timeout (or a --health-on-failure stop) ends this run (0: never)."""
        limit = self.launched_at + self.cfg.timeout if self.cfg.timeout else 0.0
        return min(t for t in (limit, self.kill_deadline) if t) if limit or self.kill_deadline else 0.0

    def unhealthy(self, action: str) -> None:
        """--health-on-failure: the engine records what the action means; the init gets the signal."""
        sig, grace = self.hooks.unhealthy(action)
        if self.init_pid and self.status is None:
            try:
                os.kill(self.init_pid, sig)
            except ProcessLookupError:
                return
            if sig != signal.SIGKILL:
                self.kill_deadline = time.monotonic() + grace

    def _expire(self) -> None:
        """--timeout reached: SIGKILL the init, once (as conmon's timeout)."""
        if self.init_pid and not self.expired:
            self.expired = True
            try:
                os.kill(self.init_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _finish(self, code: int) -> bool:
        """Record the exit; True when the restart policy wants another run. The starting CLI and the
        attach clients are told either way: for them this run is over (as with Docker)."""
        if self.health is not None:
            self.health.stop()
            self.health = None
        self._close_all_pipes()
        self.last_code, restart = code, False
        try:
            restart = self.hooks.exited(code)
        finally:
            self._ctl_send(f"exit {code}")
            if restart:  # later runs are detached: the CLI's stdio and control socket are dropped
                if self.server is not None:
                    self.server.finish(code, keep_listening=True)
                if self.ctl is not None:
                    self.unwatch(self.ctl.fileno())
                    self.ctl.close()
                    self.ctl = None
                self._drop_direct()
            else:
                self._close_final(code)
        return restart

    def _close_final(self, code: int) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.server is not None:
            self.server.finish(code)
            self.server = None

    def watch(self, fd: int, mask: int, handler: Callable[[int, int], None]) -> None:
        self.handlers[fd] = handler
        self.poll.register(fd, mask)

    def unwatch(self, fd: int) -> None:
        if self.handlers.pop(fd, None) is not None:
            self.poll.unregister(fd)

    def modify(self, fd: int, mask: int) -> None:
        if fd in self.handlers:
            self.poll.modify(fd, mask)

    # ---- events
    def _on_wake(self, fd: int, _ev: int) -> None:
        try:
            while os.read(fd, 512):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.init_pid:
                self.status = status
            elif self.health is not None:
                self.health.reaped(pid, status)  # a health probe (or an orphan: ignored)

    def _on_output(self, src: int, _ev: int) -> None:
        try:
            data = os.read(src, 65536)
        except BlockingIOError:
            return
        except OSError as e:  # EIO: the pty's last slave closed
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self.unwatch(src)
            del self.pipes.outputs[src]
            _close(src)
            return
        stream = self.pipes.outputs[src]
        if self.log is not None:
            self.log.write(stream, data)
        self._to_direct(stream, data)
        if self.server is not None:
            self.server.broadcast(proto.STDOUT if stream == b"stdout" else proto.STDERR, data)

    def _on_ctl(self, _fd: int, _ev: int) -> None:
        assert self.ctl is not None
        try:
            msg = self.ctl.recv(256)
        except OSError:
            msg = b""
        if not msg:  # the CLI is gone (or ran detached): stop using its stdio
            self.unwatch(self.ctl.fileno())
            self.ctl.close()
            self.ctl = None
            self._drop_direct()
            return
        words = msg.decode(errors="replace").split()
        if words[:1] == ["resize"] and len(words) == 3:
            self.resize(int(words[1]), int(words[2]))

    def _on_direct_stdin(self, _fd: int, _ev: int) -> None:
        assert self.direct is not None and self.direct.stdin is not None
        try:
            data = os.read(self.direct.stdin, 65536)
        except OSError:
            data = b""
        if not data:
            self.unwatch(self.direct.stdin)
            if not self.cfg.tty and self.sink is not None:
                self.sink.close_when_drained()
            return
        self.input(data, self.matcher, self._detach_direct)

    # ---- used by the attach server and stdin sink
    def input(self, data: bytes, matcher: proto.DetachMatcher, on_detach: Callable[[], None]) -> None:
        data, detached = matcher.feed(data)
        if data and self.sink is not None:
            self.sink.write(data)
        if detached:
            on_detach()

    def resize(self, rows: int, cols: int) -> None:
        if self.pipes.master is not None:
            fcntl.ioctl(self.pipes.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _detach_direct(self) -> None:
        self._drop_direct()
        self._ctl_send("detached")

    def _drop_direct(self) -> None:
        d, self.direct = self.direct, None
        if d is None:
            return
        for fd in (d.stdin, d.stdout, d.stderr):
            if fd is not None:
                self.unwatch(fd)
                _close(fd)

    def _to_direct(self, stream: bytes, data: bytes) -> None:
        if self.direct is None:
            return
        fd = self.direct.stdout if stream == b"stdout" else self.direct.stderr
        try:
            while data:
                data = data[os.write(fd, data) :]
        except OSError:
            self._drop_direct()

    def _ctl_send(self, msg: str) -> None:
        if self.ctl is None:
            return
        try:
            self.ctl.send(msg.encode()[:65000])
        except OSError:
            pass


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
