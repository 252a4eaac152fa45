"""ContainerSpec: everything needed to run one container, as a frozen value.

The CLI builds it from flags merged with the image config; specgen turns it into an OCI config.json.
Mapping fields (annotations, labels, sysctls, resources) are plain dicts: the spec is frozen but not
hashable.
"""

from __future__ import annotations

from podpy.engine.spec_merge import merge_command, merge_env  # noqa: F401 - re-exported: callers import them here
from podpy.errors import InvalidArgument
from podpy.record import field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

NETWORK_MODES = ("none", "host", "private", "bridge", "pasta", "slirp4netns")  # bridge: in a pinned netns
USERNS_MODES = ("", "host", "keep-id")
PROXY_VARS = ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY",
              "NO_PROXY")  # the host's, passed on by --http-proxy (Podman's default)


@record(frozen=True)
class Mount:
    """One OCI mount entry (bind, tmpfs, volume already resolved to a bind, ...)."""

    destination: str
    type: str = "bind"
    source: str = ""
    options: tuple[str, ...] = ()

    def to_oci(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "type": self.type,
            "source": self.source or self.type,
            "options": list(self.options),
        }


@record(frozen=True)
class Rlimit:
    """`--ulimit name=soft:hard`; name without the RLIMIT_ prefix, lower case ok."""

    name: str
    soft: int
    hard: int

    def to_oci(self) -> dict[str, Any]:
        name = self.name.upper()
        return {"type": name if name.startswith("RLIMIT_") else f"RLIMIT_{name}", "soft": self.soft, "hard": self.hard}


@record(frozen=True, lean_init=True)
class ContainerSpec:
    """Image config merged with run flags. `args` is final (entrypoint + cmd)."""

    args: tuple[str, ...]
    env: tuple[str, ...] = ()  # "KEY=VALUE", image env first then -e (later wins)
    cwd: str = "/"
    user: str = ""  # -u: name|uid|uid:gid|name:group ("" = the image user or root)
    hostname: str = ""  # "" = the short container ID (or the host's with --network host)
    domainname: str = ""
    terminal: bool = False
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    devices: tuple[dict[str, Any], ...] = ()  # --device: linux.devices entries + "access", "hostPath"
    no_new_privileges: bool = False
    seccomp_profile: str = ""  # "" = the default profile, "unconfined", or a profile file's path
    read_only: bool = False
    read_only_tmpfs: bool = True  # with read_only: tmpfs on /tmp, /var/tmp, /run (podman's default)
    network: str = "private"  # none | host | private | bridge | ns:<path of a prepared netns>
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # bridge: name -> {aliases, ip, mac}
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    add_hosts: tuple[tuple[str, str], ...] = ()  # --add-host (name, ip)
    ports: tuple[dict[str, Any], ...] = ()  # -p/-P: {host_ip, host_port (0: any), container_port, protocol}
    mounts: tuple[Mount, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    rlimits: tuple[Rlimit, ...] = ()
    sysctls: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)  # OCI linux.resources, passed through
    shm_size: int = 64 * 1024 * 1024
    init: bool = False  # run `init_path` as pid 1 in front of args (--init)
    userns: str = ""  # "" (rootless: own uid as root + subuids) | host | keep-id
    umask: int | None = None
    oom_score_adj: int | None = None
    log: dict[str, Any] = field(default_factory=dict)  # a supervisor.logfile.LogConfig as JSON
    pod: str = ""  # the pod's ID (engine.pods): it shares the infra container's namespaces
    ipc: str = ""  # "" = a new IPC namespace, "host", or the path of one to join (a pod's, --ipc)
    uts: str = ""  # likewise for UTS
    pid: str = ""  # likewise for PID (--pid)
    cgroupns: str = ""  # "" = private on cgroup v2 (host on v1), "private", "host", or a path
    group_add: tuple[str, ...] = ()  # --group-add: names (of the image's /etc/group), gids, keep-groups
    device_cgroup_rules: tuple[dict[str, Any], ...] = ()  # --device-cgroup-rule: OCI resources.devices
    cgroup_parent: str = ""
    tz: str = ""  # --tz as given (the host's zone file is a mount on /etc/localtime)
    unsetenv: tuple[str, ...] = ()  # default variables (PATH, HOSTNAME, HOME, TERM) not to add
    unsetenv_all: bool = False
    passwd: bool = True  # add an /etc/passwd entry for a --user the image does not know
    passwd_entry: str = ""  # its template ($USERNAME, $UID, $GID, $NAME, $HOME)
    no_hosts: bool = False  # --no-hosts: the image's /etc/hosts
    chrootdirs: tuple[str, ...] = ()  # --chrootdirs: /etc/hosts & co. are mounted under each too
    timeout: int = 0  # --timeout: seconds before the supervisor kills the container
    health_on_failure: str = ""  # --health-on-failure: none, kill, stop or restart
    personality: str = ""  # --personality: LINUX or LINUX32 (OCI linux.personality.domain)
    hostusers: tuple[str, ...] = ()  # --hostuser: host accounts added to the container's /etc/passwd
    uidmap: tuple[tuple[int, int, int], ...] = ()  # --uidmap & co. (root): (container, host, size) of a
    gidmap: tuple[tuple[int, int, int], ...] = ()  # new user namespace over an ID-mapped rootfs

    def __post_init__(self) -> None:
        if not self.args:
            raise InvalidArgument("no command specified")
        net = self.network
        if net not in NETWORK_MODES and not net.startswith(("ns:", "container:")):
            raise InvalidArgument(f"unsupported network mode {net!r}")
        if self.userns not in USERNS_MODES:
            raise InvalidArgument(f"unsupported user namespace mode {self.userns!r}")
        if (self.uidmap or self.gidmap) and self.userns:
            raise InvalidArgument("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")

