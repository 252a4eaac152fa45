"""No XDG_RUNTIME_DIR (`su -`, `sudo -u`): runtime state and auth.json go to /tmp/podpy-run-UID, a
0700 directory of the user's own (as Podman's /tmp/podman-run-UID); one owned by anyone else is
refused in one line."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.registry_fixtures import PASSWORD, USER, basic_registry_fixture  # noqa: F401
from tests.rootless.conftest import Rootless


def _no_xdg(rl: Rootless, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = [f"HOME={rl.user.home}", "PATH=/usr/bin:/bin:/usr/sbin:/sbin"]  # and no XDG_RUNTIME_DIR
    argv = ["runuser", "-u", rl.user.name, "--", "env", "-i", *env, str(rl.script), *args]
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120, cwd="/")


@pytest.fixture
def fallback(rl: Rootless) -> Iterator[Path]:
    d = Path(f"/tmp/podpy-run-{rl.user.uid}")
    shutil.rmtree(d, ignore_errors=True)
    yield d
    _no_xdg(rl, "rm", "-af")
    shutil.rmtree(d, ignore_errors=True)


def test_login_and_run_without_xdg_runtime_dir(rl: Rootless, fallback: Path, basic_registry) -> None:  # noqa: F811
    host = basic_registry.host
    res = _no_xdg(rl, "login", "--tls-verify=false", "-u", USER, "--password-stdin", host, input=PASSWORD + "\n")
    assert res.returncode == 0 and "Login Succeeded" in res.stdout, res
    st = fallback.lstat()
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == rl.user.uid and stat.S_IMODE(st.st_mode) == 0o700
    assert (fallback / "containers" / "auth.json").is_file()
    assert _no_xdg(rl, "login", "--get-login", host).stdout.strip() == USER
    assert _no_xdg(rl, "logout", host).returncode == 0
    res = _no_xdg(rl, "run", "--rm", "busybox", "echo", "ran")
    assert res.returncode == 0 and res.stdout == "ran\n", res
    assert (fallback / "podpy").is_dir()  # the runroot


def test_fallback_owned_by_someone_else_is_refused(rl: Rootless, fallback: Path) -> None:
    fallback.mkdir(mode=0o777)
    os.chmod(fallback, 0o777)  # root's, and open: a planted directory
    res = _no_xdg(rl, "ps")
    assert res.returncode == 125 and res.stderr.startswith("Error: ") and "not a directory owned by you" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert stat.S_IMODE(fallback.lstat().st_mode) == 0o777 and fallback.lstat().st_uid == 0  # left alone
