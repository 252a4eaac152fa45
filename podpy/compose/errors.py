"""Errors of the compose loader and planner (exit 125 through PodpyError)."""

from __future__ import annotations

from podpy.errors import PodpyError


class ComposeError(PodpyError):
    """A compose file, its environment or the project it describes is invalid."""


class ComposeFileNotFound(ComposeError):
    """No compose file given and none found walking up from the working directory."""

    exit_code = 14  # Docker Compose's code for "no configuration file provided: not found"


class DependencyFailed(ComposeError):
    """A depends_on condition cannot hold (unhealthy, failed, timed out): exit 1 like Docker Compose."""

    exit_code = 1
