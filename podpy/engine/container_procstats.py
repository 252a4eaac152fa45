"""Usage of a container that has no cgroup (rootless on cgroup v1), summed over its processes.

What /proc gives per process: CPU time (utime + stime of the live processes: the time of children
that already exited is lost), memory (PSS from smaps_rollup, so shared pages count once; RSS where
that is unreadable) and block I/O (/proc/PID/io, which needs ptrace access). A figure that cannot be
read for some process is reported as unreadable, not as a wrong number.
"""

from __future__ import annotations

import os

from podpy.runtime.builtin.cgroup_stats import Usage

CPU, MEMORY, BLOCK_IO, PIDS = "CPU", "memory", "block I/O", "PIDs"


def _cpu_ns(pid: int, hz: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        raw = f.read()
    fields = raw[raw.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // hz


def _memory(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except PermissionError:
        pass
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _block_io(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/io") as f:
        keyed = dict(line.split(":", 1) for line in f if ":" in line)
    return int(keyed["read_bytes"]), int(keyed["write_bytes"])


def usage(pids: list[int]) -> tuple[Usage, tuple[str, ...]]:
    """(summed usage, names of the figures that could not be read). A process that exits while it is
    read simply drops out."""
    hz = os.sysconf("SC_CLK_TCK")
    cpu = mem = rd = wr = alive = 0
    unreadable: set[str] = set()
    for pid in pids:
        try:
            cpu += _cpu_ns(pid, hz)
        except FileNotFoundError:
            continue  # exited
        except (OSError, ValueError, IndexError):
            unreadable.add(CPU)
        alive += 1
        for name, read in ((MEMORY, _memory), (BLOCK_IO, _block_io)):
            try:
                got = read(pid)
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, IndexError):
                unreadable.add(name)
                continue
            if isinstance(got, tuple):
                rd, wr = rd + got[0], wr + got[1]
            else:
                mem += got
    order = (CPU, MEMORY, BLOCK_IO, PIDS)
    missing = tuple(n for n in order if n in unreadable)
    return Usage(cpu_ns=cpu, mem_usage=mem, pids=alive, blk_read=rd, blk_write=wr), missing
