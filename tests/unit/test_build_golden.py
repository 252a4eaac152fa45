"""Golden Dockerfiles: tests/golden/dockerfile/NAME.Dockerfile → NAME.json (parse tree and plan).

Regenerate after an intended change with PODPY_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from podpy.build.buildargs import Platform
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.build.parser import parse
from podpy.build.plan import make_plan

AMD64 = Platform("linux", "amd64")

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dockerfile"
CASES = sorted(GOLDEN.glob("*.Dockerfile"))


def render(text: str, name: str, opts: dict) -> dict:
    """Parse tree, plan, and each needed stage expanded (base image env from `opts`)."""
    try:
        df = parse(text, name)
    except BuildError as e:
        return {"error": str(e)}
    out: dict = {"nodes": [n.to_dict() for n in df.nodes]}
    if df.directives:
        out["directives"] = df.directives
    if df.warnings:
        out["warnings"] = df.warnings
    try:
        plan = make_plan(df, opts.get("build_args"), opts.get("target"), AMD64, AMD64)
        out["plan"] = plan.to_dict()
        out["expanded"] = {str(i): _expanded(plan, i, opts) for i in plan.needed}
        if plan.warnings:
            out["plan_warnings"] = plan.warnings
        if plan.unused_build_args():
            out["unused_build_args"] = plan.unused_build_args()
    except BuildError as e:
        out["plan_error"] = str(e)
    return out


def _expanded(plan, index: int, opts: dict) -> dict:
    scope = StageScope(plan, opts.get("base_env"))
    steps = [scope.expand(inst).to_dict() for inst in plan.stages[index].instructions]
    return {"steps": steps, "env": scope.env, "workdir": scope.workdir, "history_args": scope.history_args()}


def test_corpus_is_broad() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    opts_file = path.with_suffix(".args")
    opts = json.loads(opts_file.read_text()) if opts_file.exists() else {}
    got = json.loads(json.dumps(render(path.read_bytes().decode("utf-8"), path.name, opts)))
    expected = path.with_suffix(".json")
    text = json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("PODPY_UPDATE_GOLDEN") or not expected.exists():
        expected.write_text(text, encoding="utf-8")
    assert json.loads(expected.read_text(encoding="utf-8")) == got
