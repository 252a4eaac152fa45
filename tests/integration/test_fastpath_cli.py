"""The typer-free front door answers like the full CLI: the same stdout, stderr and exit code for
the commands it serves (podpy.cli.fastcmds), on a store with containers, an image and a volume."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

FULL = "import sys; from podpy.cli.app import run; sys.exit(run(sys.argv[1:]))"  # typer, no fast path
SAME = [
    ["ps"], ["ps", "-a", "--format", "{{.Names}} {{.Status}}"], ["ps", "-aq", "--no-trunc"],
    ["container", "ls", "-a", "--filter", "name=done", "--format", "{{.Command}}"], ["ps", "-n", "1", "-q"],
    ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], ["image", "ls", "-q"], ["images", "nosuch"],
    ["volume", "ls"], ["volume", "ls", "-q"],
    ["inspect", "--format", "{{.Name}} {{.State.Status}}", "done", "up"], ["inspect", "-t", "image", "busybox",
                                                                           "--format", "{{.Id}}"],
    ["container", "inspect", "-f", "{{.Config.Cmd}}", "done"], ["image", "inspect", "-f", "{{.Os}}", "busybox"],
    ["inspect", "nosuch"], ["container", "inspect", "nosuch"], ["image", "inspect", "nosuch"],
    ["logs", "done"], ["logs", "--tail", "1", "done"], ["logs", "--tail", "x", "done"], ["logs", "nosuch"],
    ["exec", "up", "sh", "-c", "echo out; echo err >&2; exit 3"], ["exec", "-e", "A=1", "up", "sh", "-c", "echo $A"],
    ["exec", "done", "true"], ["exec", "nosuch", "true"], ["exec", "-l", "sh", "-c", "echo $0"],
    ["rm", "nosuch"], ["rm"], ["rmi", "nosuch"], ["rmi"], ["rmi", "-i", "nosuch"], ["rm", "up"], ["create", "nosuch-image"],
    ["ps", "--help"], ["ps", "--bogus"], ["logs"], ["exec", "up"],
]  # fmt: skip


def _norm(text: str) -> str:
    """Relative times move on between the two runs (and table columns with them)."""
    return re.sub(r" {2,}", "  ", re.sub(r"Less than a second|\d+ seconds?|About a minute", "T", text))


def _full(p, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    argv = [sys.executable, "-c", FULL, "--root", str(p.root), "--runroot", str(p.runroot), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120)


def test_fast_path_answers_as_the_full_cli(ctr):  # noqa: F811
    ctr(
        "run",
        "--network",
        "none",
        "--name",
        "done",
        "busybox",
        "sh",
        "-c",
        "echo one; echo two >&2; echo three",
    )
    ctr("run", "-d", "--network", "none", "--name", "up", "busybox", "sleep", "100")
    ctr("volume", "create", "v1")
    for args in SAME:
        fast, full = ctr(*args, check=False), _full(ctr, *args)
        assert (fast.returncode, _norm(fast.stdout), fast.stderr) == (
            full.returncode,
            _norm(full.stdout),
            full.stderr,
        ), args


def test_fast_rm_rmi_and_create_do_what_the_cli_does(ctr):  # noqa: F811
    cid = ctr("create", "--name", "c1", "-e", "A=1", "busybox", "env").stdout.strip()
    assert ctr("inspect", "-f", "{{.Name}}", cid).stdout.endswith("c1\n")
    assert ctr("rm", "c1").stdout == "c1\n"
    ctr("tag", "busybox", "other:v1")
    assert ctr("rmi", "other:v1").stdout == "Untagged: other:v1\n"
    assert ctr("ps", "-aq").stdout == ""
