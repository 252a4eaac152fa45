"""Issue 8, the process side, as an ordinary user (subuid ranges and a single-id map): no way out
through a leaked fd as the cwd, the caller's stdio never chowned, the container dies with its
supervisor after a uid change, the supervisor's title."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.containers_fixtures import wait_until
from tests.rootless.conftest import Rootless

MARKER = "HOST-MARKER-procfd"
LOOK_AROUND = "pwd; ls -a . .. ../.. ../../.. ../../../.. 2>&1"


@pytest.fixture
def marked(rl: Rootless) -> Iterator[Path]:
    """A marker file next to the user's store (../../.. of containers/<id>), owned by the user."""
    share = rl.store().parent
    share.mkdir(parents=True, exist_ok=True)
    marker = share / MARKER
    marker.write_text("secret\n")
    os.chown(marker, rl.user.uid, rl.user.gid)
    yield share
    marker.unlink(missing_ok=True)


def _with_dir_fd(argv: list[str], fd: int, directory: Path) -> list[str]:
    return ["/bin/bash", "-c", f'exec {fd}<"$0"; exec "$@"', str(directory), *argv]


def _check(res: subprocess.CompletedProcess[str], what: str) -> None:
    assert MARKER not in res.stdout + res.stderr, f"{what}: the container saw the host: {res.stdout}"
    if res.returncode != 0:
        assert res.stderr.strip().splitlines()[-1].startswith("Error: "), (what, res.stderr)
        assert "Traceback" not in res.stderr


def test_workdir_through_a_leaked_fd(rl: Rootless, marked: Path) -> None:
    cid = rl("run", "-d", "busybox", "sleep", "100").stdout.strip()
    for n in range(3, 21):
        run = rl.argv("run", "--rm", "-w", f"/proc/self/fd/{n}", "busybox", "sh", "-c", LOOK_AROUND)
        res = subprocess.run(_with_dir_fd(run, n, marked), capture_output=True, text=True, timeout=60, cwd="/")
        _check(res, f"run -w /proc/self/fd/{n}")
        exe = rl.argv("exec", "-w", f"/proc/self/fd/{n}", cid, "sh", "-c", LOOK_AROUND)
        res = subprocess.run(_with_dir_fd(exe, n, marked), capture_output=True, text=True, timeout=60, cwd="/")
        _check(res, f"exec -w /proc/self/fd/{n}")


@pytest.fixture
def owned_dir(rl: Rootless) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="podpy-rl-stdio-"))
    os.chown(d, rl.user.uid, rl.user.gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_exec_as_a_user_leaves_the_callers_stdio_alone(rl: Rootless, owned_dir: Path) -> None:
    if rl.user.kind == "single":
        pytest.skip("a single-id map has no other user to switch to")
    cid = rl("run", "-d", "busybox", "sleep", "100").stdout.strip()
    out = owned_dir / "out"
    out.write_text("")
    os.chown(out, rl.user.uid, rl.user.gid)  # the user's own file, as its shell would make it
    shell = f'exec "$@" > {out}'
    res = subprocess.run(["/bin/bash", "-c", shell, "bash", *rl.argv("exec", "-u", "1000", cid, "sh", "-c",
                                                                     "echo o; exit 3")],
                         capture_output=True, text=True, timeout=60, cwd="/")  # fmt: skip
    assert res.returncode == 3, res.stderr
    assert out.read_text() == "o\n" and out.stat().st_uid == rl.user.uid
    assert rl("exec", "-u", "1000", cid, "sh", "-c", "echo x > /dev/stdout").stdout == "x\n"
    assert rl("exec", "-i", cid, "cat", input="hi\n").stdout == "hi\n"


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_user_container_dies_with_its_supervisor_kill9(rl: Rootless) -> None:
    user = "1000" if rl.user.kind == "subuid" else "0"
    cid = rl("run", "-d", "-u", user, "busybox", "sleep", "1000").stdout.strip()
    state = json.loads((rl.store() / "containers" / cid / "container.json").read_text())["state"]
    os.kill(state["supervisor_pid"], signal.SIGKILL)
    assert wait_until(lambda: _gone(state["pid"]), timeout=10), "the container outlived its supervisor"
    assert wait_until(lambda: "Exited" in rl("ps", "-a", "--format", "{{.Status}}").stdout)
    rl("rm", cid)


def test_supervisor_title(rl: Rootless) -> None:
    cid = rl("run", "-d", "-e", "SECRET=hunter2-procfd", "busybox", "sleep", "100").stdout.strip()
    sup = json.loads((rl.store() / "containers" / cid / "container.json").read_text())["state"]["supervisor_pid"]
    cmdline = Path(f"/proc/{sup}/cmdline").read_bytes().rstrip(b"\0")
    assert cmdline == f"podpy-supervisor {cid}".encode() and b"hunter2" not in cmdline
