"""Golden tests of the planner: `tests/golden/compose/planner/NAME.yaml` holds a compose file, the observed
state and options; `NAME.plan` the expected plan (or error). PODPY_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from podpy.compose.errors import ComposeError
from podpy.compose.planner import DownOptions, UpOptions, plan_down, plan_up

from .test_compose_sim import observed_from, project_from

CASES = Path(__file__).resolve().parents[1] / "golden" / "compose" / "planner"
UPDATE = os.environ.get("PODPY_UPDATE_GOLDEN") == "1"


def _render(spec: dict) -> str:
    try:
        project = project_from(spec["compose"], CASES, spec.get("env"),
                               profiles=spec.get("profiles") or [])
        observed = observed_from(project, spec.get("observed") or {})
        opts = spec.get("options") or {}
        if spec.get("command", "up") == "down":
            plan = plan_down(project, observed, DownOptions(**opts))
        else:
            plan = plan_up(project, observed, UpOptions(**opts))
        return plan.render(dry_run=False)
    except ComposeError as exc:
        return f"Error: {exc}\n"


@pytest.mark.parametrize("name", sorted(p.stem for p in CASES.glob("*.yaml")))
def test_planner_golden(name: str) -> None:
    spec = yaml.safe_load((CASES / f"{name}.yaml").read_text())
    out = _render(spec)
    expected = CASES / f"{name}.plan"
    if UPDATE:
        expected.write_text(out)
    assert out == expected.read_text()
