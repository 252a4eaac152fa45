"""The front door's fast path for `podpy run`: parsed with run_flags, no typer import (~60 ms).

Anything it does not recognise (--help, an unknown flag, another command) returns None and the
full CLI handles the arguments, so errors and help look the same either way.
"""

from __future__ import annotations

import sys
from typing import Any

GLOBALS = {"--root": "root", "--runroot": "runroot", "--storage-driver": "storage_driver",
           "--log-level": "log_level", "--runtime": "runtime", "--cgroup-manager": "cgroup_manager",
           "--events-backend": "events_backend", "--tmpdir": "tmpdir", "--runtime-flag": "runtime_flags",
           "--noout": "noout"}  # fmt: skip
GLOBAL_BOOLS = ("--noout",)
GLOBAL_LISTS = ("--runtime-flag",)


def global_span(args: list[str], i: int) -> int:
    """How many words the global option at args[i] takes (1 or 2)."""
    name, eq, _ = args[i].partition("=")
    return 1 if eq or name in GLOBAL_BOOLS else 2


def _globals(args: list[str]) -> tuple[dict[str, Any], int] | None:
    opts: dict[str, Any] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        name, eq, value = args[i].partition("=")
        key = GLOBALS.get(name)
        if key is None:
            return None
        if name in GLOBAL_BOOLS:
            low = value.lower() if eq else "true"
            if low not in ("true", "false", "1", "0"):
                return None
            opts[key] = low in ("true", "1")
            i += 1
            continue
        if not eq:
            if i + 1 >= len(args):
                return None
            i += 1
            value = args[i]
        if name in GLOBAL_LISTS:
            opts[key] = [*opts.get(key, []), value]
        else:
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


def _guarded(opts: dict[str, Any], kw: dict, image: str, command: list[str]) -> int:  # type: ignore[type-arg]
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
