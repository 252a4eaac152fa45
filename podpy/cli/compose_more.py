"""`compose pull`, `build` (through podpy's builder, in process), `push`, `events` and `cp`."""

from __future__ import annotations

import typer

from podpy.cli.common import engine
from podpy.cli.compose_common import Events, G, builds, load, warn


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
            project_ops.ensure_images(engine(), project, [name], policy, None, _quiet if quiet else events,
                                      project_ops.Builds("pull"))
        except PodpyError as e:
            if not ignore_pull_failures:
                raise
            warn(f"{name}: {e}")
            failed = True
    if failed:
        events("Warning", "pull", "some service images could not be pulled")


def _quiet(noun: str, name: str, status: str) -> None:
    return None


def build(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    build_arg: list[str] | None = typer.Option(None, "--build-arg", help="Set build-time variables for services"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use cache when building the image"),
    pull: bool = typer.Option(False, "--pull", help="Always attempt to pull a newer version of the image"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Don't print anything to STDOUT"),
    with_dependencies: bool = typer.Option(False, "--with-dependencies", help="Also build dependencies"),
) -> None:
    """Build or rebuild services."""
    from podpy.compose import planner, project_ops

    project = load(list(services or []))
    names = planner.service_set(project, list(services or []), not with_dependencies)
    if G.dry_run:
        for name in names:
            if project.services[name].build is not None:
                Events()("Service", name, "Built")
        return
    project_ops.build_services(engine(), project, names, builds("always", no_cache, pull, build_arg, quiet),
                               Events())


def push(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    ignore_push_failures: bool = typer.Option(False, "--ignore-push-failures", help="Push what it can"),
    include_deps: bool = typer.Option(False, "--include-deps", help="Also push images of dependencies"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Push without printing progress information"),
) -> None:
    """Push service images (those a service builds under an `image:` name, and its build tags)."""
    from podpy.compose import planner
    from podpy.engine.push import push as do_push
    from podpy.errors import PodpyError

    project = load(list(services or []))
    events = _quiet if quiet else Events()
    failed = False
    for name in planner.service_set(project, list(services or []), not include_deps):
        svc = project.services[name]
        if svc.build is None or not svc.config.get("image"):
            continue  # Compose pushes what it builds, and only under a name the file gives
        for ref in (svc.image, *map(str, svc.build.get("tags") or [])):
            events("Image", ref, "Pushing")
            if G.dry_run:
                events("Image", ref, "Pushed")
                continue
            try:
                do_push(engine(), ref)
            except PodpyError as e:
                if not ignore_push_failures:
                    raise
                warn(f"{name}: {e}")
                failed = True
                continue
            events("Image", ref, "Pushed")
    if failed:
        events("Warning", "push", "some service images could not be pushed")


def events(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    json_: bool = typer.Option(False, "--json", help="Output events as a stream of json objects"),
    since: str | None = typer.Option(None, "--since", help="Show all events created since timestamp"),
    until: str | None = typer.Option(None, "--until", help="Stream events until this timestamp"),
) -> None:
    """Receive real time events from containers."""
    import sys
    import time

    from podpy.compose import events as cev
    from podpy.errors import InvalidArgument
    from podpy.events import Reader
    from podpy.events.query import QueryError, build

    project = load(list(services or []), by_name=True)
    try:
        query = build([], since, until)
    except QueryError as e:
        raise InvalidArgument(str(e)) from None
    reader = Reader(engine().layout.runroot)
    show = cev.json_line if json_ else cev.text

    def emit(evs: list) -> None:  # type: ignore[type-arg]
        for ev in evs:
            item = cev.select(ev, project.name, list(services or [])) if query.matches(ev) else None
            if item is not None:
                sys.stdout.write(show(item))
        sys.stdout.flush()

    emit([ev for ev in reader.read() if since or until])  # new events only, unless --since/--until ask for the past
    try:
        while query.until_ns is None or time.time_ns() < query.until_ns:
            evs = reader.read()
            emit(evs)
            if not evs:
                time.sleep(0.1)
    except KeyboardInterrupt:
        return


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


COMMANDS = (("pull", pull), ("build", build), ("push", push), ("events", events), ("cp", cp))
