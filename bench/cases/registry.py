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
REPEAT = 5  # each sample moves ~100 MB; the harness adds two warm-up runs


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
    """podman on a scratch store, with its own --tmpdir: `system reset` or a fresh store must never
    touch the default /run/libpod (its "alive" file) that the host's own Podman uses."""
    t = env.tmp
    return ["podman", "--root", str(t / f"podman-{name}"), "--runroot", str(t / f"podman-{name}-run"),
            "--tmpdir", str(t / f"podman-{name}-tmp")]  # fmt: skip


def _podman_reset(env: Env, name: str) -> None:
    """Drop a podman scratch store (images only: nothing is mounted) by removing its directories."""
    for d in ("", "-run", "-tmp"):
        shutil.rmtree(env.tmp / f"podman-{name}{d}", ignore_errors=True)


def _podman_pull(env: Env) -> float:
    s = _setup(env)
    try:
        return _run([*_podman(env, "pull"), "pull", "-q", "--tls-verify=false", s.ref])
    finally:
        _podman_reset(env, "pull")


@cache
def _podman_pulled(env: Env) -> list[str]:
    args = _podman(env, "have")
    env.on_close(lambda: _podman_reset(env, "have"))
    _run([*args, "pull", "-q", "--tls-verify=false", _setup(env).ref])
    return args


def _podman_pull_again(env: Env) -> float:
    return _run([*_podman_pulled(env), "pull", "-q", "--tls-verify=false", _setup(env).ref])


def _podman_push(env: Env) -> float:
    s = _setup(env)
    _empty_target(s)
    return _run([*_podman_pulled(env), "push", "-q", "--tls-verify=false", s.ref,
                 f"{s.target.host}/bench/podman:v1"])  # type: ignore[attr-defined]  # fmt: skip


def _podman_push_again(env: Env) -> float:
    s = _setup(env)
    dest = f"{s.target.host}/bench/podman-again:v1"  # type: ignore[attr-defined]
    _run([*_podman_pulled(env), "push", "-q", "--tls-verify=false", s.ref, dest])
    return _run([*_podman_pulled(env), "push", "-q", "--tls-verify=false", s.ref, dest])


# ---- save / load: a docker-archive (uncompressed layers) of the same image


def _save(base):  # type: ignore[no-untyped-def]
    def sample(env: Env) -> float:
        out = env.tmp / "saved.tar"
        out.unlink(missing_ok=True)
        try:
            return _run([*base(env), "save", "-o", str(out), _setup(env).ref])
        finally:
            out.unlink(missing_ok=True)

    return sample


@cache
def _archive(env: Env) -> Path:
    """The image as a docker-archive written by podman (the same input for both loads)."""
    out = env.tmp / "load-input.tar"
    _run([*_podman_pulled(env), "save", "-o", str(out), _setup(env).ref])
    return out


def _load_podpy(env: Env) -> float:
    s = _setup(env)
    s.counter += 1
    name = f"load{s.counter}"
    try:
        return _run([*env.podpy, *_store(env, name), "load", "-q", "-i", str(_archive(env))])
    finally:
        _wipe(env, name)


def _load_podman(env: Env) -> float:
    try:
        return _run([*_podman(env, "load"), "load", "-q", "-i", str(_archive(env))])
    finally:
        _podman_reset(env, "load")


@cache
def _layer_tars(env: Env) -> list[Path]:
    """The archive's layer tars as files (the input of the `tar -x` reference)."""
    import json
    import tarfile

    out = env.tmp / "layer-tars"
    out.mkdir(exist_ok=True)
    with tarfile.open(_archive(env)) as tf:
        manifest = json.loads(tf.extractfile("manifest.json").read())  # type: ignore[union-attr]
        paths = []
        for i, member in enumerate(manifest[0]["Layers"]):
            dst = out / f"{i}.tar"
            dst.write_bytes(tf.extractfile(member).read())  # type: ignore[union-attr]
            paths.append(dst)
    return paths


def _tar_x(env: Env) -> float:
    """Plain GNU `tar -x` of the same 5 layers, each into its own directory (as overlay keeps them)."""
    tars = _layer_tars(env)
    root = env.tmp / "tar-x"
    try:
        t0 = time.perf_counter()
        for i, t in enumerate(tars):
            d = root / str(i)
            d.mkdir(parents=True)
            subprocess.run(["tar", "-xf", str(t), "-C", str(d)], check=True)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pair(what: str, podpy, podman) -> list[Case]:  # type: ignore[no-untyped-def]
    """`podpy WHAT` and `podman WHAT` (the harness prints their ratio; --interleave samples them in turn)."""
    return [Case(f"podpy {what}", sample=podpy, skip=_skip, group="registry", repeat=REPEAT),
            Case(f"podman {what}", sample=podman, skip=_skip_podman, group="podman", repeat=REPEAT)]  # fmt: skip


CASES = [
    *_pair("pull 100MB/5 layers (empty store)", _pull_fresh, _podman_pull),
    *_pair("pull again (all present)", _pull_again, _podman_pull_again),
    *_pair("push 100MB/5 layers (empty registry)", _push_fresh, _podman_push),
    *_pair("push again (registry has the layers)", _push_again, _podman_push_again),
    *_pair("save 100MB/5 layers (docker-archive)", _save(lambda e: [*e.podpy, *_pulled(e)]),
           _save(_podman_pulled)),
    *_pair("load 100MB/5 layers (docker-archive)", _load_podpy, _load_podman),
    Case("refs/tar_x_layers: tar -x of the load's 5 layers", sample=_tar_x, skip=_skip_podman, group="registry",
         repeat=REPEAT),
]  # fmt: skip
