"""Registry: pull and push of a ~100 MB, 5-layer image against local docker-registry servers.

Two registries on loopback (plain HTTP): A holds the image (seeded with plain HTTP), B receives
pushes and is emptied before every timed push. Stores use the default storage driver. Podman's
figures are measured beside podpy's when podman is installed (same registries, its own scratch
store). The image: 5 layers of 400 files of 50 KB (half random, half text), gzip-compressed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench.env import Env
from bench.harness import Case

LAYERS, FILES, FILE_KB = 5, 400, 50
REPEAT = 3  # each sample moves ~100 MB; the harness adds two warm-up runs


@dataclass
class _Setup:
    source: object  # tests.integration.registry_fixtures.Registry
    target: object
    ref: str  # the image in registry A
    counter: int = 0


def _skip(env: Env) -> str | None:
    if not Path("/usr/bin/docker-registry").exists() and not shutil.which("docker-registry"):
        return "docker-registry is not installed"
    return None


def _skip_podman(env: Env) -> str | None:
    return _skip(env) or (None if env.which("podman") else "podman is not installed")


def _layer_files(i: int) -> dict[str, bytes]:
    text = (f"layer {i} line of fairly ordinary text for compression\n" * 600).encode()[: FILE_KB * 512]
    return {f"data/l{i}/f{j:04d}": os.urandom(FILE_KB * 512) + text for j in range(FILES)}


@cache
def _setup(env: Env) -> _Setup:
    from tests.integration.registry_fixtures import Seeder, hand_image, start_registry

    a = start_registry(env.tmp / "registry-a")
    b = start_registry(env.tmp / "registry-b")
    close = env.close

    def stop_then_close() -> None:
        a.stop()
        b.stop()
        close()

    env.close = stop_then_close  # type: ignore[method-assign]
    img = hand_image([_layer_files(i) for i in range(LAYERS)])
    Seeder(a).image("bench/big", "v1", img)
    return _Setup(a, b, f"{a.host}/bench/big:v1")


def _store(env: Env, name: str) -> list[str]:
    root = env.tmp / f"reg-{name}"
    return ["--root", str(root), "--runroot", str(env.tmp / f"reg-{name}-run")]


def _wipe(env: Env, name: str) -> None:
    for d in (env.tmp / f"reg-{name}", env.tmp / f"reg-{name}-run"):
        shutil.rmtree(d, ignore_errors=True)


def _run(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}...: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return dt


def _pull_fresh(env: Env) -> float:
    s = _setup(env)
    s.counter += 1
    name = f"pull{s.counter}"
    try:
        return _run([*env.podpy, *_store(env, name), "pull", "-q", s.ref])
    finally:
        _wipe(env, name)


@cache
def _pulled(env: Env) -> list[str]:
    """A store holding the image (pulled once)."""
    args = _store(env, "have")
    _run([*env.podpy, *args, "pull", "-q", _setup(env).ref])
    return args


def _pull_again(env: Env) -> float:
    return _run([*env.podpy, *_pulled(env), "pull", "-q", _setup(env).ref])


def _empty_target(s: _Setup) -> None:
    storage = s.target.storage  # type: ignore[attr-defined]
    shutil.rmtree(storage, ignore_errors=True)


def _push_fresh(env: Env) -> float:
    s = _setup(env)
    _empty_target(s)
    return _run([*env.podpy, *_pulled(env), "push", "-q", s.ref, f"{s.target.host}/bench/pushed:v1"])  # type: ignore[attr-defined]


def _push_again(env: Env) -> float:
    s = _setup(env)
    dest = f"{s.target.host}/bench/again:v1"  # type: ignore[attr-defined]
    _run([*env.podpy, *_pulled(env), "push", "-q", s.ref, dest])
    return _run([*env.podpy, *_pulled(env), "push", "-q", s.ref, dest])


def _podman(env: Env, name: str) -> list[str]:
    root = env.tmp / f"podman-{name}"
    return ["podman", "--root", str(root), "--runroot", str(env.tmp / f"podman-{name}-run")]


def _podman_pull(env: Env) -> float:
    s = _setup(env)
    try:
        return _run([*_podman(env, "pull"), "pull", "-q", "--tls-verify=false", s.ref])
    finally:
        subprocess.run([*_podman(env, "pull"), "system", "reset", "-f"], capture_output=True)


def _podman_push(env: Env) -> float:
    s = _setup(env)
    args = _podman(env, "have")
    if not (env.tmp / "podman-have").exists():
        _run([*args, "pull", "-q", "--tls-verify=false", s.ref])
    _empty_target(s)
    return _run([*args, "push", "-q", "--tls-verify=false", s.ref, f"{s.target.host}/bench/podman:v1"])  # type: ignore[attr-defined]


CASES = [
    Case("registry pull 100MB/5 layers (empty store)", sample=_pull_fresh, skip=_skip, group="registry",
         repeat=REPEAT),
    Case("registry pull again (all present)", sample=_pull_again, skip=_skip, group="registry", repeat=REPEAT),
    Case("registry push 100MB/5 layers (empty registry)", sample=_push_fresh, skip=_skip, group="registry",
         repeat=REPEAT),
    Case("registry push again (nothing to upload)", sample=_push_again, skip=_skip, group="registry",
         repeat=REPEAT),
    Case("podman pull 100MB/5 layers (empty store)", sample=_podman_pull, skip=_skip_podman, group="podman",
         repeat=REPEAT),
    Case("podman push 100MB/5 layers (empty registry)", sample=_podman_push, skip=_skip_podman, group="podman",
         repeat=REPEAT),
]
