"""Overlapping starts (podpy.compose.parallel): a failing start among several is reported with its
error and exit code, the others still start, and dependency order holds."""

from __future__ import annotations

import os

import pytest

from tests.integration.network_fixtures import ctr, net  # noqa: F401
from tests.integration.test_compose import proj  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def test_a_failing_start_among_parallel_ones(proj):  # noqa: F811
    pr = proj("par", """
        x-sleeper: &sleeper
          image: busybox
          command: ["sleep", "300"]
          stop_signal: SIGKILL
        services:
          a: *sleeper
          b: *sleeper
          broken:
            image: busybox
            command: ["/no/such/binary"]
          late:
            <<: *sleeper
            depends_on: [a, b]
    """)
    res = pr("up", "-d", check=False)
    assert res.returncode == 127, res.stderr
    assert "/no/such/binary" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("Error:") == 1
    running = pr("ps", "--format", "{{.Service}}").stdout.split()
    assert sorted(running) == ["a", "b", "late"]  # `late` needs a and b only: it starts anyway
    assert "Container par-late-1  Started" in res.stderr
    assert res.stderr.index("Container par-a-1  Started") < res.stderr.index("Container par-late-1  Starting")
