"""Plans of start/stop/restart/rm and --scale parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.compose import plan as P
from podpy.compose.errors import ComposeError
from podpy.compose.observed import Observed
from podpy.compose.planner_cmds import parse_scale, plan_restart, plan_rm, plan_start, plan_stop

from .test_compose_sim import container, project_from

COMPOSE = """
name: demo
services:
  db: {image: postgres}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
  worker: {image: busybox, depends_on: [web]}
"""


@pytest.fixture
def project(tmp_path: Path):  # noqa: ANN201
    return project_from(COMPOSE, tmp_path)


def _state(project, **states: str) -> Observed:  # noqa: ANN001
    obs = Observed([container(project, s, 1, state) for s, state in states.items()])
    obs.containers.append(container(project, "worker", 1, "exited", oneoff=True))
    return obs


def _lines(plan: P.Plan) -> list[str]:
    return plan.render(dry_run=False).splitlines()


def test_start_in_dependency_order_with_waits(project) -> None:  # noqa: ANN001
    plan = plan_start(project, _state(project, db="exited", web="exited", worker="running"))
    assert _lines(plan) == ["Container demo-db-1  Start", "Container demo-web-1  Start after db:service_healthy"]


def test_stop_in_reverse_order_including_run_containers(project) -> None:  # noqa: ANN001
    obs = _state(project, db="running", web="running", worker="running")
    obs.containers[-1] = container(project, "worker", 1, "running", oneoff=True)
    assert [a.target for a in plan_stop(project, obs).actions] == [
        "demo-worker-1", "demo-worker-run-1", "demo-web-1", "demo-db-1"]
    assert [a.target for a in plan_stop(project, obs, ["db"]).actions] == ["demo-db-1"]


def test_restart_every_container_of_the_named_services(project) -> None:  # noqa: ANN001
    plan = plan_restart(project, _state(project, db="running", web="exited"), ["web", "db"])
    assert [(a.kind, a.target) for a in plan.actions] == [(P.RESTART, "demo-db-1"), (P.RESTART, "demo-web-1")]


def test_rm_skips_running_unless_stop(project) -> None:  # noqa: ANN001
    obs = _state(project, db="running", web="exited")
    assert _lines(plan_rm(project, obs)) == ["Container demo-worker-run-1  Remove",
                                             "Container demo-web-1  Remove"]
    assert _lines(plan_rm(project, obs, ["db"], stop=True, volumes=True)) == [
        "Container demo-db-1  Stop", "Container demo-db-1  Remove (with volumes)"]


def test_unknown_service(project) -> None:  # noqa: ANN001
    with pytest.raises(ComposeError, match="no such service: nope"):
        plan_stop(project, Observed(), ["nope"])


@pytest.mark.parametrize(("values", "expected"), [([], {}), (["web=3"], {"web": 3}),
                                                  (["a=1", "b=0", "a=2"], {"a": 2, "b": 0})])
def test_parse_scale(values: list[str], expected: dict[str, int]) -> None:
    assert parse_scale(values) == expected


@pytest.mark.parametrize("bad", ["web", "web=", "=3", "web=-1", "web=x"])
def test_parse_scale_errors(bad: str) -> None:
    with pytest.raises(ComposeError, match="invalid scale specifier"):
        parse_scale([bad])
