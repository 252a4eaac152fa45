"""A compose service → the engine's CreateOptions, and the depends_on condition checks (pure)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from podpy.compose.errors import ComposeError
from podpy.compose.executor import check_condition
from podpy.compose.loader import LoadOptions, load_project
from podpy.compose.observed import ObservedContainer
from podpy.compose.service_options import service_create, unsupported_fields


def _project(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=tmp_path, environ={}))


def _first(name: str) -> str:
    return f"p-{name}-1"


def test_fields_map_to_create_options(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        name: p
        services:
          web:
            image: busybox
            entrypoint: ["/bin/sh", "-c"]
            command: echo hi
            environment: {A: "1", B: null}
            working_dir: /srv
            user: "1000"
            hostname: h
            stop_signal: SIGINT
            stop_grace_period: 1m30s
            init: true
            cap_add: [NET_ADMIN]
            tmpfs: /run
            restart: unless-stopped
            healthcheck: {test: "true", interval: 2s, retries: 4}
            ports: ["127.0.0.1:8080:80", "53/udp"]
            extra_hosts: ["a.test:10.0.0.1"]
            dns: 10.0.0.53
            volumes: [data:/data:ro, ./src:/src, /anon]
            mem_limit: 64m
            networks:
              front: {aliases: [www]}
              back: {priority: 10, ipv4_address: 10.5.0.9}
        networks: {front: {}, back: {}}
        volumes: {data: {}}
    """)
    made = service_create(project, project.services["web"], 1, "p-web-1", _first)
    o = made.options
    assert (o.image, o.name, o.command, o.entrypoint) == ("busybox", "p-web-1", ["echo", "hi"], '["/bin/sh", "-c"]')
    assert o.env == ["A=1", "B"] and (o.workdir, o.user, o.hostname) == ("/srv", "1000", "h")
    assert (o.stop_signal, o.stop_timeout, o.init, o.restart) == ("SIGINT", 90, True, "unless-stopped")
    assert o.cap_add == ["NET_ADMIN"] and o.tmpfs == ["/run"]
    assert o.health_cmd == '["CMD-SHELL", "true"]' and o.health_interval == "2s" and o.health_retries == 4
    assert o.net["publish"] == ["127.0.0.1:8080:80/tcp", "53/udp"]
    assert o.net["add_host"] == ["a.test:10.0.0.1"] and o.net["dns"] == ["10.0.0.53"]
    assert o.volumes == ["p_data:/data:ro", f"{tmp_path}/src:/src", "/anon"] and (tmp_path / "src").is_dir()
    assert o.resources["memory"] == str(64 * 1024 * 1024)
    # the highest-priority network first (with its address), the others connected after create
    assert o.net["network"] == ["p_back"] and o.net["ip"] == "10.5.0.9" and o.net["network_alias"] == ["web"]
    assert made.connect == [("p_front", ["web", "www"], "")]
    labels = dict(x.split("=", 1) for x in o.labels)
    assert labels["com.docker.compose.project"] == "p" and labels["com.docker.compose.container-number"] == "1"


def test_network_mode_and_volumes_from_point_at_the_first_container(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        name: p
        services:
          a: {image: busybox}
          b: {image: busybox, network_mode: "service:a", volumes_from: ["a:ro", "container:other"]}
          c: {image: busybox, network_mode: host}
    """)
    b = service_create(project, project.services["b"], 1, "p-b-1", _first).options
    assert b.net["network"] == ["container:p-a-1"] and b.volumes_from == ["p-a-1:ro", "other"]
    assert service_create(project, project.services["c"], 1, "p-c-1", _first).options.net["network"] == ["host"]


def test_unsupported_fields_are_named_once_each(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        services:
          a:
            image: busybox
            ulimits: {nofile: 10}
            sysctls: {net.core.somaxconn: "1024"}
            logging: {driver: syslog, options: {tag: x}}
            volumes: [{type: volume, source: v, target: /v, volume: {nocopy: true}}]
            extra_hosts: ["gw:host-gateway"]
            x-custom: 1
        volumes: {v: {}}
    """)
    warnings = unsupported_fields(project.services["a"])
    assert [w.partition(":")[0] for w in warnings] == ["sysctls", "ulimits", "logging", "volumes", "extra_hosts"]
    assert "'nocopy'" in warnings[3]


def test_environment_backed_secrets_are_refused(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        services:
          a: {image: busybox, secrets: [s]}
        secrets: {s: {environment: HOME}}
    """)
    with pytest.raises(ComposeError, match="only file-backed secrets"):
        service_create(project, project.services["a"], 1, "x", _first)


def _c(state: str, health: str = "", code: int | None = 0) -> ObservedContainer:
    labels = {"com.docker.compose.service": "db"}
    return ObservedContainer("id", "p-db-1", labels, state, code, health)


@pytest.mark.parametrize(("container", "condition", "verdict"), [
    (_c("running"), "service_started", "ok"),
    (_c("created"), "service_started", "wait"),
    (_c("running", "starting"), "service_healthy", "wait"),
    (_c("running", "healthy"), "service_healthy", "ok"),
    (_c("running", "unhealthy"), "service_healthy", 'container p-db-1 is unhealthy (service "db")'),
    (_c("running"), "service_healthy", 'service "db" has no healthcheck configured'),
    (_c("exited", "starting", 2), "service_healthy", 'container p-db-1 exited (2) (service "db")'),
    (_c("running"), "service_completed_successfully", "wait"),
    (_c("exited", code=0), "service_completed_successfully", "ok"),
    (_c("exited", code=3), "service_completed_successfully", "service \"db\" didn't complete successfully: exit 3"),
])  # fmt: skip
def test_depends_on_conditions(container: ObservedContainer, condition: str, verdict: str) -> None:
    assert check_condition(container, condition) == verdict
