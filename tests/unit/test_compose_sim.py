"""Helpers (no tests) for planner tests: observed state from short descriptions, and a pure simulation
(what an executor would leave behind), so `up` can be run twice without an engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from podpy.compose import hashing as lbl
from podpy.compose import plan as P
from podpy.compose.loader import LoadOptions, load_project
from podpy.compose.model import Project
from podpy.compose.observed import Observed, ObservedContainer, ObservedNetwork, ObservedVolume


def project_from(text: str, cwd: Path, env: dict[str, str] | None = None, **kw: Any) -> Project:
    return load_project(LoadOptions(files=["-"], stdin=text, cwd=cwd,
                                    environ={"HOME": "/home/user", **(env or {})}, **kw))


def container(project: Project, service: str, number: int, state: str = "running", hash: str = "current",
              oneoff: bool = False, image: str = "", name: str = "") -> ObservedContainer:
    labels = {lbl.PROJECT: project.name, lbl.SERVICE: service, lbl.NUMBER: str(number),
              lbl.ONEOFF: "True" if oneoff else "False"}
    if hash == "current":
        hash = project.services[service].config_hash if service in project.services else "orphan-hash"
    labels[lbl.CONFIG_HASH] = hash
    if image:
        labels[lbl.IMAGE] = image
    name = name or f"{project.name}-{service}-{'run-' if oneoff else ''}{number}"
    return ObservedContainer(f"id-{service}-{number}{'-run' if oneoff else ''}", name, labels, state)


def observed_from(project: Project, spec: dict[str, Any]) -> Observed:
    obs = Observed()
    for c in spec.get("containers") or []:
        obs.containers.append(container(project, c["service"], c.get("number", 1), c.get("state", "running"),
                                        str(c.get("hash", "current")), c.get("oneoff", False),
                                        c.get("image", "")))
    for kind, label, resources, cls in (("networks", lbl.NETWORK, project.networks, ObservedNetwork),
                                        ("volumes", lbl.VOLUME, project.volumes, ObservedVolume)):
        for item in spec.get(kind) or []:
            item = {"key": item} if isinstance(item, str) else item
            key = item.get("key", "")
            name = item.get("name") or resources[key].name
            labels = {} if item.get("foreign") else {lbl.PROJECT: project.name, label: key}
            getattr(obs, kind).append(cls(name, labels))
    return obs


def simulate(project: Project, plan: P.Plan, obs: Observed) -> Observed:
    """The state an executor leaves after carrying out `plan` successfully."""
    out = Observed(list(obs.containers), list(obs.networks), list(obs.volumes))
    for a in plan.actions:
        if a.kind == P.CREATE_NETWORK:
            out.networks.append(ObservedNetwork(a.target, lbl.resource_labels(project, project.networks[a.key],
                                                                               lbl.NETWORK)))
        elif a.kind == P.CREATE_VOLUME:
            out.volumes.append(ObservedVolume(a.target, lbl.resource_labels(project, project.volumes[a.key],
                                                                             lbl.VOLUME)))
        elif a.kind in (P.CREATE, P.RECREATE):
            out.containers = [c for c in out.containers if c.id != a.container_id]
            labels = lbl.container_labels(project, project.services[a.service], a.number)
            out.containers.append(ObservedContainer(f"new-{a.target}", a.target, labels, "created"))
        elif a.kind in (P.START, P.RESTART, P.STOP):
            state = "exited" if a.kind == P.STOP else "running"
            out.containers = [replace(c, state=state) if c.name == a.target else c for c in out.containers]
        elif a.kind == P.REMOVE:
            out.containers = [c for c in out.containers if c.id != a.container_id]
        elif a.kind == P.REMOVE_NETWORK:
            out.networks = [n for n in out.networks if n.name != a.target]
        elif a.kind == P.REMOVE_VOLUME:
            out.volumes = [v for v in out.volumes if v.name != a.target]
    return out
