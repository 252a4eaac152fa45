"""Completion of flag values and of containers by state (issue 11): what the generated bash, zsh and
fish scripts offer, from a store of hand-written container records (no container runs)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from podpy.cli import names
from tests.unit.test_docgen import BASH, FISH, REPO, bash_complete, podpy_on_path, zsh_complete  # noqa: F401

DEAD_PID = 4_000_000  # above pid_max's ceiling: never a live process
STATES = {  # name: (status, pid, paused)
    "up": ("running", os.getpid(), False),
    "frozen": ("running", os.getpid(), True),
    "made": ("created", 0, False),
    "done": ("exited", 0, False),
    "ghost": ("running", DEAD_PID, False),  # its supervisor and init are gone: not running
}


@pytest.fixture
def root(tmp_path: Path, podpy_on_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # `podpy __names` of this checkout, whatever the cwd
    for i, (name, (status, pid, paused)) in enumerate(STATES.items()):
        cid = f"{i:x}" * 64
        d = tmp_path / "store" / "containers" / cid[:64]
        d.mkdir(parents=True)
        state = {"status": status, "pid": pid, "paused": paused}
        (d / "container.json").write_text(json.dumps({"id": cid[:64], "name": name, "state": state}))
    (tmp_path / "store" / "networks").mkdir()
    (tmp_path / "store" / "networks" / "backend.json").write_text("{}")
    return tmp_path / "store"


def named(words: list[str]) -> list[str]:
    """Without the short IDs (12 hex digits, alone or with a prefix/suffix)."""
    return sorted(w for w in words if not all(c in "0123456789abcdef" for c in w.removeprefix("container:")
                                              .removesuffix(":")))  # fmt: skip


def test_names_by_state(root: Path) -> None:
    def k(kind_: str) -> list[str]:
        buf = io.StringIO()
        with redirect_stdout(buf):
            names.main([kind_, "--root", str(root)])
        return named(buf.getvalue().splitlines())

    assert k("containers") == ["done", "frozen", "ghost", "made", "up"]
    assert k("containers-running") == ["up"]
    assert k("containers-paused") == ["frozen"]
    assert k("containers-stopped") == ["done", "ghost", "made"]
    assert "container:up" in k("container-refs") and "up:" in k("container-paths")
    assert len(k("containers-running")) == 1


def test_bash_containers_by_state(root: Path) -> None:
    r = str(root)
    for verb in ("stop", "exec", "pause", "kill", "attach", "top"):
        assert named(bash_complete(BASH, "podpy", "--root", r, verb, "")) == ["up"], verb
    assert named(bash_complete(BASH, "podpy", "--root", r, "container", "stop", "")) == ["up"]
    assert named(bash_complete(BASH, "podpy", "--root", r, "start", "")) == ["done", "ghost", "made"]
    assert named(bash_complete(BASH, "podpy", "--root", r, "unpause", "")) == ["frozen"]
    assert named(bash_complete(BASH, "podpy", "--root", r, "rm", "")) == ["done", "frozen", "ghost", "made", "up"]


def test_bash_flag_values(root: Path) -> None:
    r = str(root)
    net = bash_complete(BASH, "podpy", "--root", r, "run", "--network", "")
    assert {"bridge", "host", "none", "container:", "backend", "container:up"} <= set(net)
    assert "--network=container:up" in bash_complete(BASH, "podpy", "--root", r, "run", "--network=container:u")
    assert bash_complete(BASH, "podpy", "run", "--pull", "") == ["always", "missing", "never", "newer"]
    assert "debug" in bash_complete(BASH, "podpy", "--log-level", "")
    sig = bash_complete(BASH, "podpy", "kill", "-s", "")
    assert {"KILL", "TERM", "HUP", "USR1"} <= set(sig)
    assert bash_complete(BASH, "podpy", "kill", "--signal=TE") == ["--signal=TERM"]
    fmt = bash_complete(BASH, "podpy", "ps", "--format", "")
    assert {"json", "table", "{{.ID}}", "{{.Names}}", "{{.Status}}"} <= set(fmt)
    assert bash_complete(BASH, "podpy", "images", "--format", "{{.Re") == ["{{.Repository}}"]
    assert bash_complete(BASH, "podpy", "build", "--network", "") == ["default", "none", "host"]


def test_bash_cp_container_paths(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "upload.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    got = bash_complete(BASH, "podpy", "--root", str(root), "cp", "u")
    assert "up:" in got and "upload.txt" in got


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_values(tmp_path: Path, root: Path) -> None:
    assert named(zsh_complete(tmp_path, f"podpy --root {root} stop ")) == ["up"]
    assert named(zsh_complete(tmp_path, f"podpy --root {root} start ")) == ["done", "ghost", "made"]
    assert "TERM" in zsh_complete(tmp_path, "podpy kill --signal ")
    net = zsh_complete(tmp_path, f"podpy --root {root} run --network ")
    assert {"bridge", "host", "backend", "container:", "container:up"} <= set(net), net
    fmt = {w.replace("\\", "") for w in zsh_complete(tmp_path, "podpy ps --format ")}  # zsh quotes braces
    assert {"json", "{{.Names}}"} <= fmt
    assert "up:" in zsh_complete(tmp_path, f"podpy --root {root} cp u")


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_values(root: Path) -> None:
    def complete(line: str) -> list[str]:
        cmd = f"source {FISH}; complete -C {line!r}"
        res = subprocess.run(["fish", "--no-config", "-c", cmd], capture_output=True, text=True, timeout=30)
        return [ln.split("\t")[0] for ln in res.stdout.splitlines()]

    assert named(complete(f"podpy --root {root} unpause ")) == ["frozen"]
    assert {"bridge", "backend", "container:up"} <= set(complete(f"podpy --root {root} run --network "))
    assert "{{.Names}}" in complete("podpy ps --format ")
    assert "up:" in complete(f"podpy --root {root} cp u")
