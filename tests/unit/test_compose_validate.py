"""Validation: each bad file is refused with one message naming the file (or service) and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.compose.errors import ComposeError
from podpy.compose.loader import LoadOptions, load_project


def _load(tmp_path: Path, text: str, **kw: object):  # noqa: ANN202
    (tmp_path / "compose.yaml").write_text(text)
    env = {"HOME": "/home/u", **kw.pop("env", {})}  # type: ignore[dict-item]
    return load_project(LoadOptions(cwd=tmp_path, environ=env, project_name="t", **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "message"), [
    ("services: []\n", "services must be a mapping"),
    ("services:\n  a: 3\n", "services.a must be a mapping"),
    ("services:\n  a: {image: x, ports: {a: 1}}\n", "services.a.ports must be a list"),
    ("services:\n  a: {image: x, environment: 3}\n", "services.a.environment must be a mapping or list"),
    ("services:\n  a: {image: x, build: [1]}\n", "services.a.build must be a string or mapping"),
    ("services:\n  a: {image: x, healthcheck: {test: x, intervall: 3s}}\n",
     "services.a.healthcheck additional properties 'intervall' not allowed"),
    ("services:\n  a: {image: x, ports: [{target: 80, publish: 8080}]}\n",
     "services.a.ports[0] additional properties 'publish' not allowed"),
    ("services:\n  a: {image: x, volumes: [{type: weird, target: /x}]}\n", "services.a.volumes[0].type must be one of"),
    ("services:\n  a: {image: x, depends_on: {b: {conditon: service_started}}}\n  b: {image: x}\n",
     "services.a.depends_on.b additional properties 'conditon' not allowed"),
    ("services:\n  a: {image: x}\nnetworks:\n  n: {drivr: bridge}\n",
     "networks.n additional properties 'drivr' not allowed"),
    ("services:\n  a: {image: x}\nvolumes:\n  v: 3\n", "volumes.v must be a mapping"),
    ("services:\n  a: {image: x, init: maybe}\n", "services.a.init must be a boolean"),
    ("services:\n  a: {image: x, scale: lots}\n", "services.a.scale must be an integer"),
    ("services:\n  a: {image: x, stop_grace_period: soon}\n", "services.a.stop_grace_period: invalid duration"),
    ("services:\n  a: {image: x, shm_size: big}\n", "services.a.shm_size: invalid size"),
    ("services:\n  a: {image: x, ports: ['1:2:3:4']}\n", "services.a.ports[0]: invalid port"),
    ("services:\n  a: {image: x, volumes: [{source: v}]}\n", "services.a.volumes[0] target is required"),
    ("services:\n  a: {image: x, scale: 2, deploy: {replicas: 3}}\n",
     "can't set distinct values on 'scale' and 'deploy.replicas'"),
    ("services:\n  a: {image: x, secrets: [s]}\n", 'service "a" refers to undefined secret s'),
    ("services:\n  a: {image: x, configs: [c]}\n", 'service "a" refers to undefined config c'),
    ("services:\n  a: {image: x, volumes_from: [b]}\n", 'service "a" refers to undefined service b in volumes_from'),
    ("include: [{path: x.yaml, env: y}]\nservices: {}\n", "include[0] additional properties 'env' not allowed"),
    ("- just\n- a list\n", "top-level object must be a mapping"),
    ("services:\n  a:\n    image: ${X?}\n", "required variable X is missing a value\n"),
])
def test_invalid(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ComposeError) as info:
        _load(tmp_path, text)
    assert message.rstrip("\n") in str(info.value)
    if message.endswith("\n"):
        assert str(info.value).endswith(message.rstrip("\n"))


def test_schema_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match=f"validating {tmp_path}/compose.yaml: services.a.ports"):
        _load(tmp_path, "services:\n  a: {image: x, ports: 80}\n")


def test_override_file_error_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "compose.override.yaml").write_text("services:\n  a: {imag: y}\n")
    with pytest.raises(ComposeError, match="compose.override.yaml: services.a additional properties 'imag'"):
        _load(tmp_path, "services:\n  a: {image: x}\n")


def test_interpolated_values_are_coerced(tmp_path: Path) -> None:
    text = ("services:\n  a:\n    image: x\n    scale: ${N}\n    init: ${B}\n    read_only: ${B}\n"
            "    deploy:\n      resources:\n        limits: {memory: '${MEM}'}\n")
    project = _load(tmp_path, text, env={"N": "2", "B": "true", "MEM": "1g"})
    cfg = project.services["a"].config
    assert (cfg["scale"], cfg["init"], cfg["read_only"]) == (2, True, True)
    assert cfg["deploy"]["resources"]["limits"]["memory"] == 1 << 30
    assert project.services["a"].scale == 2


def test_missing_file_flag(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match="open .*/nope.yaml: no such file or directory"):
        load_project(LoadOptions(files=["nope.yaml"], cwd=tmp_path, environ={}))


def test_missing_env_file_flag(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a: {image: x}\n")
    with pytest.raises(ComposeError, match="couldn't find env file: .*/missing.env"):
        load_project(LoadOptions(env_files=["missing.env"], cwd=tmp_path, environ={}))


def test_no_compose_file_found(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match="no configuration file provided: not found"):
        load_project(LoadOptions(cwd=tmp_path, environ={}))


def test_shape_errors_found_while_normalising_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match=f"^validating {tmp_path}/compose.yaml: services.a.ports\\[0\\]: invalid"):
        _load(tmp_path, "services:\n  a: {image: x, ports: ['99999']}\n")
