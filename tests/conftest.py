"""Shared fixtures: a busybox rootfs tar, and a podpy runner with a private store per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.busybox import make_rootfs_tar

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path("/bin/busybox").exists():
        pytest.skip("busybox-static is not installed")
    return make_rootfs_tar(tmp_path_factory.mktemp("busybox") / "busybox.tar")


@dataclass
class Podpy:
    """Runs `python -m podpy --root R --runroot RR ...` against a store private to one test."""

    root: Path
    runroot: Path
    extra: list[str] = field(default_factory=list)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "podpy", "--root", str(self.root), "--runroot", str(self.runroot),
                *self.extra, *args]  # fmt: skip

    def __call__(self, *args: str, input: bytes | str | None = None, check: bool = True,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(self.argv(*args), input=data, capture_output=True, timeout=timeout, cwd=REPO)
        res = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"),
                                          proc.stderr.decode(errors="replace"))  # fmt: skip
        if check and res.returncode != 0:
            raise AssertionError(f"podpy {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
        return res

    def raw(self, *args: str, **kw) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
        """Bytes in and out (archives on stdin/stdout)."""
        return subprocess.run(self.argv(*args), capture_output=True, cwd=REPO, **kw)


def _cleanup_store(p: Podpy) -> None:
    """Unmount anything left under the store (a failed test must not leak mounts), and remove the
    host side of its networks (bridges, nft rules: the default network is never removed by podpy)."""
    if (p.root / "networks").is_dir() and os.geteuid() == 0:
        from podpy.config import Options
        from podpy.engine.core import Engine

        subprocess.run(p.argv("rm", "-af"), capture_output=True, timeout=120)
        Engine(Options(root=p.root, runroot=p.runroot)).networks.reset()
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for mp in reversed(points):
        if mp.startswith((str(p.root), str(p.runroot))):
            subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(p.root, ignore_errors=True)
    shutil.rmtree(p.runroot, ignore_errors=True)


@pytest.fixture
def podpy(tmp_path: Path):  # type: ignore[no-untyped-def]
    p = Podpy(tmp_path / "root", tmp_path / "run")
    if os.geteuid() != 0:
        p.extra = ["--storage-driver", "vfs"]
    yield p
    _cleanup_store(p)


@pytest.fixture
def podpy_vfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    p = Podpy(tmp_path / "root-vfs", tmp_path / "run-vfs", ["--storage-driver", "vfs"])
    yield p
    _cleanup_store(p)


@pytest.fixture
def busybox_image(podpy: Podpy, busybox_tar: Path) -> str:
    """Image ID of a busybox image named busybox:latest in the test's store."""
    res = podpy("import", "--change", 'CMD ["/bin/sh"]', str(busybox_tar), "busybox:latest")
    return res.stdout.strip().splitlines()[-1]


def _net_helpers() -> set[str]:
    """Running rootless networking helpers, as "pid name": pasta / slirp4netns, the rootless network
    namespace's holder and the port forwarders of rootless bridge containers."""
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue  # ended, not yet reaped by init
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, IndexError):
            continue
        if comm in ("pasta", "passt", "pasta.avx2", "passt.avx2", "slirp4netns"):
            out.add(f"{pid} {comm}")
        elif argv[0] == b"podpy-rootless-netns" or b"podpy-portfwd" in argv:
            out.add(f"{pid} {argv[0].decode(errors='replace')}")
    return out


def _network_state() -> tuple[set[str], str]:
    """podpy's bridges and veths on the host, rootless network helpers, and podpy's nft table ("" when
    there is none)."""
    links = {x for x in os.listdir("/sys/class/net") if x.startswith(("podpy", "veth"))} | _net_helpers()
    table = ""
    if shutil.which("nft"):
        for family in ("ip", "ip6"):  # the IPv6 one only with dual-stack networks
            res = subprocess.run(["nft", "list", "table", family, "podpy"], capture_output=True, text=True)
            table += res.stdout if res.returncode == 0 else ""
    return links, table


@pytest.fixture(scope="session", autouse=True)
def no_network_leftovers():  # type: ignore[no-untyped-def]
    """After the whole run: no podpy bridge, container veth, rootless network helper (pasta, slirp4netns,
    the rootless network namespace's holder, a port forwarder) or nft table that was not there before."""
    if os.geteuid() != 0:
        yield
        return
    links_before, table_before = _network_state()
    yield
    import time

    deadline = time.monotonic() + 10  # veths go with their namespaces, cleaned up by the kernel
    while time.monotonic() < deadline and _network_state()[0] - links_before:
        time.sleep(0.1)
    links, table = _network_state()
    assert not links - links_before, f"left on the host: {sorted(links - links_before)}"
    assert table_before or not table, f"left on the host: {table}"


# Scenario tests that take seconds each: `-m "not slow"` gives a quick subset while working.
SLOW_FILES = ("tests/rootless/", "test_runtime_rootless.py", "test_concurrency.py")
SLOW_WORDS = ("concurrent", "kill9", "kill_9", "supervisor_killed", "interop")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(f in item.nodeid for f in SLOW_FILES) or any(w in item.name for w in SLOW_WORDS):
            item.add_marker(pytest.mark.slow)
