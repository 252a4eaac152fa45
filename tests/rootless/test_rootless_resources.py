"""Resource commands as an ordinary user on this cgroup v1 host: clear one-line refusals, exit 125."""

from __future__ import annotations

import pytest

from podpy.engine.specgen import is_cgroup_v2
from tests.rootless.conftest import Rootless

pytestmark = pytest.mark.skipif(is_cgroup_v2(), reason="the refusals are those of a cgroup v1 host")


@pytest.mark.parametrize("flags", [("-m", "64m"), ("--cpus", "0.5"), ("--pids-limit", "10")])
def test_limits_refused_on_cgroup_v1(rl: Rootless, flags: tuple[str, ...]) -> None:
    for verb in (("run", "--rm"), ("create",)):
        res = rl(*verb, *flags, "busybox", "true", check=False)
        assert res.returncode == 125, res
        assert res.stderr.startswith("Error: ") and "cgroup v2" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    assert rl("ps", "-aq").stdout == ""


def test_pause_and_stats_without_cgroups(rl: Rootless) -> None:
    cid = rl("run", "-d", "busybox", "sleep", "60").stdout.strip()
    for args in (("pause", cid), ("stats", "--no-stream", cid)):
        res = rl(*args, check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and "cgroup" in res.stderr, res
        assert len(res.stderr.strip().splitlines()) == 1
    top = rl("top", cid).stdout.splitlines()  # the pid namespace stands in for the cgroup
    assert top[0].split()[0] == "USER" and top[1].split()[1] == "1" and top[1].endswith("sleep 60")
    rl("rm", "-f", cid)
