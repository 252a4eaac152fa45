"""`top`: the processes of a running container, in ps-style columns.

Processes come from the container's cgroup (cgroup.procs), or without one (rootless on cgroup v1)
from its pid namespace. With no options, or only Podman's format descriptors (`pid user args`),
the columns are computed from /proc; other options are handed to the host's `ps` and its lines
filtered to the container's pids (Docker's way: `top CTR -ef`, `top CTR aux`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from podpy.engine import container_record as cr
from podpy.engine.container_cgroups import locate
from podpy.errors import ContainerState, InvalidArgument, PodpyError
from podpy.runtime.builtin.cgroups import UNIFIED

if TYPE_CHECKING:
    from collections.abc import Callable

    from podpy.engine.containers import ContainerService

DEFAULT = ("user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args")


@dataclass(frozen=True)
class Proc:
    """What /proc says about one process (host pid; `nspid`: as the container sees it)."""

    pid: int
    nspid: int
    ppid: int
    uid: int
    gid: int
    state: str
    tty_nr: int
    nice: int
    pgid: int
    cpu_ticks: int
    start_ticks: int
    vsz_kb: int
    comm: str
    args: str


def container_pids(svc: ContainerService, rec: cr.ContainerRecord) -> list[int]:
    cg = locate(svc, rec)
    for controller in ("pids", "memory", "freezer", UNIFIED):
        d = cg.dir(controller)
        if d is None:
            continue
        try:
            return sorted(int(x) for x in (d / "cgroup.procs").read_text().split())
        except OSError:
            continue
    return _same_pid_ns(rec.state.pid)


def _same_pid_ns(init: int) -> list[int]:
    try:
        ns = os.readlink(f"/proc/{init}/ns/pid")
    except OSError:
        return []
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                    out.append(int(entry))
            except OSError:
                continue
    return sorted(out)


def read_proc(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None  # exited meanwhile
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    s = raw[raw.rindex(")") + 2 :].split()
    nspid = status.get("NSpid", str(pid)).split()
    return Proc(
        pid=pid, nspid=int(nspid[-1]), ppid=int(s[1]), uid=int(status["Uid"].split()[1]),
        gid=int(status["Gid"].split()[1]), state=s[0], tty_nr=int(s[4]), nice=int(s[16]),
        pgid=int(s[2]), cpu_ticks=int(s[11]) + int(s[12]), start_ticks=int(s[19]),
        vsz_kb=int(s[20]) // 1024, comm=comm, args=cmdline or f"[{comm}]",
    )  # fmt: skip


def go_duration(seconds: float) -> str:
    """Go's time.Duration text at millisecond precision: 0s, 1.5s, 2m3.25s, 1h0m0s."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    sec = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if h:
        return f"{h}h{m}m{sec}"
    return f"{m}m{sec}" if m else sec


def _tty(nr: int) -> str:
    major, minor = (nr >> 8) & 0xFFF, (nr & 0xFF) | ((nr >> 12) & 0xFFF00)
    if 136 <= major <= 143:
        return f"pts/{(major - 136) * 256 + minor}"
    return f"tty{minor}" if major == 4 else "?"


def _names(root: Path, path: str) -> Callable[[int], str]:
    """uid -> name from the container's own /etc/passwd (or /etc/group), read inside its root."""
    from podpy.inroot import read_inside

    table: dict[int, str] = {}
    for line in (read_inside(root, path) or "").splitlines():
        parts = line.split(":")
        if len(parts) > 2 and parts[2].isdigit():
            table.setdefault(int(parts[2]), parts[0])
    return lambda i: table.get(i, str(i))


def id_mapper(init: int, kind: str) -> Callable[[int], int]:
    """Host id -> the id inside the container's user namespace (itself when it shares ours; 65534,
    the overflow id, for an id it does not map), from /proc/<init>/uid_map or gid_map."""
    try:
        if os.readlink(f"/proc/{init}/ns/user") == os.readlink("/proc/self/ns/user"):
            return lambda i: i
        with open(f"/proc/{init}/{kind}_map") as f:
            ranges = [tuple(int(x) for x in line.split()) for line in f if len(line.split()) == 3]
    except (OSError, ValueError):
        return lambda i: i

    def inside(i: int) -> int:
        for lo, hi, count in ranges:
            if hi <= i < hi + count:
                return lo + i - hi
        return 65534

    return inside


def _columns(procs: list[Proc], root: Path, init: int) -> dict[str, tuple[str, Callable[[Proc], str]]]:
    """Podman's descriptors: user/group (and ids) as the container sees them, huser/hgroup as the host."""
    hz = os.sysconf("SC_CLK_TCK")
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    ns_of = {p.pid: p.nspid for p in procs}
    names, gnames = _names(root, "/etc/passwd"), _names(root, "/etc/group")
    uid_in, gid_in = id_mapper(init, "uid"), id_mapper(init, "gid")

    def user(i: int) -> str:
        return names(uid_in(i))

    def group(i: int) -> str:
        return gnames(gid_in(i))

    def elapsed(p: Proc) -> float:
        return max(uptime - p.start_ticks / hz, 1e-9)

    return {
        "user": ("USER", lambda p: user(p.uid)), "ruser": ("RUSER", lambda p: user(p.uid)),
        "huser": ("HUSER", lambda p: str(p.uid)), "group": ("GROUP", lambda p: group(p.gid)),
        "rgroup": ("RGROUP", lambda p: group(p.gid)), "hgroup": ("HGROUP", lambda p: str(p.gid)),
        "pid": ("PID", lambda p: str(p.nspid)), "hpid": ("HPID", lambda p: str(p.pid)),
        "ppid": ("PPID", lambda p: str(ns_of.get(p.ppid, 0))), "pgid": ("PGID", lambda p: str(p.pgid)),
        "pcpu": ("%CPU", lambda p: f"{p.cpu_ticks / hz / elapsed(p) * 100:.3f}"),
        "etime": ("ELAPSED", lambda p: go_duration(elapsed(p))), "tty": ("TTY", lambda p: _tty(p.tty_nr)),
        "time": ("TIME", lambda p: go_duration(p.cpu_ticks / hz)), "args": ("COMMAND", lambda p: p.args),
        "comm": ("COMMAND", lambda p: p.comm), "nice": ("NI", lambda p: str(p.nice)),
        "state": ("STATE", lambda p: p.state), "vsz": ("VSZ", lambda p: str(p.vsz_kb)),
    }  # fmt: skip


def top(svc: ContainerService, ref: str, options: list[str]) -> tuple[list[str], list[list[str]]]:
    """(column titles, one row of cells per process)."""
    rec = svc.get(ref)
    if rec.state.status != cr.RUNNING or not cr.alive(rec.state.pid, rec.state.pid_start):
        raise ContainerState(f"top can only be used on running containers: {rec.name} is not running")
    pids = container_pids(svc, rec)
    words = [w for opt in options for w in opt.replace(",", " ").split()]
    procs = [p for p in map(read_proc, pids) if p is not None]
    columns = _columns(procs, Path(f"/proc/{rec.state.pid}/root"), rec.state.pid)
    if all(w in columns for w in words):
        chosen = [columns[w] for w in words or DEFAULT]
        return [title for title, _ in chosen], [[get(p) for _, get in chosen] for p in procs]
    return host_ps(options, set(pids))


def host_ps(options: list[str], pids: set[int]) -> tuple[list[str], list[list[str]]]:
    """The host's `ps OPTIONS`, keeping the lines of `pids` (found by the PID column)."""
    exe = shutil.which("ps")
    if exe is None:
        raise InvalidArgument(f"unknown top descriptors {' '.join(options)!r} and no ps on the host")
    res = subprocess.run([exe, *options], capture_output=True, text=True)
    if res.returncode != 0:
        raise PodpyError(f"ps {' '.join(options)}: {res.stderr.strip() or 'failed'}")
    lines = res.stdout.splitlines()
    titles = lines[0].split() if lines else []
    if "PID" not in titles:
        raise InvalidArgument(f"ps {' '.join(options)}: its output has no PID column")
    at = titles.index("PID")
    rows = []
    for line in lines[1:]:
        cells = line.split(None, len(titles) - 1)
        if len(cells) > at and cells[at].isdigit() and int(cells[at]) in pids:
            rows.append(cells)
    return titles, rows
