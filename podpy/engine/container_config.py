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
    network: str = ""
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
    image_volumes: bool = True  # the image's VOLUMEs become anonymous volumes (not for build steps)

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
        no_new_privileges=no_new_privileges(opts.security_opt),
        network=network,
        labels=labels,
        init=opts.init,
        userns=opts.userns,
        read_only=opts.read_only,
        resources=_oci_resources(opts.resources),
    )


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
