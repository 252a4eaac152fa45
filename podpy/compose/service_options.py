"""A compose service → the engine's CreateOptions (what `podpy run` flags would say), plus the extra
networks to connect after create. Fields the engine cannot honour yet are named in warnings."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.compose import hashing as lbl
from podpy.compose.errors import ComposeError
from podpy.compose.model import Project, Service

# Service keys mapped below, or deliberately without effect on a container (handled elsewhere).
_HANDLED = {
    "image", "command", "entrypoint", "environment", "working_dir", "user", "hostname", "domainname",
    "labels", "tty", "stdin_open", "stop_signal", "stop_grace_period", "init", "privileged", "cap_add",
    "cap_drop", "security_opt", "read_only", "userns_mode", "tmpfs", "volumes", "volumes_from", "restart",
    "healthcheck", "networks", "network_mode", "ports", "expose", "extra_hosts", "dns", "dns_search",
    "dns_opt", "mac_address", "secrets", "configs", "container_name", "depends_on", "profiles", "build",
    "pull_policy", "scale", "deploy", "mem_limit", "memswap_limit", "mem_reservation", "cpus", "cpu_shares",
    "cpu_quota", "cpu_period", "cpuset", "pids_limit", "oom_kill_disable", "logging", "links",
    "env_file",
}
_MOUNT_OPTIONS = {"bind": ("create_host_path",), "tmpfs": ("size",), "volume": ()}
_QUIET_LOG_DRIVERS = ("json-file", "k8s-file", "local", "journald")


@dataclass
class ServiceCreate:
    options: Any  # engine.container_config.CreateOptions
    connect: list[tuple[str, list[str], str]] = field(default_factory=list)  # (network, aliases, ip)


def unsupported_fields(svc: Service) -> list[str]:
    """Warnings for the service's fields podpy does not apply (one per field)."""
    out = []
    for key in sorted(svc.config):
        if key.startswith("x-") or key in _HANDLED:
            continue
        if key == "ulimits":
            out.append("ulimits: podpy cannot set rlimits yet: ignored")
        else:
            out.append(f"{key}: not supported by podpy yet: ignored")
    logging = svc.config.get("logging") or {}
    if logging.get("driver") not in (None, *_QUIET_LOG_DRIVERS) or logging.get("options"):
        out.append("logging: podpy keeps container logs in its own file (no --log-driver/--log-opt): "
                   "driver and options ignored")
    if (svc.config.get("healthcheck") or {}).get("start_interval"):
        out.append("healthcheck.start_interval: not supported by podpy yet: the interval applies")
    aliased = [x for x in svc.config.get("links") or [] if ":" in x and x.split(":")[0] != x.split(":")[1]]
    if aliased:
        out.append(f"links: the alias in {aliased[0]!r} is not applied (services resolve by name)")
    for m in svc.mounts:
        extra = sorted(k for k in m.options if k not in _MOUNT_OPTIONS.get(m.type, ()))
        if extra:
            out.append(f"volumes: {m.type} option {extra[0]!r} (at {m.target}) is not supported by podpy yet: "
                       "ignored")
            break
    if any(ip == "host-gateway" for ips in (svc.config.get("extra_hosts") or {}).values() for ip in ips):
        out.append("extra_hosts: host-gateway is not supported by podpy yet: that entry is left out")
    deploy = {k for k in svc.config.get("deploy") or {} if k not in ("replicas", "resources", "labels")}
    if deploy:
        out.append(f"deploy.{sorted(deploy)[0]}: not supported by podpy yet: ignored")
    return out


def _env(config: dict[str, Any]) -> list[str]:
    return [k if v is None else f"{k}={v}" for k, v in (config.get("environment") or {}).items()]


def _seconds(duration: str | None) -> int | None:
    if not duration:
        return None
    from podpy.engine.container_health import parse_duration

    return max(0, round(parse_duration(duration, "stop_grace_period") / 1e9))


def _health(config: dict[str, Any]) -> dict[str, Any]:
    hc = config.get("healthcheck")
    if not hc:
        return {}
    test = hc.get("test")
    out: dict[str, Any] = {}
    if test == ["NONE"]:
        return {"no_healthcheck": True}
    if test:
        out["health_cmd"] = json.dumps(test)
    for key in ("interval", "timeout", "start_period"):
        if hc.get(key):
            out[f"health_{key}"] = hc[key]
    if hc.get("retries") is not None:
        out["health_retries"] = int(hc["retries"])
    return out


def _resources(config: dict[str, Any]) -> dict[str, Any]:
    limits = ((config.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    reserve = ((config.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    memory = config.get("mem_limit") or limits.get("memory")
    cpus = config.get("cpus") or limits.get("cpus")
    pids = config.get("pids_limit") or limits.get("pids")
    values = {"memory": memory, "memory_swap": config.get("memswap_limit"),
              "memory_reservation": config.get("mem_reservation") or reserve.get("memory"),
              "cpus": cpus, "cpu_shares": config.get("cpu_shares"), "cpu_quota": config.get("cpu_quota"),
              "cpu_period": config.get("cpu_period"), "cpuset_cpus": config.get("cpuset"),
              "pids_limit": pids, "oom_kill_disable": bool(config.get("oom_kill_disable"))}
    return {k: (v if v is None or isinstance(v, bool) else str(v)) for k, v in values.items()}


def _mounts(project: Project, svc: Service) -> tuple[list[str], list[str]]:
    """(-v items, --tmpfs items) for the service's volumes, secrets and configs."""
    volumes, tmpfs = [], []
    for m in svc.mounts:
        ro = ":ro" if m.read_only else ""
        if m.type == "volume":
            source = project.volumes[m.source].name if m.source else ""
            volumes.append(f"{source}:{m.target}{ro}" if source else m.target)
        elif m.type == "bind":
            if m.options.get("create_host_path", True) and not os.path.exists(m.source):
                Path(m.source).mkdir(parents=True, exist_ok=True)
            volumes.append(f"{m.source}:{m.target}{ro}")
        elif m.type == "tmpfs":
            size = (m.options or {}).get("size")
            tmpfs.append(f"{m.target}:size={size}" if size else m.target)
        else:
            raise ComposeError(f"service {svc.name}: volume type {m.type!r} is not supported by podpy")
    for kind, refs, table in (("secret", svc.secrets, project.secrets), ("config", svc.configs, project.configs)):
        for ref in refs:
            res = table.get(ref.source)
            path = (res.spec.get("file") if res else None)
            if not path:
                raise ComposeError(f"service {svc.name}: {kind} {ref.source!r}: only file-backed {kind}s "
                                   "are supported by podpy")
            volumes.append(f"{path}:{ref.target}:ro")
    return volumes, tmpfs


def _port(p: Any) -> str:
    ip = f"[{p.host_ip}]" if ":" in p.host_ip else p.host_ip
    host = f"{ip}:" if ip else ""
    if p.published:
        host += f"{p.published}:"
    elif p.host_ip:
        host += ":"
    return f"{host}{p.target}/{p.protocol}"


def network_settings(project: Project, svc: Service, first_of: Any,
                     ports: bool = True) -> tuple[dict[str, Any], list[tuple[str, list[str], str]]]:
    """(the net flags, networks to connect after create). `first_of(service)` names a service's first
    container (for network_mode: service:x)."""
    cfg = svc.config
    net: dict[str, Any] = {
        "dns": list(cfg.get("dns") or []), "dns_search": list(cfg.get("dns_search") or []),
        "dns_option": list(cfg.get("dns_opt") or []), "domainname": cfg.get("domainname") or "",
        "add_host": [f"{h}:{ip}" for h, ips in (cfg.get("extra_hosts") or {}).items() for ip in ips
                     if ip != "host-gateway"],
        "expose": list(cfg.get("expose") or []), "mac_address": cfg.get("mac_address") or "",
        "publish": [_port(p) for p in svc.ports] if ports else [],
    }
    mode = str(cfg.get("network_mode") or "")
    if mode:
        if mode.startswith("service:"):
            mode = f"container:{first_of(mode[8:])}"
        net["network"] = [mode]
        return net, []
    attach = sorted(svc.networks, key=lambda a: (-a.priority, a.network))
    if not attach:
        net["network"] = ["none"]
        return net, []
    first, rest = attach[0], attach[1:]
    net["network"] = [project.networks[first.network].name]
    net["network_alias"] = [svc.name, *first.aliases]
    net["ip"] = first.ipv4_address
    net["ip6"] = first.ipv6_address
    return net, [(project.networks[a.network].name, [svc.name, *a.aliases], a.ipv4_address) for a in rest]


def service_create(project: Project, svc: Service, number: int, name: str, first_of: Any,
                   oneoff: bool = False, image_id: str = "") -> ServiceCreate:
    from podpy.engine.container_config import CreateOptions

    cfg = svc.config
    labels = lbl.container_labels(project, svc, number, oneoff=oneoff, image_digest=image_id)
    volumes, tmpfs = _mounts(project, svc)
    net, connect = network_settings(project, svc, first_of)
    entrypoint = cfg.get("entrypoint")
    stop = _seconds(cfg.get("stop_grace_period"))
    opts = CreateOptions(
        image=svc.image, command=list(cfg.get("command") or []), name=name,
        entrypoint=None if entrypoint is None else json.dumps(entrypoint), env=_env(cfg),
        workdir=cfg.get("working_dir") or "", user=cfg.get("user") or "", hostname=cfg.get("hostname") or "",
        labels=[f"{k}={v}" for k, v in labels.items()], tty=bool(cfg.get("tty")),
        interactive=bool(cfg.get("stdin_open")), pull="never", stop_signal=cfg.get("stop_signal"),
        stop_timeout=stop, init=bool(cfg.get("init")), privileged=bool(cfg.get("privileged")),
        cap_add=list(cfg.get("cap_add") or []), cap_drop=list(cfg.get("cap_drop") or []),
        security_opt=list(cfg.get("security_opt") or []), userns=cfg.get("userns_mode") or "",
        volumes=volumes, tmpfs=[*tmpfs, *(cfg.get("tmpfs") or [])],
        volumes_from=[_volumes_from(v, first_of) for v in cfg.get("volumes_from") or []],
        read_only=bool(cfg.get("read_only")), resources=_resources(cfg), restart=_restart(cfg),
        net=net, **_health(cfg),
    )  # fmt: skip
    return ServiceCreate(opts, connect)


def _restart(cfg: dict[str, Any]) -> str | None:
    policy = cfg.get("restart")
    return None if policy in (None, "no") else str(policy)


def _volumes_from(ref: str, first_of: Any) -> str:
    if ref.startswith("container:"):
        return ref[10:]
    name, sep, mode = ref.partition(":")
    return f"{first_of(name)}{sep}{mode}"
