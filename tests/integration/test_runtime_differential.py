"""The same bundles under the built-in runtime and runc: what the container sees must agree."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from podpy.errors import CannotInvoke, CommandNotFound
from tests.integration import runtime_fixtures as rf
from tests.integration.runtime_fixtures import Harness, read_pty

rootfs = rf.rootfs
pytestmark = [rf.needs_root, pytest.mark.skipif(rf.find_external("runc") is None, reason="runc not installed")]

PROBE = """
id
echo "cwd=$(pwd)"
echo "hostname=$(hostname)"
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status | grep -v Seccomp
env | sort
awk '{print "mount " $5}' /proc/self/mountinfo | sort
echo "ping=$(cat /proc/sys/net/ipv4/ping_group_range | tr '\\t' ' ')"
ls /dev | tr '\\n' ' '; echo
touch /rootfs-writable 2>/dev/null && echo root-rw || echo root-ro
sort /sys/fs/cgroup/devices/devices.list 2>/dev/null
exit ${CODE:-0}
"""

CASES: dict[str, dict[str, Any]] = {
    "default": {},
    "exit-code": {"env": ("CODE=5",)},
    "uid-gid": {"user": "33:33"},
    "user-name": {"user": "www-data"},
    "unknown-uid": {"user": "4242"},
    "cwd-env": {"cwd": "/var/www", "env": ("FOO=bar", "EMPTY=")},
    "caps": {"cap_add": ("NET_ADMIN", "sys_ptrace"), "cap_drop": ("CHOWN",)},
    "user-caps": {"user": "33", "cap_add": ("NET_BIND_SERVICE",)},
    "no-new-privs": {"no_new_privileges": True},
    "hostname": {"hostname": "diff-host"},
    "read-only": {"read_only": True},
    "privileged": {"privileged": True},
    "host-network": {"network": "host"},
    "sysctl": {"sysctls": {"net.ipv4.ip_unprivileged_port_start": "80"}},
}


def _probe(h: Harness, case: dict[str, Any], cid_hostname: bool = True) -> tuple[int, str]:
    kw = dict(case)
    kw.setdefault("hostname", "probe")  # the default (short ID) differs per container
    res = h.run("sh", "-c", PROBE, **kw)
    assert res.err == "" or "ping" in res.err, res.err
    return res.code, res.out


@pytest.fixture
def pair(tmp_path: Path, rootfs: Path):  # type: ignore[no-untyped-def]
    hs = []
    for name in ("builtin", "runc"):
        d = tmp_path / name
        d.mkdir()
        hs.append(Harness(d, rootfs, rf.make_runtime(name, d)))
    yield hs
    for h in hs:
        h.cleanup()


@pytest.mark.parametrize("case", list(CASES))
def test_same_view(pair: list[Harness], case: str) -> None:
    builtin, runc = (_probe(h, CASES[case]) for h in pair)
    assert builtin[0] == runc[0]
    assert builtin[1].splitlines() == runc[1].splitlines()


@pytest.mark.parametrize(("cmd", "error"), [("nosuchcmd", CommandNotFound), ("/no/such/file", CommandNotFound),
                                            ("/notexec", CannotInvoke)])  # fmt: skip
def test_same_errors(pair: list[Harness], cmd: str, error: type[Exception]) -> None:
    for h in pair:
        with pytest.raises(error):
            h.start(cmd)


def test_same_terminal(pair: list[Harness]) -> None:
    outs = []
    for h in pair:
        run = h.start("sh", "-c", "tty; ls -l /dev/console | cut -c1; stty -a | head -1", terminal=True,
                      hostname="t")  # fmt: skip
        assert run.started.pty_master is not None
        outs.append(read_pty(run.started.pty_master).replace(b"\r", b""))
        assert h.finish(run).code == 0
    assert outs[0] == outs[1]
    assert outs[0].startswith(b"/dev/pts/0\nc\n")


def test_same_exec(pair: list[Harness]) -> None:
    outs = []
    for h in pair:
        run = h.start("sleep", "30", hostname="e")
        r, w = os.pipe()
        proc = {"args": ["sh", "-c", "hostname; id; pwd; grep CapEff /proc/self/status; cat /proc/1/cmdline"],
                "cwd": "/tmp", "env": ["PATH=/bin"], "user": {"uid": 33, "gid": 33},
                "capabilities": {"bounding": ["CAP_KILL"], "effective": [], "permitted": []}}  # fmt: skip
        ex = h.runtime.exec(run.cid, run.started.pid, proc, rf.Stdio(stdout=w, stderr=w), run.state)
        os.close(w)
        assert rf.wait(ex.pid) == 0
        outs.append(os.read(r, 65536))
        os.close(r)
    assert outs[0] == outs[1]
    assert outs[0].startswith(b"e\nuid=33(www-data) gid=33(www-data)")


def test_same_overlay_rootfs(pair: list[Harness], tmp_path: Path, rootfs: Path) -> None:
    """The rootfs annotation: mounted in the container's namespace (built-in) or on the host (runc)."""
    for h in pair:
        upper, work, merged = (h.tmp / n for n in ("upper", "work", "merged"))
        for d in (upper, work, merged):
            d.mkdir()
        spec = {"type": "overlay", "source": "overlay", "options": f"lowerdir={rootfs},upperdir={upper},workdir={work}"}
        res = h.run("sh", "-c", "echo hi > /f; cat /f", rootfs=merged,
                    annotations={"io.podpy.rootfs.mount": json.dumps(spec)})  # fmt: skip
        assert (res.code, res.out) == (0, "hi\n")
        assert (upper / "f").read_text() == "hi\n"
        assert not os.path.ismount(merged)  # runc's host mount is gone after delete
