"""Golden tests of the compose loader: each case directory holds compose files (and .env, env files...),
an optional `case.yaml` (options and environment) and the expected `config` output (`expected.yaml`) or
the expected error message (`expected.error`). `$CASE` stands for the case directory.

Regenerate after a deliberate change: PODPY_UPDATE_GOLDEN=1 pytest tests/unit/test_compose_loader_golden.py
(then read the diff)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from podpy.compose.config_output import render_config
from podpy.compose.errors import ComposeError
from podpy.compose.loader import LoadOptions, load_project

CASES = Path(__file__).resolve().parents[1] / "golden" / "compose" / "loader"
UPDATE = os.environ.get("PODPY_UPDATE_GOLDEN") == "1"


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _options(case: Path) -> LoadOptions:
    spec = yaml.safe_load((case / "case.yaml").read_text()) if (case / "case.yaml").is_file() else {}
    spec = spec or {}
    environ = {"HOME": "/home/user", **{k: str(v) for k, v in (spec.get("env") or {}).items()}}
    return LoadOptions(
        files=spec.get("files") or [], project_directory=spec.get("project_directory"),
        project_name=spec.get("project_name"), env_files=spec.get("env_files") or [],
        profiles=spec.get("profiles") or [], services=spec.get("services") or [],
        cwd=case / spec.get("cwd", "."), environ=environ, stdin=spec.get("stdin"),
        interpolate=spec.get("interpolate", True), resolve_paths=spec.get("resolve_paths", True))


def _run(case: Path) -> tuple[str, str]:
    """("yaml", config output) or ("error", message), with the case path replaced by $CASE."""
    try:
        project = load_project(_options(case))
        out, kind = render_config(project), "yaml"
        if project.warnings:
            out += "# warnings:\n" + "".join(f"# {w}\n" for w in project.warnings)
    except ComposeError as exc:
        out, kind = str(exc) + "\n", "error"
    return kind, out.replace(str(case), "$CASE")


@pytest.mark.parametrize("name", _cases())
def test_loader_golden(name: str) -> None:
    case = CASES / name
    kind, out = _run(case)
    expected = case / f"expected.{kind}"
    if UPDATE:
        for stale in case.glob("expected.*"):
            stale.unlink()
        expected.write_text(out)
    assert expected.is_file(), f"{name}: got {kind} but no {expected.name}:\n{out}"
    assert out == expected.read_text()
