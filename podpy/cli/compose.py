"""`podpy compose`: global project options, up/down/create and the lifecycle commands.

Handlers stay thin: load the project, call one podpy.compose function, print its events in Docker
Compose's words. The views (ps, logs, images, top, port, ls) and run/exec live in compose_views.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine
from podpy.cli.compose_common import Events, G, builds, load, warn


def global_options(
    file: list[str] | None = typer.Option(None, "--file", "-f", help="Compose configuration files ('-': stdin)"),
    project_name: str | None = typer.Option(None, "--project-name", "-p", help="Project name"),
    project_directory: str | None = typer.Option(
        None, "--project-directory", help="Alternate working directory (default: the first file's directory)"),
    env_file: list[str] | None = typer.Option(None, "--env-file", help="Alternate environment files"),
    profile: list[str] | None = typer.Option(None, "--profile", help="Profiles to enable"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be done, change nothing"),
    ansi: str = typer.Option("auto", "--ansi", help="Control characters: never, always, auto"),
    progress: str = typer.Option("auto", "--progress", help="Progress output: auto, tty, plain, quiet"),
) -> None:
    """Define and run multi-container applications (the Compose Specification)."""
    G.files, G.project_name, G.project_directory = list(file or []), project_name, project_directory
    G.env_files, G.profiles, G.dry_run = list(env_file or []), list(profile or []), dry_run
    for flag, value, allowed in (("--ansi", ansi, ("never", "always", "auto")),
                                 ("--progress", progress, ("auto", "tty", "plain", "quiet"))):
        if value not in allowed:
            raise typer.BadParameter(f"invalid {flag} {value!r}: one of {', '.join(allowed)}")
    G.ansi, G.progress = ansi, progress


def _plan_out(plan: Any) -> None:
    for w in plan.warnings:
        warn(w)


def _dry(plan: Any) -> None:
    sys.stderr.write(plan.render(dry_run=True))


def _unsupported(project: Any, services: list[str]) -> None:
    from podpy.compose.service_options import unsupported_fields

    seen = set()
    for name in services:
        for text in unsupported_fields(project.services[name]):
            key = text.partition(":")[0]
            if key not in seen:
                seen.add(key)
                warn(f"service {name!r}: {text}")


def _up_request(services: list[str], kw: dict[str, Any]) -> Any:
    from podpy.compose.planner import UpOptions
    from podpy.compose.planner_cmds import parse_scale
    from podpy.compose.project_ops import UpRequest

    opts = UpOptions(services=list(services), no_deps=kw.get("no_deps", False),
                     force_recreate=kw.get("force_recreate", False), no_recreate=kw.get("no_recreate", False),
                     always_recreate_deps=kw.get("always_recreate_deps", False),
                     remove_orphans=kw.get("remove_orphans", False), scale=parse_scale(kw.get("scale") or []),
                     start=kw.get("start", True))
    req = UpRequest(opts, pull=kw.get("pull") or "policy", timeout=kw.get("timeout"),
                    dry_run=G.dry_run or kw.get("dry_run", False))
    if kw.get("wait_timeout"):
        req.wait_timeout = float(kw["wait_timeout"])
    req.builds = builds("always" if kw.get("build") else "never" if kw.get("no_build") else "auto")
    return req


def _converge(services: list[str], kw: dict[str, Any]) -> tuple[Any, Any]:
    from podpy.cli.run_core import pull_progress
    from podpy.compose import planner, project_ops

    project = load(services)
    req = _up_request(services, kw)
    if kw.get("no_build") and kw.get("build"):
        raise typer.BadParameter("--build and --no-build are incompatible")
    _unsupported(project, planner.service_set(project, services, req.options.no_deps))
    events = Events()
    plan = project_ops.up(engine(), project, req, events, progress=pull_progress)
    _plan_out(plan)
    if req.dry_run:
        _dry(plan)
    return project, plan


def up(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    detach: bool = typer.Option(False, "--detach", "-d", help="Run containers in the background"),
    build: bool = typer.Option(False, "--build", help="Build images before starting containers"),
    no_build: bool = typer.Option(False, "--no-build", help="Don't build an image, even if it's missing"),
    pull: str = typer.Option("policy", "--pull", help="Pull image before running: always, missing, never, policy"),
    wait: bool = typer.Option(False, "--wait", help="Wait for services to be running|healthy (implies -d)"),
    wait_timeout: int | None = typer.Option(None, "--wait-timeout", help="Maximum seconds to wait"),
    force_recreate: bool = typer.Option(False, "--force-recreate", help="Recreate containers even if unchanged"),
    no_recreate: bool = typer.Option(False, "--no-recreate", help="Don't recreate existing containers"),
    always_recreate_deps: bool = typer.Option(False, "--always-recreate-deps", help="Recreate dependent containers"),
    remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove containers of services not defined"),
    no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services"),
    no_start: bool = typer.Option(False, "--no-start", help="Don't start the services after creating them"),
    scale: list[str] | None = typer.Option(None, "--scale", help="Scale SERVICE to NUM instances"),
    abort_on_container_exit: bool = typer.Option(
        False, "--abort-on-container-exit", help="Stop all containers if any container was stopped"),
    exit_code_from: str | None = typer.Option(None, "--exit-code-from", help="Return the exit code of this service"),
    attach: list[str] | None = typer.Option(None, "--attach", help="Restrict attaching to these services"),
    attach_dependencies: bool = typer.Option(False, "--attach-dependencies", help="Also attach to dependencies"),
    no_attach: list[str] | None = typer.Option(None, "--no-attach", help="Do not attach to these services"),
    no_log_prefix: bool = typer.Option(False, "--no-log-prefix", help="Don't print prefix in logs"),
    timestamps: bool = typer.Option(False, "--timestamps", help="Show timestamps"),
    timeout: int | None = typer.Option(None, "--timeout", "-t", help="Shutdown timeout in seconds"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be done, change nothing"),
) -> None:
    """Create and start containers."""
    G.dry_run = G.dry_run or dry_run
    if exit_code_from:
        abort_on_container_exit = True
    if (detach or wait) and abort_on_container_exit:
        raise typer.BadParameter("--abort-on-container-exit and --exit-code-from are incompatible with --detach")
    kw = dict(locals())
    kw["start"] = not no_start
    project, plan = _converge(list(services or []), kw)
    if G.dry_run or no_start:
        return
    from podpy.compose import planner

    names = planner.service_set(project, list(services or []), no_deps)
    _report_running(project, names, plan)
    if wait:
        _wait_services(project, names, wait_timeout)
        return
    if detach:
        return
    from podpy.cli.compose_attach import attached

    default = names if attach_dependencies or not services else [n for n in names if n in services]
    chosen = [n for n in (attach or default) if n not in (no_attach or [])]
    started = {a.target for a in plan.actions if a.kind in ("start", "restart")}
    code = attached(project, chosen, abort_on_container_exit, exit_code_from, timeout,
                    not no_log_prefix, timestamps, started)
    raise typer.Exit(code)


def _report_running(project: Any, names: list[str], plan: Any) -> None:
    """Containers the plan left alone are reported `Running`, as Compose does."""
    from podpy.compose.observe import observe

    touched = {a.target for a in plan.actions}
    events = Events()
    for c in observe(engine(), project.name).project_containers(project.name):
        if c.service in names and c.name not in touched and c.running:
            events("Container", c.name, "Running")


def _wait_services(project: Any, names: list[str], timeout: int | None) -> None:
    from podpy.compose import plan as P
    from podpy.compose.executor import DEFAULT_WAIT, Executor
    from podpy.compose.observe import observe

    ex = Executor(engine(), project, observe(engine(), project.name), Events(),
                  wait_timeout=float(timeout) if timeout else DEFAULT_WAIT)
    for name in names:
        hc = project.services[name].config.get("healthcheck") or {}
        healthy = bool(hc) and hc.get("test") != ["NONE"]
        ex.wait_for(P.Wait(name, "service_healthy" if healthy else "service_started"))


def create(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    pull: str = typer.Option("policy", "--pull", help="Pull image before creating: always, missing, never, policy"),
    force_recreate: bool = typer.Option(False, "--force-recreate", help="Recreate containers even if unchanged"),
    no_recreate: bool = typer.Option(False, "--no-recreate", help="Don't recreate existing containers"),
    remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove containers of services not defined"),
    build: bool = typer.Option(False, "--build", help="Build images before creating containers"),
    no_build: bool = typer.Option(False, "--no-build", help="Don't build an image, even if it's missing"),
    scale: list[str] | None = typer.Option(None, "--scale", help="Scale SERVICE to NUM instances"),
) -> None:
    """Create containers for services (without starting them)."""
    kw = dict(locals())
    kw["start"] = False
    _converge(list(services or []), kw)


def down(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    volumes: bool = typer.Option(False, "--volumes", "-v", help="Remove named volumes declared in the file"),
    remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove containers of services not defined"),
    rmi: str | None = typer.Option(None, "--rmi", help="Remove images used by services: local or all"),
    timeout: int | None = typer.Option(None, "--timeout", "-t", help="Shutdown timeout in seconds"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be done, change nothing"),
) -> None:
    """Stop and remove containers, networks (and with -v volumes)."""
    G.dry_run = G.dry_run or dry_run
    from podpy.compose import planner, project_ops

    project = load(by_name=True)
    if services:
        plan = project_ops.run_plan(engine(), project, "rm", list(services), Events(), timeout,
                                    G.dry_run, stop=True, volumes=volumes)
    else:
        plan = project_ops.down(engine(), project, planner.DownOptions(volumes, remove_orphans), timeout,
                                Events(), G.dry_run)
    _plan_out(plan)
    if G.dry_run:
        _dry(plan)
    elif rmi:
        project_ops.remove_images(engine(), project, rmi, Events())


def _lifecycle(kind: str, services: list[str], timeout: int | None = None, **kw: Any) -> None:
    from podpy.compose import project_ops

    project = load(services, by_name=True)
    plan = project_ops.run_plan(engine(), project, kind, services, Events(), timeout, G.dry_run, **kw)
    if G.dry_run:
        _dry(plan)


def start(services: list[str] | None = typer.Argument(None, help="Services (default: all)")) -> None:
    """Start existing containers of services."""
    _lifecycle("start", list(services or []))


def stop(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    timeout: int | None = typer.Option(None, "--timeout", "-t", help="Shutdown timeout in seconds"),
) -> None:
    """Stop running containers without removing them."""
    _lifecycle("stop", list(services or []), timeout)


def restart(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    timeout: int | None = typer.Option(None, "--timeout", "-t", help="Shutdown timeout in seconds"),
    no_deps: bool = typer.Option(False, "--no-deps", help="Don't restart dependent services"),
) -> None:
    """Restart service containers."""
    _lifecycle("restart", list(services or []), timeout)


def rm(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    force: bool = typer.Option(False, "--force", "-f", help="Don't ask to confirm removal"),
    stop_: bool = typer.Option(False, "--stop", "-s", help="Stop the containers, if required, before removing"),
    volumes: bool = typer.Option(False, "--volumes", "-v", help="Remove anonymous volumes attached to containers"),
) -> None:
    """Remove stopped service containers."""
    from podpy.compose import project_ops

    project = load(list(services or []), by_name=True)
    plan = project_ops.run_plan(engine(), project, "rm", list(services or []), dry_run=True, stop=stop_,
                                volumes=volumes)
    if not plan:
        common.err("No stopped containers")
        return
    if not force and not G.dry_run:
        names = ", ".join(a.target for a in plan.actions if a.kind == "remove")
        if not sys.stdin.isatty():
            raise typer.BadParameter("use --force to remove without a terminal to confirm on")
        if not typer.confirm(f"Going to remove {names}\n? Are you sure you want to remove them?"):
            return
    _lifecycle("rm", list(services or []), stop=stop_, volumes=volumes)


def _each(services: list[str], status: str, fn: Any, running_only: bool = True) -> None:
    from podpy.compose.observe import observe

    project = load(services, by_name=True)
    for name in services:
        if name not in project.services:
            from podpy.compose.errors import ComposeError

            raise ComposeError(f"no such service: {name}")
    events = Events()
    for c in observe(engine(), project.name).project_containers(project.name):
        if (not services or c.service in services) and (c.running or not running_only):
            if not G.dry_run:
                fn(c)
            events("Container", c.name, status)


def kill(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    signal: str = typer.Option("SIGKILL", "--signal", "-s", help="Signal to send"),
    remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove containers of services not defined"),
) -> None:
    """Force stop service containers."""
    _each(list(services or []), "Killed", lambda c: engine().containers.kill(c.id, signal))


def pause(services: list[str] | None = typer.Argument(None, help="Services (default: all)")) -> None:
    """Pause services."""
    from podpy.engine.container_cgroups import set_paused

    _each(list(services or []), "Paused", lambda c: set_paused(engine().containers, c.id, True))


def unpause(services: list[str] | None = typer.Argument(None, help="Services (default: all)")) -> None:
    """Unpause services."""
    from podpy.engine.container_cgroups import set_paused

    _each(list(services or []), "Unpaused", lambda c: set_paused(engine().containers, c.id, False))


def config(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    format_: str = typer.Option("yaml", "--format", help="Format the output: yaml or json"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only validate the configuration"),
    show_services: bool = typer.Option(False, "--services", help="Print the service names, one per line"),
    show_volumes: bool = typer.Option(False, "--volumes", help="Print the volume names, one per line"),
    show_profiles: bool = typer.Option(False, "--profiles", help="Print the profile names, one per line"),
    show_images: bool = typer.Option(False, "--images", help="Print the image names, one per line"),
    hash_: str | None = typer.Option(None, "--hash", help='Print the service config hash ("*": all)'),
    variables: bool = typer.Option(False, "--variables", help="Print the model's variables and their defaults"),
    environment: bool = typer.Option(False, "--environment", help="Print the environment used for interpolation"),
    no_interpolate: bool = typer.Option(False, "--no-interpolate", help="Don't interpolate variables"),
    no_path_resolution: bool = typer.Option(False, "--no-path-resolution", help="Don't resolve file paths"),
    output: str | None = typer.Option(None, "--output", "-o", help="Save to this file (default: stdout)"),
) -> None:
    """Parse, resolve and render the compose file in canonical format."""
    from podpy.compose import config_output as co

    project = load(list(services or []), not no_interpolate, not no_path_resolution)
    if quiet:
        return
    lists = {"services": show_services, "volumes": show_volumes, "profiles": show_profiles, "images": show_images}
    chosen = [k for k, v in lists.items() if v]
    if hash_ is not None:
        text = "".join(f"{line}\n" for line in co.list_hashes(project, hash_))
    elif variables:
        from podpy.compose.variables import project_variables, table

        text = "".join(f"{line}\n" for line in table(project_variables(project.config_files)))
    elif environment:
        text = "".join(f"{k}={v}\n" for k, v in sorted(project.environment.items()))
    elif chosen:
        listing = {"services": co.list_services, "volumes": co.list_volumes, "profiles": co.list_profiles,
                   "images": co.list_images}[chosen[0]]
        text = "".join(f"{line}\n" for line in listing(project))
    else:
        if format_ not in ("yaml", "json"):
            raise typer.BadParameter(f"unsupported --format {format_!r}: yaml or json")
        text = co.render_config(project, format_)
    if output:
        from pathlib import Path

        Path(output).write_text(text)
    else:
        sys.stdout.write(text)


def version(
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output: pretty or json"),
    short: bool = typer.Option(False, "--short", help="Shows only the version number"),
) -> None:
    """Show the podpy compose version information."""
    from podpy import __version__

    if short:
        common.out(__version__)
    elif format_ == "json":
        common.out(f'{{"version":"v{__version__}"}}')
    else:
        common.out(f"podpy compose version v{__version__}")


COMMANDS = (("up", up), ("down", down), ("create", create), ("start", start), ("stop", stop),
            ("restart", restart), ("rm", rm), ("kill", kill), ("pause", pause), ("unpause", unpause),
            ("config", config), ("version", version))


def register(app: typer.Typer, new_app: Any, settings: dict[str, Any]) -> None:
    """app.py hands in its group factory and settings: this module does not import app back."""
    from podpy.cli import compose_more, compose_run, compose_views

    group = new_app("Define and run multi-container applications.")
    group.callback()(global_options)
    verb = {**settings, "allow_interspersed_args": False}  # `exec web sh -c x`: -c is the command's
    for name, fn in (*COMMANDS, *compose_views.COMMANDS, *compose_more.COMMANDS, ("run", compose_run.run)):
        group.command(name, context_settings=verb if name in ("exec", "run") else settings)(fn)
    app.add_typer(group, name="compose")
