"""The front door's fast path: the frequent commands parsed from tables, no typer import (~30-60 ms).

`run` and `create` are parsed with run_flags; the others (ps, images, volume ls, inspect, rm, rmi,
exec, logs; pull and push in podpy.cli.fastregistry) with the flag tables of podpy.cli.fastcmds.
Anything a table does not know (--help, a flag added to the typer command only, a missing or extra argument, another command) returns None
and the full CLI handles the arguments, so help, errors and new flags behave the same either way.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
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
    """The exit code of `[global options] COMMAND ...`, or None when the full CLI must handle `args`."""
    found = _globals(args)
    if found is None:
        return None
    opts, i = found
    if i >= len(args):
        return None
    word = args[i]
    if word in ("run", "create") or (word == "container" and args[i + 1 : i + 2] in (["run"], ["create"])):
        skip = 2 if word == "container" else 1
        return _run_or_create(opts, args[i + skip - 1], args[i + skip :])
    if "build" in args[i : i + 2]:  # build, image/buildx/builder build: podpy.cli.fastbuild
        from podpy.cli import fastbuild

        if fastbuild.is_build(args[i:]):
            params = fastbuild.parse_args(args[i:])
            if params is None:
                return None
            _no_gc()
            return guarded(opts, lambda: fastbuild.build_image(params))
    from podpy.cli import fastcmds

    found_cmd = fastcmds.lookup(args[i:])
    if found_cmd is None and word in ("pull", "push", "image"):
        from podpy.cli import fastregistry

        found_cmd = fastcmds.lookup(args[i:], fastregistry.COMMANDS)
    if found_cmd is None:
        return None
    cmd, rest = found_cmd
    parsed = fastcmds.parse(cmd, rest)
    if parsed is None:
        return None
    _no_gc()
    return guarded(opts, lambda: cmd.handler(*parsed))


def _run_or_create(opts: dict[str, str], verb: str, rest: list[str]) -> int | None:
    from podpy.cli.run_flags import NotHandled, parse

    try:
        kw, image, command = parse(rest, run=verb == "run")
    except NotHandled:
        return None
    _no_gc()
    if verb == "run":
        from podpy.cli.run_core import run_container

        return guarded(opts, lambda: run_container(image, command, kw))

    def create() -> int:
        from podpy.cli import common
        from podpy.cli.run_core import create as create_container

        common.out(create_container(image, command, kw).id)
        return 0

    return guarded(opts, create)


def _no_gc() -> None:
    """A short-lived process that allocates a lot while importing: ~5-10 ms of GC passes saved. The
    forked supervisor of `run`, which lives long, turns it back on."""
    import gc

    gc.disable()


def guarded(opts: dict[str, Any], action) -> int:  # type: ignore[no-untyped-def]
    """Like the full CLI (podpy.cli.app.run): a typed error is one `Error:` line and its exit code."""
    from podpy.cli import common
    from podpy.errors import PodpyError

    try:
        common.configure(**opts)
        return action()
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
    except Exception as e:  # a bug: still one line; the traceback only at --log-level debug
        if common.log_level() == "debug":
            raise
        common.err(f"Error: internal error: {type(e).__name__}: {e}")
        return 125
