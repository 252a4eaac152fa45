"""`podpy run` as root: output, exit codes, and what the process sees inside the container."""

from __future__ import annotations

import os

import pytest

from tests.conftest import REPO
from tests.integration.containers_fixtures import (  # noqa: F401
    container_ids,
    ctr,
    leftovers,
    store_processes,
    wait_until,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def test_run_rm_echo_leaves_nothing(ctr):  # noqa: F811
    res = ctr("run", "--rm", "busybox", "echo", "hello")
    assert res.stdout == "hello\n"
    assert res.stderr == ""
    assert leftovers(ctr, []) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def test_exit_code_propagates(ctr):  # noqa: F811
    assert ctr("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False).returncode == 3


def test_signal_exit_is_128_plus_n(ctr):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    assert ctr("kill", cid).stdout.strip() == cid
    assert ctr("wait", cid).stdout.strip() == "137"
    assert ctr("ps", "-a", "--format", "{{.Status}}").stdout.startswith("Exited (137) ")


def test_command_not_found_is_127(ctr):  # noqa: F811
    res = ctr("run", "--rm", "busybox", "nosuchcmd", check=False)
    assert res.returncode == 127
    assert "nosuchcmd" in res.stderr and "not found" in res.stderr
    assert container_ids(ctr) == []  # --rm also after a failed start


def test_not_executable_is_126(ctr):  # noqa: F811
    res = ctr("run", "--rm", "busybox", "/etc/passwd", check=False)
    assert res.returncode == 126, res.stderr


def test_failed_start_keeps_record_without_rm(ctr):  # noqa: F811
    res = ctr("run", "--name", "bad", "busybox", "nosuchcmd", check=False)
    assert res.returncode == 127
    state = ctr("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "bad").stdout.split()
    assert state == ["created", "127"]


def test_stdout_and_stderr_stay_apart(ctr):  # noqa: F811
    res = ctr("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert res.stdout == "out\n"
    assert res.stderr == "err\n"


def test_stdin_with_i(ctr):  # noqa: F811
    res = ctr("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input="hello\n")
    assert res.stdout == "HELLO\n"


def test_no_stdin_without_i(ctr):  # noqa: F811
    assert ctr("run", "--rm", "busybox", "cat", input="ignored\n").stdout == ""


def test_pid1_hostname_and_caps(ctr):  # noqa: F811
    script = "echo pid=$$; hostname; grep CapEff /proc/self/status"
    out = ctr("run", "--name", "caps", "busybox", "sh", "-c", script).stdout.split("\n")
    cid = ctr("inspect", "--format", "{{.Id}}", "caps").stdout.strip()
    assert out[0] == "pid=1"
    assert out[1] == cid[:12]
    assert out[2].split() == ["CapEff:", "00000000800405fb"]


def test_hostname_flag_and_env(ctr):  # noqa: F811
    script = "hostname; echo $FOO $BAR; pwd; id -u"
    out = ctr("run", "--rm", "-h", "box", "-e", "FOO=1", "-e", "BAR=two words", "-w", "/tmp", "-u", "33",
              "busybox", "sh", "-c", script).stdout  # fmt: skip
    assert out.split("\n")[:4] == ["box", "1 two words", "/tmp", "33"]


def test_env_file_and_host_env(ctr, tmp_path):  # noqa: F811
    envf = tmp_path / "env"
    envf.write_text("# comment\nA=from-file\nB=x\n")
    os.environ["PODPY_TEST_PASS"] = "passed"
    try:
        out = ctr("run", "--rm", "--env-file", str(envf), "-e", "B=flag", "-e", "PODPY_TEST_PASS",
                  "busybox", "sh", "-c", "echo $A $B $PODPY_TEST_PASS").stdout  # fmt: skip
    finally:
        del os.environ["PODPY_TEST_PASS"]
    assert out == "from-file flag passed\n"


def test_masked_and_readonly_paths(ctr):  # noqa: F811
    masked = [p for p in ("/proc/kcore", "/proc/timer_list") if os.path.exists(p)]  # no kcore on some kernels
    script = "; ".join(f"cat {p} | wc -c" for p in masked)
    script += "; echo 1 > /proc/sys/kernel/domainname && echo writable || echo ro"
    out = ctr("run", "--rm", "busybox", "sh", "-c", script).stdout.split()
    assert out == ["0"] * len(masked) + ["ro"]


def test_no_host_mounts_visible(ctr):  # noqa: F811
    mounts = ctr("run", "--rm", "busybox", "cat", "/proc/self/mounts").stdout.splitlines()
    points = [line.split()[1] for line in mounts]
    assert points[0] == "/"
    assert not [p for p in points if p.startswith(("/work", "/home", "/root", "/tmp/pytest", "/opt"))]
    assert set(points) <= {"/", "/proc", "/dev", "/dev/pts", "/dev/mqueue", "/dev/shm", "/sys", "/sys/fs/cgroup",
                           "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/console"} | {
        p for p in points if p.startswith(("/proc/", "/sys/", "/dev/"))}  # fmt: skip


def test_entrypoint_override(ctr):  # noqa: F811
    assert ctr("run", "--rm", "--entrypoint", "echo", "busybox", "a", "b").stdout == "a b\n"
    assert ctr("run", "--rm", "--entrypoint", '["sh","-c"]', "busybox", "echo j").stdout == "j\n"


def test_privileged_and_cap_flags(ctr):  # noqa: F811
    drop = ctr("run", "--rm", "--cap-drop", "chown", "busybox", "grep", "CapEff", "/proc/self/status").stdout
    assert drop.split()[1] == "00000000800405fa"
    add = ctr(
        "run", "--rm", "--cap-add", "NET_ADMIN", "busybox", "grep", "CapEff", "/proc/self/status"
    ).stdout
    assert int(add.split()[1], 16) == 0x800405FB | (1 << 12)
    priv = ctr("run", "--rm", "--privileged", "busybox", "grep", "CapEff", "/proc/self/status").stdout
    assert int(priv.split()[1], 16) > 0x800405FB


def test_no_new_privileges(ctr):  # noqa: F811
    out = ctr("run", "--rm", "--security-opt", "no-new-privileges", "busybox",
              "grep", "NoNewPrivs", "/proc/self/status").stdout  # fmt: skip
    assert out.split() == ["NoNewPrivs:", "1"]


def test_network_modes(ctr):  # noqa: F811
    none = ctr("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net").stdout.split()
    assert none == ["lo"]
    host = ctr("run", "--rm", "--network", "host", "busybox", "hostname").stdout.strip()
    assert host == os.uname().nodename


def test_rootfs_directory(ctr, tmp_path):  # noqa: F811
    from tests.busybox import make_rootfs

    root = make_rootfs(tmp_path / "rootfs")
    out = ctr("run", "--rm", "--rootfs", str(root), "sh", "-c", "echo hi > /made; cat /made").stdout
    assert out == "hi\n"
    assert (root / "made").read_text() == "hi\n"


def test_pull_never_and_missing_image(ctr):  # noqa: F811
    res = ctr("run", "--rm", "--pull", "never", "nosuchimage", "true", check=False)
    assert res.returncode == 125
    assert "nosuchimage" in res.stderr


def test_name_in_use(ctr):  # noqa: F811
    ctr("create", "--name", "dup", "busybox", "true")
    res = ctr("create", "--name", "dup", "busybox", "true", check=False)
    assert res.returncode == 125 and "already in use" in res.stderr


def test_create_then_start_attach(ctr):  # noqa: F811
    cid = ctr("create", "busybox", "echo", "started").stdout.strip()
    assert len(cid) == 64
    assert ctr("start", "-a", cid[:12]).stdout == "started\n"
    assert ctr("start", cid[:12]).stdout.strip() == cid[:12]
    assert ctr("wait", cid).stdout.strip() == "0"
    assert ctr("logs", cid).stdout == "started\nstarted\n"


def test_large_output_is_complete(ctr):  # noqa: F811
    res = ctr("run", "--name", "big", "busybox", "seq", "1", "200000")
    expected = "".join(f"{i}\n" for i in range(1, 200001))
    assert res.stdout == expected
    assert ctr("logs", "big").stdout == expected


def test_detached_rm_then_wait(ctr):  # noqa: F811
    cid = ctr("run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.5; exit 4").stdout.strip()
    assert ctr("wait", cid).stdout.strip() == "4"
    assert container_ids(ctr) == []


def test_init_flag(ctr):  # noqa: F811
    from podpy.engine.containers import find_init

    res = ctr(
        "run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '", check=False
    )
    if find_init() is None:
        assert res.returncode == 125 and "init" in res.stderr
    else:
        assert res.returncode == 0 and res.stdout.startswith("/run/podpy-init")


def test_run_failing_before_start_leaves_no_supervisor(ctr):  # noqa: F811
    """run forks its supervisor before create (spawn.prefork): a create error ends it too."""
    ctr("create", "--name", "taken", "busybox", "true")
    res = ctr("run", "--rm", "--name", "taken", "busybox", "true", check=False)
    assert res.returncode == 125 and "already in use" in res.stderr
    ctr("rm", "taken")
    assert wait_until(
        lambda: leftovers(ctr, []) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}
    )


def test_cli_killed_during_run_leaves_a_consistent_store(ctr):  # noqa: F811
    """kill -9 of the CLI at any moment of `run`: what is left can be started (or, for a create cut
    short, removed) and leaves nothing behind."""
    import subprocess
    import time

    for delay in (0.02, 0.05, 0.08, 0.12, 0.2):
        proc = subprocess.Popen(ctr.argv("run", "--rm", "busybox", "sleep", "0.3"), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        proc.kill()
        proc.wait()
    assert wait_until(lambda: not [p for p in store_processes(ctr) if _is_supervisor(p)], timeout=15)
    for cid in container_ids(ctr):  # never handed to a supervisor: start undoes the cut-short start first
        res = ctr("start", "-a", cid, check=False)
        # a create cut short (record written, bundle not yet) cannot start; rm removes it below
        assert res.returncode == 0 or "no such file" in res.stderr.lower(), res.stderr
    ctr("rm", "-af")
    assert wait_until(lambda: container_ids(ctr) == [], timeout=15)
    assert leftovers(ctr, []) == {"containers": [], "processes": [], "mounts": [], "cgroups": []}


def _is_supervisor(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().startswith(b"podpy-supervisor")
    except OSError:
        return False
