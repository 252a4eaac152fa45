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
        sys.exit(code)
    gc.enable()  # the full CLI runs long commands too (events, logs -f, compose up)
    from podpy.cli.app import run

    sys.exit(run(args))


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
