"""Fill the planner's `Observed` records from the engine: containers, networks and volumes by their
`com.docker.compose.*` labels (the only place compose reads the engine's state)."""

from __future__ import annotations

from typing import Any

from podpy.compose import hashing as lbl
from podpy.compose.observed import Observed, ObservedContainer, ObservedNetwork, ObservedVolume


def container_state(rec: Any) -> str:
    from podpy.engine.container_views import display_status

    return display_status(rec)


def observed_container(engine: Any, rec: Any) -> ObservedContainer:
    from podpy.engine.container_health import status_of

    health = status_of(engine.containers, rec)
    return ObservedContainer(rec.id, rec.name, dict(rec.spec.get("labels") or {}), container_state(rec),
                             rec.state.exit_code, "" if health == "none" else health)


def project_records(engine: Any, project: str | None) -> list[Any]:
    """Container records of `project` (every compose container when None), oldest first."""
    out = []
    for rec in engine.containers.list(all_=True):
        name = (rec.spec.get("labels") or {}).get(lbl.PROJECT)
        if name and (project is None or name == project):
            out.append(rec)
    return sorted(out, key=lambda r: r.created)


def observe(engine: Any, project: str) -> Observed:
    containers = [observed_container(engine, r) for r in project_records(engine, project)]
    networks = [ObservedNetwork(n.name, dict(n.labels), n.id) for n in engine.networks.store.list()]
    volumes = [ObservedVolume(v.name, dict(v.labels)) for v in engine.volumes.store.list()]
    return Observed(containers, networks, volumes)


def refresh(engine: Any, cid: str) -> ObservedContainer | None:
    from podpy.errors import NoSuchContainer

    try:
        return observed_container(engine, engine.containers.get(cid))
    except NoSuchContainer:
        return None
