"""The root command: global options, command groups, and the error → exit-code mapping."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from podpy.cli import common
from podpy.cli.appkit import SETTINGS, new_app

app = new_app("Manage containers and images, without a daemon.")


def _print_version(value):  # type: ignore[no-untyped-def]  # typer reads a callback's annotations unresolved
    if value:
        from podpy import __version__

        common.out(f"podpy version {__version__}")
        raise typer.Exit(0)


@app.callback()
def global_options(
    root: Path | None = typer.Option(None, "--root", help="Path to the persistent store (images, containers)"),
    runroot: Path | None = typer.Option(None, "--runroot", help="Path to the runtime state directory"),
    storage_driver: str | None = typer.Option(
        None, "--storage-driver", help="Storage driver: overlay or vfs (auto-detected)"
    ),
    log_level: str = typer.Option(
        "warn", "--log-level", help="Log level: trace, debug, info, warn, warning, error, fatal, panic"
    ),
    runtime: str | None = typer.Option(None, "--runtime", help="OCI runtime: builtin (default), runc, crun or a path"),
    runtime_flag: list[str] | None = typer.Option(
        None, "--runtime-flag", help="A global flag for an external runtime (e.g. debug, log-format=json)"
    ),
    cgroup_manager: str | None = typer.Option(
        None, "--cgroup-manager", help="Cgroup manager: cgroupfs or systemd (podpy drives cgroupfs either way)"
    ),
    events_backend: str | None = typer.Option(None, "--events-backend", help="Events backend: file, journald or none"),
    tmpdir: Path | None = typer.Option(None, "--tmpdir", help="Path for podpy's temporary files"),
    noout: bool = typer.Option(False, "--noout", help="Do not output to stdout"),
    version: bool = typer.Option(
        False, "--version", "-v", help="Print the version and exit", is_eager=True, callback=_print_version
    ),
) -> None:
    """podpy: a daemonless, Podman/Docker-compatible container engine."""
    common.configure(root=root, runroot=runroot, storage_driver=storage_driver, log_level=log_level, runtime=runtime,
                     runtime_flags=runtime_flag, cgroup_manager=cgroup_manager, events_backend=events_backend,
                     tmpdir=tmpdir, noout=noout)  # fmt: skip


def _register() -> None:
    from podpy.cli import (
        build,
        container_files,
        container_resources,
        containers,
        healthcheck,
        images,
        network,
        registry,
        system,
        volumes,
    )

    containers.register(app)
    container_files.register(app)  # after containers: it adds to the `container` group too
    container_resources.register(app)  # likewise
    healthcheck.register(app)
    images.register(app)
    network.register(app, new_app, SETTINGS)
    build.register(app, new_app, SETTINGS)  # after images: it adds `image build` too
    registry.register(app)
    system.register(app)
    volumes.register(app)


def _register_compose(args: list[str] | None, words: list[str]) -> None:
    """`compose` joins the tree only when it may be invoked or listed (its modules cost ~8 ms)."""
    if any(g.name == "compose" for g in app.registered_groups):
        return
    known = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    if args is None or not words or "--help" in args or words[0] in ("compose", "help") or words[0] not in known:
        from podpy.cli import compose

        compose.register(app, new_app, SETTINGS)


LAZY_GROUPS = {"pod": "pods", "kube": "kube", "generate": "kube", "play": "kube", "secret": "secrets"}


def _register_lazy(args: list[str] | None, words: list[str]) -> None:
    """`pod`, `kube`, `generate` and `play` join the tree only when they may be invoked or listed
    (`ps` and `run` never import them)."""
    import importlib

    known = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    listing = args is None or not words or "--help" in args or words[0] == "help" or words[0] not in known
    for module in dict.fromkeys(LAZY_GROUPS.values()):
        groups = [g for g, m in LAZY_GROUPS.items() if m == module]
        if any(g in known for g in groups) or not (listing or words[0] in groups):
            continue
        importlib.import_module(f"podpy.cli.{module}").register(app, new_app, SETTINGS)


def _help_command(ctx: typer.Context, command: list[str] | None = typer.Argument(None)) -> None:
    """Show help for podpy or one of its commands."""
    root = ctx.find_root().command
    cmd, path = root, ["podpy"]
    for name in command or []:
        sub = getattr(cmd, "get_command", lambda c, n: None)(ctx, name)
        if sub is None:
            from podpy.errors import InvalidArgument

            raise InvalidArgument(f"unrecognized command `{' '.join(path)} {name}`")
        cmd, path = sub, [*path, name]
    with typer.Context(cmd, info_name=" ".join(path)) as sub_ctx:  # type: ignore[arg-type]
        common.out(cmd.get_help(sub_ctx))


# Global options that take a value (so the word after them is not the command name).
VALUE_OPTIONS = ("--root", "--runroot", "--storage-driver", "--log-level", "--runtime", "--runtime-flag",
                 "--cgroup-manager", "--events-backend", "--tmpdir")  # fmt: skip


def _command_path(args: list[str]) -> list[str]:
    """The command words in `args` (e.g. ["image", "ls"]), skipping global options and their values."""
    words: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in VALUE_OPTIONS:
            skip = True
        elif a == "--":
            break
        elif not a.startswith("-"):
            words.append(a)
            if len(words) == 2:
                break
    return words


def _prune(target: typer.Typer, words: list[str]) -> None:
    """Keep only the invoked command: typer converts every registered function on each run (~1 ms each)."""
    if not words:
        return
    cmds = [c for c in target.registered_commands if c.name == words[0]]
    groups = [g for g in target.registered_groups if g.name == words[0]]
    if not cmds and not groups:
        return  # unknown: keep all, so the error and `help` list every command
    target.registered_commands, target.registered_groups = cmds, groups
    for g in groups:
        _prune(g.typer_instance, words[1:])  # type: ignore[arg-type]


def build(args: list[str] | None = None):  # type: ignore[no-untyped-def]
    """The click command tree (the whole tree when `args` is None: docgen reads it for man pages)."""
    if not any(c.name == "help" for c in app.registered_commands):  # build() may run twice (docgen, tests)
        _register()
        app.command("help", context_settings=SETTINGS)(_help_command)
    words = _command_path(args) if args is not None else []
    _register_compose(args, words)
    _register_lazy(args, words)
    if words[:1] != ["help"] and "--help" not in (args or []):
        _prune(app, words)
    from podpy.cli import pflag

    return pflag.apply(typer.main.get_command(app))


def run(args: list[str]) -> int:
    from typer.exceptions import Abort, Exit, TyperException

    from podpy.errors import PodpyError

    try:
        if "build" in _command_path(args):  # Podman's `--pull` alone and `--layers=false` forms
            from podpy.cli.build import normalize_args

            args = normalize_args(args)
        cmd = build(args)
        rv = cmd.main(args=args, prog_name="podpy", standalone_mode=False)
    except Exit as e:
        return e.exit_code
    except TyperException as e:
        common.err(f"Error: {e.format_message()}")
        return 125
    except PodpyError as e:
        common.err(f"Error: {e}")
        return e.exit_code
    except (Abort, KeyboardInterrupt):
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as e:  # e.g. permission denied on the store: one line, not a traceback
        common.err(f"Error: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
        return 125
    except Exception as e:  # a bug: still one line; the traceback only at --log-level debug
        if common.log_level() == "debug":
            raise
        common.err(f"Error: internal error: {type(e).__name__}: {e}")
        return 125
    return rv if isinstance(rv, int) else 0
