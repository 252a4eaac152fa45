"""Pure parts of `create`: flags merged with the image config into a ContainerSpec and record fields."""

from __future__ import annotations

import json
import os
from collections import namedtuple
from pathlib import Path

from podpy.engine.signals import parse_signal as parse_signal  # re-exported: callers import it from here
from podpy.engine.signals import signal_name as signal_name
from podpy.engine.spec import PROXY_VARS, ContainerSpec, merge_command, merge_env
from podpy.errors import InvalidArgument
from podpy.record import asdict, field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up (~3 ms on create)
if TYPE_CHECKING:
    from typing import Any

SECURITY_OPTS_HELP = "no-new-privileges, seccomp=unconfined|PROFILE.json, label=disable, apparmor=unconfined"


class SecurityOptions(namedtuple("SecurityOptions", ("no_new_privileges", "seccomp"), defaults=(False, ""))):  # noqa: PYI024
    """What --security-opt asks for. label/apparmor options are accepted as no-ops: podpy applies
    neither SELinux labels nor AppArmor profiles, so disabling them changes nothing. (A namedtuple:
    a frozen dataclass costs 0.5 ms to define on `run`'s path; typing.NamedTuple would import typing.)"""

    __slots__ = ()
    no_new_privileges: bool
    seccomp: str  # "" = the default profile, "unconfined", or the absolute path of a profile


@record(lean_init=True)
class CreateOptions:
    """What `run`/`create` flags ask for (the CLI fills it; defaults are Docker's)."""

    image: str  # a reference, or a directory with rootfs=True
    command: list[str] = field(default_factory=list)
    name: str = ""
    entrypoint: str | None = None  # --entrypoint: a JSON array or one executable ("" clears)
    env: list[str] = field(default_factory=list)
    env_files: list[str] = field(default_factory=list)
    workdir: str = ""
    user: str = ""
    hostname: str = ""
    labels: list[str] = field(default_factory=list)
    tty: bool = False
    interactive: bool = False
    auto_remove: bool = False
    pull: str = "missing"
    detach_keys: str | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None
    network: str = ""  # one mode (API callers); the CLI fills net["network"] (a list)
    net: dict[str, Any] = field(default_factory=dict)  # raw network flags (cli.run_flags.NETWORK_FLAGS)
    init: bool = False
    rootfs: bool = False
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)  # --device
    security_opt: list[str] = field(default_factory=list)
    userns: str = ""
    volumes: list[str] = field(default_factory=list)  # -v
    mounts: list[str] = field(default_factory=list)  # --mount
    tmpfs: list[str] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)
    read_only: bool = False
    resources: dict[str, Any] = field(default_factory=dict)  # raw resource flags (engine.resources)
    restart: str | None = None  # --restart (engine.container_restart)
    health_cmd: str | None = None  # --health-* (engine.container_health): durations as typed
    health_interval: str | None = None
    health_timeout: str | None = None
    health_start_period: str | None = None
    health_retries: int | None = None
    no_healthcheck: bool = False
    log_driver: str | None = None  # --log-driver / --log-opt (engine.log_options)
    log_opt: list[str] | None = None
    pod: str = ""  # --pod NAME|ID (new:NAME is made by the CLI first)
    image_volumes: bool = True  # the image's VOLUMEs become anonymous volumes (not for build steps)
    more: dict[str, Any] = field(default_factory=dict)  # the rarer flags, raw (engine.create_more)

    @property
    def wants_mounts(self) -> bool:
        return bool(self.volumes or self.mounts or self.tmpfs or self.volumes_from)


def _env_item(item: str) -> str | None:
    """`KEY=V` as is; a bare `KEY` takes the host's value (and is dropped when unset), like Docker."""
    if "=" in item:
        return item
    return f"{item}={os.environ[item]}" if item in os.environ else None


def read_env_file(path: str) -> list[str]:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise InvalidArgument(f"reading env file {path}: {e.strerror}") from None
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            item = _env_item(line.removeprefix("export ").strip())
            if item is not None:
                out.append(item)
    return out


def parse_labels(items: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid label {item!r}")
        labels[key] = value
    return labels


def parse_entrypoint(value: str | None) -> list[str] | None:
    if value is None:
        return None
    if value.strip().startswith("["):
        try:
            ep = json.loads(value)
        except ValueError:
            raise InvalidArgument(f"invalid --entrypoint {value!r}: not a JSON array") from None
        if not isinstance(ep, list) or not all(isinstance(x, str) for x in ep):
            raise InvalidArgument(f"invalid --entrypoint {value!r}")
        return ep
    return [value] if value else []


def _split_opt(opt: str) -> tuple[str, str]:
    """`key=value`, or Docker's older `key:value`."""
    if "=" in opt:
        key, _, value = opt.partition("=")
    elif ":" in opt:
        key, _, value = opt.partition(":")
    else:
        key, value = opt, ""
    return key.strip(), value.strip()


def _seccomp_opt(value: str) -> str:
    """unconfined, Docker's `builtin` (the default profile), or a profile file checked now."""
    if value in ("unconfined", "builtin"):
        return "" if value == "builtin" else value
    path = os.path.abspath(value)
    from podpy.runtime.seccomp.profile import check_file

    check_file(path)
    return path


def _host_has(what: str) -> bool:
    probe = {"apparmor": "/sys/module/apparmor/parameters/enabled", "selinux": "/sys/fs/selinux/enforce"}[what]
    try:
        text = Path(probe).read_text().strip()
    except OSError:
        return False
    return text.startswith("Y") if what == "apparmor" else True


def parse_security_opts(opts: list[str]) -> SecurityOptions:
    nnp, seccomp = False, ""
    for opt in opts:
        key, value = _split_opt(opt)
        if key == "no-new-privileges" and value in ("", "true", "false"):
            nnp = value != "false"
        elif key == "seccomp" and value:
            seccomp = _seccomp_opt(value)
        elif key == "label" and value:
            if value != "disable" and _host_has("selinux"):
                raise InvalidArgument(f"--security-opt {opt}: SELinux labels are not supported by podpy")
        elif key == "apparmor" and value:
            if value != "unconfined":
                why = "AppArmor profiles are not supported by podpy" if _host_has("apparmor") else \
                    "AppArmor is not enabled on this system"  # fmt: skip
                raise InvalidArgument(f"--security-opt {opt}: {why}")
        else:
            raise InvalidArgument(f"invalid --security-opt {opt!r} (supported: {SECURITY_OPTS_HELP})")
    return SecurityOptions(nnp, seccomp)


def display_security_opts(opts: list[str], seccomp: str) -> list[str]:
    """inspect's HostConfig.SecurityOpt: the options as key=value, a profile by its absolute path."""
    out = []
    for opt in opts:
        key, value = _split_opt(opt)
        if key == "seccomp" and value not in ("unconfined", "builtin"):
            value = seccomp or value
        out.append(f"{key}={value}" if value else key)
    return out


def build_spec(opts: CreateOptions, image_cfg: dict[str, Any], conf_cache: Path | None = None) -> ContainerSpec:
    """Docker's merge rules: flags override the image config, env and labels merge. `conf_cache`: where
    the parsed containers.conf is kept (config.containers_conf)."""
    from podpy.config import containers_conf
    from podpy.engine.log_options import parse_log_config
    from podpy.engine.ulimits import default_rlimits

    ic = image_cfg or {}
    conf = containers_conf(conf_cache)
    entry = parse_entrypoint(opts.entrypoint)
    args = merge_command(ic.get("Entrypoint"), ic.get("Cmd"), entry, opts.command or None)
    if not args:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    env = [e for e in (_env_item(x) for x in opts.env) if e is not None]
    files = [e for f in opts.env_files for e in read_env_file(f)]
    image_env, host_env, file_labels = ic.get("Env") or [], [], {}
    if _env_flags(opts.more):  # --unsetenv, --env-host, --http-proxy, --env-merge, --label-file
        from podpy.engine import create_more as cm

        image_env, host_env = cm.image_env(opts.more, image_env), cm.env_layers(opts.more)
        file_labels = cm.read_label_files(opts.more.get("label_file") or [])
    labels = {**(ic.get("Labels") or {}), **file_labels, **parse_labels(opts.labels)}
    security = parse_security_opts(opts.security_opt)
    net = opts.net or {}
    published = publish_specs(net, ic)
    modes = list(net.get("network") or ([opts.network] if opts.network else []))
    network, networks = network_mode(modes or [default_network(published)], net)
    if published and network not in ("bridge", *ROOTLESS_MODES):
        raise InvalidArgument(f"cannot publish ports with network mode {network}")
    return ContainerSpec(
        args=args,
        env=merge_env(image_env, host_env, files, env),
        cwd=opts.workdir or ic.get("WorkingDir") or "/",
        user=opts.user or ic.get("User") or "",
        hostname=opts.hostname,
        domainname=net.get("domainname") or "",
        terminal=opts.tty,
        privileged=opts.privileged,
        cap_add=tuple(opts.cap_add),
        cap_drop=tuple(opts.cap_drop),
        devices=_devices(opts.devices),
        no_new_privileges=security.no_new_privileges,
        seccomp_profile=security.seccomp,
        network=network,
        networks=networks,
        dns=tuple(net.get("dns") or ()),
        dns_search=tuple(net.get("dns_search") or ()),
        dns_options=tuple(net.get("dns_option") or ()),
        add_hosts=tuple(parse_add_host(h) for h in net.get("add_host") or ()),
        ports=tuple(published),
        labels=labels,
        init=opts.init,
        pod=opts.pod,
        userns=opts.userns,
        read_only=opts.read_only,
        resources=_oci_resources(opts.resources),
        rlimits=default_rlimits(conf),
        log=asdict(parse_log_config(opts.log_driver, opts.log_opt or [], conf)),
    )


def _env_flags(more: dict[str, Any]) -> bool:
    """Whether engine.create_more has anything to add to the environment or labels (the common
    `run` has not: the module is not imported)."""
    if not more:
        return False
    if any(more.get(k) for k in ("unsetenv", "unsetenv_all", "env_host", "env_merge", "label_file")):
        return True
    return more.get("http_proxy", True) and any(k in os.environ for k in PROXY_VARS)


def _devices(args: list[str]) -> tuple[dict[str, Any], ...]:
    if not args:
        return ()
    from podpy.engine.host_devices import parse_device

    return tuple(d for arg in args for d in parse_device(arg))


ROOTLESS_MODES = ("pasta", "slirp4netns")
SIMPLE_MODES = ("none", "host", "private", *ROOTLESS_MODES)


def default_network(publishing: bool) -> str:
    """Docker's and Podman's default: the default bridge network as root; rootless, pasta (else
    slirp4netns). When neither can run: a private namespace (loopback only, the engine warns once),
    or with published ports pasta, refused at create with the cause."""
    if os.geteuid() == 0:
        return "bridge"
    from podpy.network.rootless import default_mode

    return default_mode() or ("pasta" if publishing else "private")


def network_mode(modes: list[str], net: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """--network values -> (spec.network, {network name: {aliases, ip, mac}}).

    A named network (Docker's `bridge` included) gives mode "bridge": the engine pins a namespace
    and attaches it to each network before the runtime starts."""
    named = [m for m in modes if m not in SIMPLE_MODES and not m.startswith(("ns:", "container:"))]
    if not named:
        if len(modes) > 1:
            raise InvalidArgument(f"cannot set multiple networks without user-defined networks: {', '.join(modes)}")
        if net.get("ip") or net.get("ip6") or net.get("mac_address") or net.get("network_alias"):
            raise InvalidArgument("--ip, --ip6, --mac-address and --network-alias need a bridge or user-defined network")
        return (modes[0] if modes else "private"), {}
    if len(named) != len(modes):
        raise InvalidArgument("cannot combine user-defined networks with none, host, private, container: or ns:")
    if len(named) > 1 and (net.get("ip") or net.get("ip6") or net.get("mac_address")):
        raise InvalidArgument("--ip, --ip6 and --mac-address can only be used with a single network")
    aliases = list(net.get("network_alias") or [])
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(named):
        opts = {"aliases": aliases, "ip": net.get("ip") or "" if i == 0 else "",
                "mac": net.get("mac_address") or "" if i == 0 else ""}  # fmt: skip
        if i == 0 and net.get("ip6"):
            opts["ip6"] = net["ip6"]
        out["podman" if name == "bridge" else name] = opts
    return "bridge", out


def publish_specs(net: dict[str, Any], image_cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """-p items, then with -P every exposed port (image EXPOSE and --expose) not already published."""
    if not (net.get("publish") or net.get("publish_all")):
        return []  # the common case: the ports module is not even imported
    from podpy.network.ports import parse_expose, parse_publish

    out = [p for item in net.get("publish") or [] for p in parse_publish(item)]
    if net.get("publish_all"):
        exposed = list((image_cfg.get("ExposedPorts") or {}).keys())
        exposed += [k for item in net.get("expose") or [] for k in parse_expose(item)]
        done = {f"{p['container_port']}/{p['protocol']}" for p in out}
        for key in dict.fromkeys(exposed):
            port, _, proto = key.partition("/")
            if key not in done and port.isdigit():
                out.append({"host_ip": "", "host_port": 0, "container_port": int(port), "protocol": proto or "tcp"})
    return out


def parse_add_host(item: str) -> tuple[str, str]:
    """`--add-host name:ip` (also name=ip; IPv6 addresses keep their colons)."""
    sep = "=" if "=" in item else ":"
    name, _, ip = item.partition(sep)
    if not name or not ip:
        raise InvalidArgument(f"invalid --add-host {item!r}: expected HOST:IP")
    return name, ip


def _oci_resources(flags: dict[str, Any]) -> dict[str, Any]:
    if not any(v not in (None, "", False) for v in flags.values()):
        return {}  # the common case: the resources module is not even imported
    from podpy.engine import resources

    r = resources.parse(flags)
    return {} if resources.ignored_here(r) else resources.to_oci(r)


def resources_notice(flags: dict[str, Any]) -> str | None:
    """The warning when resource flags were given but cannot apply on this host (rootless, cgroup v1)."""
    if not any(v not in (None, "", False) for v in flags.values()):
        return None
    from podpy.engine import resources

    return resources.IGNORED_V1_ROOTLESS if resources.ignored_here(resources.parse(flags)) else None


def resource_fields(flags: dict[str, Any]) -> dict[str, Any]:
    """What the record keeps of the resource flags (inspect's HostConfig), {} when none."""
    if not any(v not in (None, "", False) for v in flags.values()):
        return {}
    from podpy.engine import resources

    return resources.parse(flags).to_json()


def hosts_file(hostname: str, name: str, network: str, add_hosts: tuple[tuple[str, str], ...] = ()) -> str:
    extra = "".join(f"{ip}\t{host}\n" for host, ip in add_hosts)
    if network == "host":
        try:
            return Path("/etc/hosts").read_text() + extra
        except OSError:
            pass
    own = "" if network == "bridge" else f"127.0.1.1\t{hostname} {name}\n"  # bridge: its address, later
    return (
        "127.0.0.1\tlocalhost localhost.localdomain\n"
        "::1\tlocalhost localhost.localdomain ip6-localhost ip6-loopback\n"
        f"{own}{extra}"
    )


def resolv_conf(network: str, dns: tuple[str, ...] = (), search: tuple[str, ...] = (),
                options: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The host's, minus loopback resolvers unless the container shares the host's network;
    --dns, --dns-search, --dns-option replace their kind."""
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        lines = []
    if network != "host":
        lines = [x for x in lines if not (x.split()[:1] == ["nameserver"] and x.split()[1:2]
                                          and x.split()[1].startswith(("127.", "::1")))]  # fmt: skip
    for key, values in (("nameserver", dns), ("search", search), ("options", options)):
        if values:
            lines = [x for x in lines if x.split()[:1] != [key]]
            lines += [f"nameserver {v}" for v in values] if key == "nameserver" else [f"{key} {' '.join(values)}"]
    return "\n".join(lines) + "\n" if lines else ""
