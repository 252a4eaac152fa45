"""Seccomp for the built-in runtime and the bundle: the default profile (Docker's), Docker's JSON
profile format resolved into OCI `linux.seccomp` (profile.py), a compiler from that to a classic-BPF
program (compiler.py, bpf.py; no libseccomp), and loading it.

Compiling Docker's default profile takes ~4 ms here with the compiler's imports, on every start and
exec; reading it back takes ~0.1 ms. So `prepare` keeps compiled programs under the runroot (which
only the store's owner can write), each file holding the exact profile and compiler revision it was
made from: a file whose key differs in any byte is ignored and rewritten. A process compiles (or
reads) a config once before it forks the container process, which only loads the program (`load`).
"""

from __future__ import annotations

import json
import os
import zlib
from functools import lru_cache
from pathlib import Path

from podpy.errors import PodpyError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

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


def prepare(linux: dict[str, Any] | None, cache_dir: Path | None = None) -> Filter | None:
    """The compiled filter for config.json's `linux` section, None when it has no seccomp. With
    `cache_dir` (<runroot>/seccomp), a program compiled before for the same profile is reused."""
    doc = (linux or {}).get("seccomp")
    if not doc:
        return None
    key = json.dumps(doc, sort_keys=True)
    return _compiled(key) if cache_dir is None else _cached(key, cache_dir)


# the modules whose code decides the program: a change to any of them is a new revision
_COMPILER_FILES = ("__init__.py", "arches.py", "bpf.py", "compiler.py", "syscall_table.py")


@lru_cache(maxsize=1)
def _revision() -> bytes:
    from podpy import __version__

    here = Path(__file__).parent
    stamps = []
    for name in _COMPILER_FILES:
        st = os.stat(here / name)
        stamps.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return f"{__version__} {os.uname().machine} {' '.join(stamps)}".encode()


def _cached(key: str, cache_dir: Path) -> Filter:
    """The program from `cache_dir` when a file there was made from this very key and revision;
    otherwise compiled and stored (atomically) for the next start. File: key NUL flags program."""
    full = _revision() + b"\n" + key.encode()  # json.dumps escapes control characters: no NUL in it
    path = cache_dir / f"{zlib.crc32(full):08x}-{len(full)}.bpf"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    head, sep, rest = data.partition(b"\0")
    if sep and head == full and len(rest) > 4 and (len(rest) - 4) % 8 == 0:
        return Filter(rest[4:], int.from_bytes(rest[:4], "little"))
    filt = _compiled(key)
    try:
        from podpy.state.atomic import atomic_write_bytes

        cache_dir.mkdir(mode=0o700, exist_ok=True)
        atomic_write_bytes(path, full + b"\0" + filt.flags.to_bytes(4, "little") + filt.program, durable=False)
    except OSError:
        pass  # a read-only or full runroot: compiling on every start still works
    return filt


@lru_cache(maxsize=4)
def _compiled(key: str) -> Filter:
    from podpy.runtime.seccomp.compiler import compile_filter

    return compile_filter(json.loads(key))


def load(filt: Filter | None) -> None:
    """Install the filter on the calling thread (the container process, just before it execs)."""
    if filt is None:
        return
    from podpy.runtime import syscalls  # ctypes (~3 ms): `create` resolves profiles, only a start loads them

    try:
        syscalls.seccomp_set_filter(filt.program, filt.flags)
    except OSError as e:
        raise PodpyError(f"loading the seccomp filter: {e.strerror}") from None
