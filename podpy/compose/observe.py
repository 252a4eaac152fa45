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


def project_from_labels(engine: Any, name: str) -> Any:
    """`-p NAME` with no compose file (down, ps, stop, logs ...): the project as its containers,
    networks and volumes describe it through their labels."""
    from podpy.compose.model import build_project

    services: dict[str, dict[str, Any]] = {}
    working_dir = ""
    for rec in project_records(engine, name):
        labels = rec.spec.get("labels") or {}
        services.setdefault(labels.get(lbl.SERVICE, ""), {"image": rec.image_name})
        working_dir = working_dir or labels.get(lbl.WORKING_DIR, "")
    services.pop("", None)
    networks = {n.labels[lbl.NETWORK]: {"name": n.name} for n in engine.networks.store.list()
                if n.labels.get(lbl.PROJECT) == name and n.labels.get(lbl.NETWORK)}
    volumes = {v.labels[lbl.VOLUME]: {"name": v.name} for v in engine.volumes.store.list()
               if v.labels.get(lbl.PROJECT) == name and v.labels.get(lbl.VOLUME)}
    doc = {"name": name, "services": services, "networks": networks, "volumes": volumes}
    return build_project(doc, working_dir or ".", [], [], {}, [])
