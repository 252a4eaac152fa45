"""Seccomp for the built-in runtime and the bundle: the default profile (Docker's), Docker's JSON
profile format resolved into OCI `linux.seccomp` (profile.py), a compiler from that to a classic-BPF
program (compiler.py, bpf.py; no libseccomp), and loading it.

Compiling Docker's default profile takes 1-2.5 ms here (the kernel then takes ~0.8 ms to load the
program), so there is no disk cache: a process compiles a config once (`prepare` remembers the last
few by content, for the supervisor's health-check execs) before it forks the container process,
which only loads the program (`load`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from podpy.errors import PodpyError
from podpy.runtime import syscalls

__all__ = ["Filter", "prepare", "load", "supported"]


class Filter:
    """A compiled program: struct sock_filter[] in native byte order, and SECCOMP_FILTER_FLAG_*."""

    __slots__ = ("program", "flags")

    def __init__(self, program: bytes, flags: int = 0) -> None:
        self.program, self.flags = program, flags

    @property
    def length(self) -> int:
        return len(self.program) // 8


def supported() -> bool:
    """The kernel has seccomp (CONFIG_SECCOMP; filters come with it on every kernel we run on)."""
    try:
        return any(line.startswith("Seccomp:") for line in Path("/proc/self/status").read_text().splitlines())
    except OSError:
        return False


def prepare(linux: dict[str, Any] | None) -> Filter | None:
    """The compiled filter for config.json's `linux` section, None when it has no seccomp."""
    doc = (linux or {}).get("seccomp")
    if not doc:
        return None
    return _compiled(json.dumps(doc, sort_keys=True))


@lru_cache(maxsize=4)
def _compiled(key: str) -> Filter:
    from podpy.runtime.seccomp.compiler import compile_filter

    return compile_filter(json.loads(key))


def load(filt: Filter | None) -> None:
    """Install the filter on the calling thread (the container process, just before it execs)."""
    if filt is None:
        return
    try:
        syscalls.seccomp_set_filter(filt.program, filt.flags)
    except OSError as e:
        raise PodpyError(f"loading the seccomp filter: {e.strerror}") from None
