"""Fixtures for the runtime tests: a busybox rootfs, bundles from specgen, and a harness that runs
containers through any Runtime and always cleans up (processes, cgroups, mounts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from podpy.engine.spec import ContainerSpec
from podpy.engine.specgen import generate
from podpy.runtime import Runtime, Started, Stdio, find_external, get_runtime
from podpy.runtime.external import ExternalRuntime
from tests.busybox import make_rootfs

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Running:
    cid: str
    bundle: Path
    state: Path
    started: Started
    out: Path
    err: Path
    reaped: bool = False


def wait(pid: int, timeout: float = 10.0) -> int:
    """waitpid with a deadline: SIGKILL and fail the test when the container hangs."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"container {pid} did not exit within {timeout}s")
        time.sleep(0.002)


@dataclass
class Harness:
    tmp: Path
    rootfs: Path
    runtime: Runtime
    running: list[Running] = field(default_factory=list)

    def bundle(self, spec: ContainerSpec, edit: Callable[[dict[str, Any]], None] | None = None,
               rootfs: Path | None = None) -> tuple[str, Path]:  # fmt: skip
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        bundle = self.tmp / cid[:12]
        bundle.mkdir()
        cfg = generate(spec, rootfs or self.rootfs, cid=cid)
        if edit:
            edit(cfg)
        (bundle / "config.json").write_text(json.dumps(cfg, indent=1))
        return cid, bundle

    def start(self, *args: str, edit: Callable[[dict[str, Any]], None] | None = None,
              rootfs: Path | None = None, **spec: Any) -> Running:  # fmt: skip
        cid, bundle = self.bundle(ContainerSpec(args=args, **spec), edit, rootfs)
        state = bundle / "state"
        state.mkdir()
        out, err = bundle / "stdout", bundle / "stderr"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            started = self.runtime.start(cid, bundle, Stdio(stdin=None, stdout=fo.fileno(), stderr=fe.fileno()), state)
        run = Running(cid, bundle, state, started, out, err)
        self.running.append(run)
        return run

    def finish(self, run: Running, timeout: float = 10.0) -> Result:
        code = wait(run.started.pid, timeout)
        run.reaped = True
        self.runtime.delete(run.cid, run.state)
        return Result(code, run.out.read_text(), run.err.read_text())

    def run(self, *args: str, **kw: Any) -> Result:
        return self.finish(self.start(*args, **kw))

    def out(self, *args: str, **kw: Any) -> str:
        res = self.run(*args, **kw)
        assert res.code == 0, res
        return res.out

    def cleanup(self) -> None:
        """delete() first: it thaws a paused container and kills everything in its cgroup; a frozen
        process would never die from our SIGKILL alone."""
        for run in self.running:
            try:
                self.runtime.delete(run.cid, run.state)
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
            if not run.reaped:
                try:
                    os.kill(run.started.pid, signal.SIGKILL)
                    wait(run.started.pid, 5)
                except (ProcessLookupError, ChildProcessError, AssertionError):
                    pass
            if run.started.pty_master is not None:
                try:
                    os.close(run.started.pty_master)
                except OSError:
                    pass
        unmount_under(self.tmp)


def unmount_under(path: Path) -> None:
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for mp in reversed(points):
        if mp.startswith(str(path)):
            subprocess.run(["umount", "-l", mp], capture_output=True)


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path("/bin/busybox").exists():
        pytest.skip("busybox-static is not installed")
    root = make_rootfs(tmp_path_factory.mktemp("rtfs") / "rootfs")
    (root / "notexec").write_text("#!/bin/sh\necho no\n")
    os.chmod(root / "notexec", 0o644)
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    (root / "usr" / "local" / "bin" / "plainfile").write_text("data\n")
    return root


def make_runtime(name: str, tmp: Path) -> Runtime:
    if name == "builtin":
        return get_runtime(None)
    path = find_external(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return ExternalRuntime(path, tmp / "runtime-root")


@pytest.fixture
def harness(tmp_path: Path, rootfs: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, rootfs, make_runtime("builtin", tmp_path))
    yield h
    h.cleanup()


@pytest.fixture(params=["builtin", "runc"])
def any_harness(request: pytest.FixtureRequest, tmp_path: Path, rootfs: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, rootfs, make_runtime(request.param, tmp_path))
    yield h
    h.cleanup()


def read_pty(master: int, timeout: float = 10.0) -> bytes:
    """Everything the container writes to its terminal until it closes (EIO)."""
    import select

    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data
