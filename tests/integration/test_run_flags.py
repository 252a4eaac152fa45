"""The rarer `run`/`create` flags of issue 11, each checked by what the container sees (root)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.integration.containers_fixtures import ctr, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def run(ctr, *args: str, check: bool = True):  # noqa: F811
    return ctr("run", "--rm", *args, check=check)


def test_sysctl_shm_size_ulimit(ctr):  # noqa: F811
    out = run(ctr, "--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "10m", "--ulimit", "nofile=1024:2048",
              "busybox", "sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; df -k /dev/shm | tail -1; "
              "ulimit -n; ulimit -Hn").stdout.splitlines()  # fmt: skip
    assert out[0] == "1"
    assert out[1].split()[1] == "10240"
    assert out[2:] == ["1024", "2048"]


def test_sysctl_refusals(ctr):  # noqa: F811
    res = run(ctr, "--sysctl", "vm.swappiness=1", "busybox", "true", check=False)
    assert res.returncode == 125 and "not allowed" in res.stderr
    res = run(ctr, "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true", check=False)
    assert res.returncode == 125 and "host" in res.stderr
    res = run(ctr, "--ipc", "host", "--sysctl", "kernel.shmmax=1", "busybox", "true", check=False)
    assert res.returncode == 125 and "IPC" in res.stderr


def test_namespaces_host_private_and_container(ctr):  # noqa: F811
    assert run(ctr, "busybox", "sh", "-c", "echo $$").stdout == "1\n"
    assert run(ctr, "--pid", "host", "busybox", "sh", "-c", "echo $$").stdout.strip() != "1"
    host_ipc = os.readlink("/proc/self/ns/ipc")
    assert run(ctr, "--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc").stdout.strip() == host_ipc
    assert run(ctr, "busybox", "readlink", "/proc/self/ns/ipc").stdout.strip() != host_ipc
    assert run(ctr, "--uts", "host", "busybox", "hostname").stdout.strip() == os.uname().nodename
    host_cg = os.readlink("/proc/self/ns/cgroup")
    assert run(ctr, "--cgroupns", "private", "busybox", "readlink", "/proc/self/ns/cgroup").stdout.strip() != host_cg
    assert run(ctr, "--cgroupns", "host", "busybox", "readlink", "/proc/self/ns/cgroup").stdout.strip() == host_cg
    ctr("run", "-d", "--name", "a", "busybox", "sleep", "100")
    assert "sleep 100" in run(ctr, "--pid", "container:a", "busybox", "ps").stdout
    theirs = ctr("exec", "a", "readlink", "/proc/self/ns/ipc").stdout
    assert run(ctr, "--ipc", "container:a", "busybox", "readlink", "/proc/self/ns/ipc").stdout == theirs
    modes = ctr("create", "--ipc", "host", "--pid", "host", "busybox", "true").stdout.strip()
    assert ctr("inspect", "-f", "{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}", modes).stdout == "host host\n"
    res = run(ctr, "--pid", "bogus", "busybox", "true", check=False)
    assert res.returncode == 125 and "--pid" in res.stderr


def test_group_add(ctr):  # noqa: F811
    out = run(ctr, "--group-add", "nogroup", "--group-add", "7", "busybox", "id", "-G").stdout.split()
    assert {"7", "65534"} <= set(out)
    res = run(ctr, "--group-add", "nosuchgroup", "busybox", "true", check=False)
    assert res.returncode == 125 and "nosuchgroup" in res.stderr
    res = run(ctr, "--group-add", "keep-groups,7", "busybox", "true", check=False)
    assert res.returncode == 125


def test_device_cgroup_rule(ctr):  # noqa: F811
    script = "mknod /tmp/x c 42 0; cat /tmp/x"
    denied = run(ctr, "--cap-add", "MKNOD", "busybox", "sh", "-c", script, check=False)
    assert "Operation not permitted" in denied.stderr
    allowed = run(ctr, "--cap-add", "MKNOD", "--device-cgroup-rule", "c 42:* rwm", "busybox", "sh", "-c", script,
                  check=False)  # fmt: skip
    assert "No such device" in allowed.stderr  # the cgroup let it through; nothing drives major 42
    assert run(ctr, "--device-cgroup-rule", "x 1:2 r", "busybox", "true", check=False).returncode == 125


def test_tz(ctr):  # noqa: F811
    zone = Path("/usr/share/zoneinfo/Asia/Tokyo")
    if not zone.exists():
        pytest.skip("no tzdata")
    out = run(ctr, "--tz", "Asia/Tokyo", "busybox", "md5sum", "/etc/localtime").stdout.split()[0]
    assert out == hashlib.md5(zone.read_bytes()).hexdigest()
    res = run(ctr, "--tz", "Nowhere/Special", "busybox", "true", check=False)
    assert res.returncode == 125 and "unknown time zone" in res.stderr
    local = run(ctr, "--tz", "local", "busybox", "md5sum", "/etc/localtime").stdout.split()[0]
    assert local == hashlib.md5(Path("/etc/localtime").read_bytes()).hexdigest()


def test_env_host_unsetenv(ctr, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PODPY_T_HOSTVAR", "from-host")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")
    assert "PODPY_T_HOSTVAR=from-host" in run(ctr, "--env-host", "busybox", "env").stdout
    env = run(ctr, "busybox", "env").stdout
    assert "PODPY_T_HOSTVAR" not in env and "http_proxy=http://127.0.0.1:3128" in env
    assert "http_proxy" not in run(ctr, "--http-proxy=false", "busybox", "env").stdout
    env = run(ctr, "--unsetenv", "PATH", "--unsetenv", "HOSTNAME", "busybox", "/bin/env").stdout
    assert "PATH=" not in env and "HOSTNAME=" not in env and "HOME=" in env
    assert run(ctr, "--unsetenv-all", "--http-proxy=false", "-e", "X=1", "busybox", "/bin/env").stdout == "X=1\n"


def test_passwd_entry(ctr):  # noqa: F811
    out = run(ctr, "-u", "1234:5", "busybox", "sh", "-c", "whoami; grep ^1234: /etc/passwd").stdout
    assert out == "1234\n1234:*:1234:5:container user:/:/bin/sh\n"
    out = run(ctr, "-u", "1234", "-w", "/tmp", "--passwd-entry", "$USERNAME:x:$UID:$GID::$HOME:/bin/false",
              "busybox", "grep", "^1234:", "/etc/passwd").stdout  # fmt: skip
    assert out == "1234:x:1234:0::/tmp:/bin/false\n"
    assert run(ctr, "-u", "1234", "--passwd=false", "busybox", "grep", "-c", "^1234:", "/etc/passwd",
               check=False).stdout == "0\n"  # fmt: skip


def test_read_only_tmpfs_oom_umask(ctr):  # noqa: F811
    assert run(ctr, "--read-only", "busybox", "touch", "/tmp/x").returncode == 0
    res = run(ctr, "--read-only", "--read-only-tmpfs=false", "busybox", "touch", "/tmp/x", check=False)
    assert res.returncode == 1 and "Read-only" in res.stderr
    out = run(ctr, "--oom-score-adj", "100", "--umask", "077", "busybox", "sh", "-c",
              "cat /proc/self/oom_score_adj; umask").stdout  # fmt: skip
    assert out == "100\n0077\n"


def test_annotation_label_file_inspect(ctr, tmp_path):  # noqa: F811
    labels = tmp_path / "labels"
    labels.write_text("team=x\n# comment\nz=from-file\n")
    cid = ctr("create", "--annotation", "io.example/a=b", "--label-file", str(labels), "-l", "z=1",
              "busybox", "true").stdout.strip()  # fmt: skip
    fmt = "{{index .Config.Annotations \"io.example/a\"}} {{.Config.Labels.team}} {{.Config.Labels.z}}"
    assert ctr("inspect", "-f", fmt, cid).stdout == "b x 1\n"
    tz = ctr("create", "--tz", "local", "busybox", "true").stdout.strip()
    assert ctr("inspect", "-f", "{{.Config.Timezone}}", tz).stdout == "local\n"


def test_cidfile_pidfile_conmon_pidfile(ctr, tmp_path):  # noqa: F811
    cidfile, pidfile, cpid = tmp_path / "cid", tmp_path / "pid", tmp_path / "conmon"
    cid = ctr("run", "-d", "--cidfile", str(cidfile), "--pidfile", str(pidfile), "--conmon-pidfile", str(cpid),
              "busybox", "sleep", "100").stdout.strip()  # fmt: skip
    assert cidfile.read_text() == cid
    assert pidfile.read_text() == ctr("inspect", "-f", "{{.State.Pid}}", cid).stdout.strip()
    assert Path(f"/proc/{cpid.read_text()}/cmdline").read_bytes().startswith(b"podpy-supervisor")
    res = ctr("create", "--cidfile", str(cidfile), "busybox", "true", check=False)
    assert res.returncode == 125 and "exists" in res.stderr


def test_replace_and_requires(ctr):  # noqa: F811
    first = ctr("create", "--name", "x", "busybox", "sleep", "100").stdout.strip()
    assert ctr("create", "--name", "x", "busybox", "true", check=False).returncode == 125
    second = ctr("create", "--replace", "--name", "x", "busybox", "sleep", "100").stdout.strip()
    assert second != first
    ctr("run", "-d", "--name", "y", "--requires", "x", "busybox", "sleep", "100")
    assert ctr("inspect", "-f", "{{.State.Status}}", "x").stdout == "running\n"
    assert ctr("inspect", "-f", "{{.Dependencies}}", "y").stdout == f"[{second}]\n"


def test_timeout_kills(ctr):  # noqa: F811
    res = run(ctr, "--timeout", "1", "busybox", "sleep", "30", check=False)
    assert res.returncode == 137


def test_attach_streams(ctr):  # noqa: F811
    script = "echo out; echo err >&2"
    res = run(ctr, "-a", "stdout", "busybox", "sh", "-c", script)
    assert (res.stdout, res.stderr) == ("out\n", "")
    res = run(ctr, "--attach", "stderr", "busybox", "sh", "-c", script)
    assert (res.stdout, res.stderr) == ("", "err\n")
    assert run(ctr, "-d", "-a", "stdout", "busybox", "true", check=False).returncode == 125
    assert run(ctr, "-a", "stdnothing", "busybox", "true", check=False).returncode == 125


def test_platform(ctr):  # noqa: F811
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    assert run(ctr, "--platform", f"linux/{arch}", "busybox", "true").returncode == 0
    other = "s390x" if arch != "s390x" else "amd64"
    res = run(ctr, "--platform", f"linux/{other}", "busybox", "true", check=False)
    assert res.returncode == 125 and other in res.stderr
    assert run(ctr, "--os", "windows", "busybox", "true", check=False).returncode == 125


def test_rmi_removes_the_image(ctr, busybox_tar):  # noqa: F811
    ctr("import", str(busybox_tar), "solo:1")
    assert ctr("run", "--rmi", "solo:1", "/bin/true").returncode == 0
    assert ctr("image", "inspect", "solo:1", check=False).returncode != 0
    assert ctr("ps", "-aq").stdout == ""


def test_personality_hostuser_env_merge(ctr):  # noqa: F811
    import platform

    if platform.machine() == "x86_64":
        assert run(ctr, "--personality", "LINUX32", "busybox", "uname", "-m").stdout == "i686\n"
    assert run(ctr, "--personality", "bogus", "busybox", "true", check=False).returncode == 125
    line = run(ctr, "--hostuser", "0", "--hostuser", "daemon", "busybox", "grep", "^daemon:", "/etc/passwd").stdout
    assert line.count("\n") == 1  # the image's own daemon entry is kept, not doubled
    assert run(ctr, "--hostuser", "no-such-user-here", "busybox", "true", check=False).returncode == 125
    assert run(ctr, "--env-merge", "X=${X}:/opt", "busybox", "sh", "-c", "echo $X").stdout == ":/opt\n"
    assert run(ctr, "--disable-content-trust", "--seccomp-policy", "default", "busybox", "true").returncode == 0
    assert run(ctr, "--seccomp-policy", "image", "busybox", "true", check=False).returncode == 125


def test_pull_flags_are_accepted_for_a_local_image(ctr, tmp_path):  # noqa: F811
    auth = tmp_path / "auth.json"
    auth.write_text("{}")
    assert run(ctr, "--tls-verify=false", "--authfile", str(auth), "-q", "busybox", "true").returncode == 0


def _block_device() -> str | None:
    import stat

    for name in sorted(os.listdir("/sys/block")):
        path = f"/dev/{name}"
        if not name.startswith(("loop", "ram")) and os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode):
            return path
    return None


def test_io_throttles_and_swappiness(ctr):  # noqa: F811
    from tests.integration.containers_fixtures import container_cgroups

    dev = _block_device()
    if dev is None or not Path("/sys/fs/cgroup/blkio").is_dir():
        pytest.skip("no block device or no v1 blkio controller")
    cid = ctr("run", "-d", "--memory-swappiness", "7", "--device-read-bps", f"{dev}:1m", "--device-write-iops",
              f"{dev}:100", "busybox", "sleep", "60").stdout.strip()  # fmt: skip
    dirs = {p.parts[4]: p for p in container_cgroups([cid])}  # /sys/fs/cgroup/<controller>/.../podpy-<id>
    st = os.stat(dev)
    num = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    assert (dirs["blkio"] / "blkio.throttle.read_bps_device").read_text().split() == [num, "1048576"]
    assert (dirs["blkio"] / "blkio.throttle.write_iops_device").read_text().split() == [num, "100"]
    assert (dirs["memory"] / "memory.swappiness").read_text().strip() == "7"
    assert run(ctr, "--device-read-bps", "/dev/null:1m", "busybox", "true", check=False).returncode == 125
    assert run(ctr, "--memory-swappiness", "101", "busybox", "true", check=False).returncode == 125


def test_cgroup_conf(ctr):  # noqa: F811
    from podpy.engine.specgen import is_cgroup_v2

    res = run(ctr, "--cgroup-conf", "pids.max=42", "busybox", "cat", "/sys/fs/cgroup/pids.max", check=False)
    if is_cgroup_v2():
        assert res.stdout == "42\n"
    else:
        assert res.returncode == 125 and "cgroup v2" in res.stderr
    assert run(ctr, "--cgroup-conf", "../x=1", "busybox", "true", check=False).returncode == 125


def _state(ctr, name: str) -> str:  # noqa: F811
    return ctr("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", name).stdout.strip()


def test_health_on_failure(ctr):  # noqa: F811
    check = ("--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1")
    ctr("run", "-d", "--name", "hk", *check, "--health-on-failure", "kill", "busybox", "sleep", "100")
    ctr("run", "-d", "--name", "hs", *check, "--health-on-failure", "stop", "--stop-timeout", "1",
        "--restart", "always", "busybox", "sleep", "100")  # fmt: skip
    ctr("run", "-d", "--name", "hr", *check, "--health-on-failure", "restart", "busybox", "sleep", "100")
    assert wait_until(lambda: _state(ctr, "hk") == "exited 137 0", timeout=15)
    assert wait_until(lambda: _state(ctr, "hs") == "exited 137 0", timeout=15)  # stopped: no restart
    assert wait_until(lambda: int(_state(ctr, "hr").split()[2]) >= 1, timeout=15)  # restarted, no policy
    assert run(ctr, "--health-on-failure", "explode", "busybox", "true", check=False).returncode == 125


def test_rmi_keeps_an_image_in_use(ctr):  # noqa: F811
    ctr("create", "--name", "user", "busybox", "true")
    res = ctr("run", "--rmi", "busybox", "true", check=False)
    assert res.returncode == 0
    assert ctr("image", "exists", "busybox", check=False).returncode == 0


def test_preserve_fds(ctr, tmp_path):  # noqa: F811
    import subprocess

    from tests.conftest import REPO

    data = tmp_path / "data"
    data.write_text("through fd 3\n")

    def podpy_with_fd3(*args: str) -> subprocess.CompletedProcess[str]:
        """podpy started by a shell that opened the file on fd 3 (as `podman run --preserve-fds 1 ... 3<file`)."""
        return subprocess.run(["sh", "-c", 'exec "$0" "$@" 3<"$F"', *ctr.argv(*args)], capture_output=True,
                              text=True, cwd=REPO, timeout=60, env={**os.environ, "F": str(data)})  # fmt: skip

    res = podpy_with_fd3("run", "--rm", "--preserve-fds", "1", "busybox", "sh", "-c", "cat <&3; ls /proc/self/fd")
    assert res.stdout.startswith("through fd 3\n"), res.stderr
    assert res.stdout.split()[3:] == ["0", "1", "2", "3", "4"]  # 4: ls's own directory, nothing else leaks
    res = podpy_with_fd3("run", "--rm", "busybox", "sh", "-c", "cat <&3")
    assert res.returncode != 0 and "Bad file descriptor" in res.stderr
    res = podpy_with_fd3("run", "--rm", "--preserve-fds", "2", "busybox", "true")
    assert res.returncode == 125 and "file descriptor 4 is not available" in res.stderr


def test_exec_latest_env_file_and_preserve_fds(ctr, tmp_path):  # noqa: F811
    import subprocess

    from tests.conftest import REPO

    ctr("run", "-d", "--name", "older", "busybox", "sleep", "100")
    ctr("run", "-d", "--name", "newest", "-e", "WHO=newest", "busybox", "sleep", "100")
    env = tmp_path / "env"
    env.write_text("# comment\nA=1\nB=from file\n")
    out = ctr("exec", "-l", "--env-file", str(env), "-e", "A=2", "sh", "-c", 'echo "$WHO $A $B"').stdout
    assert out == "newest 2 from file\n"
    assert ctr("container", "exec", "--latest", "-d", "touch", "/tmp/x").returncode == 0
    assert wait_until(lambda: ctr("exec", "newest", "ls", "/tmp/x", check=False).returncode == 0)
    res = ctr("exec", "--env-file", str(tmp_path / "missing"), "older", "true", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ")
    data = tmp_path / "data"
    data.write_text("through fd 3\n")
    for args in (["exec", "--preserve-fds", "1", "older"], ["exec", "-l", "--preserve-fds=1"]):
        res = subprocess.run(["sh", "-c", 'exec "$0" "$@" 3<"$F"', *ctr.argv(*args, "sh", "-c", "cat <&3")],
                             capture_output=True, text=True, cwd=REPO, timeout=60, env={**os.environ, "F": str(data)})  # fmt: skip
        assert (res.returncode, res.stdout) == (0, "through fd 3\n"), res.stderr
    res = ctr("exec", "--preserve-fds", "9", "older", "true", check=False)
    assert res.returncode == 125 and "is not available" in res.stderr
