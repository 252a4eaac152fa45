"""Start-up: the commands people run most, and what importing the CLI costs."""

from __future__ import annotations

import re
import subprocess

from bench.env import Env
from bench.harness import Case

IMAGES = 20


def _no_ps(env: Env) -> str | None:
    return None if env.has_command("ps") else "podpy has no `ps` command yet"


def import_time(module: str):  # type: ignore[no-untyped-def]
    """A sample: the cumulative import time of `module` as python -X importtime reports it."""

    def sample(env: Env) -> float:
        proc = subprocess.run([env.python, "-X", "importtime", "-c", f"import {module}"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        for line in reversed(proc.stderr.splitlines()):
            m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+(\S+)$", line.strip())
            if m and m.group(2) == module:
                return int(m.group(1)) / 1e6
        raise RuntimeError(f"{module} not in -X importtime output")

    return sample


CASES = [
    Case("python -c pass (baseline)", argv=lambda e: [e.python, "-c", "pass"], group="baseline"),
    Case("podpy --version", argv=lambda e: [*e.podpy, "--version"]),
    Case("podpy images (empty store)", argv=lambda e: [*e.podpy, *e.store_args(0), "images"]),
    Case(f"podpy images ({IMAGES} images)", argv=lambda e: [*e.podpy, *e.store_args(IMAGES), "images"]),
    Case("podpy ps (empty store)", argv=lambda e: [*e.podpy, *e.store_args(0), "ps"], skip=_no_ps),
    Case("podpy ps -a (empty store)", argv=lambda e: [*e.podpy, *e.store_args(0), "ps", "-a"], skip=_no_ps),
    Case(f"podpy __names images ({IMAGES} images)",
         argv=lambda e: [*e.podpy, "__names", "images", "--root", str(e.store(IMAGES))]),  # fmt: skip
    Case("python -c 'import podpy.cli.app' (wall)", argv=lambda e: [e.python, "-c", "import podpy.cli.app"]),
    Case("import podpy.cli.app (-X importtime)", sample=import_time("podpy.cli.app")),
    Case("import typer (-X importtime)", sample=import_time("typer"), group="baseline"),
]
