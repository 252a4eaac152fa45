"""`python -m bench [--quick] [--repeat N] [--json FILE] [--list] [--podpy CMD] [names...]`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import sys
from pathlib import Path

from bench.cases import discover
from bench.env import Env, find_podpy
from bench.harness import ratios, run_case, run_interleaved, table


def _select(all_cases, names: list[str]):  # type: ignore[no-untyped-def]
    """Cases whose module name equals, or whose name contains, one of `names` (all if none)."""
    if not names:
        return all_cases
    return [(m, c) for m, c in all_cases if any(n == m or n.lower() in c.name.lower() for n in names)]


def _groups(cases, interleave: bool):  # type: ignore[no-untyped-def]
    """Each case alone, or (interleave) `podpy X` together with a `podman X` that is also selected."""
    if not interleave:
        return [[c] for c in cases]
    by_name = {c.name: c for c in cases}
    out, taken = [], set()
    for c in cases:
        if c.name in taken:
            continue
        twin = by_name.get("podman " + c.name.removeprefix("podpy ")) if c.name.startswith("podpy ") else None
        out.append([c, twin] if twin else [c])
        taken.update({c.name, twin.name} if twin else {c.name})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description="Time podpy start-up and completion.")
    ap.add_argument("names", nargs="*", help="case modules (startup, completion, podman) or parts of case names")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (8 instead of 30)")
    ap.add_argument("--repeat", type=int, help="repetitions per case (also for cases that set their own)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--interleave", action="store_true",
                    help="sample each `podpy X` and its `podman X` in turn (fair ratios on a busy machine)")
    ap.add_argument("--podpy", metavar="CMD",
                    help="the podpy command to time, split like a shell would (default: the one beside this python)")
    opts = ap.parse_args(argv)

    cases = _select(discover(), opts.names)
    if opts.repeat:  # given: it wins over a case's own count (the slow registry cases set 5)
        cases = [(mod, dataclasses.replace(c, repeat=0)) for mod, c in cases]
    if opts.list:
        for mod, c in cases:
            print(f"{mod:<12} {c.name}")
        return 0
    repeat = opts.repeat or (8 if opts.quick else 30)
    # Let the warm-up runs write .pyc files, as an installed package has them: without them
    # every run recompiles whatever changed since the last write (tens of ms).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    env = Env(shlex.split(opts.podpy) if opts.podpy else find_podpy(), quick=opts.quick)
    print(f"podpy: {' '.join(env.podpy)}   python: {platform.python_version()} ({sys.executable})   "
          f"cpus: {os.cpu_count()}   repetitions: {repeat}", flush=True)  # fmt: skip
    results = []
    progress = sys.stderr.isatty()
    try:
        for group in _groups([c for _, c in cases], opts.interleave):
            if progress:
                print(f"  {group[0].name} ...", end="\r", file=sys.stderr, flush=True)
            results.extend(run_interleaved(group, env, repeat) if len(group) > 1 else [run_case(group[0], env, repeat)])
            if progress:
                print(" " * (len(group[0].name) + 6), end="\r", file=sys.stderr, flush=True)
    finally:
        env.close()
    print(table(results))
    vs = ratios(results)
    if vs:
        print(f"\npodpy vs podman (medians, ms unless the name gives a unit; ratio < 1: podpy is faster)\n{vs}")
    if opts.json:
        doc = {"podpy": env.podpy, "python": sys.version, "platform": platform.platform(),
               "repeat": repeat, "results": [r.as_json() for r in results]}  # fmt: skip
        opts.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 1 if any(r.error for r in results) else 0
