"""Issue 8, the process side: leaked fds as a way out through the cwd (CVE-2024-21626), the caller's
stdio never chowned, the host interpreter never reachable through /proc/<pid>/exe (CVE-2019-5736),
the container dying with its supervisor after a uid change, the supervisor's title, exec and pid reuse."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from podpy.runtime import find_external
from tests.busybox import make_rootfs
from tests.conftest import REPO, Podpy
from tests.integration.containers_fixtures import ctr, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

MARKER = "HOST-MARKER-procfd"
FD_RANGE = range(3, 21)
LOOK_AROUND = "pwd; ls -a . .. ../.. ../../.. ../../../.. 2>&1"
RUNTIMES = ["builtin", pytest.param("runc", marks=pytest.mark.skipif(find_external("runc") is None,
                                                                      reason="runc not installed"))]  # fmt: skip


def _with_dir_fd(argv: list[str], fd: int, directory: Path) -> list[str]:
    """The command run with `directory` open as fd `fd` (a caller that holds a host directory)."""
    return ["/bin/bash", "-c", f'exec {fd}<"$0"; exec "$@"', str(directory), *argv]


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO, **kw)


def _assert_no_escape(res: subprocess.CompletedProcess[str], what: str) -> None:
    """Either a clear start error, or a run that saw nothing of the host."""
    assert MARKER not in res.stdout + res.stderr, f"{what}: the container saw the host: {res.stdout}"
    if res.returncode != 0:  # (runc prints its own line first: the last one is podpy's)
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ") and "Traceback" not in res.stderr, (what, res.stderr)


@pytest.fixture
def runtime_ctr(ctr: Podpy, request: pytest.FixtureRequest) -> Podpy:  # noqa: F811
    if request.param != "builtin":
        ctr.extra = [*ctr.extra, "--runtime", request.param]
    (ctr.root.parent / MARKER).write_text("secret\n")  # ../../.. of containers/<id>
    return ctr


@pytest.mark.parametrize("runtime_ctr", RUNTIMES, indirect=True)
def test_workdir_through_a_leaked_fd_never_reaches_the_host(runtime_ctr: Podpy, busybox_tar: Path) -> None:
    p = runtime_ctr
    crafted = p("import", "--change", "WORKDIR /proc/self/fd/3", "--change", 'CMD ["sh", "-c", "' + LOOK_AROUND
                + '"]', str(busybox_tar), "crafted").stdout  # fmt: skip
    assert crafted
    _assert_no_escape(_run(p.argv("run", "--rm", "crafted")), "WORKDIR /proc/self/fd/3")
    for n in FD_RANGE:  # every fd number, with the CLI itself holding a host directory at that number
        res = _run(_with_dir_fd(p.argv("run", "--rm", "-w", f"/proc/self/fd/{n}", "busybox", "sh", "-c",
                                       LOOK_AROUND), n, p.root.parent))  # fmt: skip
        _assert_no_escape(res, f"run -w /proc/self/fd/{n}")
    assert p("ps", "-aq").stdout == ""


@pytest.mark.parametrize("runtime_ctr", RUNTIMES, indirect=True)
def test_exec_workdir_through_a_leaked_fd_never_reaches_the_host(runtime_ctr: Podpy) -> None:
    p = runtime_ctr
    cid = p("run", "-d", "busybox", "sleep", "100").stdout.strip()
    for n in FD_RANGE:
        res = _run(_with_dir_fd(p.argv("exec", "-w", f"/proc/self/fd/{n}", cid, "sh", "-c", LOOK_AROUND), n,
                                p.root.parent))  # fmt: skip
        _assert_no_escape(res, f"exec -w /proc/self/fd/{n}")
    assert p("exec", "-w", "/tmp", cid, "pwd").stdout == "/tmp\n"


def test_container_holds_no_fd_of_the_caller_or_supervisor(ctr: Podpy) -> None:  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    rec = json.loads((ctr.root / "containers" / cid / "container.json").read_text())
    assert sorted(os.listdir(f"/proc/{rec['state']['pid']}/fd")) == ["0", "1", "2"]
    out = _run(_with_dir_fd(ctr.argv("exec", cid, "ls", "/proc/self/fd"), 7, ctr.root)).stdout.split()
    assert out == ["0", "1", "2", "3"]  # 3: ls's own listing of the directory
    sup = rec["state"]["supervisor_pid"]
    for fd in os.listdir(f"/proc/{sup}/fd"):  # everything it holds is close-on-exec (0-2 aside)
        flags = Path(f"/proc/{sup}/fdinfo/{fd}").read_text().split("flags:")[1].split()[0]
        assert int(fd) <= 2 or int(flags, 8) & 0o2000000, (fd, os.readlink(f"/proc/{sup}/fd/{fd}"))


def test_exec_and_run_as_a_user_leave_the_callers_stdio_alone(ctr: Podpy, tmp_path: Path) -> None:  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.run(ctr.argv("exec", "-u", "1000", cid, "sh", "-c", "echo o; echo e >&2; exit 3"),
                              stdout=fo, stderr=fe, cwd=REPO, timeout=60)  # fmt: skip
    assert proc.returncode == 3
    assert (out.read_text(), err.read_text()) == ("o\n", "e\n")
    assert (out.stat().st_uid, err.stat().st_uid) == (0, 0)
    with open(out, "w") as fo:
        proc = subprocess.run(ctr.argv("run", "--rm", "-u", "1000", "busybox", "sh", "-c", "echo r; exit 4"),
                              stdout=fo, stderr=subprocess.PIPE, cwd=REPO, timeout=60)  # fmt: skip
    assert proc.returncode == 4 and out.read_text() == "r\n" and out.stat().st_uid == 0
    # the process can still reopen its own stdout: the pipes made for it are its own
    assert ctr("exec", "-u", "1000", cid, "sh", "-c", "echo x > /dev/stdout").stdout == "x\n"
    assert ctr("run", "--rm", "-u", "1000", "busybox", "sh", "-c", "echo y > /dev/stdout").stdout == "y\n"
    assert ctr("exec", "-i", cid, "cat", input="hi\n").stdout == "hi\n"
    assert ctr("exec", "-i", "-u", "1000", cid, "sh", "-c", "cat; echo done", input="piped\n").stdout == "piped\ndone\n"
    big = os.urandom(1 << 20)
    res = subprocess.run(ctr.argv("exec", "-i", cid, "md5sum"), input=big, capture_output=True, cwd=REPO, timeout=60)
    assert res.stdout.split()[0].decode() == hashlib.md5(big).hexdigest()


def test_exec_from_a_terminal_leaves_the_terminal_alone(ctr: Podpy) -> None:  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    master, slave = pty.openpty()
    try:
        before = os.fstat(slave)
        proc = subprocess.run(ctr.argv("exec", "-u", "1000", cid, "echo", "on-tty"), stdin=slave, stdout=slave,
                              stderr=slave, cwd=REPO, timeout=60)  # fmt: skip
        after = os.fstat(slave)
        assert proc.returncode == 0 and b"on-tty" in os.read(master, 4096)
        assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    finally:
        os.close(master)
        os.close(slave)


def _python_image(p: Podpy, tmp_path: Path, probe: str) -> None:
    """busybox plus what the host's interpreter needs to start (its ELF loader and libraries), and a
    script naming /proc/self/exe as its interpreter: what an image would do to run the host's python."""
    root = make_rootfs(tmp_path / "pyimg")
    host_python = os.path.realpath(sys.executable)
    ldd = subprocess.run(["ldd", host_python], capture_output=True, text=True).stdout
    for word in ldd.split():
        if word.startswith("/") and os.path.exists(word):
            dest = root / word.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(word), dest)
    (root / "selfexe").write_text("#!/proc/self/exe\nimport time\ntime.sleep(1)\n")
    (root / "selfexe").chmod(0o755)
    (root / "probe").write_text(probe)
    (root / "probe").chmod(0o755)
    tar = tmp_path / "pyimg.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(root, arcname=".")
    p("import", "--change", 'CMD ["/probe"]', str(tar), "pyimg")


# pid 1 of the container: stop every other process of the container the moment one shows up (the
# podpy process joining it, or what it execs), then try to open its /proc/<pid>/exe for reading
# and for writing (O_RDWR without truncation: nothing is ever written), and let it go on.
PROBE = r"""#!/bin/sh
while [ ! -e /out/stop ]; do
    kill -STOP -1 2>/dev/null || continue
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = 1 ] && continue
        l=$(readlink $d/exe 2>/dev/null) || l=-
        r=no; w=no
        true 2>/dev/null <$d/exe && r=yes
        true 2>/dev/null <>$d/exe && w=yes
        echo "$p $l $r $w" >> /out/probe
    done
    kill -CONT -1 2>/dev/null
done
"""


def test_joining_process_never_exposes_the_host_interpreter(ctr: Podpy, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    out.mkdir()
    _python_image(ctr, tmp_path, PROBE)
    host_python = os.path.realpath(sys.executable)
    digest = hashlib.sha256(Path(host_python).read_bytes()).hexdigest()
    cid = ctr("run", "-d", "-v", f"{out}:/out", "pyimg").stdout.strip()
    try:
        for cmd in (["true"], ["/selfexe"], ["/proc/self/exe", "-c", "pass"]):
            ctr("exec", cid, *cmd, check=False, timeout=60)
    finally:
        (out / "stop").write_text("")
    lines = [line.split() for line in (out / "probe").read_text().splitlines()] if (out / "probe").exists() else []
    assert lines, "the probe never caught a joining process"
    for pid, *words, readable, writable in lines:
        link = " ".join(words)  # "/memfd:podpy-exec (deleted)"
        harmless = link == "/bin/busybox" or link.startswith("/memfd:podpy-exec")
        assert harmless or (readable, writable) == ("no", "no"), (pid, link, readable, writable)
    assert hashlib.sha256(Path(host_python).read_bytes()).hexdigest() == digest
    ctr("rm", "-f", cid)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_user_container_dies_with_its_supervisor_kill9(ctr: Podpy) -> None:  # noqa: F811
    cid = ctr("run", "-d", "-u", "1000", "busybox", "sleep", "1000").stdout.strip()
    state = json.loads((ctr.root / "containers" / cid / "container.json").read_text())["state"]
    os.kill(state["supervisor_pid"], signal.SIGKILL)
    assert wait_until(lambda: _gone(state["pid"]), timeout=10), "the -u 1000 container outlived its supervisor"
    assert wait_until(lambda: "Exited" in ctr("ps", "-a", "--format", "{{.Status}}").stdout)
    ctr("rm", cid)


@pytest.mark.skipif(find_external("runc") is None, reason="runc not installed")
def test_state_follows_an_init_that_outlives_its_supervisor_kill9(ctr: Podpy) -> None:  # noqa: F811
    """runc's init does not die with the supervisor: the record must still say running, and rm -f
    must still stop it."""
    ctr.extra = [*ctr.extra, "--runtime", "runc"]
    cid = ctr("run", "-d", "busybox", "sleep", "1000").stdout.strip()
    state = json.loads((ctr.root / "containers" / cid / "container.json").read_text())["state"]
    os.kill(state["supervisor_pid"], signal.SIGKILL)
    assert wait_until(lambda: _gone(state["supervisor_pid"]))
    assert not _gone(state["pid"])
    assert ctr("ps", "--format", "{{.ID}} {{.Status}}").stdout.startswith(f"{cid[:12]} Up")
    ctr("rm", "-f", cid)
    assert wait_until(lambda: _gone(state["pid"]), timeout=10)
    assert ctr("ps", "-aq").stdout == ""


def test_supervisor_title_hides_the_command_line(ctr: Podpy) -> None:  # noqa: F811
    cid = ctr("run", "-d", "-e", "SECRET=hunter2-procfd", "busybox", "sleep", "100").stdout.strip()
    sup = json.loads((ctr.root / "containers" / cid / "container.json").read_text())["state"]["supervisor_pid"]
    cmdline = Path(f"/proc/{sup}/cmdline").read_bytes()
    assert cmdline.rstrip(b"\0") == f"podpy-supervisor {cid}".encode()
    assert Path(f"/proc/{sup}/comm").read_text().strip() == "podpy-superviso"
    ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(sup)], capture_output=True, text=True).stdout
    assert ps.strip() == f"podpy-supervisor {cid}" and "hunter2" not in ps
    ctr("exec", "-d", "-e", "OTHER=hunter2-exec", cid, "sleep", "30")  # its reaper lives as long
    assert wait_until(lambda: _cmdlines_with(f"podpy-exec {cid}".encode()) != [])
    assert _cmdlines_with(b"hunter2") == []


def _cmdlines_with(needle: bytes) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and needle in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found


def test_exec_checks_the_recorded_start_time(ctr: Podpy) -> None:  # noqa: F811
    """A record whose init pid now names another process (pid reuse): exec must refuse it."""
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    path = ctr.root / "containers" / cid / "container.json"
    doc = json.loads(path.read_text())
    doc["state"]["pid_start"] += 1
    path.write_text(json.dumps(doc))
    res = ctr("exec", cid, "true", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: ") and "running" in res.stderr


def test_open_pid_dir_refuses_a_recycled_pid() -> None:
    from podpy.errors import PodpyError
    from podpy.runtime.base import proc_start_time
    from podpy.runtime.builtin.namespaces import open_pid_dir

    me = os.getpid()
    os.close(open_pid_dir(me, proc_start_time(me)))
    with pytest.raises(PodpyError, match="not running"):
        open_pid_dir(me, (proc_start_time(me) or 0) + 1)


def test_a_cwd_outside_the_root_is_refused(tmp_path: Path) -> None:
    """The check after chdir (runc's second fix for CVE-2024-21626): a cwd the root cannot reach."""
    from podpy.errors import PodpyError
    from podpy.runtime.builtin import process

    (tmp_path / "root").mkdir()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - forked child
        code = 1
        try:
            os.chdir(tmp_path)
            os.chroot(tmp_path / "root")  # the cwd stays outside the new root, as through a leaked fd
            try:
                process._check_cwd("/proc/self/fd/3")
            except PodpyError as e:
                code = 0 if "outside the container root" in str(e) else 2
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
