"""run/create's cgroup and init-system flags (engine.create_misc): --blkio-weight(-device),
--cpu-rt-period/--cpu-rt-runtime, --cgroups, --systemd, --sdnotify, --chrootdirs."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from podpy.engine.create_misc import blkio_weight_supported
from podpy.engine.specgen import is_cgroup_v2
from tests.conftest import REPO
from tests.integration.containers_fixtures import container_cgroups, ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def _block_device() -> str | None:
    for name in sorted(os.listdir("/dev")):
        path = f"/dev/{name}"
        try:
            if stat.S_ISBLK(os.stat(path).st_mode):
                return path
        except OSError:
            continue
    return None


def test_blkio_weight(ctr) -> None:  # noqa: F811
    res = ctr("run", "--rm", "--blkio-weight", "500", "busybox", "true", check=False)
    assert res.returncode == 0, res.stderr
    if blkio_weight_supported():
        assert "discarded" not in res.stderr
    else:  # Podman's words: the weight is dropped, the container runs
        assert "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded." \
            in res.stderr  # fmt: skip
    for args, msg in ((["--blkio-weight", "5"], "must be between 10 and 1000"),
                      (["--blkio-weight", "x"], "not a number"),
                      (["--blkio-weight-device", "/nonexistent:100"], "No such file"),
                      (["--blkio-weight-device", "/dev/null:100"], "not a block device"),
                      (["--blkio-weight-device", "nocolon"], "expected DEVICE:WEIGHT")):  # fmt: skip
        res = ctr("create", *args, "busybox", "true", check=False)
        assert res.returncode == 125 and msg in res.stderr and res.stderr.count("\n") == 1, (args, res.stderr)
    dev = _block_device()
    if dev is not None:
        res = ctr("run", "--rm", "--blkio-weight-device", f"{dev}:200", "busybox", "true", check=False)
        assert res.returncode == 0, res.stderr
        assert ("Weight-device discarded" in res.stderr) != blkio_weight_supported()


def test_cpu_rt_limits(ctr) -> None:  # noqa: F811
    args = ("--cpu-rt-period", "1000000", "--cpu-rt-runtime", "10000")
    if is_cgroup_v2():
        res = ctr("create", *args, "busybox", "true", check=False)
        assert res.returncode == 125 and "not supported on cgroups V2" in res.stderr
        return
    if not Path("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists():
        pytest.skip("no real-time group scheduling in this kernel")
    cid = ctr("run", "-d", *args, "busybox", "sleep", "60").stdout.strip()
    [cpu] = [d for d in container_cgroups([cid]) if (d / "cpu.rt_runtime_us").exists()]
    assert (cpu / "cpu.rt_period_us").read_text().strip() == "1000000"
    assert (cpu / "cpu.rt_runtime_us").read_text().strip() == "10000"
    ctr("rm", "-f", "-t", "0", cid)


def test_cgroups_modes(ctr) -> None:  # noqa: F811
    cid = ctr("run", "-d", "--cgroups=disabled", "busybox", "sleep", "60").stdout.strip()
    assert container_cgroups([cid]) == []
    assert ctr("exec", cid, "true").returncode == 0
    ctr("rm", "-f", "-t", "0", cid)
    cid = ctr("run", "-d", "--cgroups", "no-conmon", "busybox", "sleep", "60").stdout.strip()
    assert container_cgroups([cid]) != []
    ctr("rm", "-f", "-t", "0", cid)
    for args, msg in ((["--cgroups=disabled", "--memory", "10m"], "cannot be used with resource limits"),
                      (["--cgroups=split"], "--cgroups=split is not supported"),
                      (["--cgroups=sometimes"], 'invalid cgroup mode "sometimes"')):  # fmt: skip
        res = ctr("create", *args, "busybox", "true", check=False)
        assert res.returncode == 125 and msg in res.stderr, res.stderr


def test_systemd_modes(ctr) -> None:  # noqa: F811
    assert ctr("run", "--rm", "--systemd=false", "busybox", "echo", "ok").stdout == "ok\n"
    assert ctr("run", "--rm", "--systemd", "true", "busybox", "echo", "ok").stdout == "ok\n"  # not init: as usual
    for args in (["--systemd=always", "busybox", "true"], ["--systemd=true", "busybox", "/sbin/init"]):
        res = ctr("create", *args, check=False)
        assert res.returncode == 125 and "systemd mode" in res.stderr and "not supported" in res.stderr
    res = ctr("create", "--systemd=maybe", "busybox", "true", check=False)
    assert res.returncode == 125 and "expected true, false or always" in res.stderr


def test_sdnotify(ctr, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    env = {**os.environ, "NOTIFY_SOCKET": str(path)}

    def run(*args: str) -> str:
        res = subprocess.run(ctr.argv("run", "-d", *args, "busybox", "sh", "-c",
                                      'echo "[$NOTIFY_SOCKET]"; test -S /run/notify/notify.sock && echo sock; sleep 60'),
                             capture_output=True, text=True, cwd=REPO, env=env, timeout=60)  # fmt: skip
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    try:
        pidfile = tmp_path / "conmon.pid"
        cid = run("--conmon-pidfile", str(pidfile))  # default: conmon's way, the supervisor says READY
        assert sock.recv(200).decode() == f"MAINPID={pidfile.read_text().strip()}\nREADY=1\n"
        sock.settimeout(1)
        for mode in ("ignore", "container"):
            other = run(f"--sdnotify={mode}")
            with pytest.raises(TimeoutError):
                sock.recv(200)
            logs = ctr("logs", other).stdout
            assert logs == ("[/run/notify/notify.sock]\nsock\n" if mode == "container" else "[]\n"), logs
        assert ctr("logs", cid).stdout == "[]\n"
    finally:
        sock.close()
    res = ctr("create", "--sdnotify=loud", "busybox", "true", check=False)
    assert res.returncode == 125 and "expected container, conmon or ignore" in res.stderr


def test_chrootdirs(ctr) -> None:  # noqa: F811
    out = ctr("run", "--rm", "--hostname", "jailed", "--chrootdirs", "/jail,/other", "busybox", "sh", "-c",
              "cat /jail/etc/hostname /other/etc/hostname; grep -c jailed /jail/etc/hosts").stdout  # fmt: skip
    assert out == "jailed\njailed\n1\n"
    res = ctr("create", "--chrootdirs", "relative", "busybox", "true", check=False)
    assert res.returncode == 125 and "must be an absolute path" in res.stderr


def test_create_attach_and_init_ctr(ctr) -> None:  # noqa: F811
    cid = ctr("create", "-a", "stdout", "--attach", "stderr", "busybox", "echo", "hi").stdout.strip()
    assert ctr("start", "-a", cid).stdout == "hi\n"
    for args, msg in ((["-a", "bogus"], "invalid stream 'bogus' for --attach"),
                      (["--init-ctr", "once"], "must specify pod value with init-ctr"),
                      (["--init-ctr", "sometimes", "--pod", "p"], "init-ctr value must be 'always' or 'once'"),
                      (["--init-ctr", "always", "--pod", "p"], "do not run init containers")):  # fmt: skip
        res = ctr("create", *args, "busybox", "true", check=False)
        assert res.returncode == 125 and msg in res.stderr and res.stderr.count("\n") == 1, (args, res.stderr)
