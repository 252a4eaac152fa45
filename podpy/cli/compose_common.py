"""What the `compose` commands share: the group's global options, project loading, and Docker
Compose's progress lines."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from podpy.cli import common

DONE = {"Created", "Started", "Stopped", "Removed", "Healthy", "Running", "Recreated", "Pulled", "Exited",
        "Killed", "Paused", "Unpaused", "Restarted", "Built", "Pushed"}


@dataclass
class Globals:
    files: list[str] = field(default_factory=list)
    project_name: str | None = None
    project_directory: str | None = None
    env_files: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    dry_run: bool = False
    ansi: str = "auto"  # never | always | auto
    progress: str = "auto"  # auto | tty | plain | quiet


G = Globals()


def load(services: list[str] | None = None, interpolate: bool = True, resolve_paths: bool = True,
         by_name: bool = False) -> Any:
    """The project from its files; with `by_name` (commands acting on what exists), `-p NAME` and no
    file found, the project its containers' labels describe, as Docker Compose allows."""
    from podpy.compose.errors import ComposeFileNotFound

    stdin = sys.stdin.read() if "-" in G.files else None
    try:
        return _load(services, interpolate, resolve_paths, stdin)
    except ComposeFileNotFound:
        if not (by_name and G.project_name and not G.files):
            raise
    from podpy.cli.common import engine
    from podpy.compose.discover import check_project_name
    from podpy.compose.observe import project_from_labels

    return project_from_labels(engine(), check_project_name(G.project_name))


def _load(services: list[str] | None, interpolate: bool, resolve_paths: bool, stdin: str | None) -> Any:
    from podpy.compose.loader import LoadOptions, load_project

    project = load_project(LoadOptions(files=G.files, project_directory=G.project_directory,
                                       project_name=G.project_name, env_files=G.env_files, profiles=G.profiles,
                                       services=list(services or []), stdin=stdin, interpolate=interpolate,
                                       resolve_paths=resolve_paths))
    for w in project.warnings:
        warn(w)
    return project


def colors() -> bool:
    return G.ansi == "always" or (G.ansi == "auto" and sys.stdout.isatty())


def warn(text: str) -> None:
    common.err(f'WARN[0000] {text}')


class Events:
    """Docker Compose's progress lines on stderr: every step when not a terminal, the final state of
    each object (` ✔ Container p-web-1  Started`) on one."""

    def __init__(self) -> None:
        self.tty = G.progress == "tty" or (G.progress == "auto" and sys.stderr.isatty())

    def __call__(self, noun: str, name: str, status: str) -> None:
        if noun == "Warning":
            warn(f"{name}: {status}")
        elif G.progress == "quiet":
            return
        elif not self.tty:
            common.err(f" {noun} {name}  {status}")
        elif status in DONE:
            common.err(f" \u2714 {noun} {name}  {status}")


def builds(mode: str, no_cache: bool = False, pull: bool = False, build_args: list[str] | None = None,
           quiet: bool = False) -> Any:
    """How `up`/`create`/`build` build: the builder's lines go to stderr (stdout stays the logs')."""
    from podpy.compose.build import BuildFlags
    from podpy.compose.project_ops import Builds

    quiet = quiet or G.progress == "quiet"
    return Builds(mode, BuildFlags(no_cache, pull, list(build_args or []), quiet), _say_quiet if quiet else _say,
                  build_output)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _say_quiet(line: str) -> None:
    return None


@contextmanager
def build_output() -> Iterator[None]:
    """RUN steps write to fd 1: point it at stderr while images are built, as Compose prints builds."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
