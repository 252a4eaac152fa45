"""Compose: `compose up -d` and `compose down` of a 5-service busybox project (one network, one
volume), and podman-compose's figures for the same file when it is installed. Root only."""

from __future__ import annotations

import subprocess
import time
from functools import cache
from pathlib import Path

from bench.cases.containers import _podpy, _skip, _store
from bench.env import PODMAN_ULIMITS, Env
from bench.harness import Case

SERVICE = """
  s{i}:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    volumes: [data:/data]
"""


@cache
def _project(env: Env) -> Path:
    d = env.tmp / "compose-bench"
    d.mkdir(exist_ok=True)
    services = "".join(SERVICE.format(i=i) for i in range(5))
    (d / "compose.yaml").write_text(f"name: bench\nservices:{services}volumes:\n  data: {{}}\n")
    return d / "compose.yaml"


def _compose(env: Env, *args: str) -> float:
    t0 = time.perf_counter()
    _podpy(env, "compose", "compose", "-f", str(_project(env)), *args)
    return time.perf_counter() - t0


def _up(env: Env) -> float:
    dt = _compose(env, "up", "-d")
    _compose(env, "down", "-v")
    return dt


def _down(env: Env) -> float:
    _compose(env, "up", "-d")
    return _compose(env, "down", "-v")


@cache
def _podman_setup(env: Env) -> list[str]:
    """podman-compose's global options: a scratch podman store holding the same busybox
    (imported as docker.io/library/busybox, so nothing is pulled), and the rlimits of PODMAN_ULIMITS."""
    from podpy.samples import make_rootfs_tar

    root, run, tmp = env.tmp / "pm", env.tmp / "pmr", env.tmp / "pmt"  # runroot: under 50 characters
    # its own --tmpdir: `system reset` must not wipe the /run/libpod every other Podman store shares
    podman = ["podman", "--root", str(root), "--runroot", str(run), "--tmpdir", str(tmp)]
    tar = make_rootfs_tar(env.tmp / "busybox-pm.tar")
    subprocess.run([*podman, "import", "--change", 'CMD ["/bin/sh"]', str(tar), "docker.io/library/busybox:latest"],
                   check=True, capture_output=True)  # fmt: skip
    env.on_close(lambda: subprocess.run([*podman, "system", "reset", "-f"], capture_output=True))
    return ["--podman-args", f"--root {root} --runroot {run} --tmpdir {tmp}", "--podman-run-args",
            " ".join(PODMAN_ULIMITS)]


def _podman_compose(env: Env, *args: str) -> float:
    opts = _podman_setup(env)
    t0 = time.perf_counter()
    subprocess.run(["podman-compose", *opts, "-f", str(_project(env)), *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def _skip_podman(env: Env) -> str | None:
    return _skip(env) or (None if env.which("podman-compose") else "podman-compose is not installed")


def _pc_up(env: Env) -> float:
    dt = _podman_compose(env, "up", "-d")
    _podman_compose(env, "down", "-v")
    return dt


def _pc_down(env: Env) -> float:
    _podman_compose(env, "up", "-d")
    return _podman_compose(env, "down", "-v")


def _ready(env: Env) -> str | None:
    reason = _skip(env)
    if reason is None:
        _store(env, "compose")
    return reason


CASES = [
    Case("podpy compose up -d (5 services)", sample=_up, skip=_ready, group="compose", repeat=5),
    Case("podpy compose down -v (5 services)", sample=_down, skip=_ready, group="compose", repeat=5),
    Case("podman-compose up -d (5 services)", sample=_pc_up, skip=_skip_podman, group="compose", repeat=5),
    Case("podman-compose down -v (5 services)", sample=_pc_down, skip=_skip_podman, group="compose", repeat=5),
]
