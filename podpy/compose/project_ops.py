"""Project-wide operations the CLI calls: images for services, up, down, and the per-container
commands (start/stop/restart/rm) as plan + execute."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podpy.compose import plan as P
from podpy.compose import planner, planner_cmds
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
                  progress: Callable[[Any], None] | None = None,
                  report: Reporter = _silent) -> dict[str, str]:
    """Service → image ID, pulling what is missing (or what the policy says); a service to build
    must already have its image (podpy has no builder yet)."""
    from podpy.engine.pull import ensure_image, find_local

    out = {}
    for name in services:
        svc = project.services[name]
        local = find_local(engine, svc.image)
        policy = _policy(svc, pull)
        if svc.build is not None and (local is None or policy == "build"):
            if local is None:
                raise ComposeError(f'service "{name}": building images is not supported yet '
                                   f"(no image {svc.image} found locally)")
        elif local is None or policy == "always":
            if policy == "never":
                raise ComposeError(f'service "{name}": image {svc.image} not found locally and pull_policy '
                                   f"is never")
            report("Image", svc.image, "Pulling")
            local = ensure_image(engine, svc.image, "always", progress)
            report("Image", svc.image, "Pulled")
        out[name] = local.id
    return out


def check_rootless(engine: Any, project: Project, services: list[str]) -> None:
    """Rootless podpy has no bridge networks yet: say so before anything is created."""
    if not getattr(engine.opts, "rootless", False):
        return
    on_networks = [n for n in services if project.services[n].networks]
    if on_networks:
        raise ComposeError(f'service "{on_networks[0]}" needs a bridge network, which rootless podpy cannot make '
                           "yet (no pasta/slirp4netns support): give it network_mode: host or none")


@dataclass
class UpRequest:
    options: planner.UpOptions = field(default_factory=planner.UpOptions)
    pull: str = "policy"
    timeout: int | None = None
    wait_timeout: float = DEFAULT_WAIT
    dry_run: bool = False


def up(engine: Any, project: Project, req: UpRequest, report: Reporter = _silent,
       progress: Callable[[Any], None] | None = None) -> P.Plan:
    services = planner.service_set(project, req.options.services, req.options.no_deps)
    check_rootless(engine, project, services)
    if not req.dry_run:
        req.options.image_ids = ensure_images(engine, project, services, req.pull, progress, report)
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
