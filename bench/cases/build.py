"""Builds: `build_nocache` and `build_cache` of FROM busybox, RUN, COPY 20 MB, ENV, CMD; the same with
podman (a scratch podman store) when it is installed. Root only."""

from __future__ import annotations

import os
import subprocess
import time
from functools import cache
from pathlib import Path

from bench.env import PODMAN_ULIMITS, Env
from bench.harness import Case

DOCKERFILE = 'FROM busybox\nRUN echo built > /built\nCOPY big /data/big\nENV MODE=bench\nCMD ["cat", "/built"]\n'


def _skip(env: Env) -> str | None:
    if os.geteuid() != 0:
        return "build benchmarks run as root"
    if not Path("/bin/busybox").exists():
        return "busybox-static is not installed"
    return None if env.has_command("build") else "podpy has no `build` command yet"


def _skip_podman(env: Env) -> str | None:
    return _skip(env) or (None if env.which("podman") else "podman is not installed")


@cache
def _context(env: Env) -> Path:
    ctx = env.tmp / "build-ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "big").write_bytes(os.urandom(20 << 20))
    return ctx


@cache
def _store(env: Env, tool: str) -> tuple[str, ...]:
    """A command prefix for `tool` on a scratch store holding busybox:latest."""
    from podpy.samples import make_rootfs_tar

    root, run = env.tmp / f"build-{tool}", env.tmp / f"build-{tool}-run"
    base = (*env.podpy, "--root", str(root), "--runroot", str(run)) if tool == "podpy" else (
        "podman", "--root", str(root), "--runroot", str(run))  # fmt: skip
    tar = make_rootfs_tar(env.tmp / f"busybox-build-{tool}.tar")
    subprocess.run([*base, "import", "--change", 'CMD ["/bin/sh"]', str(tar), "busybox"], check=True,
                   capture_output=True)  # fmt: skip
    return base


def _build(env: Env, tool: str, *flags: str) -> float:
    more = PODMAN_ULIMITS if tool == "podman" else []
    argv = [*_store(env, tool), "build", "-q", *more, *flags, "-t", "bench-build", str(_context(env))]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    return dt


CASES = [
    Case("build_nocache", sample=lambda e: _build(e, "podpy", "--no-cache"), skip=_skip, repeat=5),
    Case("build_cache", sample=lambda e: _build(e, "podpy"), skip=_skip, repeat=10),
    Case("podman build_nocache", sample=lambda e: _build(e, "podman", "--no-cache"), skip=_skip_podman,
         group="podman", repeat=5),  # fmt: skip
    Case("podman build_cache", sample=lambda e: _build(e, "podman"), skip=_skip_podman, group="podman",
         repeat=10),  # fmt: skip
]
