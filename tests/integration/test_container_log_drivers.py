"""Container logs (issue 8, item 8): a full log disk does not stop the container, rotation
(--log-opt max-size/max-file) read back in order, path=, the none/passthrough/json-file drivers,
containers.conf defaults, and inspect's HostConfig.LogConfig."""

from __future__ import annotations

import json
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Podpy
from tests.integration.containers_fixtures import PtyProc, ctr, wait_until  # noqa: F401


def _inspect(p: Podpy, ref: str) -> dict:  # type: ignore[type-arg]
    return json.loads(p("inspect", ref).stdout)[0]


def _userdata(p: Podpy, cid: str) -> Path:
    return p.root / "containers" / cid / "userdata"


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (unmounted afterwards even when the test fails)."""
    mnt = tmp_path / "logfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_log_disk_keeps_the_container_running(ctr: Podpy, small_fs: Path) -> None:  # noqa: F811
    log = small_fs / "ctr.log"
    cid = ctr("run", "-d", "--log-opt", f"path={log}", "busybox", "sh", "-c",
              "yes abcdefghijklmnopqrstuvwxyz | head -c 3000000; echo written > /tmp/done; sleep 60").stdout.strip()  # fmt: skip
    assert wait_until(lambda: ctr("exec", cid, "cat", "/tmp/done", check=False).stdout == "written\n", 30)
    errors = ctr.runroot / "containers" / cid / "supervisor.log"
    assert wait_until(errors.exists)
    text = errors.read_text()
    assert text.count("No space left on device") == 1, text  # reported once, not per write
    assert _inspect(ctr, cid)["State"]["Running"] is True
    assert ctr("exec", cid, "echo", "alive").stdout == "alive\n"
    assert log.stat().st_size > 900_000  # it logged until the disk was full
    ctr("kill", cid)
    assert ctr("wait", cid).stdout.strip() == "137"  # the supervisor lived to record the exit


def _lines(p: Podpy, *args: str) -> list[str]:
    return p("logs", *args).stdout.splitlines()


def test_rotation_keeps_the_newest_records_in_order(ctr: Podpy) -> None:  # noqa: F811
    ctr("run", "--name", "rot", "--log-opt", "max-size=10k", "--log-opt", "max-file=3",
        "busybox", "seq", "1", "5000")  # fmt: skip
    cid = _inspect(ctr, "rot")["Id"]
    ud = _userdata(ctr, cid)
    files = sorted(f.name for f in ud.glob("ctr.log*"))
    assert files == ["ctr.log", "ctr.log.1", "ctr.log.2"]
    assert all((ud / f).stat().st_size <= 10_000 for f in files)  # decimal units, like Docker
    lines = _lines(ctr, "rot")
    first = int(lines[0])
    assert first > 1 and lines == [str(i) for i in range(first, 5001)]
    assert _lines(ctr, "--tail", "3", "rot") == ["4998", "4999", "5000"]
    cfg = _inspect(ctr, "rot")["HostConfig"]["LogConfig"]
    assert cfg == {"Type": "k8s-file", "Config": {"max-size": "10k", "max-file": "3"},
                   "Path": str(ud / "ctr.log"), "Tag": "", "Size": "10kB"}  # fmt: skip
    ctr("run", "--name", "one", "--log-opt", "max-size=1k", "busybox", "seq", "1", "500")
    ud = _userdata(ctr, _inspect(ctr, "one")["Id"])
    assert [f.name for f in ud.glob("ctr.log*")] == ["ctr.log"] and (ud / "ctr.log").stat().st_size <= 1000
    assert _lines(ctr, "one")[-1] == "500"


def test_follow_reads_across_rotations(ctr: Podpy) -> None:  # noqa: F811
    script = "sleep 1; i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo line$i; usleep 5000; done"
    cid = ctr("run", "-d", "--log-opt", "max-size=1k", "--log-opt", "max-file=5", "busybox", "sh", "-c",
              script).stdout.strip()  # fmt: skip
    out = ctr("logs", "-f", cid, timeout=60).stdout.splitlines()
    assert out == [f"line{i}" for i in range(1, 301)]
    assert len(list(_userdata(ctr, cid).glob("ctr.log*"))) == 5


def test_log_path_option(ctr: Podpy, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "elsewhere.log"
    ctr("run", "--name", "p", "--log-opt", f"path={path}", "busybox", "echo", "hi")
    assert path.exists() and "stdout F hi" in path.read_text()
    doc = _inspect(ctr, "p")
    assert doc["LogPath"] == str(path) and doc["HostConfig"]["LogConfig"]["Path"] == str(path)
    assert ctr("logs", "p").stdout == "hi\n"
    res = ctr("run", "--log-opt", "path=relative.log", "busybox", "true", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ")


def test_none_json_file_and_bad_drivers(ctr: Podpy) -> None:  # noqa: F811
    assert ctr("run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "seen").stdout == "seen\n"
    res = ctr("logs", "quiet", check=False)
    assert res.returncode == 125 and "'none' log driver" in res.stderr
    doc = _inspect(ctr, "quiet")
    assert doc["HostConfig"]["LogConfig"]["Type"] == "none"
    assert not (_userdata(ctr, doc["Id"]) / "ctr.log").exists()
    ctr("run", "--name", "alias", "--log-driver", "json-file", "busybox", "echo", "kept")
    assert _inspect(ctr, "alias")["HostConfig"]["LogConfig"]["Type"] == "k8s-file"
    assert ctr("logs", "alias").stdout == "kept\n"
    before = ctr("ps", "-aq").stdout
    for args in (["--log-driver", "journald"], ["--log-opt", "max-size=lots"], ["--log-opt", "bogus=1"],
                 ["--log-opt", "max-file=0"], ["-d", "--log-driver", "passthrough"]):  # fmt: skip
        res = ctr("run", *args, "busybox", "true", check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and "Traceback" not in res.stderr
    assert ctr("ps", "-aq").stdout == before  # nothing half-created


def test_passthrough_hands_over_the_callers_stdio(ctr: Podpy, tmp_path: Path) -> None:  # noqa: F811
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "w") as o, open(err, "w") as e:
        rc = subprocess.run(ctr.argv("run", "--name", "pt", "--log-driver", "passthrough", "busybox", "sh", "-c",
                                     "echo to-out; echo to-err >&2; readlink /proc/self/fd/1; exit 3"),
                            stdout=o, stderr=e, cwd=REPO, timeout=60).returncode  # fmt: skip
    assert rc == 3
    lines = out.read_text().splitlines()
    assert lines[0] == "to-out" and lines[1] != "" and not lines[1].startswith("pipe:")  # the file itself
    assert err.read_text() == "to-err\n"
    res = ctr("logs", "pt", check=False)
    assert res.returncode == 125 and "'passthrough' log driver" in res.stderr
    assert ctr("run", "--rm", "-i", "--log-driver", "passthrough", "busybox", "cat", input="in\n").stdout == "in\n"
    res = ctr("run", "-t", "--log-driver", "passthrough", "busybox", "true", check=False)
    assert res.returncode == 125 and "terminal" in res.stderr
    pty = PtyProc(ctr.argv("run", "--rm", "--log-driver", "passthrough", "busybox", "true"), REPO)
    try:
        pty.expect("terminal")  # never hand a terminal over: TIOCSTI could type into it
        assert pty.wait() == 125
    finally:
        pty.close()


def test_containers_conf_defaults(ctr: Podpy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\nlog_size_max = 2000\ndefault_ulimits = ["nofile=512:1024"]\n')
    monkeypatch.setenv("CONTAINERS_CONF", str(conf))
    ctr("run", "--name", "c", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn; seq 1 1000 >/dev/null; seq 1 300")
    doc = _inspect(ctr, "c")
    assert doc["HostConfig"]["LogConfig"]["Size"] == "2kB"
    assert (_userdata(ctr, doc["Id"]) / "ctr.log").stat().st_size <= 2000
    conf.write_text('[containers]\nlog_driver = "none"\n')
    assert ctr("run", "--name", "n", "busybox", "echo", "x").stdout == "x\n"
    assert _inspect(ctr, "n")["HostConfig"]["LogConfig"]["Type"] == "none"
    assert _inspect(ctr, ctr("create", "--log-driver", "k8s-file", "busybox").stdout.strip())[
        "HostConfig"]["LogConfig"]["Type"] == "k8s-file"  # the flag beats the file  # fmt: skip


def _ulimits_from(p: Podpy, shell_prefix: str) -> list[str]:
    """`ulimit -n`, `-Hn` inside a container started from a shell whose own limits were changed."""
    cmd = " ".join(f"'{a}'" for a in p.argv("run", "--rm", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"))
    res = subprocess.run(["sh", "-c", f"{shell_prefix}; exec {cmd}"], capture_output=True, text=True,
                         cwd=REPO, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


def test_rlimits_come_from_the_defaults_not_the_shell(
    ctr: Podpy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = 1048576 if hard == resource.RLIM_INFINITY else min(1048576, hard)  # Podman's default, clamped to what can be set without CAP_SYS_RESOURCE
    assert _ulimits_from(ctr, "ulimit -Sn 100") == [str(want), str(want)]
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\ndefault_ulimits = ["nofile=300:400"]\n')
    monkeypatch.setenv("CONTAINERS_CONF", str(conf))
    assert _ulimits_from(ctr, "ulimit -Sn 100") == ["300", "400"]
    assert _ulimits_from(ctr, "ulimit -n 350") == ["300", "350"]  # clamped, not an error
    conf.write_text('[containers]\ndefault_ulimits = ["nofile=oops"]\n')
    res = ctr("run", "--rm", "busybox", "true", check=False)
    assert res.returncode == 125 and "invalid ulimit" in res.stderr
