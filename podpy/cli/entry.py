"""The `podpy` front door: answers the hottest paths before importing the CLI framework."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-v"]):
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
    from podpy.cli.app import run

    sys.exit(run(args))


if __name__ == "__main__":
    main()
