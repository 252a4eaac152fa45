"""Resource flags (--memory, --cpus, --pids-limit, ...) with Docker's rules: parsed and checked into
`Resources`, turned into OCI linux.resources for the runtime and into inspect's HostConfig fields.

Pure, except `ignored_here`, which looks at the host.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from podpy.errors import InvalidArgument
from podpy.record import asdict, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

MIN_MEMORY = 6 * 1024 * 1024  # Docker's floor: below it the container cannot even start
CPU_PERIOD = 100_000  # µs; what --cpus uses (Docker's and the kernel's default period)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$", re.IGNORECASE)
_CPUSET = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}

FLAG_NAMES = {
    "memory": "-m, --memory", "memory_swap": "--memory-swap", "memory_reservation": "--memory-reservation",
    "cpus": "--cpus", "cpu_shares": "-c, --cpu-shares", "cpu_quota": "--cpu-quota",
    "cpu_period": "--cpu-period", "cpuset_cpus": "--cpuset-cpus", "cpuset_mems": "--cpuset-mems",
    "pids_limit": "--pids-limit", "oom_kill_disable": "--oom-kill-disable",
}  # fmt: skip


@record(frozen=True, lean_init=True)
class Resources:
    """Docker's HostConfig resource fields (0 / "" / None = not set)."""

    memory: int = 0
    memory_swap: int = 0  # memory + swap, Docker's meaning; -1 unlimited
    memory_reservation: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpu_quota: int = 0
    cpu_period: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: int | None = None
    oom_kill_disable: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Resources:
        known = set(cls.__record_fields__)
        return cls(**{k: v for k, v in (doc or {}).items() if k in known})

    @property
    def any(self) -> bool:
        return self != Resources()


def _bad(field: str, value: str, why: str) -> InvalidArgument:
    return InvalidArgument(f'invalid argument "{value}" for "{FLAG_NAMES[field]}" flag: {why}')


def parse_size(text: str, field: str = "memory") -> int:
    """Docker's RAMInBytes: 512, 64m, 1.5g, 100MiB (binary units, case-insensitive)."""
    m = _SIZE.match(text.strip())
    if m is None:
        raise _bad(field, text, f"invalid size: '{text}'")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def _size_or_unlimited(text: str, field: str) -> int:
    return -1 if text.strip() == "-1" else parse_size(text, field)


def _int(text: str, field: str, minimum: int = 0) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise _bad(field, text, "invalid syntax: not an integer") from None
    if value < minimum:
        raise _bad(field, text, f"must be at least {minimum}")
    return value


def _nano_cpus(text: str) -> int:
    try:
        cpus = float(text)
    except ValueError:
        raise _bad("cpus", text, "failed to parse as a rational number") from None
    ncpu = os.cpu_count() or 1
    if not 0.01 <= cpus <= ncpu:
        raise _bad(
            "cpus", text, f"range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )
    return round(cpus * 1e9)


def _cpuset(text: str, field: str) -> str:
    value = text.strip()
    if not _CPUSET.match(value):
        raise _bad(field, text, f"invalid value {value} for cpuset (a list like 0-3,5)")
    return value


def parse(flags: Mapping[str, Any]) -> Resources:
    """Raw flag values (strings, None when not given; oom_kill_disable a bool) -> Resources."""
    f = {k: v for k, v in flags.items() if v not in (None, "")}
    r = Resources(
        memory=parse_size(f["memory"], "memory") if "memory" in f else 0,
        memory_swap=_size_or_unlimited(f["memory_swap"], "memory_swap") if "memory_swap" in f else 0,
        memory_reservation=parse_size(f["memory_reservation"], "memory_reservation")
        if "memory_reservation" in f else 0,
        nano_cpus=_nano_cpus(f["cpus"]) if "cpus" in f else 0,
        cpu_shares=_int(f["cpu_shares"], "cpu_shares") if "cpu_shares" in f else 0,
        cpu_quota=_int(f["cpu_quota"], "cpu_quota", -1) if "cpu_quota" in f else 0,
        cpu_period=_int(f["cpu_period"], "cpu_period") if "cpu_period" in f else 0,
        cpuset_cpus=_cpuset(f["cpuset_cpus"], "cpuset_cpus") if "cpuset_cpus" in f else "",
        cpuset_mems=_cpuset(f["cpuset_mems"], "cpuset_mems") if "cpuset_mems" in f else "",
        pids_limit=_int(f["pids_limit"], "pids_limit", -1) if "pids_limit" in f else None,
        oom_kill_disable=bool(f.get("oom_kill_disable")),
    )  # fmt: skip
    check(r)
    return r


def check(r: Resources) -> None:
    """Docker's consistency rules, each an error naming the flag."""
    if 0 < r.memory < MIN_MEMORY:
        raise InvalidArgument("minimum memory limit allowed is 6MB (-m, --memory)")
    if 0 < r.memory_reservation < MIN_MEMORY:
        raise InvalidArgument("minimum memory reservation allowed is 6MB (--memory-reservation)")
    if r.memory_swap > 0 and r.memory == 0:
        raise InvalidArgument("you should always set the memory limit (-m) when using --memory-swap")
    if r.memory_swap > 0 and r.memory_swap < r.memory:
        raise InvalidArgument("--memory-swap (memory plus swap) must be at least the --memory limit")
    if r.memory and r.memory_reservation > r.memory:
        raise InvalidArgument("--memory-reservation must not be larger than the -m, --memory limit")
    if r.nano_cpus and (r.cpu_period or r.cpu_quota):
        raise InvalidArgument("conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set")
    if r.cpu_period and not 1000 <= r.cpu_period <= 1_000_000:
        raise InvalidArgument("--cpu-period must be between 1000 (1ms) and 1000000 (1s)")
    if 0 < r.cpu_quota < 1000:
        raise InvalidArgument("--cpu-quota can not be less than 1ms (1000)")


IGNORED_V1_ROOTLESS = "Resource limits are not supported and ignored on cgroups V1 rootless systems"


def ignored_here(r: Resources) -> bool:
    """Rootless on a cgroup v1 host (hybrid too: its v2 tree has no controllers and is root's) no limit
    can be applied: Podman warns and runs the container without them; so do we."""
    from podpy.engine.specgen import is_cgroup_v2

    return r.any and os.geteuid() != 0 and not is_cgroup_v2()


def to_oci(r: Resources) -> dict[str, Any]:
    """OCI linux.resources. Docker's default swap when only -m is given: as much swap as memory
    (memory+swap = 2 x memory); the runtime skips it where the kernel has no swap accounting."""
    out: dict[str, Any] = {}
    mem: dict[str, Any] = {}
    if r.memory:
        mem["limit"] = r.memory
        mem["swap"] = r.memory_swap or 2 * r.memory
    elif r.memory_swap < 0:
        mem["swap"] = -1
    if r.memory_reservation:
        mem["reservation"] = r.memory_reservation
    if r.oom_kill_disable:
        mem["disableOOMKiller"] = True
    cpu: dict[str, Any] = {}
    if r.nano_cpus:
        cpu["period"], cpu["quota"] = CPU_PERIOD, r.nano_cpus * CPU_PERIOD // 1_000_000_000
    for key, value in (("period", r.cpu_period), ("quota", r.cpu_quota), ("shares", r.cpu_shares),
                       ("cpus", r.cpuset_cpus), ("mems", r.cpuset_mems)):  # fmt: skip
        if value:
            cpu[key] = value
    for key, value in (("memory", mem), ("cpu", cpu)):
        if value:
            out[key] = value
    if r.pids_limit:
        out["pids"] = {"limit": -1 if r.pids_limit < 0 else r.pids_limit}
    return out


def host_config(r: Resources) -> dict[str, Any]:
    """inspect's HostConfig resource fields, Docker's names and defaults."""
    swap = r.memory_swap or (2 * r.memory if r.memory else 0)
    return {
        "Memory": r.memory, "MemoryReservation": r.memory_reservation, "MemorySwap": swap,
        "MemorySwappiness": None, "NanoCpus": r.nano_cpus, "CpuShares": r.cpu_shares,
        "CpuPeriod": r.cpu_period, "CpuQuota": r.cpu_quota, "CpusetCpus": r.cpuset_cpus,
        "CpusetMems": r.cpuset_mems, "PidsLimit": r.pids_limit, "OomKillDisable": r.oom_kill_disable,
    }  # fmt: skip
