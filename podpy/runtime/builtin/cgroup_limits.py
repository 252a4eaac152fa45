"""Writing OCI linux.resources into cgroup files, v1 and v2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from podpy.runtime.builtin import device_filter

TYPE_CHECKING = False  # typing's, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Any


def _w(d: Path | None, name: str, value: object) -> None:
    if d is None:
        raise OSError(2, "controller not mounted", name)
    with open(d / name, "w") as f:
        f.write(str(value))


def _devices_v1(d: Path | None, rules: list[dict[str, Any]]) -> None:
    if d is None:
        return
    for rule in device_filter.effective(rules):
        _w(d, "devices.allow" if rule.allow else "devices.deny", rule.v1())


def _memory_v1(d: Path | None, mem: dict[str, Any]) -> None:
    if not mem:
        return
    if mem.get("limit") is not None:
        _w(d, "memory.limit_in_bytes", mem["limit"])
    if mem.get("swap") is not None and (d is None or (d / "memory.memsw.limit_in_bytes").exists()):
        _w(d, "memory.memsw.limit_in_bytes", mem["swap"])  # memory+swap; absent: no swap accounting
    if mem.get("reservation") is not None:
        _w(d, "memory.soft_limit_in_bytes", mem["reservation"])
    if mem.get("swappiness") is not None:
        _w(d, "memory.swappiness", mem["swappiness"])
    if mem.get("disableOOMKiller"):
        _w(d, "memory.oom_control", 1)


def _cpu_v1(dir_of: Callable[[str], Path | None], cpu: dict[str, Any]) -> None:
    if not cpu:
        return
    if cpu.get("shares"):
        _w(dir_of("cpu"), "cpu.shares", cpu["shares"])
    if cpu.get("period"):
        _w(dir_of("cpu"), "cpu.cfs_period_us", cpu["period"])
    if cpu.get("quota"):
        _w(dir_of("cpu"), "cpu.cfs_quota_us", cpu["quota"])
    if cpu.get("realtimePeriod"):
        _w(dir_of("cpu"), "cpu.rt_period_us", cpu["realtimePeriod"])
    if cpu.get("realtimeRuntime"):
        _w(dir_of("cpu"), "cpu.rt_runtime_us", cpu["realtimeRuntime"])
    if cpu.get("cpus"):
        _w(dir_of("cpuset"), "cpuset.cpus", cpu["cpus"])
    if cpu.get("mems"):
        _w(dir_of("cpuset"), "cpuset.mems", cpu["mems"])


def _blkio_v1(d: Path | None, blk: dict[str, Any]) -> None:
    if not blk:
        return
    if blk.get("weight"):
        name = "blkio.weight" if d is not None and (d / "blkio.weight").exists() else "blkio.bfq.weight"
        _w(d, name, blk["weight"])
    for dev in blk.get("weightDevice") or []:
        name = "blkio.weight_device" if d is not None and (d / "blkio.weight_device").exists() else "blkio.bfq.weight"
        _w(d, name, f"{dev['major']}:{dev['minor']} {dev['weight']}")
    for key, name in (
        ("throttleReadBpsDevice", "blkio.throttle.read_bps_device"),
        ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device"),
        ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device"),
        ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"),
    ):
        for dev in blk.get(key) or []:
            _w(d, name, f"{dev['major']}:{dev['minor']} {dev['rate']}")


def apply_v1(dir_of: Callable[[str], Path | None], res: dict[str, Any]) -> None:
    """`dir_of(controller)` gives the container's directory in that controller's hierarchy."""
    _memory_v1(dir_of("memory"), res.get("memory") or {})
    _cpu_v1(dir_of, res.get("cpu") or {})
    pids = (res.get("pids") or {}).get("limit")
    if pids:
        _w(dir_of("pids"), "pids.max", "max" if pids < 0 else pids)
    _blkio_v1(dir_of("blkio"), res.get("blockIO") or {})
    for hp in res.get("hugepageLimits") or []:
        _w(dir_of("hugetlb"), f"hugetlb.{hp['pageSize']}.limit_in_bytes", hp["limit"])
    _devices_v1(dir_of("devices"), res.get("devices") or [])


def _max(value: int) -> str:
    return "max" if value < 0 else str(value)


def apply_v2(d: Path, res: dict[str, Any]) -> None:
    """v2 files; the swap value of OCI (memory+swap) becomes memory.swap.max = swap - limit."""
    mem = res.get("memory") or {}
    if mem.get("limit") is not None:
        _w(d, "memory.max", _max(mem["limit"]))
    if mem.get("reservation") is not None:
        _w(d, "memory.low", mem["reservation"])
    if mem.get("swap") is not None and (d / "memory.swap.max").exists():  # absent: no swap accounting
        swap, limit = mem["swap"], mem.get("limit")
        _w(d, "memory.swap.max", _max(swap if swap < 0 or limit is None or limit < 0 else swap - limit))
    cpu = res.get("cpu") or {}
    if cpu.get("shares"):  # runc's conversion of [2, 262144] shares to [1, 10000] weight
        _w(d, "cpu.weight", 1 + ((int(cpu["shares"]) - 2) * 9999) // 262142)
    if cpu.get("quota") or cpu.get("period"):
        quota = cpu.get("quota")
        _w(d, "cpu.max", f"{'max' if not quota or quota < 0 else quota} {cpu.get('period') or 100000}")
    if cpu.get("cpus"):
        _w(d, "cpuset.cpus", cpu["cpus"])
    if cpu.get("mems"):
        _w(d, "cpuset.mems", cpu["mems"])
    pids = (res.get("pids") or {}).get("limit")
    if pids:
        _w(d, "pids.max", _max(pids))
    weight = (res.get("blockIO") or {}).get("weight")
    if weight:
        _w(d, "io.weight", f"default {weight}")
    for dev in (res.get("blockIO") or {}).get("weightDevice") or []:
        _w(d, "io.weight", f"{dev['major']}:{dev['minor']} {dev['weight']}")
    for name, value in (res.get("unified") or {}).items():
        _w(d, name, value)
