"""Planner properties over a simulated executor: up is idempotent, an edit recreates one service,
scale changes touch only the surplus, down leaves nothing of the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.compose import hashing as lbl
from podpy.compose import plan as P
from podpy.compose.errors import ComposeError
from podpy.compose.observed import Observed
from podpy.compose.planner import DownOptions, UpOptions, plan_down, plan_up

from .test_compose_sim import project_from, simulate

COMPOSE = """
name: demo
services:
  db:
    image: postgres:${PG:-16}
    volumes: [data:/data]
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
    deploy:
      replicas: ${WEB_REPLICAS:-1}
  worker:
    image: busybox
    command: ${CMD:-sleep 1}
    depends_on: [web]
  sidecar:
    image: busybox
    network_mode: service:web
volumes:
  data: {}
"""


def _up(tmp_path: Path, obs: Observed, env: dict[str, str] | None = None,
        **opts: object) -> tuple[P.Plan, Observed]:
    project = project_from(COMPOSE, tmp_path, env)
    plan = plan_up(project, obs, UpOptions(**opts))  # type: ignore[arg-type]
    return plan, simulate(project, plan, obs)


def _kinds(plan: P.Plan) -> list[tuple[str, str]]:
    return [(a.kind, a.target) for a in plan.actions]


def test_up_twice_plans_nothing(tmp_path: Path) -> None:
    plan, obs = _up(tmp_path, Observed())
    assert len([a for a in plan.actions if a.kind == P.CREATE]) == 4
    again, _ = _up(tmp_path, obs)
    assert not again and again.render() == "DRY-RUN MODE -  nothing to do\n"


def test_edit_recreates_only_that_service(tmp_path: Path) -> None:
    _, obs = _up(tmp_path, Observed())
    plan, obs2 = _up(tmp_path, obs, {"CMD": "sleep 2"})
    assert _kinds(plan) == [(P.RECREATE, "demo-worker-1"), (P.START, "demo-worker-1")]
    assert not _up(tmp_path, obs2, {"CMD": "sleep 2"})[0]


def test_edit_of_referenced_service_recreates_its_users(tmp_path: Path) -> None:
    _, obs = _up(tmp_path, Observed())
    plan, _ = _up(tmp_path, obs, {"PG": "17"})
    assert [a.target for a in plan.actions if a.kind == P.RECREATE] == ["demo-db-1"]
    plan = plan_up(project_from(COMPOSE.replace("image: nginx", "image: nginx:2"), tmp_path), obs)
    assert [a.target for a in plan.actions if a.kind == P.RECREATE] == ["demo-web-1", "demo-sidecar-1"]


def test_replicas_change_does_not_recreate(tmp_path: Path) -> None:
    _, obs = _up(tmp_path, Observed())
    plan, obs = _up(tmp_path, obs, {"WEB_REPLICAS": "3"})
    assert _kinds(plan) == [(P.CREATE, "demo-web-2"), (P.START, "demo-web-2"),
                            (P.CREATE, "demo-web-3"), (P.START, "demo-web-3")]
    plan, obs = _up(tmp_path, obs, {"WEB_REPLICAS": "3"}, scale={"web": 1})
    assert [a.target for a in plan.actions if a.kind == P.REMOVE] == ["demo-web-3", "demo-web-2"]
    assert sorted(c.name for c in obs.containers if c.service == "web") == ["demo-web-1"]


def test_start_waits_for_dependency_conditions(tmp_path: Path) -> None:
    plan, _ = _up(tmp_path, Observed())
    start = next(a for a in plan.actions if a.kind == P.START and a.service == "web")
    assert start.waits == (P.Wait("db", "service_healthy", True),)
    order = [a.service for a in plan.actions if a.kind == P.CREATE]
    assert order.index("db") < order.index("web") < order.index("worker")
    assert order.index("web") < order.index("sidecar")


def test_down_leaves_nothing(tmp_path: Path) -> None:
    project = project_from(COMPOSE, tmp_path)
    _, obs = _up(tmp_path, Observed())
    plan = plan_down(project, obs, DownOptions(remove_volumes=True))
    left = simulate(project, plan, obs)
    assert left.containers == [] and left.networks == [] and left.volumes == []
    stops = [a.service for a in plan.actions if a.kind == P.STOP]
    assert stops.index("worker") < stops.index("web") < stops.index("db")


def test_labels_of_created_containers(tmp_path: Path) -> None:
    project = project_from(COMPOSE, tmp_path)
    labels = lbl.container_labels(project, project.services["web"], 2)
    assert labels[lbl.PROJECT] == "demo" and labels[lbl.SERVICE] == "web"
    assert labels[lbl.NUMBER] == "2" and labels[lbl.ONEOFF] == "False"
    assert labels[lbl.CONFIG_HASH] == project.services["web"].config_hash
    assert labels[lbl.DEPENDS_ON] == "db:service_healthy:false"
    assert labels[lbl.WORKING_DIR] == str(tmp_path)
    assert labels[lbl.CONFIG_FILES] == "-"


def test_hash_ignores_scale_build_and_dependencies(tmp_path: Path) -> None:
    base = project_from(COMPOSE, tmp_path).services["web"].config_hash
    scaled = project_from(COMPOSE, tmp_path, {"WEB_REPLICAS": "5"}).services["web"].config_hash
    assert base == scaled
    other_dep = COMPOSE.replace("db: {condition: service_healthy}", "db: {condition: service_started}")
    assert project_from(other_dep, tmp_path).services["web"].config_hash == base
    assert project_from(COMPOSE.replace("nginx", "nginx:1"), tmp_path).services["web"].config_hash != base


def test_dependency_cycle_is_an_error(tmp_path: Path) -> None:
    text = "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n"
    with pytest.raises(ComposeError, match="dependency cycle"):
        project_from(text, tmp_path, project_name="p")


def test_changed_network_definition_is_reported_not_recreated(tmp_path: Path) -> None:
    _, obs = _up(tmp_path, Observed())
    changed = COMPOSE + "networks:\n  default:\n    driver_opts: {mtu: '1400'}\n"
    plan = plan_up(project_from(changed, tmp_path), obs)
    assert not plan.actions
    assert plan.warnings == ["network demo_default exists with a different configuration than the compose "
                             "file: it is kept as it is; run `down` (with -v for volumes) to recreate it"]
    assert not plan_up(project_from(COMPOSE, tmp_path), obs).warnings
