"""The front door's fast path for `podpy run`: parsed with run_flags, no typer import (~60 ms).

Anything it does not recognise (--help, an unknown flag, another command) returns None and the
full CLI handles the arguments, so errors and help look the same either way.
"""

from __future__ import annotations

import sys

GLOBALS = {"--root": "root", "--runroot": "runroot", "--storage-driver": "storage_driver",
           "--log-level": "log_level", "--runtime": "runtime"}  # fmt: skip


def _globals(args: list[str]) -> tuple[dict[str, str], int] | None:
    opts: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        name, eq, value = args[i].partition("=")
        key = GLOBALS.get(name)
        if key is None:
            return None
        if not eq:
            if i + 1 >= len(args):
                return None
            i += 1
            value = args[i]
        opts[key] = value
        i += 1
    return opts, i


def dispatch(args: list[str]) -> int | None:
    """The exit code of `[global options] run ...`, or None when the full CLI must handle `args`."""
    found = _globals(args)
    if found is None:
        return None
    opts, i = found
    if i >= len(args) or args[i] != "run":
        return None
    from podpy.cli.run_flags import NotHandled, parse

    try:
        kw, image, command = parse(args[i + 1 :])
    except NotHandled:
        return None
    import gc

    gc.disable()  # a short-lived process that allocates a lot while importing (~5-10 ms of GC passes);
    # the forked supervisor, which lives long, turns it back on
    return _guarded(opts, kw, image, command)


def _guarded(opts: dict[str, str], kw: dict, image: str, command: list[str]) -> int:  # type: ignore[type-arg]
    """Like the full CLI: a typed error is one `Error:` line and its exit code."""
    from podpy.cli import common
    from podpy.errors import PodpyError

    try:
        common.configure(**opts)
        from podpy.cli.run_core import run_container

        return run_container(image, command, kw)
    except PodpyError as e:
        common.err(f"Error: {e}")
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as e:
        common.err(f"Error: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
        return 125
