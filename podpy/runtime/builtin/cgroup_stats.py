"""Reading a container's usage from its cgroups, v1 and v2 (stats, OOM detection).

Each controller is read from its v1 hierarchy when the container has one there, else from the v2
directory: on a hybrid host the empty v2 tree holds no memory or pids files, on a unified host
there is only v2. Missing files read as zero (a controller not mounted, an older kernel).
"""

from __future__ import annotations

from pathlib import Path

from podpy.record import record
from podpy.runtime.builtin.cgroups import UNIFIED, CgroupSet

V1_UNLIMITED = 1 << 62  # v1 reports "no limit" as a huge page-aligned number near 2**63


@record(frozen=True)
class Usage:
    """A container's resource usage as its cgroups count it."""

    cpu_ns: int = 0  # CPU time used, all tasks, since the cgroup was made
    mem_usage: int = 0  # Docker's: usage minus inactive file cache
    mem_limit: int = 0  # 0: no limit of the container's own
    pids: int = 0
    blk_read: int = 0
    blk_write: int = 0
    oom_kills: int = 0


def _read(d: Path | None, name: str) -> str:
    if d is None:
        return ""
    try:
        return (d / name).read_text()
    except OSError:
        return ""


def _int(text: str) -> int:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else 0


def _keyed(text: str) -> dict[str, int]:
    """`key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _where(cg: CgroupSet, controller: str, probe: str) -> tuple[Path | None, bool]:
    """(directory, is_v2) for a controller: its v1 hierarchy, else the v2 dir if it has `probe`."""
    for key, path in cg.paths.items():
        if key != UNIFIED and controller in key.split(","):
            return Path(path), False
    v2 = cg.dir(UNIFIED)
    if v2 is not None and (v2 / probe).exists():
        return v2, True
    return None, False


def cpu_ns(cg: CgroupSet) -> int:
    d, v2 = _where(cg, "cpuacct", "cpu.stat")
    if v2:
        return _keyed(_read(d, "cpu.stat")).get("usage_usec", 0) * 1000
    return _int(_read(d, "cpuacct.usage"))


def memory(cg: CgroupSet) -> tuple[int, int]:
    """(usage without inactive page cache, limit or 0), as `docker stats` counts them."""
    d, v2 = _where(cg, "memory", "memory.current")
    if d is None:
        return 0, 0
    stat = _keyed(_read(d, "memory.stat"))
    if v2:
        usage = _int(_read(d, "memory.current")) - stat.get("inactive_file", 0)
        raw = _read(d, "memory.max").strip()
        limit = 0 if raw in ("", "max") else _int(raw)
    else:
        usage = _int(_read(d, "memory.usage_in_bytes")) - stat.get("total_inactive_file", 0)
        limit = _int(_read(d, "memory.limit_in_bytes"))
        limit = 0 if limit >= V1_UNLIMITED else limit
    return max(usage, 0), limit


def pids_current(cg: CgroupSet) -> int:
    d, _v2 = _where(cg, "pids", "pids.current")
    if d is not None and (value := _read(d, "pids.current")):
        return _int(value)
    for path in cg.paths.values():  # no pids controller: count the tasks
        if text := _read(Path(path), "cgroup.procs"):
            return len(text.split())
    return 0


def block_io(cg: CgroupSet) -> tuple[int, int]:
    """(bytes read, bytes written): v2 io.stat, v1 the throttle (or bfq) service counters."""
    d, v2 = _where(cg, "blkio", "io.stat")
    if d is None:
        return 0, 0
    read = write = 0
    if v2:
        for line in _read(d, "io.stat").splitlines():
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            read += _int(fields.get("rbytes", "0"))
            write += _int(fields.get("wbytes", "0"))
        return read, write
    for name in ("blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes",
                 "blkio.bfq.io_service_bytes_recursive"):  # fmt: skip
        for line in _read(d, name).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in ("Read", "Write"):
                if parts[1] == "Read":
                    read += _int(parts[2])
                else:
                    write += _int(parts[2])
        if read or write:
            break
    return read, write


def oom_kills(cg: CgroupSet) -> int:
    """How many tasks the OOM killer took from this cgroup: v2 memory.events, v1 memory.oom_control
    (its oom_kill line needs kernel >= 4.13; before, only under_oom tells; memory.failcnt is no
    evidence: it also counts limit hits that reclaim resolved)."""
    d, v2 = _where(cg, "memory", "memory.events")
    if d is None:
        return 0
    if v2:
        return _keyed(_read(d, "memory.events")).get("oom_kill", 0)
    ctl = _keyed(_read(d, "memory.oom_control"))
    if "oom_kill" in ctl:
        return ctl["oom_kill"]
    return 1 if ctl.get("under_oom") else 0


def usage(cg: CgroupSet) -> Usage:
    mem, limit = memory(cg)
    read, write = block_io(cg)
    return Usage(cpu_ns(cg), mem, limit, pids_current(cg), read, write, oom_kills(cg))
