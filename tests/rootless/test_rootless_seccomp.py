"""Seccomp for an ordinary user's containers: the default filter (loaded with CAP_SYS_ADMIN of the
container's user namespace), unconfined, a custom profile, and exec."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rootless.conftest import Rootless


@pytest.fixture
def deny_mkdir() -> Iterator[Path]:
    """A profile file the test user can read."""
    tmp = Path(tempfile.mkdtemp(prefix="podpy-rl-seccomp-"))
    os.chmod(tmp, 0o755)
    path = tmp / "deny-mkdir.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))  # fmt: skip
    os.chmod(path, 0o644)
    yield path
    shutil.rmtree(tmp, ignore_errors=True)


def test_default_filter_and_unconfined(rl: Rootless) -> None:
    script = "grep Seccomp: /proc/1/status; unshare -U true; echo rc=$?"
    res = rl("run", "--rm", "busybox", "sh", "-c", script)
    assert res.stdout == "Seccomp:\t2\nrc=1\n" and "Operation not permitted" in res.stderr
    res = rl(
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "sh",
        "-c",
        "grep Seccomp: /proc/1/status",
    )
    assert res.stdout == "Seccomp:\t0\n"


def test_custom_profile_and_exec(rl: Rootless, deny_mkdir: Path) -> None:
    res = rl(
        "run",
        "--rm",
        "--security-opt",
        f"seccomp={deny_mkdir}",
        "busybox",
        "sh",
        "-c",
        "mkdir /tmp/d; echo rc=$?",
    )
    assert res.stdout == "rc=1\n" and "Operation not permitted" in res.stderr
    cid = rl("run", "-d", "busybox", "sleep", "60").stdout.strip()
    res = rl("exec", cid, "sh", "-c", "grep Seccomp: /proc/self/status; unshare -U true; echo rc=$?")
    assert res.stdout == "Seccomp:\t2\nrc=1\n"
    rl("rm", "-f", cid)
