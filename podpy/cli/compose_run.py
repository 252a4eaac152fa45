"""`compose run`: a one-off container for a service (its dependencies started first)."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine
from podpy.cli.compose_common import Events, builds, load


def run(
    service: str = typer.Argument(..., help="Service"),
    command: list[str] | None = typer.Argument(None, help="Command and arguments"),
    detach: bool = typer.Option(False, "--detach", "-d", help="Run container in background and print its name"),
    rm: bool = typer.Option(False, "--rm", help="Automatically remove the container when it exits"),
    name: str | None = typer.Option(None, "--name", help="Assign a name to the container"),
    env: list[str] | None = typer.Option(None, "--env", "-e", help="Set environment variables"),
    label: list[str] | None = typer.Option(None, "--label", "-l", help="Add or override a label"),
    no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services"),
    service_ports: bool = typer.Option(False, "--service-ports", help="Publish the service's ports"),
    publish: list[str] | None = typer.Option(None, "--publish", "-p", help="Publish a container's port(s)"),
    entrypoint: str | None = typer.Option(None, "--entrypoint", help="Override the entrypoint of the image"),
    user: str | None = typer.Option(None, "--user", "-u", help="Run as this username or uid"),
    workdir: str | None = typer.Option(None, "--workdir", "-w", help="Working directory inside the container"),
    volume: list[str] | None = typer.Option(None, "--volume", "-v", help="Bind mount a volume"),
    no_tty: bool = typer.Option(False, "--no-TTY", "-T", help="Disable pseudo-TTY allocation"),
    interactive: bool = typer.Option(True, "--interactive", "-i", help="Keep STDIN open (default)"),
    pull: str = typer.Option("policy", "--pull", help="Pull image before running: always, missing, never, policy"),
) -> None:
    """Run a one-off command on a service."""
    project = load([service])
    if service not in project.services:
        from podpy.compose.errors import ComposeError

        raise ComposeError(f"no such service: {service}")
    ex = _ready(project, service, no_deps, pull)
    cname = name or f"{project.name}-{service}-run-{secrets.token_hex(6)}"
    tty = not no_tty and not detach and sys.stdin.isatty()

    def adjust(opts: Any) -> None:
        if command:
            opts.command = list(command)
        if entrypoint is not None:
            opts.entrypoint = entrypoint
        opts.env += list(env or [])
        opts.labels += list(label or [])
        opts.user, opts.workdir = user or opts.user, workdir or opts.workdir
        opts.volumes += list(volume or [])
        opts.tty, opts.interactive = tty, interactive and not detach  # piped stdin reaches it, as Compose
        opts.auto_remove = rm
        opts.restart = None  # Compose: one-off containers never restart
        opts.net["publish"] = (opts.net.get("publish") or []) if service_ports else list(publish or [])

    rec = ex.create_container(service, 1, cname, oneoff=True, adjust=adjust)
    if detach:
        _rec, launch = engine().containers.start(rec.id, None)
        if launch is not None:
            launch.close()
        common.out(cname)
        return
    from podpy.cli.run_core import run_attached

    raise typer.Exit(run_attached(rec, sig_proxy=True))



def _ready(project: Any, service: str, no_deps: bool, pull: str) -> Any:
    """Start what the service depends on and wait for its depends_on conditions, as `up` would;
    the executor that will create the one-off container."""
    from podpy.compose import project_ops
    from podpy.compose.executor import Executor
    from podpy.compose.observe import observe
    from podpy.compose.plan import Wait
    from podpy.compose.planner import UpOptions

    deps = [] if no_deps else [n for n in project.service_order([service]) if n != service]
    if deps:
        project_ops.up(engine(), project, project_ops.UpRequest(UpOptions(services=deps), pull=pull,
                                                                builds=builds("auto")), Events())
    images = project_ops.ensure_images(engine(), project, [service], pull, None, Events(), builds("auto"))
    ex = Executor(engine(), project, observe(engine(), project.name), Events(), image_ids=images)
    for dep in project.services[service].depends_on.values():
        if dep.service in deps:
            ex.wait_for(Wait(dep.service, dep.condition, dep.required))
    return ex
