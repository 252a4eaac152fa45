"""Pure parts of `create`: flags merged with the image config into a ContainerSpec and record fields."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from podpy.engine.spec import ContainerSpec, merge_command, merge_env
from podpy.errors import InvalidArgument

SECURITY_OPTS_HELP = "no-new-privileges, seccomp=unconfined|PROFILE.json, label=disable, apparmor=unconfined"


class SecurityOptions(NamedTuple):
    """What --security-opt asks for. label/apparmor options are accepted as no-ops: podpy applies
    neither SELinux labels nor AppArmor profiles, so disabling them changes nothing. (A NamedTuple:
    a frozen dataclass costs 0.5 ms to define on `run`'s path.)"""

    no_new_privileges: bool = False
    seccomp: str = ""  # "" = the default profile, "unconfined", or the absolute path of a profile


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
    network: str = ""
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


def build_spec(opts: CreateOptions, image_cfg: dict[str, Any]) -> ContainerSpec:
    """Docker's merge rules: flags override the image config, env and labels merge."""
    from podpy.config import containers_conf
    from podpy.engine.log_options import parse_log_config
    from podpy.engine.ulimits import default_rlimits

    ic = image_cfg or {}
    conf = containers_conf()
    entry = parse_entrypoint(opts.entrypoint)
    args = merge_command(ic.get("Entrypoint"), ic.get("Cmd"), entry, opts.command or None)
    if not args:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    env = [e for e in (_env_item(x) for x in opts.env) if e is not None]
    files = [e for f in opts.env_files for e in read_env_file(f)]
    labels = {**(ic.get("Labels") or {}), **parse_labels(opts.labels)}
    security = parse_security_opts(opts.security_opt)
    network = opts.network or "private"
    if network == "bridge":
        network = "private"  # no bridges yet: an isolated namespace with loopback only
    return ContainerSpec(
        args=args,
        env=merge_env(ic.get("Env") or [], files, env),
        cwd=opts.workdir or ic.get("WorkingDir") or "/",
        user=opts.user or ic.get("User") or "",
        hostname=opts.hostname,
        terminal=opts.tty,
        privileged=opts.privileged,
        cap_add=tuple(opts.cap_add),
        cap_drop=tuple(opts.cap_drop),
        devices=_devices(opts.devices),
        no_new_privileges=security.no_new_privileges,
        seccomp_profile=security.seccomp,
        network=network,
        labels=labels,
        init=opts.init,
        userns=opts.userns,
        read_only=opts.read_only,
        resources=_oci_resources(opts.resources),
        rlimits=default_rlimits(conf),
        log=asdict(parse_log_config(opts.log_driver, opts.log_opt or [], conf)),
    )


def _devices(args: list[str]) -> tuple[dict[str, Any], ...]:
    if not args:
        return ()
    from podpy.engine.host_devices import parse_device

    return tuple(d for arg in args for d in parse_device(arg))


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


def hosts_file(hostname: str, name: str, network: str) -> str:
    if network == "host":
        try:
            return Path("/etc/hosts").read_text()
        except OSError:
            pass
    return (
        "127.0.0.1\tlocalhost localhost.localdomain\n"
        "::1\tlocalhost localhost.localdomain ip6-localhost ip6-loopback\n"
        f"127.0.1.1\t{hostname} {name}\n"
    )


def resolv_conf(network: str) -> str:
    """The host's, minus loopback resolvers unless the container shares the host's network."""
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        lines = []
    if network != "host":
        lines = [x for x in lines if not (x.split()[:1] == ["nameserver"] and x.split()[1:2]
                                          and x.split()[1].startswith(("127.", "::1")))]  # fmt: skip
    return "\n".join(lines) + "\n" if lines else ""
