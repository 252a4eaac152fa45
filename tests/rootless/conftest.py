"""Rootless fixtures (run as root): an install of podpy an ordinary user can execute, users with and
without /etc/subuid entries, and a runner that calls podpy as that user. Everything is undone.

The install is a virtualenv made from /usr/bin/python3 under /opt/podpy-rootless-test (world
readable, unlike a checkout under /root), with a copy of this repository installed by pip. It is
kept between sessions while the source is unchanged (a hash stamp).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.busybox import make_rootfs_tar
from tests.conftest import REPO

INSTALL = Path("/opt/podpy-rootless-test")
# fixed, unusual uids and subordinate ranges, so suites running side by side never collide
USERS = {"subuid": ("podpy-rl-sub", 2931), "single": ("podpy-rl-single", 2932)}
SUBID_START = {"subuid": 400000}


def _source_hash() -> str:
    h = hashlib.sha256()
    for path in sorted([REPO / "pyproject.toml", *(REPO / "podpy").rglob("*.py")]):
        h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def rootless_podpy() -> Path:
    """The podpy console script of the rootless install (made or refreshed as needed)."""
    if os.geteuid() != 0:
        pytest.skip("the rootless suite runs as root: it creates its users")
    if not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("useradd/runuser are not installed")
    stamp, script = INSTALL / "stamp", INSTALL / "venv" / "bin" / "podpy"
    digest = _source_hash()
    if script.exists() and stamp.exists() and stamp.read_text() == digest:
        return script
    shutil.rmtree(INSTALL, ignore_errors=True)
    src = INSTALL / "src"
    src.mkdir(parents=True)
    shutil.copytree(REPO / "podpy", src / "podpy", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(INSTALL / "venv")], check=True)
    proc = subprocess.run([str(INSTALL / "venv" / "bin" / "pip"), "install", "-q", str(src)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot install podpy for the rootless user: {proc.stderr.strip()[-500:]}")
    os.chmod(INSTALL, 0o755)
    stamp.write_text(digest)
    return script


def _owned(uid: int, st_uid: int) -> bool:
    """The user's own processes, or its containers' processes running as a subordinate id."""
    return st_uid == uid or any(s <= st_uid < s + 65536 for s in SUBID_START.values())


def _user_pids(uid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if _owned(uid, os.stat(f"/proc/{entry}").st_uid):
                    out.append(int(entry))
            except OSError:
                continue
    return out


def _kill_user_processes(uid: int) -> None:
    """By pid: every process of the test user (all of them were started by these tests)."""
    for _ in range(3):
        pids = _user_pids(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _subids(name: str, start: int, add: bool) -> None:
    """usermod edits /etc/subuid and /etc/subgid under shadow-utils' own locks (other suites edit them too)."""
    rng = f"{start}-{start + 65535}"
    flags = (
        ["--add-subuids", rng, "--add-subgids", rng] if add else ["--del-subuids", rng, "--del-subgids", rng]
    )
    subprocess.run(["usermod", *flags, name], check=add, capture_output=True)


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path
    runtime_dir: Path
    kind: str  # "subuid" | "single"


@pytest.fixture(scope="module", params=list(USERS))
def rl_user(request: pytest.FixtureRequest, rootless_podpy: Path) -> Iterator[User]:
    kind = request.param
    name, uid = USERS[kind]
    if _exists(name):
        _remove_user(name, kind)
    # -K ...=0: Debian's useradd would otherwise allocate subordinate ids itself
    subprocess.run(["useradd", "-m", "-u", str(uid), "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K",
                    "SUB_GID_COUNT=0", name], check=True, capture_output=True)  # fmt: skip
    if kind in SUBID_START:
        _subids(name, SUBID_START[kind], add=True)
    pw = pwd.getpwnam(name)
    rdir = Path(tempfile.mkdtemp(prefix=f"podpy-rl-{pw.pw_uid}-"))
    os.chown(rdir, pw.pw_uid, pw.pw_gid)
    os.chmod(rdir, 0o700)
    try:
        yield User(name, pw.pw_uid, pw.pw_gid, Path(pw.pw_dir), rdir, kind)
    finally:
        _remove_user(name, kind)
        shutil.rmtree(rdir, ignore_errors=True)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _remove_user(name: str, kind: str) -> None:
    pw = pwd.getpwnam(name)
    _kill_user_processes(pw.pw_uid)
    with open("/proc/self/mountinfo") as f:  # nothing of podpy stays mounted; still, never leak
        for mp in reversed([line.split()[4] for line in f]):
            if mp.startswith(pw.pw_dir + "/"):
                subprocess.run(["umount", "-l", mp], capture_output=True)
    if kind in SUBID_START:
        _subids(name, SUBID_START[kind], add=False)
    subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


@dataclass
class Rootless:
    """Runs the installed podpy as the test user, with its own XDG_RUNTIME_DIR."""

    user: User
    script: Path

    def argv(self, *args: str) -> list[str]:
        env = [
            f"XDG_RUNTIME_DIR={self.user.runtime_dir}",
            f"HOME={self.user.home}",
            "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
        ]
        return ["runuser", "-u", self.user.name, "--", "env", "-i", *env, str(self.script), *args]

    def __call__(self, *args: str, input: str | None = None, check: bool = True,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
        res = subprocess.run(self.argv(*args), input=input, capture_output=True, text=True, timeout=timeout,
                             cwd="/")  # fmt: skip
        if check and res.returncode != 0:
            raise AssertionError(
                f"podpy {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
            )
        return res

    def store(self) -> Path:
        return self.user.home / ".local" / "share" / "podpy"


TUN = "/dev/net/tun"


@pytest.fixture
def tun_open() -> Iterator[None]:
    """/dev/net/tun 0666 for the test, as most distributions ship it (this host: 0600), for pasta and
    slirp4netns. Restored afterwards (run the suite under the rootless lock, see BRIEF)."""
    import stat

    if not os.path.exists(TUN):
        pytest.skip("no /dev/net/tun")
    old = stat.S_IMODE(os.stat(TUN).st_mode)
    os.chmod(TUN, 0o666)
    try:
        yield
    finally:
        os.chmod(TUN, old)


def net_processes(uid: int) -> list[str]:
    """The user's network helpers: pasta, slirp4netns, namespace holders, port forwarders."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith(("pasta", "slirp4netns", "sleep infinity", "podpy-rootless-netns")) or "podpy-portfwd" in cmd:
            out.append(f"{pid} {cmd}")
    return out


@pytest.fixture(scope="module")
def rl_image(rl_user: User, rootless_podpy: Path) -> str:
    """busybox:latest in the user's own store (imported once per user)."""
    tmp = Path(tempfile.mkdtemp(prefix="podpy-rl-img-"))
    os.chmod(tmp, 0o755)
    try:
        tar = make_rootfs_tar(tmp / "busybox.tar")
        os.chmod(tar, 0o644)
        res = Rootless(rl_user, rootless_podpy)("import", "--change", 'CMD ["/bin/sh"]', str(tar), "busybox")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res.stdout.strip().splitlines()[-1]


@pytest.fixture
def rl(rl_user: User, rootless_podpy: Path, rl_image: str) -> Iterator[Rootless]:
    """The runner; every container is removed afterwards (and stray processes killed)."""
    r = Rootless(rl_user, rootless_podpy)
    yield r
    subprocess.run(r.argv("rm", "-af"), capture_output=True, timeout=120)
    if _user_pids(rl_user.uid):
        _kill_user_processes(rl_user.uid)
