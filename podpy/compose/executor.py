"""Carry out a Plan through the engine's services (never a `podpy` subprocess), in plan order.

Events go to `report(noun, name, status)` in Docker Compose's words (`Container p-web-1  Started`);
`depends_on` waits poll the engine's container state and health until the condition holds, the
dependency fails, or `wait_timeout` passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podpy.compose import hashing as lbl
from podpy.compose import plan as P
from podpy.compose.errors import ComposeError, DependencyFailed
from podpy.compose.model import Project
from podpy.compose.observe import refresh
from podpy.compose.observed import Observed, ObservedContainer

Reporter = Callable[[str, str, str], None]
# Actions that may run while forked starts are under way (others wait for them all).
_ALONGSIDE = (P.CREATE, P.CREATE_NETWORK, P.CREATE_VOLUME)
DEFAULT_WAIT = 300.0


def _silent(noun: str, name: str, status: str) -> None:
    return None


@dataclass
class Executor:
    engine: Any
    project: Project
    observed: Observed
    report: Reporter = _silent
    timeout: int | None = None  # -t: seconds to wait for a stop
    wait_timeout: float = DEFAULT_WAIT
    image_ids: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # container name → ID, kept current as we go
    warned: set[str] = field(default_factory=set)
    pending: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)  # service → starting children

    def __post_init__(self) -> None:
        for c in self.observed.project_containers(self.project.name, oneoff=None):
            self.ids[c.name] = c.id

    def run(self, plan: P.Plan) -> None:
        handlers = {P.CREATE_NETWORK: self._create_network, P.CREATE_VOLUME: self._create_volume,
                    P.CREATE: self._create, P.RECREATE: self._recreate, P.START: self._start,
                    P.RESTART: self._restart, P.STOP: self._stop, P.REMOVE: self._remove,
                    P.REMOVE_NETWORK: self._remove_network, P.REMOVE_VOLUME: self._remove_volume}
        overlap = sum(a.kind == P.START for a in plan.actions) > 1
        try:
            for action in plan.actions:
                if overlap and action.kind == P.START:
                    self._start_forked(action)
                    continue
                if action.kind not in _ALONGSIDE:
                    self._join(list(self.pending))
                elif action.service:  # network_mode/volumes_from: service:x needs x started first
                    self._join(self._pending_deps(action.service))
                handlers[action.kind](action)
        finally:
            self._join(list(self.pending))

    # ---- starts that overlap (podpy.compose.parallel)
    def _start_forked(self, a: P.Action) -> None:
        """Start in a child once what the service depends on has started (and its waits hold)."""
        from podpy.compose.parallel import fork

        self._join(self._pending_deps(a.service))
        for w in a.waits:
            self.wait_for(w)
        self.report("Container", a.target, "Starting")
        cid = self._cid(a)
        self.pending.setdefault(a.service, []).append((fork(lambda: self._start_now(cid), a.target), a.target))

    def _pending_deps(self, service: str) -> list[str]:
        return [d for d in self.project.services[service].dependencies() if d in self.pending]

    def _start_now(self, cid: str) -> None:
        _rec, launch = self.engine.containers.start(cid, None)
        if launch is not None:
            launch.close()

    def _join(self, services: list[str]) -> None:
        """Wait for the children starting these services; the first failure is raised once all are in."""
        from podpy.compose.parallel import join

        failure: BaseException | None = None
        for service in services:
            for child, target in self.pending.pop(service, []):
                try:
                    join(child)
                    self.report("Container", target, "Started")
                except BaseException as e:  # noqa: BLE001  (the others are joined before it is raised)
                    failure = failure or e
        if failure is not None:
            raise failure

    # ---- networks and volumes
    def _create_network(self, a: P.Action) -> None:
        from podpy.engine.networks import CreateRequest

        res = self.project.networks[a.key]
        spec = res.spec
        ipam = [c for c in (spec.get("ipam") or {}).get("config") or [] if isinstance(c, dict)]
        driver = spec.get("driver") or "bridge"
        if driver != "bridge":
            raise ComposeError(f"network {res.name}: driver {driver!r} is not supported by podpy (bridge only)")
        self.report("Network", res.name, "Creating")
        req = CreateRequest(name=res.name, driver=driver, labels=lbl.resource_labels(self.project, res, lbl.NETWORK),
                            internal=bool(spec.get("internal")), ipv6=bool(spec.get("enable_ipv6")),
                            subnets=[str(c["subnet"]) for c in ipam if c.get("subnet")],
                            gateways=[str(c["gateway"]) for c in ipam if c.get("gateway")],
                            ip_ranges=[str(c["ip_range"]) for c in ipam if c.get("ip_range")],
                            options={str(k): str(v) for k, v in (spec.get("driver_opts") or {}).items()})
        self.engine.networks.create(req)
        self.report("Network", res.name, "Created")

    def _create_volume(self, a: P.Action) -> None:
        res = self.project.volumes[a.key]
        self.report("Volume", res.name, "Creating")
        self.engine.volumes.create(res.name, driver=res.spec.get("driver") or "local",
                                   labels=lbl.resource_labels(self.project, res, lbl.VOLUME),
                                   options={str(k): str(v) for k, v in (res.spec.get("driver_opts") or {}).items()},
                                   ignore=True)
        self.report("Volume", res.name, "Created")

    def _remove_network(self, a: P.Action) -> None:
        self.report("Network", a.target, "Removing")
        self.engine.networks.remove(a.target)
        self.report("Network", a.target, "Removed")

    def _remove_volume(self, a: P.Action) -> None:
        self.report("Volume", a.target, "Removing")
        self.engine.volumes.remove(a.target, force=True)
        self.report("Volume", a.target, "Removed")

    # ---- containers
    def first_container(self, service: str) -> str:
        """The name of a service's first container (what `service:x` and volumes_from point at)."""
        svc = self.project.services.get(service)
        if svc is None:
            raise ComposeError(f"no such service: {service}")
        mine = sorted((c for c in self.observed.project_containers(self.project.name) if c.service == service),
                      key=lambda c: c.number)
        return mine[0].name if mine else lbl.container_name(self.project.name, svc, 1)

    def create_container(self, service: str, number: int, name: str, oneoff: bool = False,
                         adjust: Callable[[Any], None] | None = None) -> Any:
        from podpy.compose.service_options import service_create

        svc = self.project.services[service]
        made = service_create(self.project, svc, number, name, self.first_container, oneoff=oneoff,
                              image_id=self.image_ids.get(service, ""))
        if adjust is not None:
            adjust(made.options)
        rec = self.engine.containers.create(made.options)
        self.ids[name] = rec.id
        try:
            from podpy.engine.networks.connect import connect

            for network, aliases, ip in made.connect:
                connect(self.engine, network, rec.id, aliases, ip)
        except BaseException:
            self.engine.containers.remove(rec.id, force=True, volumes=True)
            raise
        return rec

    def _create(self, a: P.Action) -> None:
        self.report("Container", a.target, "Creating")
        self.create_container(a.service, a.number, a.target)
        self.report("Container", a.target, "Created")

    def _recreate(self, a: P.Action) -> None:
        """Stop the old one, keep it aside under a temporary name until its replacement exists."""
        svc = self.engine.containers
        self.report("Container", a.target, "Recreate")
        old = svc.get(a.container_id)
        svc.stop(old.id, self.timeout)
        svc.rename(old.id, f"{old.id[:12]}_{old.name}")
        try:
            self.create_container(a.service, a.number, a.target)
        except BaseException:
            svc.rename(old.id, old.name)
            raise
        svc.remove(old.id, force=True, volumes=False)
        self.report("Container", a.target, "Recreated")

    def _cid(self, a: P.Action) -> str:
        return self.ids.get(a.target) or a.container_id

    def _start(self, a: P.Action) -> None:
        for w in a.waits:
            self.wait_for(w)
        self.report("Container", a.target, "Starting")
        _rec, launch = self.engine.containers.start(self._cid(a), None)
        if launch is not None:
            launch.close()
        self.report("Container", a.target, "Started")

    def _restart(self, a: P.Action) -> None:
        self.report("Container", a.target, "Restarting")
        self.engine.containers.stop(self._cid(a), self.timeout)
        _rec, launch = self.engine.containers.start(self._cid(a), None)
        if launch is not None:
            launch.close()
        self.report("Container", a.target, "Started")

    def _stop(self, a: P.Action) -> None:
        self.report("Container", a.target, "Stopping")
        self.engine.containers.stop(self._cid(a), self.timeout)
        self.report("Container", a.target, "Stopped")

    def _remove(self, a: P.Action) -> None:
        self.report("Container", a.target, "Removing")
        self.engine.containers.remove(self._cid(a), force=True, volumes=a.reason == "with volumes")
        self.ids.pop(a.target, None)
        self.report("Container", a.target, "Removed")

    # ---- depends_on conditions
    def service_containers(self, service: str) -> list[ObservedContainer]:
        out = []
        for cid in set(self.ids.values()):
            c = refresh(self.engine, cid)
            if c is not None and c.service == service and not c.oneoff and c.project == self.project.name:
                out.append(c)
        return sorted(out, key=lambda c: c.number)

    def wait_for(self, w: P.Wait) -> None:
        deadline = time.monotonic() + self.wait_timeout
        announced = False
        while True:
            containers = self.service_containers(w.service)
            if not containers:
                return self._optional(w, f"service {w.service!r} has no container")
            verdicts = [check_condition(c, w.condition) for c in containers]
            failed = next((v for v in verdicts if v not in ("ok", "wait")), None)
            if failed:
                return self._optional(w, failed)
            if all(v == "ok" for v in verdicts):
                if announced:
                    done = "Healthy" if w.condition == "service_healthy" else "Exited"
                    for c in containers:
                        self.report("Container", c.name, done)
                return None
            if not announced:
                for c in containers:
                    self.report("Container", c.name, "Waiting")
                announced = True
            if time.monotonic() > deadline:
                return self._optional(w, f"timed out after {self.wait_timeout:g}s waiting for service "
                                         f'"{w.service}" to be {_WANT[w.condition]}')
            time.sleep(0.1)

    def _optional(self, w: P.Wait, why: str) -> None:
        if w.required:
            raise DependencyFailed(f"dependency failed to start: {why}")
        if why not in self.warned:
            self.warned.add(why)
            self.report("Warning", w.service, f"optional dependency not satisfied: {why}")


_WANT = {"service_started": "running", "service_healthy": "healthy",
         "service_completed_successfully": "completed successfully"}


def check_condition(c: ObservedContainer, condition: str) -> str:
    """"ok", "wait", or why the condition can never hold."""
    exited = c.state in ("exited", "dead")
    if condition == "service_completed_successfully":
        if not exited:
            return "wait"
        if c.exit_code == 0:
            return "ok"
        return f'service "{c.service}" didn\'t complete successfully: exit {c.exit_code}'
    if condition == "service_healthy":
        if c.health == "healthy":
            return "ok"
        if c.health == "unhealthy":
            return f'container {c.name} is unhealthy (service "{c.service}")'
        if exited:
            return f'container {c.name} exited ({c.exit_code}) (service "{c.service}")'
        if not c.health and c.state == "running":
            return f'service "{c.service}" has no healthcheck configured'
        return "wait"
    if c.state in ("running", "restarting", "paused") or exited:
        return "ok"
    return "wait"
