"""File commands: cp, diff, export, commit (top level and under `container`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine
from podpy.errors import PodpyError


def split_cp_arg(arg: str) -> tuple[str | None, str]:
    """(container, path) for `CONTAINER:PATH`; (None, arg) for a host path. As Docker does, an
    absolute path or one starting with `.` is always local (`./a:b` is a file named `a:b`)."""
    if arg.startswith("/") or arg.startswith("."):
        return None, arg
    ctr, sep, path = arg.partition(":")
    if not sep or not ctr:
        return None, arg
    return ctr, path or "/"


def cp(
    src: str = typer.Argument(..., metavar="SRC", help="CONTAINER:SRC_PATH, a host path, or - for a tar stream on stdin"),
    dest: str = typer.Argument(..., metavar="DEST", help="CONTAINER:DEST_PATH, a host path, or - for a tar stream on stdout"),
    archive: bool = typer.Option(
        True, "--archive/--no-archive", "-a",
        help="Chown what is copied into a container to its primary uid/gid (default true); "
        "--archive=false keeps the source's uid/gid",
    ),  # fmt: skip
    follow_link: bool = typer.Option(False, "--follow-link", "-L", help="Always follow symbol link in SRC_PATH"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Allow directories to be overwritten with "
                                   "non-directories and vice versa"),  # fmt: skip
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress warnings about entries that were skipped"),
) -> None:
    """Copy files/folders between a container and the local filesystem, or between two containers.

    A SRC_PATH ending in /. copies the content of the directory, not the directory itself.
    """
    from podpy.engine import container_files as cf
    from podpy.errors import InvalidArgument

    src_ctr, src_path = split_cp_arg(src)
    dest_ctr, dest_path = split_cp_arg(dest)
    if not src_ctr and not dest_ctr:
        raise InvalidArgument("must specify at least one container source")
    opts = cf.CopyOptions(archive=archive, follow_link=follow_link, overwrite=overwrite)
    if src_ctr and dest_ctr:
        report = cf.copy_between(engine(), src_ctr, src_path, dest_ctr, dest_path, opts)
    elif src_ctr:
        stream = _tty_checked(sys.stdout, "write a tar archive to") if dest_path == "-" else None
        report = cf.copy_from(engine(), src_ctr, src_path, dest_path, opts, stream)
    else:
        stream = _tty_checked(sys.stdin, "read a tar archive from") if src_path == "-" else None
        report = cf.copy_to(engine(), str(dest_ctr), src_path, dest_path, opts, stream)
    if report.skipped and not quiet:
        common.warn(f"{len(report.skipped)} entries not copied (sockets, device nodes or vanished): "
                    + ", ".join(report.skipped[:5]) + (" ..." if len(report.skipped) > 5 else ""))  # fmt: skip


def _tty_checked(stream: Any, what: str) -> Any:
    from podpy.errors import InvalidArgument

    if stream.isatty():
        raise InvalidArgument(f"refusing to {what} a terminal: redirect it")
    return stream.buffer


def diff(
    container: str | None = typer.Argument(None, metavar="CONTAINER", help="Container"),
    format_: str | None = typer.Option(None, "--format", help="Format output: json"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
) -> None:
    """Inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted)."""
    import json

    from podpy.engine.container_files import diff as changes_of
    from podpy.errors import InvalidArgument

    if latest == (container is not None):
        raise InvalidArgument("--latest and containers cannot be used together" if latest
                              else "you must provide a container name or ID, or use --latest")  # fmt: skip
    container = container or engine().containers.latest()
    changes = changes_of(engine(), container)
    if format_ in (None, "", "table"):
        common.out("\n".join(f"{kind} {path}" for kind, path in changes))
        return
    if format_ != "json":
        raise InvalidArgument(f"unsupported --format {format_!r}: json")
    names = {"C": "changed", "A": "added", "D": "deleted"}
    doc: dict[str, list[str]] = {}
    for kind, path in changes:
        doc.setdefault(names[kind], []).append(path)
    common.out(json.dumps(doc, indent=4))


def export(
    container: str = typer.Argument(..., help="Container"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file, instead of STDOUT"),
) -> None:
    """Export a container's filesystem as a tar archive."""
    from podpy.engine import container_files as cf

    if output is not None:
        cf.export_file(engine(), container, output)
        return
    stream = _tty_checked(sys.stdout, "export to")
    try:
        cf.export(engine(), container, stream)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise


def commit(
    container: str = typer.Argument(..., help="Container"),
    image: str | None = typer.Argument(None, metavar="[IMAGE]", help="Name of the new image (REPOSITORY[:TAG])"),
    change: list[str] | None = typer.Option(None, "--change", "-c", help="Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, ...)"),
    message: str = typer.Option("", "--message", "-m", help="Commit message"),
    author: str = typer.Option("", "--author", "-a", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
    pause: bool = typer.Option(
        True, "--pause/--no-pause", "-p", help="Pause the container during commit (default, as Docker)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress output (the ID is still printed)"),
    format_: str = typer.Option("oci", "--format", "-f", help="Format of the image manifest and metadata (oci|docker)"),
    iidfile: str | None = typer.Option(None, "--iidfile", help="Write the image ID to this file"),
    include_volumes: bool = typer.Option(False, "--include-volumes", help="Include container volumes as image volumes"),
    squash: bool = typer.Option(False, "--squash", "-s", help="Squash all of the image's layers into one"),
) -> None:
    """Create a new image from a container's changes."""
    from podpy.engine.container_commit import CommitOptions
    from podpy.engine.container_commit import commit as do_commit

    opts = CommitOptions(changes=list(change or []), message=message, author=author, pause=pause,
                         format=format_, include_volumes=include_volumes, squash=squash)  # fmt: skip
    img = do_commit(engine(), container, image, opts, warn=common.warn)
    if iidfile:
        try:
            Path(iidfile).write_text(img.id)
        except OSError as e:
            raise PodpyError(f"writing {iidfile}: {e.strerror or e}") from None
    common.out(img.id)


COMMANDS = (("cp", cp), ("diff", diff), ("export", export), ("commit", commit))


def register(app: typer.Typer) -> None:
    """Top-level verbs, and the same under the `container` group (containers.register made it)."""
    from podpy.cli.appkit import SETTINGS

    groups = [g.typer_instance for g in app.registered_groups if g.name == "container"]
    for target in (app, *groups):
        for name, fn in COMMANDS:
            extra = {"cls": _cp_command()} if name == "cp" else {}
            target.command(name, context_settings=SETTINGS, **extra)(fn)  # type: ignore[union-attr]


ARCHIVE_SPELLINGS = {"true": "--archive", "false": "--no-archive"}


def _cp_command() -> type:
    """cp's command class: Podman's `--archive=false` / `-a=false` (a flag with a value) become
    --no-archive before click parses them."""
    from typer.core import TyperCommand

    class CpCommand(TyperCommand):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            out = []
            for a in args:
                name, eq, value = a.partition("=")
                spelled = ARCHIVE_SPELLINGS.get(value.lower()) if eq and name in ("--archive", "-a") else None
                out.append(spelled or a)
            return super().parse_args(ctx, out)

    return CpCommand
