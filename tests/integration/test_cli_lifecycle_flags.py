"""Podman's lifecycle flags (--all, --filter, --ignore, --cidfile, --latest, rm --depend/-t, stop --timeout),
its exit codes (rm: 1 missing, 2 running) and messages, and ps/images --noheading/--sort/--ns."""

from __future__ import annotations

import os
import re

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

MISSING = 'Error: no container with name or ID "nosuch" found: no such container'


def names(c, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(c("ps", "-a", *args, "--format", "{{.Names}}").stdout.split())


def state(c, name: str) -> str:  # type: ignore[no-untyped-def]
    return c("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.State}}").stdout.strip()


def test_podman_script_runs_unchanged(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "up", "busybox", "sleep", "100")
    ctr("create", "--name", "made", "busybox", "true")
    res = ctr("rm", "-t", "0", "--all", "--force", "--ignore")
    assert len(res.stdout.split()) == 2
    out = ctr("ps", "--all", "--external", "--format", "{{.ID}} {{.Names}}").stdout
    assert out == ""
    out = ctr("images", "--all", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
    assert re.fullmatch(r"busybox:latest [0-9a-f]{12}\n", out), out


def test_rm_exit_codes_as_podman(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "up", "busybox", "sleep", "100")
    res = ctr("rm", "nosuch", check=False)
    assert (res.returncode, res.stderr.strip()) == (1, MISSING)
    res = ctr("rm", "up", check=False)
    assert res.returncode == 2 and "cannot remove container" in res.stderr and "without force" in res.stderr
    res = ctr("rm", "up", "nosuch", check=False)  # a missing one wins, as Podman
    assert res.returncode == 1
    assert ctr("rm", "-f", "nosuch").stdout == ""  # -f: missing is fine
    assert ctr("rm", "--ignore", "nosuch").stdout == ""
    res = ctr("stop", "nosuch", check=False)
    assert (res.returncode, res.stderr.strip()) == (125, MISSING)
    assert ctr("stop", "-i", "nosuch").returncode == 0
    res = ctr("rm", "--cidfile", "/nonexistent/cid", check=False)
    assert res.returncode == 125 and "reading CIDFile: open /nonexistent/cid" in res.stderr


def test_all_filter_latest_cidfile(ctr, tmp_path):  # noqa: F811
    ctr("run", "-d", "--name", "one", "-l", "tier=a", "busybox", "sleep", "100")
    ctr("run", "-d", "--name", "two", "busybox", "sleep", "100")
    cid = ctr("create", "--name", "three", "busybox", "true").stdout.strip()
    assert len(ctr("pause", "--all").stdout.split()) == 2
    assert state(ctr, "one") == "paused"
    assert ctr("unpause", "--filter", "label=tier=a").stdout.split() == [
        ctr("inspect", "-f", "{{.Id}}", "one").stdout.strip()
    ]
    assert ctr("unpause", "-a").stdout.count("\n") == 1  # only `two` is still paused
    ctr("stop", "--filter", "name=two", "-t", "0")
    assert state(ctr, "two") == "exited"
    assert ctr("kill", "--all").stdout.count("\n") == 1  # the running one
    started = ctr("start", "--all").stdout.split()
    assert len(started) == 3
    ctr("stop", "-a", "--time", "0")
    (tmp_path / "cid").write_text(cid + "\n")
    assert ctr("start", "--latest").stdout.strip() == cid
    ctr("wait", "three")
    assert ctr("rm", "--cidfile", str(tmp_path / "cid")).stdout.strip() == cid
    res = ctr("stop", "-a", "one", check=False)
    assert res.returncode == 125 and "no arguments are needed with --all" in res.stderr
    res = ctr("stop", check=False)
    assert res.returncode == 125 and "you must provide at least one name or id" in res.stderr
    ctr("start", "one", "two")
    assert len(ctr("restart", "--all", "--running", "-t", "0").stdout.split()) == 2


def test_stop_timeout_warns_like_podman(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "stubborn", "busybox", "sleep", "100")  # pid 1 ignores SIGTERM
    res = ctr("stop", "--timeout", "1", "stubborn")
    assert res.stdout == "stubborn\n"
    assert (
        "StopSignal SIGTERM failed to stop container stubborn in 1 seconds, resorting to SIGKILL"
        in res.stderr
    )
    ctr("start", "stubborn")
    assert "resorting to SIGKILL" in ctr("restart", "-t", "1", "stubborn").stderr


def test_rm_time_stops_gracefully_first(ctr):  # noqa: F811
    ctr(
        "run",
        "-d",
        "--name",
        "nice",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' TERM; while :; do sleep 0.1; done",
    )
    ctr("rm", "-f", "-t", "5", "nice")
    assert names(ctr) == []


def test_rm_depend_removes_dependents_first(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "base", "busybox", "sleep", "100")
    ctr("create", "--name", "rider", "--network", "container:base", "busybox", "true")
    ctr("create", "--name", "other", "busybox", "true")
    out = ctr("rm", "-f", "--depend", "base").stdout.split()
    assert out[-1] == "base" and len(out) == 2
    assert names(ctr) == ["other"]
    ctr("run", "-d", "--name", "base", "busybox", "sleep", "100")
    ctr("create", "--name", "rider", "--network", "container:base", "busybox", "true")
    assert len(ctr("rm", "-af", "--depend").stdout.split()) == 3  # each once, whatever the order
    assert names(ctr) == []


def test_pflag_booleans_on_lifecycle_commands(ctr):  # noqa: F811
    ctr("create", "--name", "c", "busybox", "true")
    assert ctr("start", "-a=false", "c").stdout == "c\n"
    cid = ctr("run", "-d=true", "--rm=false", "busybox", "true").stdout.strip()
    assert len(cid) == 64
    assert ctr("rm", "-f=true", "--volumes=false", "c").stdout == "c\n"


def test_ps_and_images_listing_flags(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "zed", "busybox", "sleep", "100")
    ctr("create", "--name", "alf", "busybox", "true")
    lines = ctr("ps", "-a", "--noheading", "--sort", "names").stdout.splitlines()
    assert [line.split()[-1] for line in lines] == ["alf", "zed"]
    assert ctr("ps", "-a", "--sort", "created", "--format", "{{.Names}}").stdout.split() == ["zed", "alf"]
    res = ctr("ps", "--sort", "bogus", check=False)
    assert res.returncode == 125 and 'invalid argument "bogus" for "--sort" flag' in res.stderr
    ns = ctr("ps", "--ns").stdout.splitlines()
    assert ns[0].split() == [
        "CONTAINER",
        "ID",
        "NAMES",
        "PID",
        "CGROUPNS",
        "IPC",
        "MNT",
        "NET",
        "PIDNS",
        "USERNS",
        "UTS",
    ]
    assert ns[1].split()[1] == "zed" and ns[1].split()[3].isdigit()
    assert (
        ctr("ps", "--no-trunc=true", "-q").stdout.strip()
        == ctr("inspect", "-f", "{{.Id}}", "zed").stdout.strip()
    )
    ctr("tag", "busybox", "aaa/first:1")
    out = ctr("images", "--noheading", "--sort", "repository").stdout.splitlines()
    assert [line.split()[0] for line in out] == ["aaa/first", "busybox"]
    assert ctr("images", "-n").stdout.count("\n") == 2
    assert "DIGEST" in ctr("images", "--digests").stdout.splitlines()[0]


def test_pod_lifecycle_flags(ctr, tmp_path):  # noqa: F811
    ctr("pod", "create", "--name", "p1")
    (tmp_path / "pid").write_text(ctr("pod", "create", "--name", "p2").stdout)
    assert len(ctr("pod", "start", "--all").stdout.split()) == 2
    assert ctr("pod", "stop", "--latest", "-t", "0").stdout.split() == [
        (tmp_path / "pid").read_text().strip()
    ]
    assert ctr("pod", "stop", "--ignore", "nosuch").returncode == 0
    res = ctr("pod", "rm", "nosuch", check=False)
    assert res.returncode == 1 and "no pod with name or ID nosuch found" in res.stderr  # as Podman
    assert ctr("pod", "rm", "-i", "nosuch").stdout == ""
    assert ctr("pod", "rm", "--pod-id-file", str(tmp_path / "pid")).returncode == 0
    res = ctr("pod", "stop", "-a", "p1", check=False)
    assert res.returncode == 125 and "no arguments are needed with --all" in res.stderr
    ctr("pod", "rm", "-a", "-f", "-t", "1")
    assert ctr("pod", "ps", "-q").stdout == ""


def test_pod_and_volume_listing_flags(ctr):  # noqa: F811
    ctr("pod", "create", "--name", "pz")
    ctr("pod", "create", "--name", "pa")
    lines = ctr("pod", "ps", "--sort", "name", "--noheading").stdout.splitlines()
    assert [line.split()[1] for line in lines] == ["pa", "pz"]
    assert ctr("pod", "ps", "--latest", "--format", "{{.Name}}").stdout == "pa\n"
    ctr("pod", "rm", "-a", "-f")
    ctr("volume", "create", "v1")
    assert ctr("volume", "ls", "--noheading").stdout.split() == ["local", "v1"]


def test_wait_condition_interval_latest(ctr):  # noqa: F811
    ctr("create", "--name", "w", "busybox", "sh", "-c", "sleep 0.5; exit 4")
    assert ctr("wait", "--condition", "created", "w").stdout == "-1\n"  # Podman prints -1 for non-exit states
    ctr("start", "w")
    assert ctr("wait", "--condition=stopped,exited", "-i", "50ms", "w").stdout == "4\n"
    assert ctr("wait", "-l", "-i", "100").stdout == "4\n"
    res = ctr("wait", "--condition", "bogus", "w", check=False)
    assert res.returncode == 125 and "unknown container state: bogus" in res.stderr


def test_latest_on_top_stats_attach(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "old", "busybox", "sleep", "100")
    ctr("run", "-d", "--name", "new", "busybox", "sh", "-c", "sleep 3; echo done")
    assert "sh -c sleep 3; echo done" in ctr("top", "-l").stdout
    assert ctr("top", "-l", "pid").stdout.split()[:2] == ["PID", "1"]
    assert ctr("stats", "-l", "--no-stream", "--format", "{{.Name}}").stdout == "new\n"
    assert ctr("attach", "--latest").stdout == "done\n"
