"""`healthcheck run`: run a container's health check once, as Podman does (exit 0 when healthy)."""

from __future__ import annotations

import typer

from podpy.cli import common
from podpy.cli.common import engine


def run(container: str = typer.Argument(..., help="Container")) -> None:
    """Run the health check of a container (exit 0 if healthy, 1 otherwise, printing the status)."""
    from podpy.engine.container_health import HEALTHY, run_check

    status = run_check(engine().containers, container)
    if status != HEALTHY:
        common.out(status)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from podpy.cli.appkit import SETTINGS, new_app

    group = new_app("Manage health checks on containers.")
    group.command("run", context_settings=SETTINGS)(run)
    app.add_typer(group, name="healthcheck")
