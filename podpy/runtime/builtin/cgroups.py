"""cgroups v1 (one hierarchy per controller, as on this host) and v2: create, limit, join, kill, remove.

Mount points come from /proc/self/mountinfo and the caller's own cgroups from /proc/self/cgroup;
nothing is assumed about paths. A relative linux.cgroupsPath lands under the caller's own cgroup in
each hierarchy (runc's rule), an absolute one under each hierarchy's root. On a hybrid host the empty
v2 tree gets a directory too: it offers cgroup.kill and freezing without controllers.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

from podpy.errors import PodpyError
from podpy.record import field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

UNIFIED = ""  # key of the v2 hierarchy in /proc/self/cgroup ("0::/path")


@record(frozen=True)
class Hierarchy:
    """One mounted cgroup hierarchy (a v1 controller or the v2 tree)."""

    key: str  # the /proc/self/cgroup controller field: "memory", "name=systemd", "" for v2
    mountpoint: str
    root: str  # the mount's root inside the hierarchy (not "/" under a cgroup ns or a bind)


def _unescape(s: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def own_cgroups(pid: int | str = "self") -> dict[str, str]:
    """controller key -> cgroup path of `pid`, as /proc/<pid>/cgroup lists them."""
    out: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, key, path = line.split(":", 2)
        out[key] = path
    return out


def hierarchies() -> dict[str, Hierarchy]:
    """key -> where that hierarchy is mounted (the first mount of it in /proc/self/mountinfo)."""
    keys = own_cgroups().keys()
    found: dict[str, Hierarchy] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _, post = line.partition(" - ")
        fields, post_fields = pre.split(), post.split()
        fstype, opts = post_fields[0], set(post_fields[2].split(","))
        if fstype == "cgroup2" and UNIFIED in keys and UNIFIED not in found:
            found[UNIFIED] = Hierarchy(UNIFIED, _unescape(fields[4]), _unescape(fields[3]))
        elif fstype == "cgroup":
            for key in keys:
                if key and key not in found and set(key.split(",")) <= opts:
                    found[key] = Hierarchy(key, _unescape(fields[4]), _unescape(fields[3]))
    return found


def unified_mode() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


@record
class CgroupSet:
    """The container's directories, one per hierarchy (key -> path on the host)."""

    paths: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, str]:
        return dict(self.paths)

    @classmethod
    def from_json(cls, doc: dict[str, str] | None) -> CgroupSet:
        return cls(dict(doc or {}))

    def dir(self, controller: str) -> Path | None:
        """The directory of the hierarchy holding `controller` ("" = v2)."""
        for key, path in self.paths.items():
            if key == controller or controller in key.split(","):
                return Path(path)
        return None

    @property
    def v2_only(self) -> bool:
        return list(self.paths) == [UNIFIED]


def _resolve(h: Hierarchy, own: str, cgroups_path: str) -> Path:
    inner = cgroups_path if cgroups_path.startswith("/") else os.path.join(own, cgroups_path)
    rel = os.path.relpath(os.path.normpath(inner), h.root)
    if rel.startswith(".."):
        raise PodpyError(f"cgroup path {inner} lies outside the mounted {h.key or 'cgroup2'} hierarchy")
    return Path(h.mountpoint, rel)


def _mkdirs(path: Path, mountpoint: str, cpuset: bool) -> None:
    """mkdir -p; v1 cpuset dirs start with empty cpus/mems and refuse tasks until filled from the parent."""
    missing = []
    p = path
    while not p.exists() and str(p) != mountpoint:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            pass
        if cpuset:
            for name in ("cpuset.cpus", "cpuset.mems"):
                if not (d / name).read_text().strip():
                    (d / name).write_text((d.parent / name).read_text())


def _enable_v2_controllers(path: Path, mountpoint: str) -> None:
    """Enable every available controller in each ancestor's subtree_control, best effort."""
    chain = []
    p = path.parent
    while str(p).startswith(mountpoint) and len(str(p)) >= len(mountpoint):
        chain.append(p)
        if str(p) == mountpoint:
            break
        p = p.parent
    for d in reversed(chain):
        try:
            available = (d / "cgroup.controllers").read_text().split()
        except OSError:
            continue
        for ctl in ("cpu", "cpuset", "io", "memory", "pids", "hugetlb"):
            if ctl in available:
                try:  # one at a time: one refusal must not cost the others
                    (d / "cgroup.subtree_control").write_text(f"+{ctl}")
                except OSError:
                    pass  # not delegated, or processes in `d`: a limit on it fails later, clearly


def plan(cgroups_path: str) -> CgroupSet:
    """The directories `create(cgroups_path)` makes, without making them: the runtime records them
    first, so that a start killed half-way leaves cgroups that rm can still find."""
    own = own_cgroups()
    found = hierarchies()
    if unified_mode():
        found = {k: v for k, v in found.items() if k == UNIFIED}
    return CgroupSet({key: str(_resolve(h, own[key], cgroups_path)) for key, h in found.items()})


def create(cgroups_path: str, resources: dict[str, Any], planned: CgroupSet | None = None) -> CgroupSet:
    """Create the container's cgroup in every hierarchy and apply linux.resources."""
    target = planned or plan(cgroups_path)
    mounts = {key: h.mountpoint for key, h in hierarchies().items()}
    from podpy.runtime.builtin import cgroup_limits, device_filter  # create only: not join/kill/stats

    rules = device_filter.effective(resources.get("devices") or [])  # invalid rules: before any mkdir
    cg = CgroupSet()
    try:
        for key, p in target.paths.items():
            path = Path(p)
            _mkdirs(path, mounts[key], cpuset="cpuset" in key.split(","))
            cg.paths[key] = str(path)
            if key == UNIFIED and unified_mode():
                _enable_v2_controllers(path, mounts[key])
        if cg.v2_only:
            cgroup_limits.apply_v2(Path(cg.paths[UNIFIED]), resources)
        else:
            cgroup_limits.apply_v1(cg.dir, resources)
        _device_program(cg, rules)
    except (OSError, PodpyError) as e:
        remove(cg)
        if isinstance(e, PodpyError):
            raise
        raise PodpyError(f"cgroup setup: {e.strerror or e}: {e.filename or ''}".rstrip(": ")) from None
    return cg


def _device_program(cg: CgroupSet, rules: list[Any]) -> None:
    """cgroup v2 enforces device rules only through a BPF program on the container's directory.

    Without the v1 devices controller it is the only wall, so failing to attach it refuses the start.
    On a hybrid host the v1 controller already enforces the rules and the program is a second wall on
    the empty v2 tree: attached when the kernel lets us, skipped (v1 still enforces) when it does not."""
    from podpy.runtime.builtin import device_filter

    v2 = cg.dir(UNIFIED)
    default_allow, kept = device_filter.reduce(rules)
    if v2 is None or not rules or (default_allow and not kept):
        return
    try:
        device_filter.attach(v2, rules)
    except OSError as e:
        if cg.dir("devices") is not None:
            return
        raise PodpyError(f"cgroup v2 device rules need a BPF device program, which could not be attached "
                         f"to {v2}: {e.strerror} (needs CAP_SYS_ADMIN and a kernel with "
                         f"CONFIG_CGROUP_BPF)") from None


def kick_migration() -> None:
    """Start now, on a throw-away thread, the RCU grace period the next cgroup migration waits for.

    Every move into a cgroup (v1 or v2: they share one rwsem) first waits for readers to switch to
    the rwsem's slow path, ~10-25 ms here, unless a move happened within the last grace period. The
    thread moves this process into the cgroup it is already in (a no-op move, as `echo $$ >
    cgroup.procs`), so the exec's or the init's real move, a few ms later, finds that wait done or
    under way. Root only (the host's cgroups); best effort. Only os calls on the thread: a fork
    while it runs copies no lock it could hold."""
    if os.geteuid() != 0:
        return
    import _thread

    _thread.start_new_thread(_noop_move, ())


def _noop_move() -> None:
    try:
        fd = os.open("/proc/self/cgroup", os.O_RDONLY | os.O_CLOEXEC)
        try:
            text = os.read(fd, 4096)
        finally:
            os.close(fd)
        _, key, path = text.split(b"\n", 1)[0].split(b":", 2)  # the first hierarchy is as good as any
        mount = key.split(b",")[0].removeprefix(b"name=")
        target = b"/sys/fs/cgroup/" + (mount + b"/" if mount else b"") + path.lstrip(b"/")
        procs, me = target.rstrip(b"/") + b"/cgroup.procs", str(os.getpid()).encode()
        fd = os.open(procs, os.O_RDWR | os.O_CLOEXEC)
        try:
            listed = b""
            while chunk := os.read(fd, 65536):
                listed += chunk
            if me in listed.split():  # the cgroup we are in (not another one, under a cgroup namespace)
                os.write(fd, me)
        finally:
            os.close(fd)
    except (OSError, ValueError):
        pass


def join(cg: CgroupSet, pid: int = 0) -> None:
    """Move `pid` (0: the calling process) into every directory of the set."""
    for path in cg.paths.values():
        Path(path, "cgroup.procs").write_text(str(pid))


def join_like(init_pid: int, pid: int = 0) -> None:
    """Move `pid` into the cgroups `init_pid` is in (exec): its /proc/<pid>/cgroup, mapped to our
    mount points. Rootless, only the v2 tree can be ours (a delegated subtree): failing to join it
    raises, since the exec would otherwise run outside the container's limits."""
    found = hierarchies()
    rootless = os.geteuid() != 0
    for key, path in own_cgroups(init_pid).items():
        h = found.get(key)
        if h is None or (rootless and key != UNIFIED):
            continue
        try:
            _resolve(h, "/", path).joinpath("cgroup.procs").write_text(str(pid))
        except OSError:
            if rootless:
                raise
            # root: a cgroup that vanished with the container; the exec then fails on its own


def of_pid(pid: int) -> CgroupSet:
    """The cgroups a live process is in, as host directories (stats, top and OOM of any runtime)."""
    found = hierarchies()
    cg = CgroupSet()
    for key, path in own_cgroups(pid).items():
        h = found.get(key)
        if h is not None:
            try:
                cg.paths[key] = str(_resolve(h, "/", path))
            except PodpyError:
                continue  # outside what we see mounted
    return cg


def locate(cgroups_path: str) -> CgroupSet:
    """The existing directories `create(cgroups_path)` would have made (after the process died)."""
    own = own_cgroups()
    cg = CgroupSet()
    for key, h in hierarchies().items():
        try:
            path = _resolve(h, own[key], cgroups_path)
        except PodpyError:
            continue
        if path.is_dir():
            cg.paths[key] = str(path)
    return cg


def pids(cg: CgroupSet) -> list[int]:
    for path in cg.paths.values():
        try:
            return [int(x) for x in Path(path, "cgroup.procs").read_text().split()]
        except OSError:
            continue
    return []


def kill_all(cg: CgroupSet, timeout: float = 2.0) -> None:
    """SIGKILL everything left in the cgroup; cgroup.kill when the kernel has it."""
    v2 = cg.dir(UNIFIED)
    if v2 is not None and (v2 / "cgroup.kill").exists():
        try:
            (v2 / "cgroup.kill").write_text("1")
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    while (left := pids(cg)) and time.monotonic() < deadline:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.005)


def remove(cg: CgroupSet, timeout: float = 2.0) -> None:
    """rmdir every directory; EBUSY while the last tasks exit is retried until `timeout`."""
    deadline = time.monotonic() + timeout
    for path in cg.paths.values():
        while True:
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise PodpyError(f"removing cgroup {path}: {e.strerror}") from None
                time.sleep(0.005)


def _settle(write: Callable[[], None], done: Callable[[], bool], timeout: float) -> bool:
    """Freezing is asynchronous (FREEZING until every task stops): write, then poll until done."""
    deadline = time.monotonic() + timeout
    while True:
        write()
        if done():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)


def freeze(cg: CgroupSet, frozen: bool, timeout: float = 2.0) -> None:
    """pause/unpause: the v1 freezer, else cgroup.freeze of v2 (also the hybrid host's empty tree).
    Returns once the state is reached (a half-frozen container cannot be killed either)."""
    fz = cg.dir("freezer")
    if fz is not None:
        want = "FROZEN" if frozen else "THAWED"
        ok = _settle(lambda: (fz / "freezer.state").write_text(want),
                     lambda: (fz / "freezer.state").read_text().strip() == want, timeout)  # fmt: skip
    else:
        v2 = cg.dir(UNIFIED)
        if v2 is None or not (v2 / "cgroup.freeze").exists():
            raise PodpyError("pause: no freezer available for this container")
        want = f"frozen {int(frozen)}"
        ok = _settle(lambda: (v2 / "cgroup.freeze").write_text(str(int(frozen))),
                     lambda: want in (v2 / "cgroup.events").read_text().splitlines(), timeout)  # fmt: skip
    if not ok:
        raise PodpyError(f"{'pausing' if frozen else 'unpausing'} the container timed out")


def has_limits(resources: dict[str, Any]) -> bool:
    """Whether linux.resources asks for anything beyond the default device rules."""
    return any(v not in (None, {}, [], 0) for k, v in resources.items() if k != "devices")
