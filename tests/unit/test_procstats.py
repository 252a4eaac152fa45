"""Stats of a container without a cgroup (rootless on cgroup v1): summed over its processes from
/proc, and the figures that cannot be read are named and shown as --, never a failure."""

from __future__ import annotations

import os
from types import SimpleNamespace

from podpy.cli.container_resources import stats_notices, stats_row
from podpy.engine import container_procstats


def test_usage_of_live_processes() -> None:
    got, unreadable = container_procstats.usage([os.getpid(), 4_000_000])  # the second never exists
    assert got.pids == 1 and got.cpu_ns > 0 and got.mem_usage > 0
    assert unreadable == ()


def test_unreadable_figures_are_dashes_and_named() -> None:
    s = SimpleNamespace(id="a" * 64, name="c", cpu_percent=1.0, mem_usage=1 << 20, mem_limit=1 << 30,
                        mem_percent=0.1, net_rx=0, net_tx=0, blk_read=0, blk_write=0, pids=2,
                        unreadable=("block I/O",), no_cgroup=True)  # fmt: skip
    row = stats_row(s, "c", False)
    assert row["BlockIO"] == "--" and row["PIDs"] == "2" and row["MemUsage"] != "--"
    (notice,) = stats_notices([s])
    assert "no cgroup" in notice and "cannot read block I/O" in notice
    assert stats_notices([SimpleNamespace(**{**vars(s), "no_cgroup": False})]) == []
