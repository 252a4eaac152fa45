"""The container record (containers/<id>/container.json): configuration plus runtime state.

The record is the one source of truth for a container. Writers take the per-container lock (an
flock on the container's directory, so nothing is left behind when the directory goes) and
rewrite the whole document atomically. Readers reconcile the runtime state with reality: a
record that says "running" while its supervisor is gone is reported exited, never stale.
"""

from __future__ import annotations

import fcntl
import os
from functools import cache
from pathlib import Path

from podpy.errors import NoSuchContainer, PodpyError
from podpy.record import asdict, field, fields, record
from podpy.state import atomic_write_json, read_json
from podpy.state.atomic import decode_json

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# Docker's State.Status values.
CREATED, RUNNING, EXITED, REMOVING = "created", "running", "exited", "removing"
RESTARTING = "restarting"  # between an exit and the restart its policy asked for (supervisor alive)
SUPERVISOR_GONE = "supervisor exited unexpectedly"


@record
class RunState:
    """The runtime part of a container record: status, pids, times, exit."""

    status: str = CREATED
    pid: int = 0  # host pid of the container's init
    pid_start: int = 0  # its start time (clock ticks since boot), guards against pid reuse
    supervisor_pid: int = 0
    supervisor_start: int = 0
    started_at: str = ""
    finished_at: str = ""
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    paused: bool = False  # frozen by `pause` (status stays running, as Docker's Running+Paused)
    restart_count: int = 0
    manually_stopped: bool = False  # stop/kill by the user: unless-stopped does not restart
    restart_canceled: bool = False  # stop (or kill with SIGKILL/the stop signal): no policy restarts
    premounted: str = ""  # rootfs mounted on the host for an external runtime (to unmount)


@record
class ContainerRecord:
    """One container's JSON document (containers/<id>/container.json)."""

    id: str
    name: str
    created: str
    image: str  # image ID (sha256:...), "" for --rootfs; rmi checks it
    image_name: str  # what the user typed (ps IMAGE column, Config.Image)
    top_layer: str | None  # chain ID of the image's top layer; rmi checks it
    rootfs: str = ""  # --rootfs DIR
    driver: str = ""
    runtime: str = ""  # "" = built-in
    spec: dict[str, Any] = field(default_factory=dict)  # ContainerSpec as a dict
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    open_stdin: bool = False  # -i
    auto_remove: bool = False  # --rm
    stop_signal: str = "SIGTERM"
    stop_timeout: int = 10
    detach_keys: str = "ctrl-p,ctrl-q"
    security_opt: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)  # every volume it uses (`volume rm` checks it)
    anonymous_volumes: list[str] = field(default_factory=list)  # made for it: removed by rm -v / --rm
    mounts: list[dict[str, Any]] = field(default_factory=list)  # inspect's Mounts (also --volumes-from)
    restart_policy: str = ""  # issue 4: the supervisor's restart hook reads it
    healthcheck: dict[str, Any] | None = None  # issue 4
    resources: dict[str, Any] = field(default_factory=dict)  # resource flags (engine.resources.Resources)
    requires: list[str] = field(default_factory=list)  # --requires: IDs started before this one
    pidfile: str = ""  # --pidfile: the container's pid, written at every start (absolute)
    conmon_pidfile: str = ""  # --conmon-pidfile: the supervisor's pid, likewise
    init_path: str = ""  # --init-path
    state: RunState = field(default_factory=RunState)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def args(self) -> list[str]:
        return list(self.spec.get("args") or [])

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["topLayer"] = doc.pop("top_layer")  # the keys other parts of podpy read
        doc["anonymousVolumes"] = doc.pop("anonymous_volumes")
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ContainerRecord:
        known, state_keys = _field_names(cls)
        state = RunState(**{k: v for k, v in (doc.get("state") or {}).items() if k in state_keys})
        kw = {k: v for k, v in doc.items() if k in known}
        kw["top_layer"] = doc.get("topLayer")  # the keys other parts of podpy read (to_json)
        kw["anonymous_volumes"] = doc.get("anonymousVolumes", [])
        return cls(state=state, **kw)


@cache
def _field_names(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """The record's fields a document may set by name (`ps -a` builds hundreds of records), and RunState's."""
    own = frozenset(f.name for f in fields(cls)) - {"state", "top_layer", "anonymous_volumes"}
    return own, frozenset(f.name for f in fields(RunState))


class ContainerLock:
    """flock on containers/<id>/: exclusive per container, released when the fd closes.

    `handover()` gives the open fd away (the supervisor inherits it across fork and releases it
    once the container runs), so no other podpy can act on a half-started container.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> ContainerLock:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchContainer(self.path.name) from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd = fd
        if not (self.path / "container.json").exists():  # removed while we waited
            self.close()
            raise NoSuchContainer(self.path.name)
        return self

    def handover(self) -> int:
        fd, self.fd = self.fd, None
        if fd is None:
            raise PodpyError("container lock not held")
        return fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc: object) -> None:
        self.close()


def record_path(cdir: Path) -> Path:
    return cdir / "container.json"


def load(cdir: Path) -> ContainerRecord:
    try:
        return ContainerRecord.from_json(read_json(record_path(cdir)))
    except (FileNotFoundError, NotADirectoryError):
        raise NoSuchContainer(cdir.name) from None


_READ = 8192  # a record is ~2 KB: one read(2); not more (a buffer above malloc's mmap threshold costs an mmap per read)


def load_all(containers: Path, ids: list[str]) -> list[ContainerRecord]:
    """The records of `ids` under `containers` (`ps -a`, name checks): through one directory fd and
    plain reads, ~2x faster than load() per record at 500 containers. Skipped, as the callers skip
    them with load(): a record removed meanwhile, half-created, unreadable or of an unknown schema."""
    try:
        dfd = os.open(containers, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    out = []
    where = str(containers)
    try:
        for cid in ids:
            name = f"{cid}/container.json"
            try:
                fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
                try:
                    raw = os.read(fd, _READ)
                    while len(raw) % _READ == 0 and (more := os.read(fd, _READ)):  # a short read is the end
                        raw += more
                finally:
                    os.close(fd)
                out.append(ContainerRecord.from_json(decode_json(raw, f"{where}/{name}")))
            except (PodpyError, OSError):
                continue
    finally:
        os.close(dfd)
    return out


def save(cdir: Path, rec: ContainerRecord, durable: bool = True) -> None:
    """fsync only for transitions worth surviving a crash (create, exit): a running state is
    reconciled on read anyway."""
    atomic_write_json(record_path(cdir), rec.to_json(), durable=durable)


def proc_start_time(pid: int) -> int:
    """Field 22 of /proc/<pid>/stat (0 if the process is gone); a zombie counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return 0
    rest = raw[raw.rfind(b")") + 2 :].split()
    if not rest or rest[0] in (b"Z", b"X"):
        return 0
    return int(rest[19])


def alive(pid: int, start: int) -> bool:
    return pid > 0 and start > 0 and proc_start_time(pid) == start


def reconcile(rec: ContainerRecord) -> bool:
    """Fix a stale "running" in memory (supervisor and container init both gone); True if the record
    changed. The init is checked with its recorded start time, so a recycled pid does not count."""
    st = rec.state
    if st.status not in (RUNNING, REMOVING, RESTARTING) or alive(st.supervisor_pid, st.supervisor_start):
        return False
    if st.status == REMOVING:
        return False
    if st.status == RUNNING and alive(st.pid, st.pid_start):
        return False  # its init outlived the supervisor: it runs (stop/kill/rm still reach it by pid)
    from podpy.timeutil import now_rfc3339

    st.exit_code = -1 if st.status == RUNNING else st.exit_code  # restarting: the last run's code
    st.status = EXITED
    st.error = SUPERVISOR_GONE
    st.finished_at = st.finished_at or now_rfc3339()
    return True


def leftover_init(rec: ContainerRecord) -> int:
    """The container's init pid if it outlived its supervisor (to be killed by rm/start)."""
    st = rec.state
    return st.pid if alive(st.pid, st.pid_start) else 0
