"""Forking the supervisor from the CLI (fork, setsid, fork: no re-exec) and the CLI's handle on it."""

from __future__ import annotations

import os
import socket
import sys

from podpy.errors import PodpyError
from podpy.record import record
from podpy.supervisor import protocol as proto
from podpy.supervisor.errlog import log_exception

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from podpy.supervisor.monitor import Hooks, Runtime, SupervisorConfig

# What the supervisor imports to start a container with the built-in runtime: a pre-forked one
# imports them while the CLI still creates the container (the two cores overlap).
WARM_MODULES = (
    "podpy.supervisor.monitor", "podpy.engine.container_health", "podpy.runtime.base",
    "podpy.runtime.builtin.launch", "podpy.runtime.builtin.rootfs", "podpy.runtime.builtin.cgroup_limits",
    "podpy.engine.container_cgroups", "podpy.runtime.builtin.cgroup_stats", "podpy.runtime.builtin.runtime",
    "podpy.events", "podpy.storage.overlay",
)  # fmt: skip
# and on a bridge network what the exit's teardown imports (a `run --rm` waits for it)
WARM_BRIDGE = ("podpy.engine.networks.attach", "podpy.network.bridge", "podpy.network.ports")


@record
class Outcome:
    """How an attached run ended: the exit code, or detached."""

    exit_code: int | None  # None when detached
    detached: bool = False


class Launch:
    """The CLI's end of the control channel to a freshly forked supervisor."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pid = 0

    def _recv(self) -> list[str]:
        try:
            msg = self.sock.recv(65536)
        except OSError:
            msg = b""
        return msg.decode(errors="replace").split(" ", 2) if msg else []

    def started(self) -> int:
        """The container's pid once it runs; the start error (typed, with its exit code) otherwise."""
        words = self._recv()
        if words[:1] == ["pid"]:
            self.pid = int(words[1])
            return self.pid
        if words[:1] == ["err"]:
            raise proto.start_error(int(words[1]), words[2] if len(words) > 2 else "")
        raise PodpyError("the container's supervisor exited before the container started")

    def wait(self) -> Outcome:
        """Until the container exits (its exit code) or the user detaches."""
        while True:
            words = self._recv()
            if not words:
                raise PodpyError("lost contact with the container's supervisor")
            if words[0] == "exit":
                return Outcome(int(words[1]))
            if words[0] == "detached":
                return Outcome(None, detached=True)

    def resize(self, rows: int, cols: int) -> None:
        try:
            self.sock.send(f"resize {rows} {cols}".encode())
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


def _fork_detached(parent: socket.socket, supervise: Callable[[], int], on_error: Callable[[], None]) -> int:
    """Fork, setsid, fork: `supervise()` runs in the grandchild, in its own session, not the CLI's
    child; the CLI reaps the intermediate child (its pid is returned). Nothing unwinds into the CLI's
    stack in either forked process: an exception is `on_error()` and exit 1."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would print what is buffered a second time
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        code = 1
        try:
            parent.close()
            os.setsid()
            code = supervise() if os.fork() == 0 else 0
        except BaseException:  # noqa: BLE001 - nothing may unwind into the CLI's stack
            on_error()
        finally:
            os._exit(code)
    return pid


def spawn(cfg: SupervisorConfig, runtime: Runtime, hooks: Hooks, lock_fd: int) -> Launch:
    """Fork the supervisor; it inherits `lock_fd` (the container lock) and releases it once running."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = _fork_detached(parent, lambda: _supervise(cfg, runtime, hooks, child, lock_fd),
                         lambda: log_exception(cfg.run_dir))  # fmt: skip
    child.close()
    os.close(lock_fd)
    os.waitpid(pid, 0)
    return Launch(parent)


class Prefork:
    """A supervisor forked before the container exists (`run`): it imports the runtime while the CLI
    creates the container, then waits for `go` and supervises as a freshly spawned one would.

    The CLI sends `go` (a JSON line with the container ID, and the container lock and the attached
    stdio as SCM_RIGHTS fds) once the container is ready to start; the pre-forked process builds its
    supervisor config itself (`build`, the engine's code, on the record it then reads under the
    lock it was handed). If the CLI fails, exits or is killed before `go`, the socket reaches EOF and
    the pre-forked process exits without touching anything."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock: socket.socket | None = sock
        self.pid = pid  # the intermediate child (exits at once): reaped after go, or at close

    def go(self, doc: dict[str, Any], fds: list[int]) -> Launch:
        """Hand over (the caller's copies of `fds` stay open: the lock is closed by the caller)."""
        import json

        sock, self.sock = self.sock, None
        if sock is None:
            raise PodpyError("the pre-forked supervisor was already used")
        try:
            socket.send_fds(sock, [json.dumps(doc).encode()], fds)
        except OSError as e:
            sock.close()
            raise PodpyError(f"handing the container to its supervisor: {e.strerror}") from None
        finally:
            self._reap()
        return Launch(sock)

    def _reap(self) -> None:
        if self.pid:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0

    def close(self) -> None:
        """Not used: the pre-forked process sees EOF and exits."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._reap()


def prefork(
    build: Callable[[dict[str, Any], list[int]], tuple[SupervisorConfig, Runtime, Hooks, int]],
    bridge: bool = True,
) -> Prefork:
    """Fork (fork, setsid, fork) a supervisor that waits for `go`; `build(doc, fds)` runs in it on
    `go` and returns what `spawn` would have been given (config, runtime, hooks, lock fd). `bridge`:
    the container will likely be on a bridge network (its teardown modules are imported too)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = _fork_detached(parent, lambda: _preforked(child, build, bridge), lambda: None)
    child.close()
    return Prefork(parent, pid)


def _preforked(ctl: socket.socket, build: Any, bridge: bool) -> int:  # pragma: no cover - forked child
    """In the pre-forked grandchild: import the runtime, wait for go (EOF: exit quietly), supervise."""
    import importlib
    import json

    reset_signals()
    for name in (*WARM_MODULES, *(WARM_BRIDGE if bridge else ())):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        msg, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 8)
    except OSError:
        return 0
    if not msg:
        return 0  # the CLI failed or exited before the container was ready: nothing to do
    try:
        cfg, runtime, hooks, lock_fd = build(json.loads(msg), fds)
    except BaseException as e:  # noqa: BLE001 - the CLI waits for a pid or an error
        exit_code = getattr(e, "exit_code", 125)
        try:
            ctl.send(f"err {exit_code} {e}".encode())
        except OSError:
            pass
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        raise
    try:
        return _supervise(cfg, runtime, hooks, ctl, lock_fd)
    except BaseException:
        log_exception(cfg.run_dir)
        return 1


def _supervise(
    cfg: SupervisorConfig, runtime: Runtime, hooks: Hooks, ctl: socket.socket, lock_fd: int
) -> int:
    """In the grandchild: take private copies of the CLI's stdio, point 0/1/2 elsewhere, run."""
    if cfg.direct is not None:
        d = cfg.direct
        d.stdout, d.stderr = os.dup(d.stdout), os.dup(d.stderr)  # dup'd fds are close-on-exec
        d.stdin = os.dup(d.stdin) if d.stdin is not None and cfg.open_stdin else None
    import gc

    gc.freeze()  # the CLI's objects: never scanned (nor copied-on-write by the collector)
    gc.enable()  # the CLI may have turned it off; this process lives as long as the container
    reset_signals()
    set_title(f"podpy-supervisor {cfg.cid}")
    close_inherited({lock_fd, ctl.fileno(), *range(3, 3 + cfg.preserve_fds)})
    null = os.open("/dev/null", os.O_RDWR)
    errlog = os.open(cfg.run_dir / "supervisor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(errlog, 2)
    os.close(null)
    os.close(errlog)
    try:
        from podpy.supervisor.monitor import Supervisor

        return Supervisor(cfg, runtime, hooks, ctl).run(lock_fd)
    except BaseException:
        log_exception(cfg.run_dir)
        return 1


def reset_signals() -> None:
    """Drop the handlers the CLI had installed (signal proxying) in a forked long-lived process."""
    import signal

    for sig in (
        signal.SIGTERM,
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGUSR2,
        signal.SIGWINCH,
    ):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C on the terminal we came from is not for us


TITLE_COMM = "podpy-supervisor"[:15]  # the kernel keeps 15 bytes of a task's name


def set_title(title: str) -> None:
    """What ps shows for the supervisor: a fork of the CLI would otherwise show the CLI's command
    line (`-e SECRET=...` included) for the container's whole life.

    The name (PR_SET_NAME) and the argv area itself, overwritten in place as setproctitle does:
    PR_SET_MM_ARG_START needs CAP_SYS_RESOURCE, which rootless podpy never has. Python copied argv
    at start-up and never reads that memory again."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NAME = 15
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(TITLE_COMM.encode()), 0, 0, 0)
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48 and 49)
    except (OSError, IndexError, ValueError):
        return
    if not start or end <= start:
        return
    size = end - start
    text = title.encode()
    if len(text) >= size:  # a short command line: the short ID, then whatever fits
        name, _, ident = title.rpartition(" ")
        text = f"{name} {ident[:12]}".encode()[: size - 1]
    ctypes.memmove(start, text + b"\0" * (size - len(text)), size)


def close_inherited(keep: set[int]) -> None:
    """Drop the fds the CLI inherited from its caller (a shell's pipe or directory): they would stay
    open for the container's life. Python's own fds are close-on-exec, inherited ones are not."""
    import fcntl

    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd <= 2 or fd in keep:
            continue
        try:
            if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                os.close(fd)
        except OSError:
            continue  # the listing's own fd, already closed
