"""The built-in runtime run by an ordinary user (created here), with Debian's /usr/bin/python3 and a
world-readable copy of podpy: single-id mapping (no /etc/subuid entry) and the full subuid range."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.busybox import make_rootfs
from tests.integration.runtime_fixtures import unmount_under

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
SUBID_START = 700000  # away from ranges other test users on this machine may hold
USERS = {"single": ("podpyrts", 2917), "subuid": ("podpyrtf", 2918)}  # fixed, unusual uids: no reuse of
# an id that another suite's /etc/subuid line still names

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="creates users: needs root"),
    pytest.mark.skipif(not (shutil.which("useradd") and shutil.which("runuser")), reason="no useradd/runuser"),
    pytest.mark.skipif(not Path(PYTHON).exists(), reason="no /usr/bin/python3"),
]

PROBE = r'''
import json, os, signal, sys, time
from pathlib import Path
from podpy.engine.spec import ContainerSpec
from podpy.engine.specgen import generate
from podpy.runtime import get_runtime, Stdio

work, cases = Path(sys.argv[1]), json.loads(sys.argv[2])
rt = get_runtime(sys.argv[3] if len(sys.argv) > 3 else None, work / "run")
results = []
for i, case in enumerate(cases):
    d = work / f"c{i}"
    d.mkdir()
    cid = f"{i:04d}" + "r" * 60
    rootfs = Path(case.pop("rootfs", str(work / "rootfs")))
    exec_proc = case.pop("exec", None)
    cfg = generate(ContainerSpec(args=tuple(case.pop("args")), hostname="rl", **case), rootfs, cid=cid)
    (d / "config.json").write_text(json.dumps(cfg))
    res = {"uidMappings": cfg["linux"].get("uidMappings")}
    with open(d / "out", "wb") as fo, open(d / "err", "wb") as fe:
        stdio = Stdio(stdout=fo.fileno(), stderr=fe.fileno())
        t0 = time.perf_counter()
        try:
            st = rt.start(cid, d, stdio, d)
        except Exception as e:
            res.update(error=type(e).__name__, msg=str(e))
            results.append(res)
            continue
        res["start_ms"] = (time.perf_counter() - t0) * 1000
        if exec_proc:
            ex = rt.exec(cid, st.pid, exec_proc, stdio, d)
            res["exec_code"] = os.waitstatus_to_exitcode(os.waitpid(ex.pid, 0)[1])
            os.kill(st.pid, signal.SIGKILL)
        res["code"] = os.waitstatus_to_exitcode(os.waitpid(st.pid, 0)[1])
        rt.delete(cid, d)
    res.update(out=(d / "out").read_text(), err=(d / "err").read_text())
    results.append(res)
print(json.dumps(results))
'''


@dataclass
class User:
    name: str
    uid: int
    base: Path  # world-traversable: podpy copy in lib/, the user's work dirs in work-*/


def _remove_lines(path: Path, line: str) -> None:
    try:
        kept = [x for x in path.read_text().splitlines() if x != line]
    except FileNotFoundError:
        return
    path.write_text("".join(f"{x}\n" for x in kept))


@pytest.fixture(scope="module", params=["single", "subuid"])
def user(request: pytest.FixtureRequest) -> Iterator[User]:
    name, uid = USERS[request.param]
    subprocess.run(["userdel", name], capture_output=True)
    # -K: Debian's useradd would otherwise allocate subordinate ids itself (SUB_UID_COUNT)
    made = subprocess.run(["useradd", "-M", "-u", str(uid), "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0",
                           "-K", "SUB_GID_COUNT=0", name], capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot create test user {name} ({uid}): {made.stderr.strip()}")
    assert pwd.getpwnam(name).pw_uid == uid
    lines = []
    if request.param == "subuid":
        for f in ("/etc/subuid", "/etc/subgid"):
            line = f"{name}:{SUBID_START}:65536"
            with open(f, "a") as fh:
                fh.write(line + "\n")
            lines.append((Path(f), line))
    base = Path(tempfile.mkdtemp(prefix="podpy-rt-rootless-"))
    os.chmod(base, 0o755)
    shutil.copytree(REPO / "podpy", base / "lib" / "podpy", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["chmod", "-R", "a+rX", str(base / "lib")], check=True)
    try:
        yield User(name, uid, base)
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)  # only this test user's processes
        unmount_under(base)
        shutil.rmtree(base, ignore_errors=True)
        for path, line in lines:
            _remove_lines(path, line)
        subprocess.run(["userdel", name], capture_output=True)


def run_as(user: User, cases: list[dict[str, Any]], tmp_name: str, dirs: tuple[str, ...] = (),
           runtime: str = "") -> list[dict[str, Any]]:  # fmt: skip
    """Run the probe as `user` in <base>/work-<tmp_name> (with a busybox rootfs and `dirs`)."""
    work = user.base / f"work-{tmp_name}"
    work.mkdir()
    make_rootfs(work / "rootfs")
    for d in dirs:
        (work / d).mkdir()
    (work / "probe.py").write_text(PROBE)
    subprocess.run(["chown", "-R", f"{user.uid}:{user.uid}", str(work)], check=True)
    env = ["env", "-i", f"PYTHONPATH={user.base / 'lib'}", "PATH=/usr/bin:/bin:/usr/sbin:/sbin", f"HOME={work}",
           "PYTHONDONTWRITEBYTECODE=1"]  # fmt: skip
    cmd = ["runuser", "-u", user.name, "--", *env, PYTHON, str(work / "probe.py"), str(work), json.dumps(cases)]
    if runtime:
        cmd.append(runtime)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_rootless_basics(user: User) -> None:
    full = user.name.endswith("f")
    cases = [
        {"args": ["echo", "hello"]},
        {"args": ["sh", "-c", "exit 3"]},
        {"args": ["sh", "-c", "id; hostname; grep CapEff /proc/self/status; cat /proc/self/uid_map; echo $$"]},
        {"args": ["nosuchcmd"]},
        {"args": ["sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range; cat /proc/keys; echo x > /proc/sys/kernel/domainname"]},
        {"args": ["sh", "-c", "awk '{print $5}' /proc/self/mountinfo"]},
        {"args": ["sleep", "30"], "exec": {"args": ["sh", "-c", "hostname; id -u; cat /proc/1/cmdline"], "cwd": "/",
                                           "env": ["PATH=/bin"]}},
        {"args": ["id"], "user": "33:33"},
        {"args": ["true"], "resources": {"pids": {"limit": 10}}},
        {"args": ["sh", "-c", "id -u; id -g; cat /proc/sys/net/ipv4/ping_group_range"], "userns": "keep-id"},
    ]  # fmt: skip
    echo, code3, info, missing, proc, mounts, ex, uid33, limits, keep = run_as(user, cases, "basics")
    assert len(echo["uidMappings"]) == (2 if full else 1), echo["uidMappings"]  # /etc/subuid as set up
    assert (echo["code"], echo["out"]) == (0, "hello\n")
    assert code3["code"] == 3
    lines = info["out"].splitlines()
    assert lines[0].startswith("uid=0(root) gid=0(root)")
    assert lines[1:3] == ["rl", "CapEff:\t00000000800405fb"]
    uid_map = lines[3].split()
    assert uid_map == ["0", str(user.uid), "1"]
    if full:
        assert lines[4].split() == ["1", str(SUBID_START), "65536"]
    assert lines[-1] == "1"
    assert missing["error"] == "CommandNotFound" and "nosuchcmd" in missing["msg"]
    assert proc["out"].split() == ["0", "0"] and proc["code"] != 0  # /proc/keys empty, /proc/sys ro
    targets = set(mounts["out"].split())
    assert {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/proc/sys"} <= targets
    assert not any(t.startswith(("/work", "/tmp", "/home")) for t in targets)
    assert ex["exec_code"] == 0 and ex["out"].startswith("rl\n0\nsleep")
    if full:  # uid 33 exists only in the full mapping
        assert uid33["out"].startswith("uid=33(www-data) gid=33(www-data)")
    else:
        assert uid33.get("error") == "PodpyError" and "not mapped in the user namespace" in uid33["msg"], uid33
    assert limits["error"] == "PodpyError" and "cgroup v2 delegation" in limits["msg"]
    assert keep.get("code") == 0, keep
    ping = "0 0" if full else f"{user.uid} {user.uid}"
    assert keep["out"].split() == [str(user.uid), str(user.uid), *ping.split()]
    print(f"\nrootless ({'subuid' if full else 'single-id'}) start of echo: {echo['start_ms']:.1f} ms")


def test_rootless_overlay_rootfs(user: User) -> None:
    work = f"{user.base}/work-overlay"
    spec = {"type": "overlay", "source": "overlay",
            "options": f"lowerdir={work}/rootfs,upperdir={work}/upper,workdir={work}/work,userxattr"}  # fmt: skip
    cases = [{"args": ["sh", "-c", "echo made > /newfile; rm /bin/true; ls /bin/true"], "rootfs": f"{work}/merged",
              "annotations": {"io.podpy.rootfs.mount": json.dumps(spec)}}]  # fmt: skip
    (res,) = run_as(user, cases, "overlay", dirs=("upper", "work", "merged"))
    assert res.get("code") == 1, res  # ls fails: the whiteout hides /bin/true
    upper = Path(f"{user.base}/work-overlay/upper")
    assert (upper / "newfile").read_text() == "made\n"
    assert (upper / "bin" / "true").is_char_device()  # overlay whiteout, written in the user namespace
    assert os.listdir(f"{work}/merged") == []


@pytest.mark.skipif(shutil.which("runc") is None and not Path("/usr/sbin/runc").exists(), reason="no runc")
def test_rootless_runc_same_bundle(user: User) -> None:
    """runc runs the rootless bundle specgen wrote, as the same user."""
    cases = [{"args": ["sh", "-c", "id -u; grep CapEff /proc/self/status; cat /proc/self/uid_map | wc -l"]},
             {"args": ["nosuchcmd"]}]  # fmt: skip
    ok, missing = run_as(user, cases, "runc", runtime="runc")
    assert ok.get("code") == 0, ok
    lines = ok["out"].splitlines()
    assert lines[:2] == ["0", "CapEff:\t00000000800405fb"]
    assert lines[2].strip() == ("2" if user.name.endswith("f") else "1")
    assert missing.get("error") == "CommandNotFound", missing
