"""Docker-shaped views of container records: `inspect` JSON and `ps --filter` matching."""

from __future__ import annotations

import re

from podpy.engine import container_record as cr
from podpy.engine.container_record import ContainerRecord
from podpy.engine.filters import match_labels, parse_filters
from podpy.errors import InvalidArgument

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.containers import ContainerService

ZERO_TIME = "0001-01-01T00:00:00Z"
PS_FILTERS = ("id", "name", "label", "status", "ancestor", "exited", "before", "since", "health")
PAUSED = "paused"
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def display_status(rec: ContainerRecord) -> str:
    """Docker's State.Status: a paused container is "paused" (its record stays running)."""
    st = rec.state
    return PAUSED if st.status == cr.RUNNING and st.paused else st.status


def inspect(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    st = rec.state
    args = rec.args
    ud = svc.bundle(rec.id)
    return {
        "Id": rec.id,
        "Created": rec.created,
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {
            "Status": display_status(rec),
            "Running": st.status in (cr.RUNNING, cr.RESTARTING),  # Docker: restarting counts as running
            "Paused": display_status(rec) == PAUSED,
            "Restarting": st.status == cr.RESTARTING,
            "OOMKilled": st.oom_killed,
            "Dead": False,
            "Pid": st.pid if st.status == cr.RUNNING else 0,
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": st.started_at or ZERO_TIME,
            "FinishedAt": st.finished_at or ZERO_TIME,
            **_health(svc, rec),
        },
        "Image": rec.image,
        "ResolvConfPath": str(ud / "resolv.conf"),
        "HostnamePath": str(ud / "hostname"),
        "HostsPath": str(ud / "hosts"),
        "LogPath": str(svc.log_path(rec.id, rec.spec)),
        "Name": "/" + rec.name,
        "RestartCount": st.restart_count,
        "Driver": rec.driver,
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "PidFile": rec.pidfile,
        "ConmonPidFile": rec.conmon_pidfile,
        "Dependencies": list(rec.requires),
        "HostConfig": {**_host_config(rec), "LogConfig": _log_config(svc, rec)},
        "GraphDriver": {"Name": rec.driver, "Data": {}},
        "Mounts": [dict(m) for m in rec.mounts],
        "Config": _config(rec),
        "NetworkSettings": _network_settings(svc, rec),
    }


def _host_config(rec: ContainerRecord) -> dict[str, Any]:
    spec = rec.spec
    network = spec.get("network", "private")
    return {
        "Binds": [
            f"{m['Source']}:{m['Destination']}" + ("" if m.get("RW", True) else ":ro")
            for m in rec.mounts
            if m.get("Type") == "bind"
        ]
        or None,
        "NetworkMode": _network_mode(network, spec.get("networks") or {}),
        "PortBindings": _port_bindings(spec.get("ports") or []),
        "RestartPolicy": _restart_policy(rec),
        "AutoRemove": rec.auto_remove,
        "CapAdd": list(spec.get("cap_add") or []) or None,
        "CapDrop": list(spec.get("cap_drop") or []) or None,
        "Devices": [{"PathOnHost": d["hostPath"], "PathInContainer": d["path"], "CgroupPermissions": d["access"]}
                    for d in spec.get("devices") or []],  # fmt: skip
        "Dns": list(spec.get("dns") or []),
        "DnsOptions": list(spec.get("dns_options") or []),
        "DnsSearch": list(spec.get("dns_search") or []),
        "ExtraHosts": [f"{h}:{ip}" for h, ip in spec.get("add_hosts") or []] or None,
        "Privileged": bool(spec.get("privileged")),
        "ReadonlyRootfs": bool(spec.get("read_only")),
        "SecurityOpt": _security_opts(rec.security_opt, spec.get("seccomp_profile") or ""),
        "Init": bool(spec.get("init")),
        "Runtime": rec.runtime or "builtin",
        "UsernsMode": spec.get("userns") or ("private" if spec.get("uidmap") else ""),
        **_id_mappings(spec),
        **_namespace_modes(spec),
        "Sysctls": dict(spec.get("sysctls") or {}) or None,
        "ShmSize": spec.get("shm_size") or 0,
        "Ulimits": [{"Name": f"RLIMIT_{r['name'].upper()}", "Soft": r["soft"], "Hard": r["hard"]}
                    for r in spec.get("rlimits") or []],  # fmt: skip
        "GroupAdd": list(spec.get("group_add") or []) or None,
        "OomScoreAdj": spec.get("oom_score_adj") or 0,
        "CgroupParent": spec.get("cgroup_parent") or "",
        "DeviceCgroupRules": [_rule_text(r) for r in spec.get("device_cgroup_rules") or []] or None,
        **_resources(rec),
    }


def _security_opts(opts: list[str], seccomp: str) -> list[str] | None:
    if not opts:  # the common case: container_config (~4 ms to import) not needed
        return None
    from podpy.engine.container_config import display_security_opts

    return display_security_opts(opts, seccomp) or None


def _namespace_modes(spec: dict[str, Any]) -> dict[str, str]:
    """IpcMode, PidMode, UTSMode, CgroupnsMode as Podman shows them (a joined namespace: its path)."""
    out = {}
    for key, field, default in (("IpcMode", "ipc", "shareable"), ("PidMode", "pid", "private"),
                                ("UTSMode", "uts", "private"), ("CgroupnsMode", "cgroupns", "")):  # fmt: skip
        value = spec.get(field) or default
        out[key] = value if value in ("host", "private", "shareable", "") else f"ns:{value}"
    if not out["CgroupnsMode"]:
        from podpy.paths import is_cgroup_v2

        out["CgroupnsMode"] = "private" if is_cgroup_v2() else "host"
    return out


def _rule_text(r: dict[str, Any]) -> str:
    num = [str(r[k]) if k in r else "*" for k in ("major", "minor")]
    return f"{r.get('type', 'a')} {num[0]}:{num[1]} {r.get('access', 'rwm')}"


def _log_config(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    from podpy.engine.log_options import inspect_log_config
    from podpy.supervisor.logfile import LogConfig

    return inspect_log_config(LogConfig.from_json(rec.spec.get("log")), svc.log_path(rec.id, rec.spec))


def _network_mode(network: str, networks: dict[str, Any]) -> str:
    if network == "bridge":
        first = next(iter(networks), "podman")
        return "bridge" if first == "podman" else first
    return "bridge" if network == "private" else network


def _port_bindings(ports: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in ports:
        out.setdefault(f"{p['container_port']}/{p['protocol']}", []).append(
            {"HostIp": p["host_ip"], "HostPort": str(p["host_port"] or "")})
    return out


def _resources(rec: ContainerRecord) -> dict[str, Any]:
    from podpy.engine.resources import Resources, host_config

    return host_config(Resources.from_json(rec.resources))


def _health(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    if not rec.healthcheck:  # no check, no State.Health (health_doc's answer without its imports)
        return {}
    from podpy.engine.container_health import health_doc

    doc = health_doc(svc, rec)
    return {} if doc is None else {"Health": doc}


def _restart_policy(rec: ContainerRecord) -> dict[str, Any]:
    from podpy.engine.container_restart import host_config_policy

    return host_config_policy(rec)


def _config(rec: ContainerRecord) -> dict[str, Any]:
    spec = rec.spec
    tty = bool(spec.get("terminal"))
    return {
        "Hostname": spec.get("hostname") or rec.short_id,
        "Domainname": spec.get("domainname") or "",
        "User": spec.get("user") or "",
        "AttachStdin": rec.open_stdin,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": tty,
        "OpenStdin": rec.open_stdin,
        "StdinOnce": False,
        "Env": list(spec.get("env") or []),
        "Cmd": rec.cmd or None,
        **({"Healthcheck": dict(rec.healthcheck)} if rec.healthcheck else {}),
        "Image": rec.image_name,
        "Volumes": {m["Destination"]: {} for m in rec.mounts if m.get("Type") == "volume"} or None,
        "WorkingDir": spec.get("cwd") or "/",
        "Entrypoint": rec.entrypoint or None,
        "OnBuild": None,
        "Labels": dict(spec.get("labels") or {}),
        "Annotations": dict(spec.get("annotations") or {}),
        **({"Timezone": spec["tz"]} if spec.get("tz") else {}),
        **({"Timeout": spec["timeout"]} if spec.get("timeout") else {}),
        "StopSignal": rec.stop_signal,
        "StopTimeout": rec.stop_timeout,
    }


def _network_settings(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    if rec.spec.get("network") in ("bridge", "pasta", "slirp4netns"):
        from podpy.engine.networks.views import network_settings

        return network_settings(svc.engine, rec)
    return {
        "Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0, "Ports": {}, "SandboxKey": "", "Gateway": "", "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "", "Networks": {},
    }  # fmt: skip


# ---- ps --filter


def filter_records(
    recs: list[ContainerRecord], raw: list[str] | None, image_ids: dict[str, str]
) -> list[ContainerRecord]:
    """Docker's rules: values of one key OR together, keys AND (labels AND too).

    image_ids maps image references (names, as `ancestor` may give them) to image IDs."""
    filters = parse_filters(raw, PS_FILTERS)
    for status in filters.get("status", []):
        if status not in STATUSES:
            raise InvalidArgument(f"invalid filter 'status={status}' (one of {', '.join(STATUSES)})")
    for code in filters.get("exited", []):
        if not code.lstrip("-").isdigit():
            raise InvalidArgument(f"invalid filter 'exited={code}': not an integer")
    out = [r for r in recs if _matches(r, filters, image_ids)]
    for key, keep_older in (("before", True), ("since", False)):
        for ref in filters.get(key, []):
            pivot = next((r for r in recs if r.id.startswith(ref) or r.name == ref), None)
            if pivot is None:
                raise InvalidArgument(f"no such container {ref!r} for filter {key}")
            out = [r for r in out if (r.created < pivot.created) == keep_older and r.id != pivot.id]
    return out


def _matches(rec: ContainerRecord, f: dict[str, list[str]], image_ids: dict[str, str]) -> bool:
    checks = (
        ("id", lambda v: rec.id.startswith(v.lower())),
        ("name", lambda v: re.search(v, rec.name) is not None),
        ("status", lambda v: display_status(rec) == v),
        ("exited", lambda v: rec.state.status == cr.EXITED and rec.state.exit_code == int(v)),
        ("ancestor", lambda v: _ancestor(rec, v, image_ids)),
    )
    for key, pred in checks:
        values = f.get(key)
        if values and not any(pred(v) for v in values):
            return False
    return match_labels(rec.spec.get("labels"), f.get("label", []))


def _ancestor(rec: ContainerRecord, value: str, image_ids: dict[str, str]) -> bool:
    if not rec.image:
        return False
    if rec.image_name == value or image_ids.get(value) == rec.image:
        return True
    hexid = rec.image.removeprefix("sha256:")
    want = value.removeprefix("sha256:")
    return len(want) >= 4 and hexid.startswith(want)


def pod_columns(engine: Any, recs: list[Any], rows: list[dict[str, Any]], no_trunc: bool) -> None:
    """`ps --pod`: each row gets Pod (the pod's ID) and PodName ("" outside a pod)."""
    from podpy.engine.pods import PodService

    names = {p.id: p.name for p in PodService(engine).list()}
    for rec, row in zip(recs, rows, strict=True):
        pid = rec.spec.get("pod") or ""
        row["Pod"], row["PodName"] = (pid if no_trunc else pid[:12]), names.get(pid, "")


def _id_mappings(spec: dict[str, Any]) -> dict[str, Any]:
    """Podman's HostConfig.IDMappings ("container:host:size" strings), with --uidmap & co. only."""
    if not spec.get("uidmap"):
        return {}
    from podpy.engine.idmaps import to_text

    return {"IDMappings": {"UidMap": to_text(spec["uidmap"]), "GidMap": to_text(spec.get("gidmap") or [])}}
