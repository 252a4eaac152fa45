"""The same commands with podman, for comparison (skipped when podman is not installed)."""

from __future__ import annotations

from bench.env import Env
from bench.harness import Case


def _no_podman(env: Env) -> str | None:
    return None if env.which("podman") else "podman is not installed"


CASES = [
    Case("podman --version", argv=lambda e: ["podman", "--version"], skip=_no_podman, group="podman"),
    Case("podman images", argv=lambda e: ["podman", "images"], skip=_no_podman, group="podman"),
    Case("podman ps", argv=lambda e: ["podman", "ps"], skip=_no_podman, group="podman"),
    Case("podman __complete ps ''", argv=lambda e: ["podman", "__complete", "ps", ""], skip=_no_podman,
         group="podman"),  # fmt: skip
]
