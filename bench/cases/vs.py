"""Side by side with Podman (issue 12): each "podpy X" has a "podman X" timed in the same run, and
the harness prints their ratio table. Root only; the Podman cases skip when podman is absent.

Both get scratch stores given with `--root/--runroot` (a user's store is never touched): empty ones
(vfs) for the listing commands, and ones holding the same busybox image (default driver) for the
container commands. Podman runs with `--ulimit nofile=1024:1024 --ulimit nproc=1024:1024`: its
default raises those limits, which fails here without CAP_SYS_RESOURCE (see research.md).
`logs` is also measured for peak RSS (`ru_maxrss` of the command's process, MB).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from functools import cache

from bench.cases import containers as ctr
from bench.env import PODMAN_ULIMITS, Env, tiny_tar
from bench.harness import Case

PS_MANY = 500
LOG_LINES = ctr.LOG_LINES
LOG_CMD = f"seq 1 {LOG_LINES} | sed 's/$/ some text to make a realistic line/'"
_seq = itertools.count()


def _skip(env: Env) -> str | None:
    return ctr._skip(env)


def _skip_podman(env: Env) -> str | None:
    return _skip(env) or (None if env.which("podman") else "podman is not installed")


# ---- podman scratch stores


@cache
def _pm_empty(env: Env) -> list[str]:
    root = env.tmp / "podman-empty"
    _pm_cleanup_on_close(env)
    return ["podman", "--root", str(root), "--runroot", str(env.tmp / "podman-empty-run"), "--storage-driver", "vfs"]


@cache
def _pm(env: Env, name: str) -> list[str]:
    """podman with a scratch store holding busybox (imported from the same tar as podpy's)."""
    from podpy.samples import make_rootfs_tar

    _pm_cleanup_on_close(env)
    base = ["podman", "--root", str(env.tmp / f"podman-{name}"), "--runroot", str(env.tmp / f"podman-{name}-run")]
    tar = make_rootfs_tar(env.tmp / f"pm-busybox-{name}.tar")
    _check([*base, "import", "-q", "--change", 'CMD ["/bin/sh"]', str(tar), "busybox"])
    return base


def _check(argv: list[str], stdin: bytes | None = None) -> str:
    proc = subprocess.run(argv, input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[3:7])}: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return proc.stdout.decode().strip()


def _pm_cleanup_on_close(env: Env) -> None:
    if getattr(env, "_podman_cleanup", False):
        return
    env._podman_cleanup = True  # type: ignore[attr-defined]
    close = env.close

    def close_after_rm() -> None:
        for root in env.tmp.glob("podman-*"):
            if root.is_dir() and not root.name.endswith("-run"):
                base = ["podman", "--root", str(root), "--runroot", str(root.with_name(root.name + "-run"))]
                subprocess.run([*base, "rm", "-af", "-t0"], capture_output=True)
                subprocess.run([*base, "rmi", "-af"], capture_output=True)
        _umount_under(env)
        close()

    env.close = close_after_rm  # type: ignore[method-assign]


def _umount_under(env: Env) -> None:
    prefix = str(env.tmp) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if line.split()[4].startswith(prefix)]
    for p in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", p], capture_output=True)


# ---- podpy / podman pairs over the same helpers


def _pp(env: Env, name: str) -> list[str]:
    return [*env.podpy, *ctr._store(env, name)]


def _timed(argv: list[str], stdin: bytes | None = None) -> float:
    t0 = time.perf_counter()
    _check(argv, stdin)
    return time.perf_counter() - t0


def _create(base):  # type: ignore[no-untyped-def]
    def sample(env: Env) -> float:
        b = base(env)
        t0 = time.perf_counter()
        cid = _check([*b, "create", "busybox", "true"])
        dt = time.perf_counter() - t0
        _check([*b, "rm", cid])
        return dt

    return sample


def _rm(base):  # type: ignore[no-untyped-def]
    def sample(env: Env) -> float:
        b = base(env)
        cid = _check([*b, "create", "busybox", "true"])
        return _timed([*b, "rm", cid])

    return sample


def _rmi(base):  # type: ignore[no-untyped-def]
    def sample(env: Env) -> float:
        b = base(env)
        n = next(_seq)
        _check([*b, "import", "-", f"bench/rmi{n}:v1"], tiny_tar(1000 + n))
        return _timed([*b, "rmi", f"bench/rmi{n}:v1"])

    return sample


@cache
def _named(env: Env, which: str) -> str:
    """A created container named vs-inspect in the podpy or podman `vs` store."""
    b = _pp(env, "vs") if which == "podpy" else _pm(env, "vs")
    _check([*b, "create", "--name", "vs-inspect", "busybox", "true"])
    return "vs-inspect"


@cache
def _pm_exec_target(env: Env) -> str:
    return _check([*_pm(env, "exec"), "run", "-d", *PODMAN_ULIMITS, "busybox", "sleep", "100000"])


@cache
def _pm_ps_store(env: Env, n: int) -> list[str]:
    b = _pm(env, f"ps{n}")
    for i in range(n):
        _check([*b, "create", "busybox", "echo", str(i)])
    return b


@cache
def _pm_log_container(env: Env) -> str:
    b = _pm(env, "logs")
    cid = _check([*b, "run", "-d", *PODMAN_ULIMITS, "--log-driver", "k8s-file", "busybox", "sh", "-c", LOG_CMD])
    _check([*b, "wait", cid])
    return cid


def _maxrss(argv: list[str]) -> float:
    """Peak RSS in MB of one run of argv (its own process)."""
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {err.decode()[-300:]}")
    return usage.ru_maxrss / 1024


def _pair(what: str, podpy, podman, sample: bool = False, **kw) -> list[Case]:  # type: ignore[no-untyped-def]
    """Two cases, `podpy WHAT` and `podman WHAT`; podpy/podman build argv (or, with sample=True,
    return one sample)."""
    key = "sample" if sample else "argv"
    return [Case(f"{name} {what}", skip=skip, group=name, **{key: fn}, **kw)
            for name, fn, skip in (("podpy", podpy, _skip), ("podman", podman, _skip_podman))]  # fmt: skip


def _rss(argv):  # type: ignore[no-untyped-def]
    def rss(env: Env) -> float:
        return _maxrss(argv(env))

    return rss


def _pm_rmi_base(env: Env) -> list[str]:
    return _pm(env, "vs")


CASES = [
    *_pair("--version (store given)", lambda e: [*e.podpy, *e.store_args(0), "--version"],
           lambda e: [*_pm_empty(e), "--version"]),
    *_pair("ps (empty store)", lambda e: [*e.podpy, *e.store_args(0), "ps"], lambda e: [*_pm_empty(e), "ps"]),
    *_pair("ps -a (empty store)", lambda e: [*e.podpy, *e.store_args(0), "ps", "-a"],
           lambda e: [*_pm_empty(e), "ps", "-a"]),
    *_pair("images (empty store)", lambda e: [*e.podpy, *e.store_args(0), "images"],
           lambda e: [*_pm_empty(e), "images"]),
    *_pair("volume ls (empty store)", lambda e: [*e.podpy, *e.store_args(0), "volume", "ls"],
           lambda e: [*_pm_empty(e), "volume", "ls"]),
    *_pair("completion: container names", lambda e: [*e.podpy, "__names", "containers", "--root", ctr._store(e, "vs")[1]],
           lambda e: [*_pm(e, "vs"), "__complete", "rm", ""]),
    *_pair("inspect CTR", lambda e: [*_pp(e, "vs"), "inspect", _named(e, "podpy")],
           lambda e: [*_pm(e, "vs"), "inspect", _named(e, "podman")]),
    *_pair("image inspect busybox", lambda e: [*_pp(e, "vs"), "image", "inspect", "busybox"],
           lambda e: [*_pm(e, "vs"), "image", "inspect", "busybox"]),
    *_pair("create busybox true", _create(lambda e: _pp(e, "vs")), _create(lambda e: _pm(e, "vs")), sample=True),
    *_pair("rm (created)", _rm(lambda e: _pp(e, "vs")), _rm(lambda e: _pm(e, "vs")), sample=True),
    *_pair("rmi (tiny image)", _rmi(lambda e: _pp(e, "vs")), _rmi(_pm_rmi_base), sample=True),
    *_pair("run --rm busybox true (vs)", lambda e: [*_pp(e, "run"), "run", "--rm", "busybox", "true"],
           lambda e: [*_pm(e, "run"), "run", "--rm", *PODMAN_ULIMITS, "busybox", "true"]),
    *_pair("run --rm --network none busybox true",  # no shared bridge: other users of podpy0 do not interfere
           lambda e: [*_pp(e, "run"), "run", "--rm", "--network", "none", "busybox", "true"],
           lambda e: [*_pm(e, "run"), "run", "--rm", "--network", "none", *PODMAN_ULIMITS, "busybox", "true"]),
    *_pair("exec CTR true", lambda e: [*_pp(e, "exec"), "exec", ctr._exec_target(e), "true"],
           lambda e: [*_pm(e, "exec"), "exec", _pm_exec_target(e), "true"]),
    *_pair(f"ps -a ({PS_MANY} containers)", lambda e: [*e.podpy, *ctr._ps_store(e, PS_MANY), "ps", "-a"],
           lambda e: [*_pm_ps_store(e, PS_MANY), "ps", "-a"], repeat=10),
    *_pair(f"logs ({LOG_LINES} lines)", lambda e: [*_pp(e, "logs"), "logs", ctr._log_container(e)],
           lambda e: [*_pm(e, "logs"), "logs", _pm_log_container(e)], repeat=7),
    *_pair(f"logs ({LOG_LINES} lines) peak RSS [MB]",
           _rss(lambda e: [*_pp(e, "logs"), "logs", ctr._log_container(e)]),
           _rss(lambda e: [*_pm(e, "logs"), "logs", _pm_log_container(e)]), sample=True, repeat=5, unit="MB"),
]  # fmt: skip
