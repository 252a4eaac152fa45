"""Pure parts of `create`: flags merged with the image config into a ContainerSpec and record fields."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.engine.spec import ContainerSpec, merge_command, merge_env
from podpy.errors import InvalidArgument

SECURITY_OPTS = ("no-new-privileges", "no-new-privileges=true", "no-new-privileges:true",
                 "no-new-privileges=false", "no-new-privileges:false")  # fmt: skip


@dataclass
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

    @property
    def wants_mounts(self) -> bool:
        return bool(self.volumes or self.mounts or self.tmpfs or self.volumes_from)


def parse_signal(value: str | int) -> int:
    """`SIGTERM`, `TERM`, `15`, `SIGRTMIN+3` -> the number."""
    text = str(value).strip().upper()
    if text.isdigit():
        num = int(text)
    else:
        name = text if text.startswith("SIG") else f"SIG{text}"
        base, plus, off = name.partition("+")
        sig = getattr(signal.Signals, base, None) if base.isidentifier() else None
        if sig is None and base in ("SIGRTMIN", "SIGRTMAX"):
            sig = signal.SIGRTMIN if base == "SIGRTMIN" else signal.SIGRTMAX
        if sig is None:
            raise InvalidArgument(f"invalid signal: {value}")
        num = int(sig) + (int(off) if plus and off.isdigit() else 0)
    if not 0 < num <= int(signal.SIGRTMAX):
        raise InvalidArgument(f"invalid signal: {value}")
    return num


def signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return str(num)


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


def no_new_privileges(opts: list[str]) -> bool:
    value = False
    for opt in opts:
        if opt not in SECURITY_OPTS:
            raise InvalidArgument(f"unsupported --security-opt {opt!r} (supported: no-new-privileges)")
        value = not opt.endswith("false")
    return value


def build_spec(opts: CreateOptions, image_cfg: dict[str, Any]) -> ContainerSpec:
    """Docker's merge rules: flags override the image config, env and labels merge."""
    ic = image_cfg or {}
    entry = parse_entrypoint(opts.entrypoint)
    args = merge_command(ic.get("Entrypoint"), ic.get("Cmd"), entry, opts.command or None)
    if not args:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    env = [e for e in (_env_item(x) for x in opts.env) if e is not None]
    files = [e for f in opts.env_files for e in read_env_file(f)]
    labels = {**(ic.get("Labels") or {}), **parse_labels(opts.labels)}
    net = opts.net or {}
    published = publish_specs(net, ic)
    modes = list(net.get("network") or ([opts.network] if opts.network else []))
    network, networks = network_mode(modes or [default_network(published)], net)
    if published and network != "bridge":
        raise InvalidArgument(f"cannot publish ports with network mode {network}")
    return ContainerSpec(
        args=args,
        env=merge_env(ic.get("Env") or [], files, env),
        cwd=opts.workdir or ic.get("WorkingDir") or "/",
        user=opts.user or ic.get("User") or "",
        hostname=opts.hostname,
        domainname=net.get("domainname") or "",
        terminal=opts.tty,
        privileged=opts.privileged,
        cap_add=tuple(opts.cap_add),
        cap_drop=tuple(opts.cap_drop),
        no_new_privileges=no_new_privileges(opts.security_opt),
        network=network,
        networks=networks,
        dns=tuple(net.get("dns") or ()),
        dns_search=tuple(net.get("dns_search") or ()),
        dns_options=tuple(net.get("dns_option") or ()),
        add_hosts=tuple(parse_add_host(h) for h in net.get("add_host") or ()),
        ports=tuple(published),
        labels=labels,
        init=opts.init,
        userns=opts.userns,
        read_only=opts.read_only,
        resources=_oci_resources(opts.resources),
    )


SIMPLE_MODES = ("none", "host", "private")


def default_network(publishing: bool) -> str:
    """Docker's and Podman's default: the default bridge network as root. Rootless keeps a private
    namespace (loopback only; no pasta/slirp4netns yet), unless ports are published: then the
    bridge is asked for and refused with a clear error."""
    return "bridge" if publishing or os.geteuid() == 0 else "private"


def network_mode(modes: list[str], net: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """--network values -> (spec.network, {network name: {aliases, ip, mac}}).

    A named network (Docker's `bridge` included) gives mode "bridge": the engine pins a namespace
    and attaches it to each network before the runtime starts."""
    named = [m for m in modes if m not in SIMPLE_MODES and not m.startswith(("ns:", "container:"))]
    if not named:
        if len(modes) > 1:
            raise InvalidArgument(f"cannot set multiple networks without user-defined networks: {', '.join(modes)}")
        if net.get("ip") or net.get("mac_address") or net.get("network_alias"):
            raise InvalidArgument("--ip, --mac-address and --network-alias need a bridge or user-defined network")
        return (modes[0] if modes else "private"), {}
    if len(named) != len(modes):
        raise InvalidArgument("cannot combine user-defined networks with none, host, private, container: or ns:")
    if len(named) > 1 and (net.get("ip") or net.get("mac_address")):
        raise InvalidArgument("--ip and --mac-address can only be used with a single network")
    aliases = list(net.get("network_alias") or [])
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(named):
        out["podman" if name == "bridge" else name] = {
            "aliases": aliases, "ip": net.get("ip") or "" if i == 0 else "",
            "mac": net.get("mac_address") or "" if i == 0 else ""}  # fmt: skip
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
    resources.require_cgroup_control(r)
    return resources.to_oci(r)


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
