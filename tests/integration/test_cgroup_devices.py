"""cgroup v2 device rules: the BPF device program on a real cgroup2 directory (this host's empty unified
tree on a hybrid host, the v2 root on a unified one), alone and as the built-in runtime attaches it."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from podpy.runtime.builtin import cgroups, device_filter
from podpy.runtime.builtin.cgroups import UNIFIED
from tests.integration.containers_fixtures import ctr, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root")

# a child that waits until it has been moved into a cgroup, then opens each path and reports errnos
PROBE = """
import json, os, sys
sys.stdin.readline()
out = {}
for path in sys.argv[1:]:
    for name, flags in (("r", os.O_RDONLY), ("w", os.O_WRONLY)):
        try:
            os.close(os.open(path, flags | os.O_NONBLOCK))
            out[path + ":" + name] = 0
        except OSError as e:
            out[path + ":" + name] = e.errno
print(json.dumps(out))
"""


def _probe(cgroup: Path, paths: list[str]) -> dict[str, int]:
    """Open `paths` from a process placed only in `cgroup` (its other hierarchies stay the host's)."""
    proc = subprocess.Popen([sys.executable, "-c", PROBE, *paths], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        (cgroup / "cgroup.procs").write_text(str(proc.pid))
        out, _ = proc.communicate("go\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return json.loads(out)


@pytest.fixture
def v2_dir():  # type: ignore[no-untyped-def]
    h = cgroups.hierarchies().get(UNIFIED)
    if h is None:
        pytest.skip("no cgroup2 hierarchy mounted")
    path = Path(h.mountpoint) / f"podpy-devtest-{os.getpid()}"
    path.mkdir()
    try:
        yield path
    finally:
        wait_until(lambda: not (path / "cgroup.procs").read_text().strip(), 5)
        path.rmdir()


@pytest.fixture
def nodes(tmp_path: Path) -> Path:
    """Device nodes with /dev/null's and /dev/kmsg's numbers, made where no policy knows their path."""
    os.mknod(tmp_path / "null", 0o20666, os.makedev(1, 3))
    os.mknod(tmp_path / "kmsg", 0o20600, os.makedev(1, 11))
    return tmp_path


def test_default_rules_deny_kmsg_allow_null(v2_dir: Path, nodes: Path) -> None:
    device_filter.attach(v2_dir, device_filter.effective([{"allow": False, "access": "rwm"}]))
    got = _probe(v2_dir, ["/dev/null", str(nodes / "null"), "/dev/kmsg", str(nodes / "kmsg"), "/dev/zero"])
    assert got[f"{nodes}/null:w"] == got["/dev/null:r"] == got["/dev/zero:r"] == 0
    assert got["/dev/kmsg:r"] == got[f"{nodes}/kmsg:r"] == got[f"{nodes}/kmsg:w"] == errno.EPERM
    # the same process outside the cgroup may open it: the program, not the node, refuses
    assert _probe(Path(cgroups.hierarchies()[UNIFIED].mountpoint), [f"{nodes}/kmsg"])[f"{nodes}/kmsg:r"] == 0


def test_deny_one_access_after_allow_all(v2_dir: Path, nodes: Path) -> None:
    rules = [{"allow": True, "access": "rwm"}, {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}]
    device_filter.attach(v2_dir, device_filter.effective(rules))
    got = _probe(v2_dir, [str(nodes / "null"), str(nodes / "kmsg")])
    assert got == {f"{nodes}/null:r": 0, f"{nodes}/null:w": errno.EPERM, f"{nodes}/kmsg:r": 0,
                   f"{nodes}/kmsg:w": 0}  # fmt: skip


def test_mknod_follows_the_m_access(v2_dir: Path, tmp_path: Path) -> None:
    rules = [{"allow": True, "access": "rwm"}, {"allow": False, "type": "c", "major": 1, "access": "m"}]
    device_filter.attach(v2_dir, device_filter.effective(rules))
    script = f"""
import os, sys
sys.stdin.readline()
for name, num in (("a", os.makedev(1, 3)), ("b", os.makedev(4, 1))):
    try:
        os.mknod("{tmp_path}/" + name, 0o20600, num); print(name, 0)
    except OSError as e:
        print(name, e.errno)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    (v2_dir / "cgroup.procs").write_text(str(proc.pid))
    out, _ = proc.communicate("go\n", timeout=30)
    assert out.split("\n")[:2] == [f"a {errno.EPERM}", "b 0"]


def _container_v2_dir(p, cid: str) -> Path:  # type: ignore[no-untyped-def]
    pid = json.loads(p("inspect", cid).stdout)[0]["State"]["Pid"]
    found = cgroups.of_pid(pid).dir(UNIFIED)
    assert found is not None and found.name == f"podpy-{cid}", found
    return found


def test_a_container_gets_the_program_and_privileged_does_not(ctr, tmp_path: Path) -> None:  # noqa: F811
    """Only the v2 directory of the container is joined: on a hybrid host the v1 devices cgroup of the
    probe stays the host's, so EPERM can come from the BPF program alone."""
    if cgroups.hierarchies().get(UNIFIED) is None:
        pytest.skip("no cgroup2 hierarchy mounted")
    os.mknod(tmp_path / "kmsg", 0o20600, os.makedev(1, 11))
    kmsg = f"{tmp_path}/kmsg:r"
    cid = ctr("run", "-d", "busybox", "sleep", "60").stdout.strip()
    ctr.seen_ids.append(cid)
    got = _probe(_container_v2_dir(ctr, cid), ["/dev/null", str(tmp_path / "kmsg")])
    assert got["/dev/null:w"] == 0 and got[kmsg] == errno.EPERM
    priv = ctr("run", "-d", "--privileged", "busybox", "sleep", "60").stdout.strip()
    ctr.seen_ids.append(priv)
    assert _probe(_container_v2_dir(ctr, priv), [str(tmp_path / "kmsg")])[kmsg] == 0
    ctr("rm", "-f", cid, priv)


def test_device_flag_adds_the_node_and_its_rule(ctr, tmp_path: Path) -> None:  # noqa: F811
    """--device HOST[:CONTAINER][:PERMS]: the node inside, the v1 rule and the v2 program allow it,
    with no more access than asked for (fuse and loop-control open without capabilities)."""
    if not (os.path.exists("/dev/fuse") and os.path.exists("/dev/loop-control")):
        pytest.skip("needs /dev/fuse and /dev/loop-control")
    out = ctr("run", "--rm", "--device", "/dev/loop-control", "--device", "/dev/fuse:/dev/f:r", "busybox", "sh",
              "-c", "ls -l /dev/loop-control /dev/f | cut -c1; dd if=/dev/loop-control count=0 && echo lc-read; "
              "dd if=/dev/f count=0 && echo f-read; echo -n > /dev/f || echo f-write-denied").stdout  # fmt: skip
    assert out.split() == ["c", "c", "lc-read", "f-read", "f-write-denied"], out
    cid = ctr("run", "-d", "--device", "/dev/fuse:/dev/f:r", "busybox", "sleep", "60").stdout.strip()
    ctr.seen_ids.append(cid)
    doc = json.loads(ctr("inspect", cid).stdout)[0]
    assert doc["HostConfig"]["Devices"] == [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/f",
                                             "CgroupPermissions": "r"}]  # fmt: skip
    if cgroups.hierarchies().get(UNIFIED) is not None:
        fuse = os.stat("/dev/fuse").st_rdev
        os.mknod(tmp_path / "fuse", 0o20600, fuse)
        got = _probe(_container_v2_dir(ctr, cid), [str(tmp_path / "fuse")])
        assert got == {f"{tmp_path}/fuse:r": 0, f"{tmp_path}/fuse:w": errno.EPERM}
    ctr("rm", "-f", cid)
    for bad, msg in (("/dev/nosuch", "no such file or directory"), ("/etc/hostname", "not a device"),
                     ("dev/null", "invalid device specification")):  # fmt: skip
        res = ctr("run", "--rm", "--device", bad, "busybox", "true", check=False)
        assert res.returncode == 125 and msg in res.stderr and res.stderr.startswith("Error: "), res.stderr
