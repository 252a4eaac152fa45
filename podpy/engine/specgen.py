"""ContainerSpec -> OCI runtime-spec 1.0.2 config.json, shaped like the one Podman writes.

`generate` is pure when every keyword is given; the defaults read this host (euid, cgroup mode,
/etc/subuid, the capability bounding set) and the image's /etc/passwd and /etc/group.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from podpy.engine.spec import ContainerSpec, Mount
from podpy.errors import InvalidArgument
from podpy.inroot import read_inside
from podpy.paths import is_cgroup_v2  # re-exported: callers import it from here
from podpy.record import record
from podpy.runtime.builtin.capabilities import CAP_NAMES, DEFAULT_CAPS, current_bounding, normalize

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

OCI_VERSION = "1.0.2"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_PATH_IN_CONTAINER = "/run/podpy-init"
ROOTFS_MOUNT_ANNOTATION = "io.podpy.rootfs.mount"

MASKED_PATHS = (
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
    "/proc/timer_list", "/proc/timer_stats", "/sys/dev/block", "/sys/devices/virtual/powercap",
    "/sys/firmware", "/sys/fs/selinux",
)  # fmt: skip
READONLY_PATHS = ("/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


@record(frozen=True)
class IdMaps:
    """linux.uidMappings / gidMappings: (containerID, hostID, size) triples."""

    uids: tuple[tuple[int, int, int], ...]
    gids: tuple[tuple[int, int, int], ...]

    @staticmethod
    def _oci(triples: Iterable[tuple[int, int, int]]) -> list[dict[str, int]]:
        return [{"containerID": c, "hostID": h, "size": s} for c, h, s in triples]

    def to_oci(self) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
        return self._oci(self.uids), self._oci(self.gids)

    def maps_gid(self, gid: int) -> bool:
        return any(c <= gid < c + s for c, _, s in self.gids)

    @property
    def single(self) -> bool:
        """Only the user's own id is mapped (no /etc/subuid entries): file ownership collapses."""
        return len(self.uids) == 1 and self.uids[0][2] == 1


@record(frozen=True)
class ExecUser:
    """A --user resolved against the image's /etc/passwd and /etc/group."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    home: str


@record(frozen=True)
class HostFacts:
    """What generate needs to know about the host; `HostFacts.detect()` reads it."""

    rootless: bool
    cgroup_v2: bool
    bounding: frozenset[str]
    id_maps: IdMaps | None  # rootless only
    hostname: str
    uid: int = 0
    gid: int = 0
    seccomp: bool = True  # the kernel has seccomp

    @classmethod
    def detect(cls, userns: str = "") -> HostFacts:
        from podpy.runtime.seccomp import supported

        uid, gid = os.geteuid(), os.getegid()
        maps = host_id_maps(userns, uid, gid) if uid != 0 else None
        return cls(uid != 0, is_cgroup_v2(), current_bounding(), maps, os.uname().nodename, uid, gid, supported())


def generate(
    spec: ContainerSpec,
    rootfs: Path,
    *,
    cid: str,
    host: HostFacts | None = None,
    read_etc: Callable[[str], str | None] | None = None,
    init_path: str | None = None,
    cgroup_parent: str | None = None,
) -> dict[str, Any]:
    """The config.json document for `spec` with its root at `rootfs`.

    read_etc(path) returns a file of the image (default: read it inside `rootfs`; an engine whose
    rootfs is mounted only inside the container passes a reader over the layers instead).
    """
    host = host or HostFacts.detect(spec.userns)
    reader = read_etc or (lambda p: read_inside(rootfs, p))
    user_arg = spec.user or (f"{host.uid}:{host.gid}" if spec.userns == "keep-id" else "")
    user = resolve_user(user_arg, reader("/etc/passwd"), reader("/etc/group"))
    if spec.group_add:
        user = add_groups(user, spec.group_add, reader("/etc/group"))
    hostname = spec.hostname or (host.hostname if spec.network == "host" else cid[:12])
    doc: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": _process(spec, user, hostname, host, init_path),
        "root": {"path": str(rootfs), "readonly": spec.read_only},
        "hostname": hostname,
        "mounts": _mounts(spec, host, init_path),
        "annotations": dict(spec.annotations),
        "linux": _linux(spec, cid, host, cgroup_parent or spec.cgroup_parent or None),
    }
    if spec.domainname:
        doc["domainname"] = spec.domainname
    seccomp = seccomp_config(spec, doc["process"]["capabilities"].get("bounding") or [], host.seccomp)
    if seccomp is not None:
        doc["linux"]["seccomp"] = seccomp
    return doc


def seccomp_config(spec: ContainerSpec, bounding: list[str], supported: bool = True) -> dict[str, Any] | None:
    """linux.seccomp: Docker's default profile (or the given one) resolved for the container's
    bounding set. None when unconfined: asked for, or --privileged without a profile (Docker's rule),
    or a kernel without seccomp and no explicit profile (Docker's rule too)."""
    from podpy.runtime.seccomp import profile

    chosen = spec.seccomp_profile
    if chosen == "unconfined" or (spec.privileged and not chosen):
        return None
    if not supported:
        if chosen:
            raise InvalidArgument("seccomp is not enabled in this kernel: cannot use a seccomp profile")
        return None
    if chosen:
        doc = profile.read_file(chosen)
    else:
        from podpy.runtime.seccomp.default_profile import default_profile

        doc = default_profile()
    return profile.to_oci(doc, bounding)


def _process(
    spec: ContainerSpec, user: ExecUser, hostname: str, host: HostFacts, init_path: str | None
) -> dict[str, Any]:
    args = list(spec.args)
    if spec.init:
        if not init_path:
            raise InvalidArgument("--init: no init binary (catatonit or tini) found on this host")
        args = [INIT_PATH_IN_CONTAINER, "--", *args]
    oci_user: dict[str, Any] = {"uid": user.uid, "gid": user.gid, "additionalGids": _groups(user, host)}
    if spec.umask is not None:
        oci_user["umask"] = spec.umask
    proc: dict[str, Any] = {
        "terminal": spec.terminal,
        "user": oci_user,
        "args": args,
        "env": _env(spec, user, hostname),
        "cwd": spec.cwd or "/",
        "capabilities": capabilities(spec, user.uid, host.bounding),
        "noNewPrivileges": spec.no_new_privileges,
    }
    if spec.rlimits:
        proc["rlimits"] = [r.to_oci() for r in spec.rlimits]
    if spec.oom_score_adj is not None:
        proc["oomScoreAdj"] = spec.oom_score_adj
    return proc


def exec_process(
    config: dict[str, Any],
    args: list[str],
    *,
    env: tuple[str, ...] = (),
    user: str | None = None,
    cwd: str | None = None,
    terminal: bool = False,
    privileged: bool = False,
    read_etc: Callable[[str], str | None] | None = None,
    bounding: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The OCI process for `exec` into a container made from `config`: its env (+ `env`), user, cwd
    and capabilities unless overridden. A non-root --user loses the effective set, --privileged gets
    the whole bounding set of this host."""
    from podpy.engine.spec import merge_env

    base = config["process"]
    proc: dict[str, Any] = {k: v for k, v in base.items() if k not in ("args", "consoleSize")}
    proc.update(args=list(args), terminal=terminal, env=list(merge_env(base.get("env") or [], env)))
    if terminal and not any(e.startswith("TERM=") for e in proc["env"]):
        proc["env"].append("TERM=xterm")
    if cwd:
        proc["cwd"] = cwd
    caps = {k: list(v) for k, v in (base.get("capabilities") or {}).items()}
    if privileged:
        every = sorted(bounding if bounding is not None else current_bounding(), key=CAP_NAMES.index)
        caps = {"bounding": every, "effective": every, "permitted": every}
    if user is not None:
        root = Path(config["root"]["path"])
        reader = read_etc or (lambda p: read_inside(root, p))
        u = resolve_user(user, reader("/etc/passwd"), reader("/etc/group"))
        proc["user"] = {"uid": u.uid, "gid": u.gid, "additionalGids": list(u.additional_gids)}
        if u.uid != 0:
            caps.update(effective=[], permitted=[], inheritable=[], ambient=[])
    proc["capabilities"] = caps
    return proc


def _groups(user: ExecUser, host: HostFacts) -> list[int]:
    """Supplementary groups. Rootless: none with a single-id map (setgroups is denied there) and
    never the primary gid again, since runc refuses any supplementary group when not root."""
    if not host.rootless:
        return list(user.additional_gids)
    if host.id_maps is None or host.id_maps.single:
        return []
    return [g for g in user.additional_gids if g != user.gid]


def _env(spec: ContainerSpec, user: ExecUser, hostname: str) -> list[str]:
    """spec.env plus the defaults it does not set (PATH, HOSTNAME, HOME, TERM with -t), minus those
    --unsetenv names (all of them with --unsetenv-all)."""
    keys = {e.partition("=")[0] for e in spec.env}
    skip = keys | set(spec.unsetenv)
    if spec.unsetenv_all:
        skip |= {"PATH", "HOSTNAME", "HOME", "TERM"}
    env = [] if "PATH" in skip else [f"PATH={DEFAULT_PATH}"]
    env += list(spec.env)
    for key, value in (("HOSTNAME", hostname), ("HOME", user.home)):
        if key not in skip:
            env.append(f"{key}={value}")
    if spec.terminal and "TERM" not in skip:
        env.append("TERM=xterm")
    return env


def capabilities(spec: ContainerSpec, uid: int, bounding: frozenset[str]) -> dict[str, list[str]]:
    """Podman's rules: defaults +add -drop ("ALL" allowed); privileged gets the whole bounding set.

    A non-root user keeps only what --cap-add names, in effective/permitted/inheritable/ambient so it
    survives the exec.
    """
    adds = {normalize(c) for c in spec.cap_add}
    drops = {normalize(c) for c in spec.cap_drop}
    for name in adds | drops:
        if name != "ALL" and name not in CAP_NAMES:
            raise InvalidArgument(f"unknown capability {name!r}")
    if spec.privileged or "ALL" in adds:
        caps = set(bounding)
    else:
        caps = set(DEFAULT_CAPS) | (adds & set(bounding) if adds else set())
    caps = set() if "ALL" in drops else caps - drops
    ordered = sorted(caps, key=CAP_NAMES.index)
    if uid == 0:
        return {"bounding": ordered, "effective": ordered, "permitted": ordered}
    raised = [c for c in ordered if c in adds]
    return {"bounding": ordered, "effective": raised, "permitted": raised, "inheritable": raised, "ambient": raised}


def mapped(spec: ContainerSpec, host: HostFacts) -> IdMaps | None:
    """The mappings of a user namespace root makes (--uidmap & co.), None without one."""
    if host.rootless or not (spec.uidmap or spec.gidmap):
        return None
    return IdMaps(tuple(map(tuple, spec.uidmap)), tuple(map(tuple, spec.gidmap)))  # type: ignore[arg-type]


def rootless_mapped(spec: ContainerSpec, host: HostFacts) -> IdMaps | None:
    """Rootless --uidmap & co.: the maps (relative to the user's own namespace) composed with the
    user's /etc/subuid mapping, as newuidmap writes them from the host (see idmaps.compose)."""
    if not host.rootless or not (spec.uidmap or spec.gidmap) or host.id_maps is None:
        return None
    from podpy.engine.idcompose import compose, spare

    uids = compose(spec.uidmap or spec.gidmap, host.id_maps.uids, "UID")
    gids = compose(spec.gidmap or spec.uidmap, host.id_maps.gids, "GID")
    return IdMaps(spare(uids, host.uid), spare(gids, host.gid))


def _userns_maps(spec: ContainerSpec, host: HostFacts) -> IdMaps | None:
    """The mappings of the container's user namespace (rootless or --uidmap), None without one."""
    if host.rootless:
        return (rootless_mapped(spec, host) or host.id_maps) if spec.userns != "host" else None
    return mapped(spec, host)


def _mounts(spec: ContainerSpec, host: HostFacts, init_path: str | None) -> list[dict[str, Any]]:
    shm = f"size={spec.shm_size // 1024}k"
    devpts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    maps = _userns_maps(spec, host)
    in_userns = host.rootless or maps is not None
    tty_mapped = maps and maps.maps_gid(5) if host.rootless else maps is None or maps.maps_gid(5)
    if tty_mapped:
        devpts.append("gid=5")  # gid 5 (tty) must exist in the user namespace
    ro = [] if spec.privileged else ["ro"]
    mounts = [
        Mount("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
        Mount("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
        Mount("/dev/pts", "devpts", "devpts", tuple(devpts)),
        Mount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
        Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", shm)),
    ]
    if in_userns:  # sysfs needs a net ns owned by the user ns and more: bind the host's
        mounts.append(Mount("/sys", "bind", "/sys", ("rbind", "nosuid", "noexec", "nodev", *ro)))
    else:
        mounts.append(Mount("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", *ro)))
    if not host.rootless or host.cgroup_v2:  # root: the container's own cgroups, in a user namespace too
        cg_opts = ("rprivate", "nosuid", "noexec", "nodev", "relatime", *ro)
        mounts.append(Mount("/sys/fs/cgroup", "cgroup", "cgroup", cg_opts))
    if spec.read_only and spec.read_only_tmpfs:
        for dest in ("/tmp", "/var/tmp", "/run"):
            mounts.append(Mount(dest, "tmpfs", "tmpfs", ("rw", "rprivate", "nosuid", "nodev")))
    if spec.init and init_path:
        mounts.append(Mount(INIT_PATH_IN_CONTAINER, "bind", init_path, ("bind", "ro", "nosuid", "nodev")))
    # rootless: no mknod in a user namespace, so --device binds the host's node (as Podman does); the
    # user's own access to it is the limit (permissions are not narrowed: "ro" does not apply to devices)
    if host.rootless:
        for d in spec.devices:
            mounts.append(Mount(d["path"], "bind", d["hostPath"], ("bind", "nosuid", "rprivate")))
    if maps is None or host.rootless:
        for m in spec.mounts:
            if "idmap" in m.options:
                raise InvalidArgument(f"the idmap option of the volume at {m.destination} needs a user namespace "
                                      "root makes with --uidmap/--gidmap")  # fmt: skip
    user = sorted(spec.mounts, key=lambda m: len(Path(m.destination).parts))  # parents before children
    taken = {m.destination for m in user}
    return [m.to_oci() for m in mounts if m.destination not in taken] + [m.to_oci() for m in user]


def _namespaces(spec: ContainerSpec, host: HostFacts) -> list[dict[str, str]]:
    """Each: new (no path), joined (a path: a pod's infra, container:X), or the host's (left out)."""
    ns: list[dict[str, str]] = []
    for kind, mode in (("pid", spec.pid), ("mount", ""), ("uts", spec.uts), ("ipc", spec.ipc)):
        if mode != "host":
            ns.append({"type": kind, "path": mode} if mode else {"type": kind})
    if spec.network.startswith("ns:"):
        ns.append({"type": "network", "path": spec.network[3:]})
    elif spec.network != "host":
        ns.append({"type": "network"})
    cgroupns = spec.cgroupns or ("private" if host.cgroup_v2 else "host")
    if cgroupns != "host":
        ns.append({"type": "cgroup", "path": cgroupns} if cgroupns != "private" else {"type": "cgroup"})
    if _userns_maps(spec, host) is not None or host.rootless and spec.userns != "host":
        ns.insert(0, {"type": "user"})
    return ns


def _linux(spec: ContainerSpec, cid: str, host: HostFacts, cgroup_parent: str | None) -> dict[str, Any]:
    linux: dict[str, Any] = {"namespaces": _namespaces(spec, host)}
    if spec.personality:
        linux["personality"] = {"domain": spec.personality}
    if host.rootless and spec.userns != "host":
        if host.id_maps is None:
            raise InvalidArgument("rootless: no user namespace mappings")
        linux["uidMappings"], linux["gidMappings"] = (rootless_mapped(spec, host) or host.id_maps).to_oci()
    elif (maps := mapped(spec, host)) is not None:
        linux["uidMappings"], linux["gidMappings"] = maps.to_oci()
    # a mapped container cannot write the sysctls of a network namespace root made (a pinned one)
    joined = spec.network == "host" or mapped(spec, host) is not None and spec.network.startswith("ns:")
    sysctl = {} if joined else {"net.ipv4.ping_group_range": _ping_range(spec, host)}
    sysctl.update(spec.sysctls)
    linux["sysctl"] = sysctl
    resources = dict(spec.resources)
    if not host.rootless and "devices" not in resources:
        resources["devices"] = [{"allow": unconfined(spec), "access": "rwm"}] + [
            {"allow": True, "type": d["type"], "major": d["major"], "minor": d["minor"], "access": d["access"]}
            for d in spec.devices
        ] + [dict(r) for r in spec.device_cgroup_rules]
    linux["resources"] = resources
    if not host.rootless:
        linux["cgroupsPath"] = cgroups_path(cid, host.cgroup_v2, cgroup_parent)
    # Podman's --privileged: the host's devices, no masked or read-only paths, every capability
    # (capabilities()) and no seccomp filter: linux.seccomp stays absent when unconfined(spec).
    if not unconfined(spec):
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    nodes = _device_nodes(spec, host)
    if nodes:
        linux["devices"] = nodes
    return linux


def _device_nodes(spec: ContainerSpec, host: HostFacts) -> list[dict[str, Any]]:
    """linux.devices: the host's with --privileged, and --device's (rootless binds those as mounts).
    None when a user mount provides /dev (-v /dev:/dev): the nodes are there, and making them again
    would unlink the host's own (runc skips them too)."""
    if any(m.destination.rstrip("/") == "/dev" for m in spec.mounts):
        return []
    nodes: list[dict[str, Any]] = []
    if unconfined(spec):
        from podpy.engine.host_devices import host_devices

        nodes = host_devices()
    if not host.rootless:  # the cgroup rule of each is in linux.resources.devices
        keys = ("path", "type", "major", "minor", "fileMode", "uid", "gid")
        nodes += [{k: d[k] for k in keys} for d in spec.devices]
    return nodes


def unconfined(spec: ContainerSpec) -> bool:
    """--privileged turns every confinement off: no masks, all devices, and no seccomp filter (the
    default profile is for confined containers only)."""
    return spec.privileged


def _ping_range(spec: ContainerSpec, host: HostFacts) -> str:
    """Podman's "0 0"; the kernel refuses gids the user namespace does not map, so a keep-id single
    map (only the user's own gid) gets that gid instead."""
    maps = _userns_maps(spec, host)
    if maps is None or maps.maps_gid(0) or not maps.gids:
        return "0 0"
    first = maps.gids[0][0]
    return f"{first} {first}"


def cgroups_path(cid: str, cgroup_v2: bool, parent: str | None = None) -> str:
    """Where the container's cgroup goes.

    v1: relative `podpy-<cid>`, i.e. under the engine's own cgroup in each hierarchy (what runc does
    with a relative path): a limit placed on whoever runs podpy also bounds its containers. v2: the
    no-internal-processes rule forbids enabling controllers below a cgroup that holds processes, so
    containers go to an absolute `/podpy/podpy-<cid>` there. An explicit parent (--cgroup-parent) wins.
    """
    if parent:
        return f"{parent.rstrip('/')}/podpy-{cid}"
    return f"/podpy/podpy-{cid}" if cgroup_v2 else f"podpy-{cid}"



# --- users: -u against the image's /etc/passwd and /etc/group ------------------------------------


def _table(text: str | None, fields: int) -> list[list[str]]:
    rows = []
    for line in (text or "").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(":")
        rows.append(parts + [""] * (fields - len(parts)))
    return rows


def _id(text: str, what: str) -> int:
    value = int(text)
    if not 0 <= value <= 0xFFFFFFFE:
        raise InvalidArgument(f"{what} {text} out of range")
    return value


def resolve_user(user: str, passwd: str | None, group: str | None) -> ExecUser:
    """Docker's `-u` rules: name|uid[:name|gid]; a numeric uid need not exist in /etc/passwd."""
    name, _, grp = (user or "0").partition(":")
    users = _table(passwd, 7)
    if name.isdigit():
        uid = _id(name, "uid")
        entry = next((u for u in users if u[2] == str(uid)), None)
    else:
        entry = next((u for u in users if u[0] == name), None)
        if entry is None:
            raise InvalidArgument(f"unable to find user {name}: no matching entries in passwd file")
        uid = _id(entry[2], "uid")
    groups = _table(group, 4)
    if grp.isdigit():
        gid = _id(grp, "gid")
    elif grp:
        found = next((g for g in groups if g[0] == grp), None)
        if found is None:
            raise InvalidArgument(f"unable to find group {grp}: no matching entries in group file")
        gid = _id(found[2], "gid")
    else:
        gid = _id(entry[3], "gid") if entry and entry[3].isdigit() else 0
    extra = [gid]
    if entry is not None:
        for g in groups:
            if entry[0] in g[3].split(",") and g[2].isdigit() and int(g[2]) not in extra:
                extra.append(int(g[2]))
    home = entry[5] if entry and entry[5] else "/"
    return ExecUser(uid, gid, tuple(extra), home)


def add_groups(user: ExecUser, names: tuple[str, ...], group: str | None) -> ExecUser:
    """--group-add: gids as given, names looked up in the image's /etc/group (keep-groups is not a group)."""
    extra = list(user.additional_gids)
    rows = _table(group, 4)
    for name in names:
        if name == "keep-groups":
            continue
        if name.isdigit():
            gid = _id(name, "gid")
        else:
            found = next((g for g in rows if g[0] == name), None)
            if found is None or not found[2].isdigit():
                raise InvalidArgument(f"unable to find group {name}: no matching entries in group file")
            gid = int(found[2])
        if gid not in extra:
            extra.append(gid)
    return ExecUser(user.uid, user.gid, tuple(extra), user.home)


# --- rootless id mappings -------------------------------------------------------------------------


def subid_ranges(text: str, name: str, uid: int) -> list[tuple[int, int]]:
    """(start, count) entries of /etc/subuid or /etc/subgid for a user given by name or uid."""
    ranges = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in (name, str(uid)) and parts[1].isdigit() and parts[2].isdigit():
            ranges.append((int(parts[1]), int(parts[2])))
    return ranges


def id_maps(userns: str, own: int, ranges: list[tuple[int, int]]) -> tuple[tuple[int, int, int], ...]:
    """One id column: own id as root (or as itself with keep-id), the subordinate ranges after it."""
    if userns == "keep-id":
        if not ranges:
            return ((own, own, 1),)
        start, count = ranges[0]
        below = min(own, count)
        maps = [(0, start, below)] if below else []
        maps.append((own, own, 1))
        if count > below:
            maps.append((own + 1, start + below, count - below))
        return tuple(maps)
    maps = [(0, own, 1)]
    nxt = 1
    for start, count in ranges:
        maps.append((nxt, start, count))
        nxt += count
    return tuple(maps)


def host_id_maps(userns: str, uid: int, gid: int) -> IdMaps:
    """Mappings for this user from /etc/subuid and /etc/subgid; a single-id map without entries (or
    without newuidmap/newgidmap to install them)."""
    import pwd
    import shutil

    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)

    def ranges(path: str) -> list[tuple[int, int]]:
        try:
            return subid_ranges(Path(path).read_text(), name, uid)
        except OSError:
            return []

    usable = shutil.which("newuidmap") and shutil.which("newgidmap")
    subu, subg = (ranges("/etc/subuid"), ranges("/etc/subgid")) if usable else ([], [])
    if not subu or not subg:
        subu = subg = []
    return IdMaps(id_maps(userns, uid, subu), id_maps(userns, gid, subg))
