"""The sealed exec stub (runtime/builtin/execstub.py) run as a real program: it execs its argv[1]
with the rest of argv, closes fd 3 on success and reports errno there on failure."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import pytest

from podpy.runtime.builtin import execstub

pytestmark = pytest.mark.skipif(execstub.image() is None, reason=f"no exec stub for {platform.machine()}")


def _run(tmp_path: Path, *argv: str) -> tuple[int, bytes, bytes]:
    stub = tmp_path / "stub"
    stub.write_bytes(execstub.image() or b"")
    stub.chmod(0o755)
    r, w = os.pipe()
    with os.fdopen(r, "rb") as report:
        # the stub's fd 3 is the write end of our pipe (as the sync channel's is in the container)
        shell = f'exec 3>&{w} {w}>&-; exec "$@"'
        proc = subprocess.Popen(["/bin/bash", "-c", shell, "bash", str(stub), *argv], stdout=subprocess.PIPE,
                                env={"GREETING": "hi"}, pass_fds=(w,))  # fmt: skip
        os.close(w)
        out, _ = proc.communicate(timeout=10)
        return proc.returncode, out, report.read()


def test_execs_the_command_with_its_argv_and_env(tmp_path: Path) -> None:
    code, out, report = _run(tmp_path, "/bin/sh", "sh-as-argv0", "-c", 'echo "$0 $GREETING"; [ -e /proc/$$/fd/3 ] || echo closed')
    assert code == 0
    assert out == b"sh-as-argv0 hi\nclosed\n"  # fd 3 was closed on exec: the caller sees EOF, no error
    assert report == b""


def test_reports_errno_and_exits_127(tmp_path: Path) -> None:
    assert _run(tmp_path, "/nonexistent", "x") == (127, b"", b"!\x02\n")
    assert _run(tmp_path, str(tmp_path), "x") == (127, b"", b"!\x0d\n")  # a directory: EACCES


def test_too_few_arguments_exit_without_exec(tmp_path: Path) -> None:
    assert _run(tmp_path, "/bin/true") == (127, b"", b"")


def test_sealed_memfd_cannot_be_written() -> None:
    fd = execstub.sealed_fd()
    assert fd is not None
    try:
        with pytest.raises(PermissionError):
            os.write(fd, b"x")
        again = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY)  # reopening for writing does not help
        try:
            with pytest.raises(PermissionError):
                os.write(again, b"x")
        finally:
            os.close(again)
    finally:
        os.close(fd)
