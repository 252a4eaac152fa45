"""Golden Dockerfiles: tests/golden/dockerfile/NAME.Dockerfile → NAME.json (parse tree and plan).

Regenerate after an intended change with PODPY_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from podpy.build.errors import BuildError
from podpy.build.parser import parse

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dockerfile"
CASES = sorted(GOLDEN.glob("*.Dockerfile"))


def render(text: str, name: str) -> dict:
    try:
        df = parse(text, name)
    except BuildError as e:
        return {"error": str(e)}
    out: dict = {"nodes": [n.to_dict() for n in df.nodes]}
    if df.directives:
        out["directives"] = df.directives
    if df.warnings:
        out["warnings"] = df.warnings
    return out


def test_corpus_is_broad() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    got = render(path.read_bytes().decode("utf-8"), path.name)
    expected = path.with_suffix(".json")
    text = json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("PODPY_UPDATE_GOLDEN") or not expected.exists():
        expected.write_text(text, encoding="utf-8")
    assert json.loads(expected.read_text(encoding="utf-8")) == got
