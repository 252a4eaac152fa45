"""container prune --filter and system prune: what goes, what stays, Docker's summary lines."""

from __future__ import annotations

import os
import re

import pytest

from tests.integration.containers_fixtures import PtyProc, ctr, leftovers  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

SUMMARY = re.compile(r"Total reclaimed space: \d+(\.\d+)?[kMG]?B\n\Z")


def _names(p, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p("ps", "-a", *args, "--format", "{{.Names}}").stdout.split())


def _full_id(p, name: str) -> str:  # type: ignore[no-untyped-def]
    return p("inspect", "-f", "{{.Id}}", name).stdout.strip()


def test_container_prune_filters(ctr):  # noqa: F811
    for name, labels in (("a", ["keep=yes"]), ("b", ["tier=web"]), ("c", [])):
        ctr("create", "--name", name, *[x for label in labels for x in ("--label", label)], "busybox", "true")
    ctr("run", "-d", "--name", "up", "busybox", "sleep", "100")
    res = ctr("container", "prune", "-f", "--filter", "until=1h")  # created less than an hour ago: none
    assert res.stdout == "Total reclaimed space: 0B\n"
    b = _full_id(ctr, "b")
    res = ctr("container", "prune", "-f", "--filter", "label=tier=web")
    assert res.stdout.startswith(f"Deleted Containers:\n{b}\n\nTotal reclaimed space: ")
    assert SUMMARY.search(res.stdout)
    ctr("container", "prune", "-f", "--filter", "label!=keep")
    assert _names(ctr) == ["a", "up"]  # the running one is never pruned
    res = ctr("container", "prune", "-f", "--filter", "bogus=1", check=False)
    assert res.returncode == 125 and "invalid filter 'bogus'" in res.stderr


def test_system_prune_summary(ctr, busybox_tar):  # noqa: F811
    ctr("run", "--name", "stopped", "-v", "/data", "busybox", "true")  # and an anonymous volume
    ctr("run", "-d", "--name", "up", "busybox", "sleep", "100")
    ctr("volume", "create", "named")
    dangling = ctr("import", str(busybox_tar)).stdout.strip().splitlines()[-1]  # no name: dangling
    stopped = _full_id(ctr, "stopped")
    anon = ctr("volume", "ls", "-q", "--filter", "anonymous=true").stdout.split()
    assert len(anon) == 1
    res = ctr("system", "prune", "-f", "--volumes")
    assert res.stdout.startswith(
        f"Deleted Containers:\n{stopped}\n\nDeleted Volumes:\n{anon[0]}\n\nDeleted Images:\ndeleted: {dangling}\n\n"
    ), res.stdout
    assert SUMMARY.search(res.stdout)
    assert _names(ctr) == ["up"]
    assert ctr("volume", "ls", "-q").stdout.split() == ["named"]  # named volumes stay (Docker 23+)
    assert ctr("images", "-q").stdout.split() != [] and ctr("image", "exists", "busybox").returncode == 0
    assert ctr("system", "prune", "-f").stdout == "Total reclaimed space: 0B\n"


def test_system_prune_all_takes_unused_images(ctr):  # noqa: F811
    ctr("tag", "busybox", "other:1")
    ctr("create", "--name", "user", "other:1", "true")
    res = ctr("system", "prune", "-f", "-a")
    assert "Deleted Containers:\n" in res.stdout and "untagged: busybox:latest\n" in res.stdout
    assert ctr("images", "-q").stdout == ""  # the container that used it went first
    res = ctr("system", "prune", "-f", "--volumes", "--filter", "until=1h", check=False)
    assert res.returncode == 125 and 'The "until" filter is not supported with "--volumes"' in res.stderr


def test_system_prune_asks_on_a_terminal(ctr):  # noqa: F811
    ctr("create", "--name", "gone", "busybox", "true")
    term = PtyProc(ctr.argv("system", "prune", "--volumes"), cwd=ctr.root.parent)
    try:
        out = term.expect(r"continue\? \[y/N\] ").decode()
        assert "WARNING! This command removes:\r\n\t- all stopped containers\r\n" in out
        assert "\t- all volumes not used by at least one container\r\n" in out
        term.send("n\r")
        assert term.wait() == 0
    finally:
        term.close()
    assert _names(ctr) == ["gone"]
    term = PtyProc(ctr.argv("system", "prune"), cwd=ctr.root.parent)
    try:
        term.expect(r"\[y/N\] ")
        term.send("y\r")
        term.expect("Total reclaimed space")
        assert term.wait() == 0
    finally:
        term.close()
    assert _names(ctr) == []
    assert leftovers(ctr, [])["containers"] == []
