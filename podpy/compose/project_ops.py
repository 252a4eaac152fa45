"""Project-wide operations the CLI calls: images for services, up, down, and the per-container
commands (start/stop/restart/rm) as plan + execute."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from podpy.compose import plan as P
from podpy.compose import planner, planner_cmds
from podpy.compose.build import BuildFlags
from podpy.compose.errors import ComposeError
from podpy.compose.executor import DEFAULT_WAIT, Executor, Reporter, _silent
from podpy.compose.model import Project, Service
from podpy.compose.observe import observe

PULL_POLICIES = ("always", "missing", "never", "policy", "build")


def _policy(svc: Service, flag: str) -> str:
    if flag not in PULL_POLICIES:
        raise ComposeError(f"invalid --pull {flag!r}: one of always, missing, never")
    if flag in ("always", "missing", "never"):
        return flag
    policy = str(svc.config.get("pull_policy") or "missing")
    return {"if_not_present": "missing", "build": "build"}.get(policy, policy if policy in
                                                                ("always", "never", "missing") else "missing")


def ensure_images(engine: Any, project: Project, services: list[str], pull: str = "policy",
                  progress: Callable[[Any], None] | None = None, report: Reporter = _silent,
                  builds: Builds | None = None) -> dict[str, str]:
    """Service → image ID: built (with `--build`, `pull_policy: build`, or when a service with a
    `build:` section has no image yet), else pulled when missing or when the policy says so."""
    from podpy.engine.pull import ensure_image, find_local

    builds = builds or Builds()
    out = {}
    for name in services:
        svc = project.services[name]
        local = find_local(engine, svc.image)
        policy = _policy(svc, pull)
        if svc.build is not None and builds.mode in ("auto", "always") and (
                local is None or policy == "build" or builds.mode == "always"):
            out[name] = _build(engine, project, svc, builds, report)
            continue
        if local is None and svc.build is not None and builds.mode == "never":
            raise ComposeError(f'service "{name}": image {svc.image} not found locally and --no-build given')
        if local is None or policy == "always":
            if policy == "never":
                raise ComposeError(f'service "{name}": image {svc.image} not found locally and pull_policy '
                                   f"is never")
            report("Image", svc.image, "Pulling")
            local = ensure_image(engine, svc.image, "always", progress)
            report("Image", svc.image, "Pulled")
        out[name] = local.id
    return out


@dataclass
class Builds:
    """When `up`/`create` build: `auto` (a missing image or `pull_policy: build`), `always` (--build),
    `never` (--no-build), `pull` (`compose pull`: as if there were no `build:`); `say` receives the builder's output lines; each build runs inside
    `output()` (the CLI points the steps' fd 1 where it wants them, only while building: containers
    started later must not inherit that)."""

    mode: str = "auto"
    flags: BuildFlags = field(default_factory=BuildFlags)
    say: Callable[[str], None] = lambda line: None
    output: Callable[[], AbstractContextManager[Any]] = nullcontext


def _build(engine: Any, project: Project, svc: Service, builds: Builds, report: Reporter) -> str:
    from podpy.compose.build import build_service, ignored_keys

    for key in ignored_keys(svc):
        report("Warning", svc.name, f"build.{key} is not supported by podpy's builder: ignored")
    report("Service", svc.name, "Building")
    with builds.output():
        image_id = build_service(engine, project, svc, builds.flags, builds.say)
    report("Service", svc.name, "Built")
    return image_id


def build_services(engine: Any, project: Project, services: list[str], builds: Builds,
                   report: Reporter = _silent) -> dict[str, str]:
    """`compose build`: every selected service with a `build:` section, in dependency order."""
    return {name: _build(engine, project, project.services[name], builds, report)
            for name in project.service_order(services or None) if project.services[name].build is not None}


def check_rootless(engine: Any, project: Project, services: list[str]) -> None:
    """Rootless bridge networks need pasta or slirp4netns: say so before anything is created."""
    if not getattr(engine.opts, "rootless", False):
        return
    on_networks = [n for n in services if project.services[n].networks]
    if on_networks:
        from podpy.errors import PodpyError
        from podpy.network.rootless_netns import mode

        try:
            mode()
        except PodpyError as e:
            raise ComposeError(f'service "{on_networks[0]}" needs a bridge network: {e}') from None


@dataclass
class UpRequest:
    options: planner.UpOptions = field(default_factory=planner.UpOptions)
    pull: str = "policy"
    timeout: int | None = None
    wait_timeout: float = DEFAULT_WAIT
    dry_run: bool = False
    builds: Builds = field(default_factory=Builds)


def up(engine: Any, project: Project, req: UpRequest, report: Reporter = _silent,
       progress: Callable[[Any], None] | None = None) -> P.Plan:
    services = planner.service_set(project, req.options.services, req.options.no_deps)
    check_rootless(engine, project, services)
    if not req.dry_run:
        req.options.image_ids = ensure_images(engine, project, services, req.pull, progress, report, req.builds)
    observed = observe(engine, project.name)
    plan = planner.plan_up(project, observed, req.options)
    if not req.dry_run:
        Executor(engine, project, observed, report, req.timeout, req.wait_timeout, req.options.image_ids).run(plan)
    return plan


def down(engine: Any, project: Project, opts: planner.DownOptions, timeout: int | None = None,
         report: Reporter = _silent, dry_run: bool = False) -> P.Plan:
    observed = observe(engine, project.name)
    plan = planner.plan_down(project, observed, opts)
    if not dry_run:
        Executor(engine, project, observed, report, timeout).run(plan)
    return plan


def run_plan(engine: Any, project: Project, kind: str, services: list[str], report: Reporter = _silent,
             timeout: int | None = None, dry_run: bool = False, **kw: Any) -> P.Plan:
    """`start`, `stop`, `restart` or `rm` of the selected services."""
    observed = observe(engine, project.name)
    make = {"start": planner_cmds.plan_start, "stop": planner_cmds.plan_stop,
            "restart": planner_cmds.plan_restart, "rm": planner_cmds.plan_rm}[kind]
    plan = make(project, observed, services, **kw)
    if not dry_run:
        Executor(engine, project, observed, report, timeout).run(plan)
    return plan


def remove_images(engine: Any, project: Project, which: str, report: Reporter = _silent) -> None:
    """`down --rmi local|all`: `local` only images without a custom tag (the `<project>-<service>` ones)."""
    from podpy.errors import PodpyError

    if which not in ("local", "all"):
        raise ComposeError(f"invalid --rmi {which!r}: local or all")
    for svc in project.services.values():
        if which == "local" and svc.config.get("image"):
            continue
        try:
            engine.images.remove(svc.image, force=False)
        except PodpyError:
            continue  # not there, or still used by another container: Compose leaves it too
        report("Image", svc.image, "Removed")
