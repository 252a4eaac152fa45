"""The flags of `run` and `create`, as data: run.py builds the typer commands from this table and
fastpath.py parses `run` with it without importing typer (run is the command whose latency matters).
No typer import here."""

from __future__ import annotations

from podpy.record import record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

BOOL, STR, LIST, INT = "bool", "str", "list", "int"


@record(frozen=True)
class Flag:
    """One run/create flag: its declarations, kind and help (the typer command and the fast parser share it)."""

    field: str  # the keyword the handler receives
    decls: tuple[str, ...]
    kind: str
    help: str
    default: Any = None
    run_only: bool = False  # not a `create` flag

    @property
    def annotation(self) -> Any:
        return {BOOL: bool, STR: str | None, LIST: list[str] | None, INT: int | None}[self.kind]


# Resource limits: strings, checked by podpy.engine.resources (errors naming the flag, exit 125).
RESOURCE_FLAGS = (
    Flag("memory", ("--memory", "-m"), STR, "Memory limit (format: <number>[<unit>], unit b, k, m or g)"),
    Flag("memory_swap", ("--memory-swap",), STR, "Memory plus swap limit (-1: unlimited swap)"),
    Flag("memory_reservation", ("--memory-reservation",), STR, "Memory soft limit"),
    Flag("cpus", ("--cpus",), STR, "Number of CPUs (e.g. 0.5)"),
    Flag("cpu_shares", ("--cpu-shares", "-c"), STR, "CPU shares (relative weight)"),
    Flag("cpu_quota", ("--cpu-quota",), STR, "Limit the CPU CFS quota (microseconds per period)"),
    Flag("cpu_period", ("--cpu-period",), STR, "Limit the CPU CFS period (microseconds)"),
    Flag("cpuset_cpus", ("--cpuset-cpus",), STR, "CPUs in which to allow execution (0-3, 0,1)"),
    Flag("cpuset_mems", ("--cpuset-mems",), STR, "Memory nodes in which to allow execution (0-3, 0,1)"),
    Flag("pids_limit", ("--pids-limit",), STR, "Tune the container's pids limit (-1: unlimited)"),
    Flag("oom_kill_disable", ("--oom-kill-disable",), BOOL, "Disable the OOM killer", False),
)

# Block I/O throttling and swappiness (engine.create_more: into linux.resources).
IO_FLAGS = (
    Flag("memory_swappiness", ("--memory-swappiness",), INT, "Tune the container's memory swappiness (0 to 100, -1: the system's)"),
    Flag("device_read_bps", ("--device-read-bps",), LIST, "Limit the read rate from a device: DEVICE:RATE[b|k|m|g]"),
    Flag("device_write_bps", ("--device-write-bps",), LIST, "Limit the write rate to a device: DEVICE:RATE[b|k|m|g]"),
    Flag("device_read_iops", ("--device-read-iops",), LIST, "Limit read operations per second from a device: DEVICE:N"),
    Flag("device_write_iops", ("--device-write-iops",), LIST, "Limit write operations per second to a device: DEVICE:N"),
    Flag("cgroup_conf", ("--cgroup-conf",), LIST, "Set a cgroup v2 file of the container: KEY=VALUE (e.g. memory.high=1g)"),
)

# Restart policy and health check (engine.container_restart, engine.container_health).
HEALTH_FLAGS = (
    Flag("restart", ("--restart",), STR, "Restart policy: no, on-failure[:max-retries], always, unless-stopped"),
    Flag("health_cmd", ("--health-cmd",), STR, "Command to run to check health (a shell command or a JSON array)"),
    Flag("health_interval", ("--health-interval",), STR, "Time between running the check (ms|s|m|h) (default 30s)"),
    Flag("health_timeout", ("--health-timeout",), STR, "Maximum time to allow one check to run (default 30s)"),
    Flag("health_start_period", ("--health-start-period",), STR,
         "Start period for the container to initialize before failures count (default 0s)"),
    Flag("health_retries", ("--health-retries",), INT, "Consecutive failures needed to report unhealthy (default 3)"),
    Flag("no_healthcheck", ("--no-healthcheck",), BOOL, "Disable any container-specified HEALTHCHECK", False),
)
HEALTH_ACTION = Flag("health_on_failure", ("--health-on-failure",), STR,
                     "Action once unhealthy: none (default), kill, restart or stop")  # fmt: skip

# Logging (engine.log_options; defaults from containers.conf).
LOG_FLAGS = (
    Flag("log_driver", ("--log-driver",), STR, "Logging driver: k8s-file (json-file), none, passthrough"),
    Flag("log_opt", ("--log-opt",), LIST, "Logging driver options: max-size=10m, max-file=3, path=FILE, tag=T"),
)

# Networks (engine.networks); --network repeats to join several networks.
NETWORK_FLAGS = (
    Flag("network", ("--network", "--net"), LIST,
         "Connect to a network: bridge, NAME, none, host, private, container:ID or ns:PATH (repeatable)"),
    Flag("network_alias", ("--network-alias",), LIST, "Add a network-scoped alias for the container"),
    Flag("ip", ("--ip",), STR, "IPv4 address on the network (e.g. 10.88.0.20)"),
    Flag("ip6", ("--ip6",), STR, "IPv6 address on the network (e.g. fd00:1::20)"),
    Flag("mac_address", ("--mac-address",), STR, "Container MAC address (e.g. 92:d0:c6:0a:29:33)"),
    Flag("dns", ("--dns",), LIST, "Set custom DNS servers"),
    Flag("dns_search", ("--dns-search",), LIST, "Set custom DNS search domains"),
    Flag("dns_option", ("--dns-option", "--dns-opt"), LIST, "Set DNS options"),
    Flag("add_host", ("--add-host",), LIST, "Add a custom host-to-IP mapping (host:ip)"),
    Flag("domainname", ("--domainname",), STR, "Container NIS domain name"),
    Flag("publish", ("--publish", "-p"), LIST, "Publish a container's port: [ip:][hostPort:]containerPort[/proto]"),
    Flag("publish_all", ("--publish-all", "-P"), BOOL, "Publish all exposed ports to random host ports", False),
    Flag("expose", ("--expose",), LIST, "Expose a port or a range of ports (for -P)"),
)

# cgroup placement, block I/O weights, real-time CPU, init system (engine.create_misc).
MISC_FLAGS = (
    Flag("blkio_weight", ("--blkio-weight",), STR, "Block IO relative weight (10 to 1000)"),
    Flag("blkio_weight_device", ("--blkio-weight-device",), LIST, "Block IO relative device weight: DEVICE:WEIGHT"),
    Flag("cpu_rt_period", ("--cpu-rt-period",), STR, "Limit the CPU real-time period in microseconds (cgroup v1)"),
    Flag("cpu_rt_runtime", ("--cpu-rt-runtime",), STR, "Limit the CPU real-time runtime in microseconds (cgroup v1)"),
    Flag("cgroups", ("--cgroups",), STR, "Control cgroup creation: enabled (default), no-conmon or disabled"),
    Flag("systemd", ("--systemd",), STR, "Systemd mode: true (default; none here unless the command is init), false, always"),
    Flag("sdnotify", ("--sdnotify",), STR, "Where the READY=1 notification comes from: conmon (default), container, ignore"),
    Flag("chrootdirs", ("--chrootdirs",), LIST, "A chroot directory in the container: /etc/hosts & co. are mounted there too"),
    Flag("secret", ("--secret",), LIST, "Add a secret: NAME[,type=mount|env][,target=T] (mount: /run/secrets/NAME)"),
)

# User namespace ID mappings (engine.idmaps; root: over an ID-mapped rootfs). Also `pod create`'s.
IDMAP_FLAGS = (
    Flag("uidmap", ("--uidmap",), LIST, "UID map of a new user namespace: CONTAINER_UID:HOST_UID:AMOUNT (repeatable)"),
    Flag("gidmap", ("--gidmap",), LIST, "GID map of a new user namespace: CONTAINER_GID:HOST_GID:AMOUNT (repeatable)"),
    Flag("subuidname", ("--subuidname",), STR, "Map the UIDs of this name's ranges in /etc/subuid"),
    Flag("subgidname", ("--subgidname",), STR, "Map the GIDs of this name's ranges in /etc/subgid"),
)

# Namespaces, kernel settings and process details (engine.create_more applies them to the spec).
MORE_FLAGS = (
    Flag("ipc", ("--ipc",), STR, "IPC namespace: private, shareable, host, container:ID or ns:PATH"),
    Flag("pid", ("--pid",), STR, "PID namespace: private, host, container:ID or ns:PATH"),
    Flag("uts", ("--uts",), STR, "UTS namespace: private, host, container:ID or ns:PATH"),
    Flag("cgroupns", ("--cgroupns",), STR, "cgroup namespace: private, host, container:ID or ns:PATH"),
    Flag("sysctl", ("--sysctl",), LIST, "Namespaced kernel parameters (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)"),
    Flag("shm_size", ("--shm-size",), STR, "Size of /dev/shm (<number>[<unit>], default 64m)"),
    Flag("ulimit", ("--ulimit",), LIST, "Ulimit options: NAME=SOFT[:HARD] (e.g. nofile=1024:2048)"),
    Flag("group_add", ("--group-add",), LIST, "Additional groups of the container process (names, gids, keep-groups)"),
    Flag("device_cgroup_rule", ("--device-cgroup-rule",), LIST, "Add a rule to the cgroup allowed devices list ('c 42:* rmw')"),
    Flag("cgroup_parent", ("--cgroup-parent",), STR, "Parent cgroup of the container"),
    Flag("oom_score_adj", ("--oom-score-adj",), STR, "Tune the host's OOM preferences (-1000 to 1000)"),
    Flag("umask", ("--umask",), STR, "Umask of the container process (default 0022)"),
    Flag("tz", ("--tz",), STR, "Timezone in the container: local, or an Area/City of /usr/share/zoneinfo"),
    Flag("env_host", ("--env-host",), BOOL, "Pass every host environment variable into the container", False),
    Flag("http_proxy", ("--http-proxy",), BOOL, "Pass the host's proxy environment variables", True),
    Flag("unsetenv", ("--unsetenv",), LIST, "Unset a default environment variable (PATH, HOSTNAME, TERM, HOME...)"),
    Flag("unsetenv_all", ("--unsetenv-all",), BOOL, "Unset every default environment variable (image and podpy's)", False),
    Flag("annotation", ("--annotation",), LIST, "Add an annotation to the container (KEY=VALUE)"),
    Flag("label_file", ("--label-file",), LIST, "Read labels from a file of KEY=VALUE lines"),
    Flag("read_only_tmpfs", ("--read-only-tmpfs",), BOOL, "With --read-only, mount tmpfs on /run, /tmp and /var/tmp", True),
    Flag("passwd", ("--passwd",), BOOL, "Add an /etc/passwd entry for a --user the image does not know", True),
    Flag("passwd_entry", ("--passwd-entry",), STR, "The /etc/passwd entry to add ($USERNAME, $UID, $GID, $NAME, $HOME)"),
    Flag("no_hosts", ("--no-hosts",), BOOL, "Do not create /etc/hosts: use the image's", False),
    Flag("init_path", ("--init-path",), STR, "Path of the init binary for --init"),
    Flag("image_volume", ("--image-volume",), STR, "The image's VOLUMEs: bind (anonymous volumes), tmpfs or ignore"),
    Flag("platform", ("--platform",), STR, "Platform of the image (OS/ARCH[/VARIANT]; this host's only)"),
    Flag("arch", ("--arch",), STR, "Architecture of the image (this host's only)"),
    Flag("os", ("--os",), STR, "OS of the image (linux only)"),
    Flag("variant", ("--variant",), STR, "Architecture variant of the image"),
    Flag("timeout", ("--timeout",), INT, "Seconds the container may run before it is killed (0: no limit)"),
    HEALTH_ACTION,
    Flag("personality", ("--personality",), STR, "Execution domain: LINUX or LINUX32"),
    Flag("hostuser", ("--hostuser",), LIST, "Add a host user account to the container's /etc/passwd"),
    *IDMAP_FLAGS,
    Flag("env_merge", ("--env-merge",), LIST, "KEY=VALUE where ${KEY} (or $KEY) is the image's value"),
    Flag("seccomp_policy", ("--seccomp-policy",), STR, "Seccomp profile selection: default (the only policy)"),
    Flag("disable_content_trust", ("--disable-content-trust",), BOOL, "Docker's option: a no-op, as in Podman", False),
    *MISC_FLAGS,
)

# Files and other containers around the container (engine.create_more; the CLI for --replace).
LIFECYCLE_FLAGS = (
    Flag("cidfile", ("--cidfile",), STR, "Write the container ID to the file"),
    Flag("pidfile", ("--pidfile",), STR, "Write the container process ID to the file"),
    Flag("conmon_pidfile", ("--conmon-pidfile",), STR, "Write the supervisor's process ID to the file"),
    Flag("requires", ("--requires",), LIST, "Containers that must be started before this one"),
    Flag("replace", ("--replace",), BOOL, "Replace a container of the same name", False),
    Flag("pod_id_file", ("--pod-id-file",), STR, "Read the pod ID from the file"),
    Flag("quiet", ("--quiet", "-q"), BOOL, "Suppress the output of an implicit pull", False),
    Flag("authfile", ("--authfile",), STR, "Path of the authentication file (for an implicit pull)"),
    Flag("tls_verify", ("--tls-verify",), BOOL, "Require HTTPS and verify certificates when pulling"),
    Flag("attach", ("--attach", "-a"), LIST, "Attach to STDIN, STDOUT and/or STDERR"),
    Flag("init_ctr", ("--init-ctr",), STR, "(pods only) an init container: always or once (not supported by podpy's pods)",
         None, False),
    Flag("preserve_fds", ("--preserve-fds",), INT, "Pass N more file descriptors (3 to 3+N-1) into the container",
         None, True),
    Flag("rmi", ("--rmi",), BOOL, "Remove the image after the container exits, unless in use (implies --rm)", False, True),
)

FLAGS = (
    Flag("detach", ("--detach", "-d"), BOOL, "Run in the background and print the container ID", False, True),
    Flag(
        "sig_proxy",
        ("--sig-proxy",),
        BOOL,
        "Proxy received signals to the container (non-TTY mode only)",
        True,
        True,
    ),  # fmt: skip
    Flag("interactive", ("--interactive", "-i"), BOOL, "Keep STDIN open", False),
    Flag("tty", ("--tty", "-t"), BOOL, "Allocate a pseudo-TTY", False),
    Flag("rm", ("--rm",), BOOL, "Remove the container when it exits", False),
    Flag("name", ("--name",), STR, "Assign a name to the container"),
    Flag("env", ("--env", "-e"), LIST, "Set environment variables (KEY=VALUE, or KEY to pass the host's)"),
    Flag("env_file", ("--env-file",), LIST, "Read environment variables from a file"),
    Flag("workdir", ("--workdir", "-w"), STR, "Working directory inside the container"),
    Flag("user", ("--user", "-u"), STR, "Username or UID[:GID]"),
    Flag(
        "entrypoint", ("--entrypoint",), STR, "Overwrite the image's ENTRYPOINT (a command or a JSON array)"
    ),
    Flag("hostname", ("--hostname", "-h"), STR, "Container host name"),
    Flag("label", ("--label", "-l"), LIST, "Set metadata (KEY=VALUE)"),
    Flag("pod", ("--pod",), STR, "Run the container in an existing pod (new:NAME creates the pod)"),
    Flag("pull", ("--pull",), STR, "Pull image policy: missing, always, never, newer", "missing"),
    Flag("detach_keys", ("--detach-keys",), STR, "Key sequence for detaching (default ctrl-p,ctrl-q)"),
    Flag("stop_signal", ("--stop-signal",), STR, "Signal to stop the container"),
    Flag("stop_timeout", ("--stop-timeout",), INT, "Seconds to wait for the stop signal before killing"),
    Flag(
        "init", ("--init",), BOOL, "Run an init inside the container that forwards signals and reaps", False
    ),
    Flag("rootfs", ("--rootfs",), BOOL, "IMAGE is a root filesystem directory, not an image", False),
    Flag("privileged", ("--privileged",), BOOL, "Give extended privileges to the container", False),
    Flag("cap_add", ("--cap-add",), LIST, "Add Linux capabilities"),
    Flag("cap_drop", ("--cap-drop",), LIST, "Drop Linux capabilities"),
    Flag("device", ("--device",), LIST, "Add a host device: HOST[:CONTAINER][:PERMISSIONS], permissions of r, w, m"),
    Flag("security_opt", ("--security-opt",), LIST, "Security options (no-new-privileges)"),
    Flag("userns", ("--userns",), STR, "User namespace mode (keep-id)"),
    Flag("volume", ("--volume", "-v"), LIST, "Bind mount a volume: [SRC:]DEST[:OPTIONS]"),
    Flag("mount", ("--mount",), LIST, "Attach a filesystem mount: type=bind|volume|tmpfs,src=...,dst=..."),
    Flag("tmpfs", ("--tmpfs",), LIST, "Mount a tmpfs: DEST[:OPTIONS]"),
    Flag("volumes_from", ("--volumes-from",), LIST, "Mount the volumes of another container: CTR[:ro|rw]"),
    Flag("read_only", ("--read-only",), BOOL, "Mount the container's root filesystem read-only", False),
    *HEALTH_FLAGS,
    *RESOURCE_FLAGS,
    *LOG_FLAGS,
    *NETWORK_FLAGS,
    *MORE_FLAGS,
    *IO_FLAGS,
    *LIFECYCLE_FLAGS,
)

BY_DECL = {d: f for f in FLAGS for d in f.decls}
CREATE_BY_DECL = {d: f for d, f in BY_DECL.items() if not f.run_only}


def defaults(run: bool = True) -> dict[str, Any]:
    return {f.field: f.default for f in FLAGS if run or not f.run_only}


TRUE = ("1", "t", "T", "TRUE", "true", "True")  # Go's strconv.ParseBool, as pflag reads `--flag=VALUE`
FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_bool(text: str) -> bool | None:
    return True if text in TRUE else False if text in FALSE else None


class NotHandled(Exception):
    """The fast parser cannot take these arguments: typer will (and print help or errors)."""


def parse(args: list[str], run: bool = True) -> tuple[dict[str, Any], str, list[str]]:
    """`[flags] IMAGE [COMMAND...]` -> (flag values, image, command). Flags stop at the image.
    run=False: `create`'s flags (a run-only flag is not handled)."""
    kw = defaults(run)
    decls = BY_DECL if run else CREATE_BY_DECL
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        i = _one(args, i, kw, decls)
    if i >= len(args):
        raise NotHandled
    return kw, args[i], args[i + 1 :]


def _one(args: list[str], i: int, kw: dict[str, Any], decls: dict[str, Flag]) -> int:
    arg = args[i]
    if arg.startswith("--"):
        name, eq, value = arg.partition("=")
        return _set(decls.get(name), value if eq else None, args, i, kw)
    rest = arg[1:]  # as pflag: -it, -dit, -d=false, -dt=false (t off), -eFOO=1, -e=FOO=1, -e FOO=1
    while rest:
        flag = decls.get("-" + rest[0])
        if flag is None:
            raise NotHandled
        if len(rest) > 2 and rest[1] == "=":
            return _set(flag, rest[2:], args, i, kw)
        if flag.kind != BOOL:
            return _set(flag, rest[1:] or None, args, i, kw)
        kw[flag.field] = True
        rest = rest[1:]
    return i + 1


def _set(flag: Flag | None, value: str | None, args: list[str], i: int, kw: dict[str, Any]) -> int:
    if flag is None:
        raise NotHandled
    if flag.kind == BOOL:
        parsed = True if value is None else parse_bool(value)
        if parsed is None:
            raise NotHandled
        kw[flag.field] = parsed
        return i + 1
    if value is None:
        if i + 1 >= len(args):
            raise NotHandled
        value, i = args[i + 1], i + 1
    if flag.kind == LIST:
        kw[flag.field] = [*(kw[flag.field] or []), value]
    elif flag.kind == INT:
        if not value.lstrip("-").isdigit():
            raise NotHandled
        kw[flag.field] = int(value)
    else:
        kw[flag.field] = value
    return i + 1
