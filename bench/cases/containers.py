"""Containers: `run --rm IMAGE true` (the benchmark that matters), run -d / stop / rm, exec,
ps -a at 1/100/500 containers, and log throughput. Root only (rootless lifecycle is in the tests).

Stores here use the default storage driver (overlay as root) with a busybox image; containers for
the ps cases are created through the engine API (fast), then listed through the CLI.
"""

from __future__ import annotations

import os
import subprocess
import time
from functools import cache
from pathlib import Path

from bench.env import Env
from bench.harness import Case

LOG_LINES = 200_000  # ~7 MB of k8s-file records
# --init is not needed: `wait` in sh returns at once on a trapped signal, so stop is not a timeout
STOPPABLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]


def _skip(env: Env) -> str | None:
    if os.geteuid() != 0:
        return "container benchmarks run as root"
    if not Path("/bin/busybox").exists():
        return "busybox-static is not installed"
    return None if env.has_command("run", "--help") else "podpy has no `run` command yet"


@cache
def _store(env: Env, name: str) -> list[str]:
    """Global options for a scratch store holding busybox:latest (made on first use)."""
    from podpy.samples import make_rootfs_tar

    _cleanup_on_close(env)
    root = env.tmp / f"ctr-{name}"
    args = ["--root", str(root), "--runroot", str(env.tmp / f"ctr-{name}-run")]
    tar = make_rootfs_tar(env.tmp / f"busybox-{name}.tar")
    subprocess.run([*env.podpy, *args, "import", "--change", 'CMD ["/bin/sh"]', str(tar), "busybox"],
                   check=True, capture_output=True)  # fmt: skip
    return args


def _podpy(env: Env, store: str, *args: str, check: bool = True) -> str:
    proc = subprocess.run([*env.podpy, *_store(env, store), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"podpy {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return proc.stdout.strip()


def _timed(env: Env, store: str, *args: str) -> float:
    t0 = time.perf_counter()
    _podpy(env, store, *args)
    return time.perf_counter() - t0


def _run_d(env: Env) -> float:
    t0 = time.perf_counter()
    cid = _podpy(env, "life", "run", "-d", "busybox", *STOPPABLE)
    dt = time.perf_counter() - t0
    _podpy(env, "life", "rm", "-f", cid)
    return dt


def _stop(env: Env) -> float:
    cid = _podpy(env, "life", "run", "-d", "busybox", *STOPPABLE)
    dt = _timed(env, "life", "stop", cid)
    _podpy(env, "life", "rm", cid)
    return dt


def _rm(env: Env) -> float:
    cid = _podpy(env, "life", "run", "-d", "busybox", *STOPPABLE)
    _podpy(env, "life", "stop", cid)
    return _timed(env, "life", "rm", cid)


@cache
def _exec_target(env: Env) -> str:
    return _podpy(env, "exec", "run", "-d", "busybox", "sleep", "100000")


def _exec(env: Env) -> float:
    return _timed(env, "exec", "exec", _exec_target(env), "true")


@cache
def _ps_store(env: Env, n: int) -> list[str]:
    """A store with n created containers, made in-process through the engine (CLI runs would take minutes)."""
    from podpy.config import Options
    from podpy.engine import Engine
    from podpy.engine.container_config import CreateOptions

    args = _store(env, f"ps{n}")
    eng = Engine(Options.from_env(root=args[1], runroot=args[3]))
    for i in range(n):
        eng.containers.create(CreateOptions(image="busybox", command=["echo", str(i)]))
    return args


def _ps(n: int):  # type: ignore[no-untyped-def]
    return lambda e: [*e.podpy, *_ps_store(e, n), "ps", "-a"]


@cache
def _log_container(env: Env) -> str:
    cid = _podpy(env, "logs", "run", "-d", "busybox", "sh", "-c",
                 f"seq 1 {LOG_LINES} | sed 's/$/ some text to make a realistic line/'")  # fmt: skip
    _podpy(env, "logs", "wait", cid)
    return cid


def _log_write(env: Env) -> float:
    """Container output through the supervisor into the log (run attached, output discarded)."""
    return _timed(env, "logw", "run", "--rm", "busybox", "sh", "-c",
                  f"seq 1 {LOG_LINES} | sed 's/$/ some text to make a realistic line/'")  # fmt: skip


def _no_podman(env: Env) -> str | None:
    return None if env.which("podman") else "podman is not installed"


CASES = [
    Case(
        "podpy run --rm busybox true",
        argv=lambda e: [*e.podpy, *_store(e, "run"), "run", "--rm", "busybox", "true"],
        skip=_skip,
        group="containers",
    ),  # fmt: skip
    Case("podpy run -d (to running)", sample=_run_d, skip=_skip, group="containers"),
    Case("podpy stop (trapped TERM)", sample=_stop, skip=_skip, group="containers"),
    Case("podpy rm (stopped)", sample=_rm, skip=_skip, group="containers"),
    Case("podpy exec CTR true", sample=_exec, skip=_skip, group="containers"),
    Case(
        "podpy stats --no-stream CTR (0.5 s between its 2 samples)",
        argv=lambda e: [*e.podpy, *_store(e, "exec"), "stats", "--no-stream", _exec_target(e)],
        skip=_skip,
        group="containers",
        repeat=5,
    ),  # fmt: skip
    Case("podpy ps -a (1 container)", argv=_ps(1), skip=_skip, group="containers"),
    Case("podpy ps -a (100 containers)", argv=_ps(100), skip=_skip, group="containers"),
    Case("podpy ps -a (500 containers)", argv=_ps(500), skip=_skip, group="containers", repeat=10),
    Case(
        f"podpy logs ({LOG_LINES} lines, ~10 MB)",
        argv=lambda e: [*e.podpy, *_store(e, "logs"), "logs", _log_container(e)],
        skip=_skip,
        group="containers",
        repeat=5,
    ),  # fmt: skip
    Case(
        f"podpy run: {LOG_LINES} lines to the log",
        sample=_log_write,
        skip=_skip,
        group="containers",
        repeat=5,
    ),
    Case(
        "podman run --rm busybox true",
        argv=lambda e: ["podman", "run", "--rm", "busybox", "true"],
        skip=_no_podman,
        group="podman",
    ),  # fmt: skip
]


def _cleanup_on_close(env: Env) -> None:
    """Remove every container before the harness deletes the scratch directory (a running
    container would outlive its deleted store). The harness has no hook: wrap Env.close."""
    if getattr(env, "_containers_cleanup", False):
        return
    env._containers_cleanup = True  # type: ignore[attr-defined]
    close = env.close

    def close_after_rm() -> None:
        for root in env.tmp.glob("ctr-*"):
            if root.is_dir() and not root.name.endswith("-run"):
                run = root.with_name(root.name + "-run")
                subprocess.run([*env.podpy, "--root", str(root), "--runroot", str(run), "rm", "-af"],
                               capture_output=True)  # fmt: skip
        close()

    env.close = close_after_rm  # type: ignore[method-assign]
