"""kube play's translation: tests/golden/kube/play/CASE/input.yaml -> plan.json (pods, containers
as CreateOptions arguments, volumes, warnings). PODPY_UPDATE_GOLDEN=1 rewrites them; review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from podpy.errors import InvalidArgument
from podpy.kube.plan import load, plan, quantity

GOLDEN = Path(__file__).parent.parent / "golden" / "kube" / "play"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    got = json.dumps(plan(load((GOLDEN / case / "input.yaml").read_text())).to_json(), indent=1) + "\n"
    expected = GOLDEN / case / "plan.json"
    if os.environ.get("PODPY_UPDATE_GOLDEN") or not expected.exists():
        expected.write_text(got)
    assert got == expected.read_text()


def test_quantities() -> None:
    assert quantity("64Mi") == 64 * 2**20
    assert quantity("500m") == 0.5
    assert quantity("1G") == 10**9
    with pytest.raises(InvalidArgument):
        quantity("12parsecs")


@pytest.mark.parametrize("text, message", [
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n", "at least one container"),
    ("- a\n- b\n", "Kubernetes object"),
    ("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, envFrom: [{configMapRef: {name: m}}]}]\n",
     "ConfigMap 'm' not found"),
    ("{", "invalid YAML"),
])  # fmt: skip
def test_bad_yaml_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        plan(load(text))


def test_probe_port_must_name_a_port() -> None:
    text = ("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, "
            "livenessProbe: {httpGet: {port: web}}}]\n")  # fmt: skip
    with pytest.raises(InvalidArgument, match="probe port 'web' names no port"):
        plan(load(text))


def test_build_dir_follows_podmans_rule(tmp_path: Path) -> None:
    from podpy.kube.play import build_dir

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Containerfile").write_text("FROM scratch\n")
    (tmp_path / "nofile").mkdir()
    assert build_dir(tmp_path, "app") == tmp_path / "app"
    assert build_dir(tmp_path, "localhost/app:1.0") == tmp_path / "app"
    assert build_dir(tmp_path, "example.com/x/app@sha256:" + "0" * 64) == tmp_path / "app"
    assert build_dir(tmp_path, "nofile") is None
    assert build_dir(tmp_path, "missing") is None
