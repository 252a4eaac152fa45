"""`compose build`, `up --build`/`--no-build`, `pull_policy: build` and `down --rmi local` through
podpy's builder with real builds (busybox base image from the fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.integration.network_fixtures import ctr, net  # noqa: F401
from tests.integration.registry_fixtures import open_registry_fixture, registry_env_fixture  # noqa: F401
from tests.integration.test_compose import proj  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

FILE = """
    services:
      app:
        build:
          context: ./app
          dockerfile: Custom.Dockerfile
          args: {GREETING: hello, UNSET_ARG: null}
          target: final
          labels: {org.example.kind: app}
        command: ["sh", "-c", "cat /msg; sleep 1000"]
        stop_signal: SIGKILL
      inline:
        build:
          dockerfile_inline: |
            FROM busybox
            ARG WHO=nobody
            RUN echo "inline $$WHO" > /msg
          args: [WHO]
        image: example.test/inline:v1
        command: ["sleep", "1000"]
        stop_signal: SIGKILL
        pull_policy: build
"""

DOCKERFILE = """FROM busybox AS base
ARG GREETING=unset
RUN echo "$GREETING from app" > /msg
FROM base AS final
LABEL stage=final
FROM busybox AS never
RUN exit 3
"""


def _image_ids(p: Podpy) -> dict[str, str]:
    out = p("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.split("\n")
    return dict(line.split() for line in out if line.strip())


def test_build_up_no_build_and_down_rmi_local(proj, net, tmp_path: Path):  # noqa: F811
    pr = proj("bld", FILE)
    (pr.dir / "app").mkdir()
    (pr.dir / "app" / "Custom.Dockerfile").write_text(DOCKERFILE)
    (pr.dir / ".env").write_text("WHO=envwho\n")  # `args: [WHO]` takes it from the project's environment
    res = pr("build", "-q")
    assert res.stdout == "", res.stdout
    images = _image_ids(net)
    assert "bld-app:latest" in images and "example.test/inline:v1" in images
    assert net("image", "inspect", "--format", "{{index .Config.Labels \"org.example.kind\"}} "
               "{{index .Config.Labels \"stage\"}}", "bld-app").stdout.strip() == "app final"
    assert net("run", "--rm", "example.test/inline:v1", "cat", "/msg").stdout == "inline envwho\n"

    res = pr("up", "-d", "--no-build")  # the images exist: used as they are
    assert "Building" not in res.stderr and res.stdout == ""
    assert net("exec", "bld-app-1", "cat", "/msg").stdout == "hello from app\n"

    # pull_policy: build rebuilds `inline` at every up (cached: same image, nothing recreated);
    # --build with a changed argument makes a new image and recreates only that service.
    res = pr("up", "-d")
    assert "Service inline  Built" in res.stderr and "Service app  Built" not in res.stderr
    assert "Recreate" not in res.stderr
    res = pr("build", "--build-arg", "GREETING=hi", "app")
    assert "STEP" in res.stderr and "Service app  Built" in res.stderr
    res = pr("up", "-d")
    assert "Container bld-app-1  Recreate" in res.stderr and "bld-inline-1  Recreate" not in res.stderr
    assert net("exec", "bld-app-1", "cat", "/msg").stdout == "hi from app\n"
    res = pr("up", "-d", "--build", "app")  # the file's argument again: the first image, from the cache
    assert "Using cache" in res.stderr and "Service app  Built" in res.stderr and "bld-app-1  Recreated" in res.stderr
    assert net("exec", "bld-app-1", "cat", "/msg").stdout == "hello from app\n"

    pr("down", "--rmi", "local", "-t", "0")
    images = _image_ids(net)
    assert "bld-app:latest" not in images  # built without an image name: removed
    assert "example.test/inline:v1" in images  # named by `image:`: kept (only `--rmi all` removes it)


def test_build_errors_and_missing_image_with_no_build(proj, net):  # noqa: F811
    pr = proj("bde", """
        services:
          bad:
            build:
              dockerfile_inline: |
                FROM busybox
                RUN exit 7
          nofile:
            build: ./missing
            profiles: [x]
    """)
    res = pr("up", "-d", "--no-build", check=False)
    assert res.returncode == 125 and "bde-bad" in res.stderr and "--no-build" in res.stderr
    res = pr("up", "-d", check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr and "exit" in res.stderr.lower()
    assert pr.names() == []
    res = pr("--profile", "x", "build", "nofile", check=False)
    assert res.returncode == 125 and "Traceback" not in res.stderr
    assert pr("--dry-run", "build").stderr.strip().endswith("Service bad  Built")


def test_push_built_images_to_a_loopback_registry(proj, net, open_registry, registry_env):  # noqa: F811
    host = open_registry.host
    pr = proj("bpu", f"""
        services:
          app:
            build:
              dockerfile_inline: "FROM busybox\\nRUN echo pushed > /msg\\n"
              tags: ["{host}/compose/app:extra"]
            image: {host}/compose/app:v1
          plain:
            image: busybox
    """)
    pr("build")
    res = pr("push")
    assert f"Image {host}/compose/app:v1  Pushed" in res.stderr
    assert f"Image {host}/compose/app:extra  Pushed" in res.stderr and "busybox" not in res.stderr
    assert open_registry.requests("PUT", "/compose/app/manifests/v1")
    assert open_registry.requests("PUT", "/compose/app/manifests/extra")
    net("rmi", f"{host}/compose/app:v1", f"{host}/compose/app:extra")
    assert "Pulled" in pr("pull", "app").stderr  # what was pushed comes back
    assert net("run", "--rm", f"{host}/compose/app:v1", "cat", "/msg").stdout == "pushed\n"


def test_config_variables_and_environment(proj):  # noqa: F811
    pr = proj("bev", """
        services:
          web:
            image: "busybox:${TAG:-latest}"
            environment: {A: "${REQ:?need it}", B: "${ALT:+on}"}
    """)
    (pr.dir / ".env").write_text("REQ=1\n")
    assert pr("config", "--variables").stdout.split("\n") == [
        "NAME   REQUIRED   DEFAULT VALUE   ALTERNATE VALUE",
        "ALT    false                      on",
        "REQ    true",
        "TAG    false      latest",
        ""]
    assert "REQ=1\n" in pr("config", "--environment").stdout
