"""Cases, timing and statistics. A case is a subprocess to time or a function returning one sample."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.env import Env


def _never(env: Env) -> str | None:
    return None


@dataclass(frozen=True)
class Case:
    """One benchmark. Give `argv` (timed as a whole subprocess) or `sample` (returns seconds)."""

    name: str
    argv: Callable[[Env], list[str]] | None = None
    sample: Callable[[Env], float] | None = None
    skip: Callable[[Env], str | None] = _never  # a reason to skip, or None
    group: str = "podpy"
    repeat: int = 0  # 0: the harness default (--repeat / --quick)
    input: bytes | None = None  # stdin for argv cases
    unit: str = "ms"  # "ms": samples are seconds; anything else (e.g. "MB"): samples are shown as they are


@dataclass
class Result:
    name: str
    group: str
    samples: list[float] = field(default_factory=list)
    skipped: str = ""
    error: str = ""
    unit: str = "ms"

    def stats(self) -> dict[str, float]:
        s = sorted(self.samples)
        if not s:
            return {}
        p90 = s[min(len(s) - 1, max(0, round(0.9 * len(s)) - 1))]  # nearest rank
        return {"n": len(s), "median": statistics.median(s), "p90": p90, "min": s[0], "max": s[-1]}

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "group": self.group, "skipped": self.skipped or None,
                "error": self.error or None, **self.stats(), "samples": self.samples}  # fmt: skip


def time_argv(argv: list[str], stdin: bytes | None = None) -> float:
    """Wall time of one run; raises if the command fails (a failing benchmark measures nothing)."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    return dt


def run_case(case: Case, env: Env, repeat: int, warmup: int = 2) -> Result:
    res = Result(case.name, case.group, unit=case.unit)
    try:
        reason = case.skip(env)
        if reason:
            res.skipped = reason
            return res
        if case.sample is not None:
            one: Callable[[], float] = lambda: case.sample(env)  # noqa: E731
        else:
            assert case.argv is not None, f"{case.name}: give argv or sample"
            argv = case.argv(env)
            one = lambda: time_argv(argv, case.input)  # noqa: E731
        for _ in range(warmup):  # page cache, .pyc files
            one()
        res.samples = [one() for _ in range(case.repeat or repeat)]
    except Exception as e:  # one broken case must not stop the others
        res.error = f"{type(e).__name__}: {e}"
    return res


def table(results: list[Result]) -> str:
    rows = [("benchmark", "n", "median ms", "p90 ms", "min ms")]
    for r in results:
        st, k = r.stats(), _scale(r)
        if st:
            rows.append((r.name, str(st["n"]), f"{st['median'] * k:.2f}", f"{st['p90'] * k:.2f}",
                         f"{st['min'] * k:.2f}"))  # fmt: skip
        else:
            rows.append((r.name, "-", "skipped" if r.skipped else "ERROR", "", r.skipped or r.error))
    widths = [max(len(row[i]) for row in rows if i < 4 or row[1] != "-") for i in range(5)]
    lines = []
    for row in rows:
        if row[1] == "-":  # a skip or error: the reason runs to the end of the line
            lines.append(f"{row[0]:<{widths[0]}}  {'-':>{widths[1]}}  {row[2]:>{widths[2]}}  {row[4]}")
        else:
            lines.append(f"{row[0]:<{widths[0]}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(row[1:], widths[1:], strict=True)))
    return "\n".join(lines)


def _scale(r: Result) -> float:
    """Milliseconds for timed cases; other units as sampled (their name says the unit)."""
    return 1e3 if r.unit == "ms" else 1.0


def ratios(results: list[Result]) -> str:
    """podpy against Podman from the same run: every "podpy X" with a "podman X" beside it (medians)."""
    by_name = {r.name: r for r in results if r.samples}
    rows = [("workload", "podpy", "podman", "ratio")]
    for r in results:
        other = by_name.get("podman " + r.name.removeprefix("podpy ")) if r.name.startswith("podpy ") else None
        if r.samples and other is not None:
            a, b = statistics.median(r.samples) * _scale(r), statistics.median(other.samples) * _scale(other)
            rows.append((r.name.removeprefix("podpy "), f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x" if b else "-"))
    if len(rows) == 1:
        return ""
    w = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(f"{row[0]:<{w[0]}}  " + "  ".join(f"{c:>{x}}" for c, x in zip(row[1:], w[1:], strict=True))
                     for row in rows)  # fmt: skip
