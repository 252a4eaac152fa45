"""`compose config` renderings as pure functions of the model, against goldens in
tests/golden/compose/config/NAME/ (PODPY_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from podpy.compose import config_output as co
from podpy.compose.errors import ComposeError
from podpy.compose.loader import LoadOptions, load_project

CASES = Path(__file__).resolve().parents[1] / "golden" / "compose" / "config"
UPDATE = os.environ.get("PODPY_UPDATE_GOLDEN") == "1"


def _project(case: Path, profiles: list[str] | None = None):  # noqa: ANN202
    return load_project(LoadOptions(cwd=case, environ={"HOME": "/home/user"}, profiles=profiles or []))


def _outputs(case: Path) -> dict[str, str]:
    project = _project(case)
    lines = lambda items: "".join(f"{i}\n" for i in items)  # noqa: E731
    return {
        "config.yaml": co.render_config(project),
        "config.json": co.render_config(project, "json"),
        "services.txt": lines(co.list_services(project)),
        "volumes.txt": lines(co.list_volumes(project)),
        "profiles.txt": lines(co.list_profiles(project)),
        "images.txt": lines(co.list_images(project)),
        "hash.txt": lines(co.list_hashes(project, "*")),
        "services-debug.txt": lines(co.list_services(_project(case, ["debug"]))),
    }


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_config_golden(name: str) -> None:
    case = CASES / name
    for fname, text in _outputs(case).items():
        text = text.replace(str(case), "$CASE")
        if UPDATE:
            (case / fname).write_text(text)
        assert text == (case / fname).read_text(), fname


def test_json_and_yaml_say_the_same() -> None:
    project = _project(CASES / "full")
    assert json.loads(co.render_config(project, "json")) == yaml.safe_load(co.render_config(project))


def test_hash_of_named_services_and_unknown() -> None:
    project = _project(CASES / "full")
    out = co.list_hashes(project, "db,api")
    assert [line.split()[0] for line in out] == ["db", "api"]
    assert out[0].split()[1] == project.services["db"].config_hash
    with pytest.raises(ComposeError, match="no such service: nope"):
        co.list_hashes(project, "nope")


def test_config_output_reloads_to_the_same_model(tmp_path: Path) -> None:
    """The normalised YAML is itself a valid compose file giving the same model (what -q checks)."""
    project = _project(CASES / "full")
    (tmp_path / "compose.yaml").write_text(co.render_config(project))
    again = load_project(LoadOptions(cwd=tmp_path, environ={"HOME": "/home/user"}))
    assert again.document == project.document
    assert {n: s.config_hash for n, s in again.services.items()} == \
        {n: s.config_hash for n, s in project.services.items()}
