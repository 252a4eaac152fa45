"""Networks: `run --rm` on the default bridge (against `--network none`), and published-port
throughput: 1 GiB from the host's loopback into a container through `-p 127.0.0.1:PORT:5000`
(nft DNAT as root; the sample is the transfer time: GB/s = 1074 / ms). Root only; with
Podman's figures when it is installed."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from functools import cache
from pathlib import Path

from bench.cases.containers import _podpy, _skip, _store
from bench.env import PODMAN_ULIMITS, Env
from bench.harness import Case

GIB = 1 << 30
CHUNK = b"\0" * (1 << 20)
SINK = ["busybox", "sh", "-c", "exec nc -l -p 5000 >/dev/null"]  # not into the container's log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connect(port: int, deadline: float = 10.0) -> socket.socket:
    """Retry until the container listens (DNAT resets a connection until then)."""
    end = time.monotonic() + deadline
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def _push(port: int) -> float:
    """Send 1 GiB, then wait for the receiver's close: the time for all of it to arrive."""
    with _connect(port) as s:
        time.sleep(0.2)  # nc may accept before the listener is fully wired; let it settle
        t0 = time.perf_counter()
        for _ in range(GIB // len(CHUNK)):
            s.sendall(CHUNK)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        return time.perf_counter() - t0


def _sink(start: list[str], port: int, rm: list[str]) -> float:
    try:  # removed also when its start failed (a created container holds its network's rules)
        proc = subprocess.run(start, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return _push(port)
    finally:
        subprocess.run(rm, capture_output=True)


def _podpy_forward(env: Env) -> float:
    port = _free_port()
    base = [*env.podpy, *_store(env, "net")]
    _podpy(env, "net", "network", "create", "--subnet", "10.231.7.0/24", "benchnet", check=False)
    # its own network: podpy0 is shared by every root store, whose IPAMs do not see each other
    start = [*base, "run", "-d", "--name", "sink", "--network", "benchnet", "-p", f"127.0.0.1:{port}:5000", *SINK]
    try:
        return _sink(start, port, [*base, "rm", "-f", "sink"])
    finally:  # the bridge and its rules would outlive the scratch store
        _podpy(env, "net", "network", "rm", "-f", "benchnet", check=False)


@cache
def _podman(env: Env) -> list[str]:
    """podman on a scratch store holding the same busybox (imported: nothing is pulled, and the
    host's podman store, which other users of the machine share, is left alone)."""
    from podpy.samples import make_rootfs_tar

    root, run = env.tmp / "podman", env.tmp / "podman-run"
    base = ["podman", "--root", str(root), "--runroot", str(run)]
    close = env.close

    def close_after_podman() -> None:
        for args in (["rm", "-af"], ["network", "rm", "-f", PODMAN_NET], ["rmi", "-af"]):
            subprocess.run([*base, *args], capture_output=True)
        for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
            target = line.split()[4]
            if target.startswith(str(env.tmp)):  # podman's overlay home and layer mounts
                subprocess.run(["umount", "-l", target], capture_output=True)
        close()

    env.close = close_after_podman  # type: ignore[method-assign]
    tar = make_rootfs_tar(env.tmp / "busybox-podman.tar")
    subprocess.run([*base, "import", "--change", 'CMD ["/bin/sh"]', str(tar), "busybox"], check=True,
                   capture_output=True)  # fmt: skip
    return base


PODMAN_NET = "podpy-bench-net"
PODMAN_RUN = ["--pull=never", *PODMAN_ULIMITS]


def _podman_forward(env: Env) -> float:
    port = _free_port()
    base = _podman(env)
    # its own network, as podpy's: the default 10.88.0.0/16 is podpy0's too when both run here
    subprocess.run([*base, "network", "create", "--subnet", "10.231.8.0/24", PODMAN_NET], capture_output=True)
    start = [*base, "run", "-d", *PODMAN_RUN, "--name", "podpy-bench-sink", "--network", PODMAN_NET,
             "-p", f"127.0.0.1:{port}:5000", *SINK]  # fmt: skip
    try:
        return _sink(start, port, [*base, "rm", "-f", "podpy-bench-sink"])
    finally:
        subprocess.run([*base, "network", "rm", "-f", PODMAN_NET], capture_output=True)


def _no_podman(env: Env) -> str | None:
    if os.geteuid() != 0:
        return "network benchmarks run as root"
    return None if env.which("podman") else "podman is not installed"


def _warm(env: Env) -> None:
    _podpy(env, "net", "network", "ls")  # the default network exists before the first sample


CASES = [
    Case(
        "podpy run --rm busybox true (default bridge)",
        argv=lambda e: (_warm(e), [*e.podpy, *_store(e, "net"), "run", "--rm", "--network", "bridge", "busybox", "true"])[1],
        skip=_skip,
        group="network",
    ),  # fmt: skip
    Case(
        "podpy run --rm busybox true (--network none)",
        argv=lambda e: [*e.podpy, *_store(e, "net"), "run", "--rm", "--network", "none", "busybox", "true"],
        skip=_skip,
        group="network",
    ),  # fmt: skip
    Case("podpy -p: 1 GiB host -> container", sample=_podpy_forward, skip=_skip, group="network", repeat=3),
    Case(
        "podman run --rm busybox true (default bridge)",
        argv=lambda e: [*_podman(e), "run", "--rm", *PODMAN_RUN, "busybox", "true"],
        skip=_no_podman,
        group="podman",
    ),  # fmt: skip
    Case("podman -p: 1 GiB host -> container", sample=_podman_forward, skip=_no_podman, group="podman", repeat=3),
]
