"""The `podpy` front door: answers the hottest paths before importing the CLI framework."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    import gc

    gc.disable()  # start-up allocates a lot: no collector passes while the fast path imports (see fastpath._no_gc)
    from podpy.cli.lazymods import defer_inspect

    defer_inspect()  # dataclasses' import of inspect: 5-9 ms that no fast command uses
    args = sys.argv[1:] if argv is None else argv
    if _version_only(args):
        from podpy import __version__

        print(f"podpy version {__version__}")
        return
    if args and args[0] == "__names":
        from podpy.cli.names import main as names_main

        sys.exit(names_main(args[1:]))
    from podpy.cli.fastpath import dispatch  # `run` without the CLI framework: its latency matters

    code = dispatch(args)
    if code is not None:
        _exit_now(code)
        sys.exit(code)
    gc.enable()  # the full CLI runs long commands too (events, logs -f, compose up)
    from podpy.cli.app import run

    sys.exit(run(args))


def _exit_now(code: int) -> None:
    """A fast command is done: leave without the interpreter's finalization (tearing down every module
    and object: ~3-6 ms for run and exec) when nothing is left for it to do, i.e. no atexit handler
    (tempfile finalizers, executors, logging), no other thread, no profiler or tracer, and the standard
    streams flush."""
    import atexit
    import os

    if sys.getprofile() or sys.gettrace():  # cProfile, coverage, a debugger: they write at exit
        return
    threading = sys.modules.get("threading")  # never imported: no other thread (and no import of it here)
    if atexit._ncallbacks() or (
        threading and (threading.active_count() > 1 or getattr(threading, "_threading_atexits", None))
    ):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed or broken stream: the normal exit reports it as it always did
    os._exit(code)


def _version_only(args: list[str]) -> bool:
    """`--version` after nothing but global options (`--root X --version`): typer would build the
    whole command tree first (~30 ms) to print the same line (its --version is eager)."""
    from podpy.cli.fastpath import GLOBALS, global_span

    i = 0
    while i < len(args) and args[i].partition("=")[0] in GLOBALS:
        i += global_span(args, i)
    return args[i:] in (["--version"], ["-v"])


if __name__ == "__main__":
    main()
