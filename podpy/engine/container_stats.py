"""`stats`: usage samples of containers from their cgroups and network namespace (without a cgroup,
rootless on cgroup v1: summed over their processes by container_procstats).

CPU % needs two samples: the CPU time a container used between them over the wall time between
them (Docker's formula, whose host-wide CPU time is wall time x CPUs, comes to the same).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from podpy.engine import container_record as cr
from podpy.engine.container_cgroups import locate
from podpy.engine.container_record import ContainerRecord
from podpy.runtime.builtin.cgroup_stats import Usage, usage

if TYPE_CHECKING:
    from podpy.engine.containers import ContainerService


@dataclass(frozen=True)
class Sample:
    rec: ContainerRecord
    at_ns: int  # time.monotonic_ns() of the reading
    usage: Usage = field(default_factory=Usage)
    net_rx: int = 0
    net_tx: int = 0
    unreadable: tuple[str, ...] = ()  # figures /proc could not give (a container without a cgroup)
    no_cgroup: bool = False  # summed over its processes (rootless on cgroup v1)


@dataclass(frozen=True)
class Stats:
    """One row of `stats`: numbers (the CLI makes Docker's strings)."""

    id: str
    name: str
    cpu_percent: float
    mem_usage: int
    mem_limit: int
    mem_percent: float
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int
    unreadable: tuple[str, ...] = ()  # names of figures that could not be read (shown as "--")
    no_cgroup: bool = False


def host_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def net_dev(pid: int) -> tuple[int, int]:
    """(received, sent) bytes over the interfaces of `pid`'s network namespace, loopback excluded."""
    rx = tx = 0
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]
    except OSError:
        return 0, 0
    for line in lines:
        name, _, counters = line.partition(":")
        values = counters.split()
        if name.strip() == "lo" or len(values) < 9:
            continue
        rx += int(values[0])
        tx += int(values[8])
    return rx, tx


def sample(svc: ContainerService, rec: ContainerRecord) -> Sample:
    """A reading of a running container (zeros for one that is not running)."""
    now = time.monotonic_ns()
    st = rec.state
    if st.status != cr.RUNNING or not cr.alive(st.pid, st.pid_start):
        return Sample(rec, now)
    cg = locate(svc, rec)
    if not cg.paths:
        if not cr.alive(st.pid, st.pid_start):
            return Sample(rec, now)  # exited meanwhile (its runtime state went with it)
        from podpy.engine import container_procstats
        from podpy.engine.container_top import container_pids

        got, unreadable = container_procstats.usage(container_pids(svc, rec))
        rx, tx = (0, 0) if rec.spec.get("network") == "host" else net_dev(st.pid)
        return Sample(rec, now, got, rx, tx, unreadable, no_cgroup=True)
    got = usage(cg)
    rx, tx = (0, 0) if rec.spec.get("network") == "host" else net_dev(st.pid)
    return Sample(rec, now, got, rx, tx)


def compute(before: Sample | None, after: Sample, mem_total: int) -> Stats:
    u = after.usage
    cpu = 0.0
    if before is not None and after.at_ns > before.at_ns and u.cpu_ns >= before.usage.cpu_ns:
        cpu = (u.cpu_ns - before.usage.cpu_ns) / (after.at_ns - before.at_ns) * 100.0
    running = after.rec.state.status == cr.RUNNING
    limit = min(u.mem_limit or mem_total, mem_total or u.mem_limit) if running else 0
    return Stats(
        id=after.rec.id, name=after.rec.name, cpu_percent=cpu, mem_usage=u.mem_usage, mem_limit=limit,
        mem_percent=u.mem_usage / limit * 100.0 if limit else 0.0, net_rx=after.net_rx,
        net_tx=after.net_tx, blk_read=u.blk_read, blk_write=u.blk_write, pids=u.pids,
        unreadable=after.unreadable, no_cgroup=after.no_cgroup,
    )  # fmt: skip


def targets(svc: ContainerService, refs: list[str], all_: bool) -> list[ContainerRecord]:
    """The named containers (in that order), else the running ones (every one with all_)."""
    if refs:
        return [svc.get(r) for r in refs]
    return sorted(svc.list(all_=all_), key=lambda r: r.created)


class Sampler:
    """Successive frames of `stats`: each frame's CPU % is measured since the previous frame."""

    def __init__(self, svc: ContainerService, refs: list[str], all_: bool) -> None:
        self.svc = svc
        self.refs = refs
        self.all = all_
        self.previous: dict[str, Sample] = {}
        self.mem_total = host_memory()

    def frame(self) -> list[Stats]:
        samples = [sample(self.svc, rec) for rec in targets(self.svc, self.refs, self.all)]
        out = [compute(self.previous.get(s.rec.id), s, self.mem_total) for s in samples]
        self.previous = {s.rec.id: s for s in samples}
        return out
