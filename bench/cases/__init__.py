"""Benchmark cases: every module here exposes CASES, a list of bench.harness.Case."""

from __future__ import annotations

import importlib
import pkgutil

from bench.harness import Case


def discover() -> list[tuple[str, Case]]:
    """(module name, case) for every case, modules in name order, cases in their listed order."""
    out = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        module = importlib.import_module(f"{__name__}.{mod}")
        out.extend((mod, c) for c in getattr(module, "CASES", []))
    return out
