"""The pure planner: project model + observed state + options → an ordered Plan (no engine calls).

Convergence follows Docker Compose's: per service in dependency order, containers beyond the wanted
scale are removed (obsolete ones first, then the highest numbers), obsolete ones are recreated, stopped
ones started and missing numbers created. A container is obsolete when its config hash (or image)
differs, or always under --force-recreate; never under --no-recreate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podpy.compose import hashing as lbl
from podpy.compose import plan as P
from podpy.compose.errors import ComposeError
from podpy.compose.model import Project, Service
from podpy.compose.observed import Observed, ObservedContainer

FORCE, NEVER, DIVERGED = "force", "never", "diverged"


@dataclass
class UpOptions:
    services: list[str] = field(default_factory=list)  # named services (default: all)
    no_deps: bool = False
    force_recreate: bool = False
    no_recreate: bool = False
    always_recreate_deps: bool = False
    remove_orphans: bool = False
    scale: dict[str, int] = field(default_factory=dict)  # --scale svc=N
    start: bool = True  # False for `compose create`
    image_ids: dict[str, str] = field(default_factory=dict)  # service → image id it should run


def _check(project: Project, opts: UpOptions) -> None:
    if opts.force_recreate and opts.no_recreate:
        raise ComposeError("--force-recreate and --no-recreate are incompatible")
    if opts.always_recreate_deps and opts.no_recreate:
        raise ComposeError("--always-recreate-deps and --no-recreate are incompatible")
    for name in [*opts.services, *opts.scale]:
        if name not in project.services:
            raise ComposeError(f"no such service: {name}")
    for name, n in opts.scale.items():
        if n < 0:
            raise ComposeError(f"invalid scale for {name}: {n}")
        if n > 1 and project.services[name].container_name:
            raise ComposeError(f'service "{name}" has a container_name: it cannot be scaled to {n}')


def service_set(project: Project, services: list[str], no_deps: bool) -> list[str]:
    """Named services (or all) plus what they depend on unless --no-deps, in dependency order."""
    order = project.service_order(services or None)
    return [n for n in order if n in services] if (no_deps and services) else order


def plan_up(project: Project, observed: Observed, opts: UpOptions | None = None) -> P.Plan:
    opts = opts or UpOptions()
    _check(project, opts)
    order = service_set(project, opts.services, opts.no_deps)
    plan = P.Plan(project.name)
    existing = observed.project_containers(project.name)
    plan_orphans(project, existing, opts.remove_orphans, plan)
    _networks(project, order, observed, plan)
    _volumes(project, order, observed, plan)
    changed: set[str] = set()
    for name in order:
        _converge(project, project.services[name], existing, opts, order, plan, changed)
    return plan


def plan_orphans(project: Project, existing: list[ObservedContainer], remove: bool, plan: P.Plan) -> None:
    known = set(project.services) | set(project.disabled_services)
    orphans = sorted((c for c in existing if c.service not in known), key=lambda c: c.name)
    if not orphans:
        return
    if not remove:
        names = ", ".join(c.name for c in orphans)
        plan.warnings.append(f"Found orphan containers ([{names}]) for this project. If you removed or renamed "
                             f"this service in your compose file, you can run this command with the "
                             f"--remove-orphans flag to clean it up.")
        return
    for c in orphans:
        _remove(plan, c, "orphan")


def _remove(plan: P.Plan, c: ObservedContainer, reason: str, stop_reason: str | None = None) -> None:
    if c.running:
        plan.add(P.Action(P.STOP, c.name, c.service, c.number, c.id,
                          reason=reason if stop_reason is None else stop_reason))
    plan.add(P.Action(P.REMOVE, c.name, c.service, c.number, c.id, reason=reason))


def _networks(project: Project, order: list[str], observed: Observed, plan: P.Plan) -> None:
    keys = sorted({a.network for n in order for a in project.services[n].networks})
    for key in keys:
        net = project.networks[key]
        found = observed.network(net.name)
        if net.external:
            if found is None:
                raise ComposeError(f"network {net.name} declared as external, but could not be found")
            continue
        if found is None:
            plan.add(P.Action(P.CREATE_NETWORK, net.name, key=key))
        elif found.labels.get(lbl.NETWORK) != key or found.labels.get(lbl.PROJECT) != project.name:
            raise ComposeError(f"network {net.name} was found but has incorrect label {lbl.NETWORK} set to "
                               f'"{found.labels.get(lbl.NETWORK, "")}" (expected: "{key}")')
        else:
            _diverged(plan, "network", net.name, found.labels, net.spec)


def _volumes(project: Project, order: list[str], observed: Observed, plan: P.Plan) -> None:
    keys = sorted({m.source for n in order for m in project.services[n].mounts
                   if m.type == "volume" and m.source})
    for key in keys:
        vol = project.volumes[key]
        found = observed.volume(vol.name)
        if vol.external:
            if found is None:
                raise ComposeError(f'external volume "{vol.name}" not found')
            continue
        if found is None:
            plan.add(P.Action(P.CREATE_VOLUME, vol.name, key=key))
        elif found.labels.get(lbl.PROJECT) != project.name:
            plan.warnings.append(f'volume "{vol.name}" already exists but was not created by Docker Compose. '
                                 f"Use `external: true` to use an existing volume")
        else:
            _diverged(plan, "volume", vol.name, found.labels, vol.spec)


def _diverged(plan: P.Plan, kind: str, name: str, labels: dict[str, str], spec: dict) -> None:
    """An existing network/volume whose definition changed is kept (its data and containers stay):
    say so rather than recreate it behind the user's back."""
    recorded = labels.get(lbl.CONFIG_HASH)
    if recorded and recorded != lbl.resource_hash(spec):
        plan.warnings.append(f"{kind} {name} exists with a different configuration than the compose file: "
                             f"it is kept as it is; run `down` (with -v for volumes) to recreate it")


def _policy(name: str, project: Project, opts: UpOptions, changed: set[str]) -> tuple[str, str]:
    """(recreate policy, reason) for one service."""
    if opts.no_recreate:
        return NEVER, ""
    moved = sorted(project.services[name].references() & changed)
    if moved:
        return FORCE, f"uses {moved[0]}, which was recreated"
    named = not opts.services or name in opts.services
    if (opts.force_recreate and named) or (opts.always_recreate_deps and not named):
        return FORCE, "forced"
    return DIVERGED, ""


def _obsolete(c: ObservedContainer, svc: Service, policy: str, opts: UpOptions) -> str:
    """Why `c` must be recreated ("" when it must not)."""
    if policy == NEVER:
        return ""
    if policy == FORCE:
        return "forced"
    if c.config_hash != svc.config_hash:
        return "config changed"
    want = opts.image_ids.get(svc.name)
    if want and c.image_id and c.image_id != want:
        return "image changed"
    return ""


def _converge(project: Project, svc: Service, existing: list[ObservedContainer], opts: UpOptions,
              order: list[str], plan: P.Plan, changed: set[str]) -> None:
    policy, forced_reason = _policy(svc.name, project, opts, changed)
    mine = [c for c in existing if c.service == svc.name]
    want = opts.scale.get(svc.name, svc.scale)
    why = {c.id: _obsolete(c, svc, policy, opts) for c in mine}
    if policy == FORCE and forced_reason:
        why = dict.fromkeys(why, forced_reason)
    mine.sort(key=lambda c: (not why[c.id], -c.number))
    surplus = max(0, len(mine) - want)
    for c in mine[:surplus]:
        _remove(plan, c, "scale down")
    waits = tuple(P.Wait(d.service, d.condition, d.required)
                  for d in svc.depends_on.values() if d.service in order)
    restarts = sorted(d.service for d in svc.depends_on.values() if d.restart and d.service in changed)
    for c in sorted(mine[surplus:], key=lambda c: c.number):
        name = lbl.container_name(project.name, svc, c.number)
        if why[c.id]:
            plan.add(P.Action(P.RECREATE, name, svc.name, c.number, c.id, reason=why[c.id]))
            changed.add(svc.name)
            if opts.start:
                plan.add(P.Action(P.START, name, svc.name, c.number, waits=waits))
        elif not c.running and opts.start:
            plan.add(P.Action(P.START, c.name, svc.name, c.number, c.id, waits=waits))
        elif c.running and restarts and opts.start:
            plan.add(P.Action(P.RESTART, c.name, svc.name, c.number, c.id, reason=f"{restarts[0]} changed"))
    number = max((c.number for c in mine), default=0) + 1
    for _ in range(len(mine) - surplus, want):
        name = lbl.container_name(project.name, svc, number)
        plan.add(P.Action(P.CREATE, name, svc.name, number))
        if not mine:  # more replicas leave the existing ones (which dependents point at) alone
            changed.add(svc.name)
        if opts.start:
            plan.add(P.Action(P.START, name, svc.name, number, waits=waits))
        number += 1


@dataclass
class DownOptions:
    remove_volumes: bool = False  # -v: named volumes of the project and anonymous ones
    remove_orphans: bool = False


def plan_down(project: Project, observed: Observed, opts: DownOptions | None = None) -> P.Plan:
    """Stop and remove the project's containers (dependents first), then its networks (and volumes)."""
    opts = opts or DownOptions()
    plan = P.Plan(project.name)
    existing = observed.project_containers(project.name, oneoff=None)
    reason = "with volumes" if opts.remove_volumes else ""
    for name in reversed(project.service_order()):
        for c in sorted((c for c in existing if c.service == name), key=lambda c: (c.oneoff, c.number)):
            _remove(plan, c, reason, stop_reason="")
    plan_orphans(project, [c for c in existing if not c.oneoff], opts.remove_orphans, plan)
    for net in sorted(project.networks.values(), key=lambda r: r.key):
        found = observed.network(net.name)
        if not net.external and found is not None and found.labels.get(lbl.PROJECT) == project.name:
            plan.add(P.Action(P.REMOVE_NETWORK, net.name, key=net.key))
    if opts.remove_volumes:
        for vol in sorted(project.volumes.values(), key=lambda r: r.key):
            found = observed.volume(vol.name)
            if not vol.external and found is not None and found.labels.get(lbl.PROJECT) == project.name:
                plan.add(P.Action(P.REMOVE_VOLUME, vol.name, key=vol.key))
    return plan
