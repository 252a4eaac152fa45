"""Attached `compose up`: following a container its restart policy restarts, and which services
are attached (`--attach-dependencies`)."""

from __future__ import annotations

import os
import re

import pytest

from tests.integration.network_fixtures import ctr, net  # noqa: F401
from tests.integration.test_compose import proj  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def test_attached_up_follows_a_container_through_its_restarts(proj):  # noqa: F811
    pr = proj("rst", """
        services:
          flaky:
            image: busybox
            command: ["sh", "-c", "echo try; exit 3"]
            restart: on-failure:2
    """)
    res = pr("up", timeout=90)
    assert res.returncode == 0, res.stderr
    assert len(re.findall(r"^flaky-1 +\| try$", res.stdout, re.M)) == 3, res.stdout
    assert len(re.findall(r"^flaky-1 (exited with code 3|restarted)$", res.stdout, re.M)) == 3, res.stdout


def test_attach_dependencies(proj):  # noqa: F811
    pr = proj("adp", """
        services:
          app:
            image: busybox
            command: ["sh", "-c", "echo app-says; sleep 0.5"]
            depends_on: [dep]
          dep:
            image: busybox
            command: ["sh", "-c", "echo dep-says; exec sleep 300"]
            stop_signal: SIGKILL
    """)
    res = pr("up", "--attach-dependencies", "--abort-on-container-exit", "app")
    assert "Attaching to app-1, dep-1" in res.stdout or "Attaching to dep-1, app-1" in res.stdout, res.stdout
    assert re.search(r"^dep-1 +\| dep-says$", res.stdout, re.M) and re.search(r"^app-1 +\| app-says$", res.stdout, re.M)
    pr("down", "-t", "0")
    res = pr("up", "app")  # only the named service is attached: up returns when it exits
    assert "Attaching to app-1\n" in res.stdout and "dep-says" not in res.stdout
    assert re.search(r"^app-1 +\| app-says$", res.stdout, re.M)


def test_attached_up_keeps_following_a_restarted_container(proj):  # noqa: F811
    import signal
    import subprocess
    import time

    from tests.conftest import REPO

    pr = proj("rs2", """
        services:
          once:
            image: busybox
            command: ["sh", "-c", "if [ -e /ran ]; then echo second; exec sleep 300; fi; touch /ran; echo first; exit 3"]
            restart: on-failure
            stop_signal: SIGKILL
    """)
    argv = pr.p.argv("compose", "-f", str(pr.dir / "compose.yaml"), "up")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "second" not in pr("logs", check=False).stdout:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode()
    # (A restart quicker than the log reader may put the exit line before `first`: checked loosely.)
    assert re.search(r"^once-1 +\| first\n(.*\n)?once-1 +\| second$", text, re.M), text
    assert re.search(r"^once-1 (exited with code 3|restarted)$", text, re.M), text
