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


def _sampler(case: Case, env: Env) -> Callable[[], float]:
    if case.sample is not None:
        return lambda: case.sample(env)  # type: ignore[misc]
    assert case.argv is not None, f"{case.name}: give argv or sample"
    argv = case.argv(env)
    return lambda: time_argv(argv, case.input)


def run_case(case: Case, env: Env, repeat: int, warmup: int = 2) -> Result:
    return run_interleaved([case], env, repeat, warmup)[0]


def run_interleaved(cases: list[Case], env: Env, repeat: int, warmup: int = 2) -> list[Result]:
    """Several cases sample by sample in turn (A B A B ...): on a shared machine, load that comes and
    goes then hits all of them alike, so their ratio holds even when the absolute times drift."""
    results = [Result(c.name, c.group, unit=c.unit) for c in cases]
    live: list[tuple[Result, Callable[[], float]]] = []
    for case, res in zip(cases, results, strict=True):
        try:
            reason = case.skip(env)
            if reason:
                res.skipped = reason
                continue
            one = _sampler(case, env)
            for _ in range(warmup):  # page cache, .pyc files
                one()
            live.append((res, one))
        except Exception as e:  # one broken case must not stop the others
            res.error = f"{type(e).__name__}: {e}"
    n = max((c.repeat or repeat for c in cases), default=repeat)
    for _ in range(n):
        for res, one in live:
            if res.error:
                continue
            try:
                res.samples.append(one())
            except Exception as e:
                res.error, res.samples = f"{type(e).__name__}: {e}", []
    return results


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
    rows = [("workload", "podpy", "podman", "ratio", "ratio of minima")]
    for r in results:
        other = by_name.get("podman " + r.name.removeprefix("podpy ")) if r.name.startswith("podpy ") else None
        if r.samples and other is not None:
            a, b = statistics.median(r.samples) * _scale(r), statistics.median(other.samples) * _scale(other)
            lo = min(r.samples) / min(other.samples) if min(other.samples) else 0
            rows.append((r.name.removeprefix("podpy "), f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x" if b else "-",
                         f"{lo:.2f}x"))  # fmt: skip
    if len(rows) == 1:
        return ""
    w = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(f"{row[0]:<{w[0]}}  " + "  ".join(f"{c:>{x}}" for c, x in zip(row[1:], w[1:], strict=True))
                     for row in rows)  # fmt: skip
