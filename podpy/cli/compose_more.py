"""`compose pull`, `build` (not yet: podpy has no builder) and `cp`."""

from __future__ import annotations

import typer

from podpy.cli.common import engine
from podpy.cli.compose_common import Events, G, load, warn
from podpy.compose.errors import ComposeError


def pull(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    ignore_pull_failures: bool = typer.Option(False, "--ignore-pull-failures", help="Pull what it can"),
    include_deps: bool = typer.Option(False, "--include-deps", help="Also pull services declared as dependencies"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Pull without printing progress information"),
    policy: str = typer.Option("always", "--policy", help="Apply pull policy: missing or always"),
) -> None:
    """Pull service images."""
    from podpy.compose import planner, project_ops
    from podpy.errors import PodpyError

    project = load(list(services or []))
    names = planner.service_set(project, list(services or []), not include_deps)
    events = Events()
    failed = False
    for name in names:
        svc = project.services[name]
        if svc.build is not None and not svc.config.get("image"):
            continue  # built, not pulled
        if G.dry_run:
            events("Image", svc.image, "Pulled")
            continue
        try:
            project_ops.ensure_images(engine(), project, [name], policy, None, _quiet if quiet else events)
        except PodpyError as e:
            if not ignore_pull_failures:
                raise
            warn(f"{name}: {e}")
            failed = True
    if failed:
        events("Warning", "pull", "some service images could not be pulled")


def _quiet(noun: str, name: str, status: str) -> None:
    return None


def build(services: list[str] | None = typer.Argument(None, help="Services (default: all)")) -> None:
    """Build or rebuild services (not supported yet)."""
    raise ComposeError("building images is not supported yet")


def cp(
    src: str = typer.Argument(..., metavar="SRC", help="SERVICE:SRC_PATH or a host path"),
    dest: str = typer.Argument(..., metavar="DEST", help="SERVICE:DEST_PATH or a host path"),
    index: int = typer.Option(1, "--index", help="Index of the container if the service has several"),
    archive: bool = typer.Option(False, "--archive", "-a", help="Archive mode (copy all uid/gid information)"),
    follow_link: bool = typer.Option(False, "--follow-link", "-L", help="Always follow symbol link in SRC_PATH"),
) -> None:
    """Copy files/folders between a service container and the local filesystem."""
    from podpy.cli import container_files
    from podpy.cli.compose_views import service_container

    project = load(by_name=True)

    def resolve(arg: str) -> str:
        service, sep, path = arg.partition(":")
        if not sep or "/" in service or service in (".", ".."):
            return arg
        return f"{service_container(project, service, index, running=False).name}:{path}"

    container_files.cp(resolve(src), resolve(dest), archive, follow_link, False)


COMMANDS = (("pull", pull), ("build", build), ("cp", cp))
