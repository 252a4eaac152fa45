"""Fixtures for the container tests: a store with busybox, and a finalizer that leaves nothing behind
(containers, supervisors, mounts, cgroups) even when a test fails. Also a pty driver."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import Podpy

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _holds_store_file(pid: str, p: Podpy) -> bool:
    prefixes = (str(p.root) + "/", str(p.runroot) + "/")
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefixes) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def store_processes(p: Podpy) -> list[int]:
    """Pids whose command line names this store, and supervisors (titled `podpy-supervisor <id>`)
    holding one of its files (their log, the attach socket's directory)."""
    needle = str(p.root).encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline or (cmdline.startswith(b"podpy-supervisor") and _holds_store_file(entry, p)):
            out.append(int(entry))
    return out


def container_cgroups(ids: list[str]) -> list[Path]:
    if not ids or not CGROUP_ROOT.is_dir():
        return []
    names = {f"podpy-{cid}" for cid in ids}
    found = []
    for dirpath, dirnames, _ in os.walk(CGROUP_ROOT):
        for d in dirnames:
            if d in names:
                found.append(Path(dirpath) / d)
    return found


def store_mounts(p: Podpy) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [m for m in points if m.startswith((str(p.root), str(p.runroot)))]


def container_ids(p: Podpy) -> list[str]:
    d = p.root / "containers"
    return [x.name for x in d.iterdir()] if d.is_dir() else []


def leftovers(p: Podpy, ids: list[str]) -> dict[str, list]:
    """What a test must not leave behind once every container is removed."""
    return {
        "containers": container_ids(p),
        "processes": store_processes(p),
        "mounts": store_mounts(p),
        "cgroups": container_cgroups(ids),
    }


def scrub(p: Podpy, ids: list[str]) -> None:
    """Best effort: remove containers, kill stray processes, drop cgroups (the store goes after)."""
    if p.root.exists():
        subprocess.run(p.argv("rm", "-af"), capture_output=True, timeout=120)
    for pid in store_processes(p):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.05)
    for cg in sorted(container_cgroups(ids), key=lambda x: len(x.parts), reverse=True):
        try:
            cg.rmdir()
        except OSError:
            pass


@pytest.fixture
def ctr(podpy: Podpy, busybox_image: str):  # type: ignore[no-untyped-def]
    """The test's podpy runner with busybox:latest imported; scrubbed afterwards."""
    seen: list[str] = []
    podpy.seen_ids = seen  # type: ignore[attr-defined]
    yield podpy
    scrub(podpy, seen + container_ids(podpy))


def wait_until(pred, timeout: float = 10.0, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


class PtyProc:
    """A podpy command on a real pseudo-terminal (its controlling tty), driven like a user would."""

    def __init__(self, argv: list[str], cwd: Path, rows: int = 24, cols: int = 80) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def make_ctty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                     start_new_session=True, preexec_fn=make_ctty)  # fmt: skip
        os.close(slave)
        self.buf = b""

    def send(self, data: bytes | str) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def expect(self, pattern: str | bytes, timeout: float = 10.0) -> bytes:
        """Read until `pattern` (a regex) shows up; everything read so far stays in self.buf."""
        pat = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while not pat.search(self.buf):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; got {self.buf[-2000:]!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"EOF waiting for {pattern!r}; got {self.buf[-2000:]!r}")
                self.buf += chunk
        return self.buf

    def wait(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    pass
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
