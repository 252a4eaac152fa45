"""Plans for the commands acting on existing containers: start, stop, restart, rm; `--scale` parsing.

Pure like `planner.plan_up`: model + observed state in, ordered actions out. Starting goes in dependency
order (each START carries its depends_on waits), stopping in reverse.
"""

from __future__ import annotations

from podpy.compose import plan as P
from podpy.compose.errors import ComposeError
from podpy.compose.model import Project
from podpy.compose.observed import Observed, ObservedContainer


def parse_scale(values: list[str]) -> dict[str, int]:
    """`--scale svc=N` (repeatable) as a mapping."""
    out: dict[str, int] = {}
    for value in values:
        name, sep, count = value.partition("=")
        if not sep or not name or not count.isdigit():
            raise ComposeError(f"invalid scale specifier: {value!r} (expected SERVICE=NUM)")
        out[name] = int(count)
    return out


def _selected(project: Project, services: list[str]) -> list[str]:
    for name in services:
        if name not in project.services:
            raise ComposeError(f"no such service: {name}")
    order = project.service_order(services or None)
    return [n for n in order if not services or n in services]


def _containers(observed: Observed, project: Project, service: str,
                oneoff: bool | None = False) -> list[ObservedContainer]:
    found = [c for c in observed.project_containers(project.name, oneoff) if c.service == service]
    return sorted(found, key=lambda c: (c.oneoff, c.number))


def plan_start(project: Project, observed: Observed, services: list[str] | None = None) -> P.Plan:
    plan = P.Plan(project.name)
    order = _selected(project, services or [])
    for name in order:
        svc = project.services[name]
        waits = tuple(P.Wait(d.service, d.condition, d.required) for d in svc.depends_on.values())
        for c in _containers(observed, project, name):
            if not c.running:
                plan.add(P.Action(P.START, c.name, name, c.number, c.id, waits=waits))
    return plan


def plan_stop(project: Project, observed: Observed, services: list[str] | None = None) -> P.Plan:
    plan = P.Plan(project.name)
    for name in reversed(_selected(project, services or [])):
        for c in _containers(observed, project, name, oneoff=None):
            if c.running:
                plan.add(P.Action(P.STOP, c.name, name, c.number, c.id))
    return plan


def plan_restart(project: Project, observed: Observed, services: list[str] | None = None) -> P.Plan:
    plan = P.Plan(project.name)
    for name in _selected(project, services or []):
        for c in _containers(observed, project, name):
            plan.add(P.Action(P.RESTART, c.name, name, c.number, c.id))
    return plan


def plan_rm(project: Project, observed: Observed, services: list[str] | None = None, stop: bool = False,
            volumes: bool = False) -> P.Plan:
    """`rm`: stopped containers (`-s`: stop running ones first; `-v`: with their anonymous volumes)."""
    plan = P.Plan(project.name)
    reason = "with volumes" if volumes else ""
    for name in reversed(_selected(project, services or [])):
        for c in _containers(observed, project, name, oneoff=None):
            if c.running and not stop:
                continue
            if c.running:
                plan.add(P.Action(P.STOP, c.name, name, c.number, c.id))
            plan.add(P.Action(P.REMOVE, c.name, name, c.number, c.id, reason=reason))
    return plan
