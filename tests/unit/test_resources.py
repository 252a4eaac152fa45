"""Resource flags, cgroup files (v1 and v2 against fake trees), stats and top columns: no kernel needed."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from podpy.cli import run_flags
from podpy.cli.container_resources import stats_row
from podpy.cli.humanize import binary_size
from podpy.engine import resources as res
from podpy.engine.container_config import CreateOptions, build_spec, resource_fields
from podpy.engine.container_stats import Sample, compute
from podpy.engine.container_top import _tty, go_duration
from podpy.errors import InvalidArgument
from podpy.runtime.builtin import cgroup_limits, cgroup_stats
from podpy.runtime.builtin.cgroups import UNIFIED, CgroupSet

MiB = 1 << 20


def test_sizes_like_docker() -> None:
    assert res.parse_size("64m") == 64 * MiB
    assert res.parse_size("64MB") == res.parse_size("64MiB") == res.parse_size("64 m") == 64 * MiB
    assert res.parse_size("1.5g") == 1536 * MiB
    assert res.parse_size("1024") == 1024
    assert res.parse_size("2k") == 2048
    for bad in ("abc", "-1", "1x", "m"):
        with pytest.raises(InvalidArgument, match='for "-m, --memory" flag'):
            res.parse_size(bad)


def test_parse_to_oci_and_host_config() -> None:
    r = res.parse({"memory": "64m", "cpus": "0.5", "cpu_shares": "512", "cpuset_cpus": "0",
                   "pids_limit": "10", "memory_reservation": None})  # fmt: skip
    assert res.to_oci(r) == {
        "memory": {"limit": 64 * MiB, "swap": 128 * MiB},  # Docker: as much swap as memory by default
        "cpu": {"period": 100000, "quota": 50000, "shares": 512, "cpus": "0"},
        "pids": {"limit": 10},
    }
    hc = res.host_config(r)
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["CpuShares"]) == (
        64 * MiB,
        128 * MiB,
        5 * 10**8,
        512,
    )
    assert (hc["CpuQuota"], hc["CpuPeriod"], hc["CpusetCpus"], hc["PidsLimit"]) == (0, 0, "0", 10)
    assert res.host_config(res.Resources())["PidsLimit"] is None
    unlimited = res.parse({"memory": "10m", "memory_swap": "-1", "pids_limit": "-1", "cpu_quota": "20000",
                           "cpu_period": "50000", "oom_kill_disable": True})  # fmt: skip
    oci = res.to_oci(unlimited)
    assert oci["memory"] == {"limit": 10 * MiB, "swap": -1, "disableOOMKiller": True}
    assert oci["cpu"] == {"period": 50000, "quota": 20000}
    assert oci["pids"] == {"limit": -1}
    assert res.Resources.from_json(unlimited.to_json()) == unlimited


@pytest.mark.parametrize(("flags", "message"), [
    ({"memory": "1m"}, "minimum memory limit allowed is 6MB"),
    ({"memory_swap": "100m"}, "always set the memory limit"),
    ({"memory": "100m", "memory_swap": "50m"}, "at least the --memory limit"),
    ({"memory": "10m", "memory_reservation": "20m"}, "--memory-reservation"),
    ({"cpus": "0.5", "cpu_quota": "5000"}, "conflicting options"),
    ({"cpus": "abc"}, '"--cpus" flag'),
    ({"cpus": str((os.cpu_count() or 1) + 1)}, "range of CPUs"),
    ({"cpu_period": "10"}, "--cpu-period must be between"),
    ({"cpu_quota": "10"}, "--cpu-quota can not be less"),
    ({"cpu_shares": "x"}, '"-c, --cpu-shares" flag'),
    ({"pids_limit": "ten"}, '"--pids-limit" flag'),
    ({"cpuset_cpus": "0-"}, '"--cpuset-cpus" flag'),
])  # fmt: skip
def test_bad_values_name_the_flag(flags: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")) as e:
        res.parse(flags)
    assert "\n" not in str(e.value)


def test_flags_reach_spec_and_record() -> None:
    kw, image, cmd = run_flags.parse(
        ["-m64m", "-c", "512", "--pids-limit", "-1", "--cpus=1.5", "busybox", "true"]
    )
    flags = {f.field: kw[f.field] for f in run_flags.RESOURCE_FLAGS}
    assert flags["memory"] == "64m" and flags["cpu_shares"] == "512" and flags["pids_limit"] == "-1"
    spec = build_spec(CreateOptions(image=image, command=cmd, resources=flags), {})
    assert spec.resources["memory"]["limit"] == 64 * MiB
    assert spec.resources["cpu"] == {"period": 100000, "quota": 150000, "shares": 512}
    assert resource_fields(flags)["nano_cpus"] == 1_500_000_000
    assert build_spec(CreateOptions(image="x", command=["true"]), {}).resources == {}
    assert resource_fields({"memory": None, "oom_kill_disable": False}) == {}


def _tree(d: Path, files: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def test_apply_v2_writes_unified_files(tmp_path: Path) -> None:
    d = _tree(tmp_path / "ctr", {n: "" for n in ("memory.max", "memory.swap.max", "memory.low", "cpu.max",
                                                 "cpu.weight", "cpuset.cpus", "pids.max")})  # fmt: skip
    r = res.parse({"memory": "64m", "cpus": "0.5", "cpu_shares": "1024", "cpuset_cpus": "0-1",
                   "pids_limit": "10", "memory_reservation": "32m"})  # fmt: skip
    cgroup_limits.apply_v2(d, res.to_oci(r))
    got = {p.name: p.read_text() for p in d.iterdir()}
    assert got["memory.max"] == str(64 * MiB) and got["memory.swap.max"] == str(64 * MiB)
    assert got["memory.low"] == str(32 * MiB) and got["cpu.max"] == "50000 100000"
    assert got["cpu.weight"] == "39" and got["cpuset.cpus"] == "0-1" and got["pids.max"] == "10"


def test_apply_skips_swap_without_swap_accounting(tmp_path: Path) -> None:
    v2 = _tree(tmp_path / "v2", {"memory.max": ""})
    cgroup_limits.apply_v2(v2, {"memory": {"limit": 1 << 26, "swap": 1 << 27}})
    assert not (v2 / "memory.swap.max").exists()
    v1 = _tree(tmp_path / "v1", {"memory.limit_in_bytes": ""})
    cgroup_limits.apply_v1(
        lambda c: v1 if c == "memory" else None, {"memory": {"limit": 1 << 26, "swap": 1 << 27}}
    )
    assert (v1 / "memory.limit_in_bytes").read_text() == str(1 << 26)
    assert not (v1 / "memory.memsw.limit_in_bytes").exists()


def test_v2_usage_from_a_fake_tree(tmp_path: Path) -> None:
    d = _tree(tmp_path / "podpy-x", {
        "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
        "memory.current": str(10 * MiB), "memory.stat": f"anon 100\ninactive_file {2 * MiB}\n",
        "memory.max": str(64 * MiB), "pids.current": "3\n",
        "io.stat": "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n259:0 rbytes=1 wbytes=2 rios=0 wios=0\n",
        "memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
        "cgroup.procs": "1\n2\n3\n",
    })  # fmt: skip
    u = cgroup_stats.usage(CgroupSet({UNIFIED: str(d)}))
    assert u == cgroup_stats.Usage(cpu_ns=1_500_000, mem_usage=8 * MiB, mem_limit=64 * MiB, pids=3,
                                   blk_read=4097, blk_write=8194, oom_kills=1)  # fmt: skip
    (d / "memory.max").write_text("max\n")
    (d / "memory.events").write_text("oom 0\noom_kill 0\n")
    (d / "pids.current").unlink()
    u = cgroup_stats.usage(CgroupSet({UNIFIED: str(d)}))
    assert (u.mem_limit, u.oom_kills, u.pids) == (0, 0, 3)  # no pids controller: cgroup.procs counted


def test_v1_usage_from_a_fake_tree(tmp_path: Path) -> None:
    mem = _tree(tmp_path / "memory" / "c", {
        "memory.usage_in_bytes": str(5 * MiB), "memory.stat": f"cache 1\ntotal_inactive_file {MiB}\n",
        "memory.limit_in_bytes": "9223372036854771712", "memory.oom_control":
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    })  # fmt: skip
    acct = _tree(tmp_path / "cpuacct" / "c", {"cpuacct.usage": "123456789\n"})
    pids = _tree(tmp_path / "pids" / "c", {"pids.current": "4\n"})
    blk = _tree(tmp_path / "blkio" / "c", {
        "blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 50\n8:0 Sync 150\nTotal 150\n",
    })  # fmt: skip
    v2 = _tree(tmp_path / "unified" / "c", {"cpu.stat": "usage_usec 1\n"})  # a hybrid host's empty v2 tree
    cg = CgroupSet(
        {"memory": str(mem), "cpuacct": str(acct), "pids": str(pids), "blkio": str(blk), UNIFIED: str(v2)}
    )
    u = cgroup_stats.usage(cg)
    assert u == cgroup_stats.Usage(cpu_ns=123456789, mem_usage=4 * MiB, mem_limit=0, pids=4, blk_read=100,
                                   blk_write=50, oom_kills=2)  # fmt: skip
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 1\n")  # kernel < 4.13
    assert cgroup_stats.oom_kills(cg) == 1
    assert cgroup_stats.usage(CgroupSet()) == cgroup_stats.Usage()


def test_stats_compute_and_row() -> None:
    rec = SimpleNamespace(id="a" * 64, name="web", state=SimpleNamespace(status="running"))
    before = Sample(rec, 1_000_000_000, cgroup_stats.Usage(cpu_ns=0))  # type: ignore[arg-type]
    after = Sample(rec, 2_000_000_000, cgroup_stats.Usage(cpu_ns=500_000_000, mem_usage=16 * MiB,  # type: ignore[arg-type]
                                                          mem_limit=64 * MiB, pids=2, blk_read=1500),
                   net_rx=2048, net_tx=10)  # fmt: skip
    s = compute(before, after, mem_total=1 << 34)
    assert (round(s.cpu_percent, 3), s.mem_limit, s.mem_percent) == (50.0, 64 * MiB, 25.0)
    assert compute(None, after, 1 << 34).cpu_percent == 0.0
    assert compute(None, Sample(rec, 1, cgroup_stats.Usage(mem_usage=MiB)), 1 << 30).mem_limit == 1 << 30  # type: ignore[arg-type]
    row = stats_row(s, "web", no_trunc=False)
    assert row == {"ID": "a" * 12, "Container": "web", "Name": "web", "CPUPerc": "50.00%",
                   "MemUsage": "16MiB / 64MiB", "MemPerc": "25.00%", "NetIO": "2.05kB / 10B",
                   "BlockIO": "1.5kB / 0B", "PIDs": "2"}  # fmt: skip


def test_small_formats() -> None:
    assert binary_size(0) == "0B" and binary_size(1536) == "1.5KiB" and binary_size(1234567) == "1.177MiB"
    assert go_duration(0) == "0s" and go_duration(1.5) == "1.5s" and go_duration(123.25) == "2m3.25s"
    assert go_duration(3600) == "1h0m0s"
    assert _tty(0) == "?" and _tty((136 << 8) | 3) == "pts/3" and _tty((4 << 8) | 1) == "tty1"
