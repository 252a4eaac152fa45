"""`podpy events`: what each command writes to the event log, read back with --stream=false, and a
live stream that follows new events until Ctrl-C."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, Podpy
from tests.integration.network_fixtures import ctr, net  # noqa: F401
from tests.integration.registry_fixtures import open_registry_fixture, registry_env_fixture  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

FMT = "{{.Type}} {{.Status}} {{.Name}}"


def _events(p: Podpy, since: str, *args: str) -> list[str]:
    return p("events", "--stream=false", "--since", since, "--format", FMT, *args).stdout.splitlines()


def _now() -> str:
    return f"{time.time():.9f}"


def test_container_lifecycle_events(podpy: Podpy, busybox_image: str) -> None:
    t0 = _now()
    podpy("run", "--network", "none", "--name", "c1", "-l", "app=x", "busybox", "true")
    assert podpy("run", "--rm", "--network", "none", "--name", "gone", "busybox", "sh", "-c", "exit 3",
                 check=False).returncode == 3  # fmt: skip
    podpy("rm", "c1")
    got = _events(podpy, t0)
    run = ["create", "init", "start", "attach", "died", "cleanup"]
    assert got == [f"container {s} c1" for s in run] + [f"container {s} gone" for s in [*run, "remove"]] + [
        "container remove c1"
    ]
    died = [json.loads(x) for x in podpy("events", "--stream=false", "--since", t0, "--format", "json",
                                         "--filter", "event=died").stdout.splitlines()]  # fmt: skip
    assert [(d["Name"], d.get("ContainerExitCode", 0)) for d in died] == [("c1", 0), ("gone", 3)]
    assert (
        died[0]["Attributes"] == {"app": "x"} and died[0]["Image"] == "busybox" and len(died[0]["ID"]) == 64
    )
    text = podpy(
        "events", "--stream=false", "--since", t0, "--filter", "container=c1", "--filter", "event=create"
    )
    [line] = text.stdout.splitlines()
    assert " +0000 UTC container create " in line or " container create " in line
    assert line.endswith("(image=busybox, name=c1, app=x)")


def test_start_pause_exec_stop_restart_kill_rm(podpy: Podpy, busybox_image: str) -> None:
    podpy("create", "--network", "none", "--name", "c2", "busybox", "sleep", "100")
    t0 = _now()
    podpy("start", "c2")
    podpy("pause", "c2")
    podpy("unpause", "c2")
    podpy("exec", "c2", "true")
    assert podpy("exec", "c2", "sh", "-c", "exit 4", check=False).returncode == 4
    podpy("stop", "-t", "1", "c2")
    podpy("restart", "-t", "0", "c2")
    podpy("kill", "c2")
    podpy("wait", "c2")
    podpy("rename", "c2", "c3")
    podpy("rm", "c3")
    got = [x.rsplit(" ", 1)[0] for x in _events(podpy, t0)]
    head = ["init", "start", "pause", "unpause", "exec", "exec_died", "exec", "exec_died",
            "died", "cleanup", "stop", "init", "start", "restart"]  # fmt: skip
    assert got[: len(head)] == [f"container {s}" for s in head]
    assert sorted(got[len(head) : len(head) + 3]) == ["container cleanup", "container died", "container kill"]
    assert got[len(head) + 3 :] == ["container rename", "container remove"]
    codes = podpy("events", "--stream=false", "--since", t0, "--filter", "event=exec_died", "--format",
                  "{{.ContainerExitCode}}").stdout.split()  # fmt: skip
    assert codes == ["0", "4"]


def test_image_and_volume_events(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    t0 = _now()
    podpy("tag", "busybox", "other:1")
    podpy("untag", "busybox", "other:1")
    podpy("save", "-o", str(tmp_path / "s.tar"), "busybox")
    podpy("rmi", "busybox")
    podpy("load", "-i", str(tmp_path / "s.tar"))
    podpy("volume", "create", "v1")
    podpy("volume", "create", "v2")
    podpy("volume", "rm", "v1")
    podpy("run", "--rm", "--network", "none", "-v", "v2:/data", "busybox", "true")
    podpy("volume", "prune", "-a", "-f")
    got = [x for x in _events(podpy, t0) if not x.startswith("container")]
    hexid = busybox_image.removeprefix("sha256:")
    archive = tmp_path / "s.tar"
    assert got == [
        "image tag docker.io/library/other:1", "image untag docker.io/library/other:1", f"image save {archive}",
        "image untag docker.io/library/busybox:latest", "image remove docker.io/library/busybox:latest",
        f"image loadfromarchive {archive}",
        "volume create v1", "volume create v2", "volume remove v1", "volume mount v2", "volume prune v2",
    ]  # fmt: skip
    ids = podpy("events", "--stream=false", "--since", t0, "--filter", "type=image", "--format", "{{.ID}}")
    assert set(ids.stdout.split()) == {hexid}  # loadfromarchive has no ID, as Podman
    assert podpy("events", "--stream=false", "--since", t0, "--filter", "volume=v1", "--format", "{{.Status}}"
                 ).stdout.split() == ["create", "remove"]  # fmt: skip
    assert podpy("events", "--stream=false", "--since", t0, "--filter", "image=other:1", "--format",
                 "{{.Status}}").stdout.split() == ["tag", "untag"]  # fmt: skip


def test_network_events(net: Podpy, busybox_image: str) -> None:  # noqa: F811
    t0 = _now()
    net("network", "create", "evnet")
    cid = net("create", "--name", "nc", "busybox", "true").stdout.strip()
    net("network", "connect", "evnet", "nc")
    net("network", "disconnect", "evnet", "nc")
    net("rm", "nc")
    net("network", "rm", "evnet")
    lines = net("events", "--stream=false", "--since", t0, "--filter", "type=network").stdout.splitlines()
    tails = [line.split(" UTC ", 1)[-1] for line in lines]
    assert [t.split()[1] for t in tails] == ["create", "connect", "disconnect", "remove"]
    assert tails[1] == f"network connect {cid} (container={cid}, name=evnet)"
    assert tails[0].endswith("(name=evnet, type=bridge)")
    assert net("events", "--stream=false", "--since", t0, "--filter", "network=evnet", "--format", "{{.Status}}"
               ).stdout.split() == ["create", "connect", "disconnect", "remove"]  # fmt: skip


def test_until_json_and_errors(podpy: Podpy) -> None:
    t0 = _now()
    podpy("volume", "create", "a")
    t1 = _now()
    podpy("volume", "create", "b")
    out = podpy("events", "--stream=false", "--since", t0, "--until", t1, "--format", "{{json .}}").stdout
    [doc] = [json.loads(x) for x in out.splitlines()]
    assert doc["Name"] == "a" and doc["Type"] == "volume" and doc["Status"] == "create"
    assert podpy(
        "system", "events", "--no-stream", "--since", t0, "--format", "{{.Name}}"
    ).stdout.split() == ["a", "b"]
    bad = podpy("events", "--stream=false", "--filter", "colour=red", check=False)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: ") and "invalid filter" in bad.stderr
    bad = podpy("events", "--stream=false", "--since", "the day before", check=False)
    assert bad.returncode == 125 and bad.stderr.count("\n") == 1


def _read_until(proc: subprocess.Popen, want: str, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
        if not chunk:
            break
        buf += chunk
        *done, buf = buf.split(b"\n")
        lines += [x.decode() for x in done]
        if any(want in x for x in lines):
            return lines
    raise AssertionError(f"{want!r} not seen in {lines}")


def test_follow_live_and_ctrl_c_exits_0(podpy: Podpy, busybox_image: str) -> None:
    podpy("volume", "create", "before")  # the past: a stream without --since does not show it (Podman)
    proc = subprocess.Popen(podpy.argv("events", "--format", FMT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)  # fmt: skip
    try:
        time.sleep(1.0)  # it has read the past and polls for new lines
        podpy("run", "--rm", "--network", "none", "--name", "live", "busybox", "true")
        lines = _read_until(proc, "container remove live")
        assert lines == [f"container {s} live" for s in
                         ["create", "init", "start", "attach", "died", "cleanup", "remove"]]  # fmt: skip
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert b"Traceback" not in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_compose_events(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    d = tmp_path / "evproj"
    d.mkdir()
    (d / "compose.yaml").write_text(
        textwrap.dedent("""
        services:
          web:
            image: busybox
            command: ["sleep", "300"]
            network_mode: none
            stop_signal: SIGKILL
            labels: {tier: front}
    """)
    )
    compose = ["compose", "-f", str(d / "compose.yaml")]
    proc = subprocess.Popen(podpy.argv(*compose, "events", "--json"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO)  # fmt: skip
    try:
        time.sleep(1.0)
        podpy(*compose, "up", "-d")
        podpy("run", "--rm", "--network", "none", "busybox", "true")  # not the project's: not shown
        podpy(*compose, "down", "-t", "0")
        lines = _read_until(proc, '"action":"destroy"')
        docs = [json.loads(x) for x in lines]
        assert {d["service"] for d in docs} == {"web"} and {d["type"] for d in docs} == {"container"}
        actions = [d["action"] for d in docs]
        assert actions[:3] == ["create", "init", "start"] and actions[-1] == "destroy" and "die" in actions
        attrs = docs[0]["attributes"]
        assert attrs["name"] == "evproj-web-1" and attrs["tier"] == "front" and attrs["image"] == "busybox"
        assert not [k for k in attrs if k.startswith("com.docker.compose.")]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    since = podpy(*compose, "events", "--since", "10m", "--until", "0s", timeout=30).stdout
    assert " container create " in since and "(image=busybox, name=evproj-web-1, tier=front)" in since


def test_health_commit_export_and_pod_events(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    t0 = _now()
    podpy("run", "-d", "--network", "none", "--name", "h", "--health-cmd", "true", "--health-interval", "1h",
          "busybox", "sleep", "100")  # fmt: skip
    podpy("healthcheck", "run", "h")
    podpy("commit", "h", "snap:1")
    podpy("export", "-o", str(tmp_path / "h.tar"), "h")
    podpy("rm", "-f", "h")
    podpy("rmi", "snap:1")
    fmt = "{{.Status}} {{.HealthStatus}}"
    got = podpy("events", "--stream=false", "--since", t0, "--filter", "container=h", "--format", fmt).stdout
    assert "health_status healthy" in got.splitlines()
    assert [x.split()[0] for x in got.splitlines() if x.split()[0] in ("commit", "export", "remove")] == [
        "commit", "export", "remove",
    ]  # fmt: skip
    text = podpy("events", "--stream=false", "--since", t0, "--filter", "event=health_status").stdout
    assert "(image=busybox, name=h, health_status=healthy)" in text
    if not Path("/usr/bin/catatonit").exists():
        return
    t1 = _now()
    podpy("pod", "create", "--network", "none", "--name", "p1")
    podpy("pod", "start", "p1")
    podpy("pod", "stop", "-t", "0", "p1")
    podpy("pod", "rm", "p1")
    got = podpy("events", "--stream=false", "--since", t1, "--filter", "pod=p1", "--format", FMT).stdout
    assert got.splitlines() == [f"pod {s} p1" for s in ("create", "start", "stop", "remove")]


def test_push_pull_events(
    podpy: Podpy, busybox_image: str, open_registry, registry_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dest = f"{open_registry.host}/ev/busybox:v1"
    t0 = _now()
    podpy("push", "busybox:latest", dest)
    podpy("rmi", "busybox:latest")
    podpy("pull", "-q", dest)
    got = [x for x in _events(podpy, t0) if " push " in x or " pull " in x]
    assert got == [f"image push {dest}", f"image pull {dest}"]


def test_build_event(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text("FROM busybox\nLABEL built=yes\n")
    t0 = _now()
    image_id = podpy("build", "-q", "-t", "built:1", str(tmp_path)).stdout.strip().splitlines()[-1]
    fmt = "{{.Status}} {{.ID}} {{.Name}}"
    got = podpy("events", "--stream=false", "--since", t0, "--filter", "event=build", "--format", fmt).stdout
    assert got.split() == ["build", image_id.removeprefix("sha256:"), "docker.io/library/built:1"]


def test_attach_command_event(podpy: Podpy, busybox_image: str) -> None:
    podpy("run", "-d", "--network", "none", "--name", "a", "busybox", "sh", "-c", "sleep 1; echo hi")
    assert podpy("attach", "a").stdout == "hi\n"
    got = podpy(
        "events", "--stream=false", "--filter", "container=a", "--format", "{{.Status}}"
    ).stdout.split()
    assert got == ["create", "init", "start", "attach", "died", "cleanup"]
