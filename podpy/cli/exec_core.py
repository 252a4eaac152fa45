"""`exec` attached: the process is our child, its output relayed (typer-free: the CLI and the fast
front door share it)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def run_exec(pos: list[str], *, interactive: bool = False, tty: bool = False, detach: bool = False,
             env: list[str] | None = None, env_file: list[str] | None = None, user: str | None = None,
             workdir: str | None = None, privileged: bool = False, latest: bool = False,
             preserve_fds: int | None = None, detach_keys: str | None = None) -> int:  # fmt: skip
    """`exec` (the typer command and the fast path): CONTAINER COMMAND... (or -l COMMAND...); the exit code."""
    from podpy.runtime.builtin.cgroups import kick_migration

    kick_migration()  # the exec'd process joins the container's cgroups ~20 ms from now: start its wait
    from podpy.cli import common
    from podpy.engine import container_exec as ce
    from podpy.errors import InvalidArgument

    svc = common.engine().containers
    if latest:
        pos = [svc.latest(), *pos]
    if len(pos) < 2:
        raise InvalidArgument("must provide a non-empty command to start an exec session")
    from podpy.cli.run_core import preserved_fds

    preserve = preserved_fds(preserve_fds)
    if preserve and detach:
        raise InvalidArgument("--preserve-fds cannot be used with --detach")
    from_files = []
    if env_file:  # container_config (create's module) only for --env-file
        from podpy.engine.container_config import read_env_file

        from_files = [e for f in env_file for e in read_env_file(f)]
    opts = ce.ExecOptions(pos[1:], interactive, tty, [*from_files, *(env or [])], user or "", workdir or "",
                          privileged, preserve)  # fmt: skip
    if detach:
        ce.exec_detached(svc, pos[0], opts)
        return 0
    if detach_keys is not None or (tty and interactive):  # -it: the detach sequence (default ctrl-p,ctrl-q)
        from podpy.supervisor.protocol import DEFAULT_DETACH_KEYS, parse_detach_keys

        keys = parse_detach_keys(DEFAULT_DETACH_KEYS if detach_keys is None else detach_keys)
        if keys and tty and interactive:
            from podpy.cli.exec_detach import exec_detachable

            return exec_detachable(svc, pos[0], opts, keys, exec_attached)
    return exec_attached(svc, pos[0], opts)


def exec_attached(svc: Any, container: str, opts: Any, keys: bytes = b"", on_detach: Any = None) -> int:
    """Run the exec attached; its exit code, recorded as an exec_died event. With `keys` and
    `on_detach` (exec_detach), typing the detach sequence calls `on_detach` (exec -it only)."""
    from podpy.engine import events as ev

    code = _exec_attached(svc, container, opts, keys, on_detach)
    ev.exec_died(svc, container, code)
    return code


def _exec_attached(svc: Any, container: str, opts: Any, keys: bytes, on_detach: Any) -> int:
    """The exec'd process is our child: its stdio is ours (or a pty we relay); we reap it."""
    from podpy.cli import tty as term
    from podpy.engine import container_exec as ce
    from podpy.runtime.base import Stdio

    null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    ours: dict[int, int] = {}  # our read end -> our fd it is relayed to
    stdin_w = None
    theirs = [null]
    if opts.tty:
        stdio = Stdio(stdin=null, preserve=opts.preserve_fds)
    else:  # pipes of our own, never our fds: the process could chown them (-u) or reopen them
        stdin = null
        if opts.interactive:
            stdin, stdin_w = os.pipe2(os.O_CLOEXEC)
            theirs.append(stdin)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        ours, theirs = {out_r: 1, err_r: 2}, [*theirs, out_w, err_w]
        stdio = Stdio(stdin=stdin, stdout=out_w, stderr=err_w, preserve=opts.preserve_fds)
    sys.stdout.flush()
    pids: list[int] = []
    pending: list[int] = []

    def forward(sig: int) -> None:  # installed before the start: output may precede start()'s return
        if not pids:
            pending.append(sig)
            return
        try:
            os.kill(pids[0], sig)
        except ProcessLookupError:
            pass

    with term.proxy_signals(None if opts.tty else forward):
        try:
            started = ce.exec_start(svc, container, opts, stdio)
        finally:
            for fd in theirs:
                os.close(fd)
        pids.append(started.pid)
        for sig in pending:
            forward(sig)
        if started.pty_master is None:
            return term.relay_pipes(started.pid, stdin_w, ours)
    return _relay_exec_pty(started, opts.interactive, keys, on_detach)


def _relay_exec_pty(started: Any, interactive: bool, keys: bytes, on_detach: Any) -> int:
    import fcntl
    import struct
    import termios

    from podpy.cli import tty as term

    def winch() -> None:
        if size := term.winsize():
            fcntl.ioctl(started.pty_master, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))

    winch()
    with term.proxy_signals(None, winch):
        return term.relay_pty(started.pty_master, started.pid, interactive, keys, on_detach)
