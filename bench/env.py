"""What cases run against: the podpy command, scratch stores with N images, helpers."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Podman's default nofile/nproc exceed the hard limits on a host without CAP_SYS_RESOURCE (runc then
# fails "setting rlimits"): every Podman case runs containers with these instead.
PODMAN_ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def find_podpy() -> list[str]:
    """The podpy next to this interpreter (a venv's console script), never a pyenv shim."""
    beside = Path(sys.executable).parent / "podpy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("podpy")
    if found and "/shims/" not in found:
        return [found]
    return [sys.executable, "-m", "podpy"]


def tiny_tar(i: int) -> bytes:
    """A small root filesystem, different for each i (so every import is a distinct image)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("etc/hostname", b"bench\n"), (f"data/{i}.txt", f"image {i}\n".encode())):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


class Env:
    def __init__(self, podpy: list[str], quick: bool = False) -> None:
        self.podpy = podpy
        self.python = sys.executable
        self.quick = quick
        self.repo = REPO
        self.tmp = Path(tempfile.mkdtemp(prefix="podpy-bench-"))
        self._stores: dict[int, Path] = {}
        self._closers: list[Callable[[], object]] = []

    def on_close(self, fn: Callable[[], object]) -> None:
        """Run `fn` when the harness closes the environment, before the scratch directory goes."""
        self._closers.append(fn)

    def close(self) -> None:
        for fn in reversed(self._closers):
            fn()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def store_args(self, n_images: int) -> list[str]:
        """Global options selecting a scratch store holding n_images images (made on first use)."""
        root = self.store(n_images)
        return ["--root", str(root), "--runroot", str(root.with_name(root.name + "-run")), "--storage-driver", "vfs"]

    def store(self, n_images: int) -> Path:
        if n_images not in self._stores:
            root = self.tmp / f"store{n_images}"
            root.mkdir()
            base = [*self.podpy, "--root", str(root), "--runroot", str(self.tmp / f"store{n_images}-run"),
                    "--storage-driver", "vfs"]  # fmt: skip
            for i in range(n_images):
                subprocess.run([*base, "import", "-", f"bench/image{i}:v{i}"], input=tiny_tar(i),
                               check=True, capture_output=True)  # fmt: skip
            self._stores[n_images] = root
        return self._stores[n_images]

    @cache  # noqa: B019 - one Env per run
    def has_command(self, *path: str) -> bool:
        """Whether this podpy has the command (benchmarks of commands added later skip until then)."""
        proc = subprocess.run([*self.podpy, *path, "--help"], capture_output=True)
        return proc.returncode == 0

    @staticmethod
    def which(name: str) -> str | None:
        return shutil.which(name)
