"""Shell completion latency: a full round trip (bash starts, sources the script, completes once)
and the per-TAB cost inside an already running shell (what a user feels)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from bench.env import Env
from bench.harness import Case

SCRIPT = "completions/podpy.bash"
IMAGES = 20
Words = Callable[[Env], list[str]]


def _setup(env: Env) -> str:
    return f'source {env.repo / SCRIPT}; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))'


def _line(env: Env, words: list[str]) -> list[str]:
    # COMP_WORDS[0] is what the script runs for live names: this checkout's podpy.
    return [env.podpy[0] if len(env.podpy) == 1 else "podpy", *words]


def round_trip(words: Words) -> Callable[[Env], list[str]]:
    def argv(env: Env) -> list[str]:
        cmd = _setup(env) + "; _podpy; ((${#COMPREPLY[@]})) || exit 3"
        return ["bash", "-c", cmd, "bash", *_line(env, words(env))]

    return argv


def in_shell(words: Words, loops: int = 50) -> Callable[[Env], float]:
    """A sample: the mean time of one _podpy call, timed inside bash with $EPOCHREALTIME."""

    def sample(env: Env) -> float:
        cmd = (_setup(env) + f"; t0=$EPOCHREALTIME; for ((j = 0; j < {loops}; j++)); do _podpy; done; "
               't1=$EPOCHREALTIME; ((${#COMPREPLY[@]})) || exit 3; echo "$t0 $t1"')  # fmt: skip
        line = _line(env, words(env))
        out = subprocess.run(["bash", "-c", cmd, "bash", *line], capture_output=True, text=True, check=True)
        t0, t1 = (float(x) for x in out.stdout.split())
        return (t1 - t0) / loops

    return sample


def _no_script(env: Env) -> str | None:
    return None if (env.repo / SCRIPT).is_file() else f"{SCRIPT} missing: run python -m podpy.docgen"


def _ima(env: Env) -> list[str]:
    return ["ima"]


def _flags(env: Env) -> list[str]:
    return ["image", "ls", "--"]


def _rmi(env: Env) -> list[str]:
    return ["--root", str(env.store(IMAGES)), "rmi", ""]


CASES = [
    Case("bash -c true (baseline)", argv=lambda e: ["bash", "-c", "true"], group="baseline"),
    Case("bash round trip: podpy ima<TAB>", argv=round_trip(_ima), skip=_no_script, group="completion"),
    Case(f"bash round trip: podpy rmi <TAB> ({IMAGES} images)", argv=round_trip(_rmi), skip=_no_script,
         group="completion"),  # fmt: skip
    Case("bash in-shell: podpy image ls --<TAB>", sample=in_shell(_flags), skip=_no_script, group="completion"),
    Case(f"bash in-shell: podpy rmi <TAB> ({IMAGES} images)", sample=in_shell(_rmi, loops=5), skip=_no_script,
         group="completion"),  # fmt: skip
]
