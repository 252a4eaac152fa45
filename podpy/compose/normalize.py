"""Short syntaxes of one compose file's services turned into the long form, before merging.

Each `_key` function takes the value of one service key (after interpolation) and returns its long form,
so files merge key by key on the same shapes. Paths stay as written: they are resolved once after the
merge, against the project directory (or the directory of an extended/included file).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from podpy.compose import shortsyntax as ss
from podpy.compose.errors import ComposeError
from podpy.compose.yamlio import Override, Reset

_BOOL_WORDS = {"true": True, "yes": True, "y": True, "on": True, "1": True,
               "false": False, "no": False, "n": False, "off": False, "0": False}


def to_bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word not in _BOOL_WORDS:
        raise ComposeError(f"{path} must be a boolean")
    return _BOOL_WORDS[word]


def to_int(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ComposeError(f"{path} must be an integer") from None


def _scalar_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def key_value_map(value: Any, path: str, empty: str | None = None) -> dict[str, str | None]:
    """environment/labels/args/sysctls: "K=V" lists or mappings → mapping of strings."""
    if isinstance(value, dict):
        return {str(k): _scalar_str(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, str | None] = {}
        for item in value:
            key, sep, val = str(item).partition("=")
            out[key] = val if sep else empty
        return out
    raise ComposeError(f"{path} must be a mapping or a list")


def str_list(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ComposeError(f"{path} must be a string or a list")


def command(value: Any, path: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError as exc:
        raise ComposeError(f"{path}: {exc}") from None


def _ports(value: Any, path: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(_as_list(value, path)):
        if isinstance(item, dict):
            entry = {"mode": item.get("mode", "ingress"), **item}
            entry["target"] = to_int(item.get("target"), f"{path}[{i}].target")
            if item.get("published") is not None:
                entry["published"] = str(item["published"])
            entry.setdefault("protocol", "tcp")
            out.append(entry)
        else:
            out.extend(ss.parse_ports(item, f"{path}[{i}]"))
    return out


def _volumes(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(_as_list(value, path)):
        if isinstance(item, dict):
            if "target" not in item:
                raise ComposeError(f"{path}[{i}] target is required")
            entry = dict(item)
            entry.setdefault("type", "volume")
            if entry["type"] == "bind":
                entry["bind"] = {"create_host_path": True, **(entry.get("bind") or {})}
            out.append(entry)
        else:
            out.append(ss.parse_volume(str(item), f"{path}[{i}]"))
    return out


def _depends_on(value: Any, path: str) -> dict[str, dict[str, Any]]:
    if isinstance(value, list):
        return {str(n): {"condition": "service_started", "required": True} for n in value}
    if not isinstance(value, dict):
        raise ComposeError(f"{path} must be a mapping or a list")
    out = {}
    for name, spec in value.items():
        spec = spec or {}
        entry: dict[str, Any] = {"condition": spec.get("condition", "service_started"),
                                 "required": to_bool(spec.get("required", True), f"{path}.{name}.required")}
        if to_bool(spec.get("restart", False), f"{path}.{name}.restart"):
            entry["restart"] = True
        out[str(name)] = entry
    return out


def _networks(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, list):
        return {str(n): None for n in value}
    if isinstance(value, dict):
        return {str(k): (dict(v) if v else None) for k, v in value.items()}
    raise ComposeError(f"{path} must be a mapping or a list")


def _refs(value: Any, path: str) -> list[dict[str, Any]]:
    """secrets/configs: "name" or {source, target, uid, gid, mode}."""
    return [dict(v) if isinstance(v, dict) else {"source": str(v)} for v in _as_list(value, path)]


def _healthcheck(value: Any, path: str) -> dict[str, Any]:
    hc = dict(value or {})
    if to_bool(hc.pop("disable", False), f"{path}.disable"):
        return {"test": ["NONE"]}
    test = hc.get("test")
    if isinstance(test, str):
        hc["test"] = ["CMD-SHELL", test]
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if key in hc:
            hc[key] = ss.format_duration(ss.parse_duration_ns(hc[key], f"{path}.{key}"))
    if "retries" in hc:
        hc["retries"] = to_int(hc["retries"], f"{path}.retries")
    return hc


def _build(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        return {"context": value, "dockerfile": "Dockerfile"}
    build = dict(value or {})
    build.setdefault("context", ".")
    if "dockerfile_inline" not in build:
        build.setdefault("dockerfile", "Dockerfile")
    for key in ("args", "labels", "additional_contexts"):
        if key in build:
            build[key] = key_value_map(build[key], f"{path}.{key}")
    return build


def _ulimits(value: Any, path: str) -> dict[str, dict[str, int]]:
    out = {}
    for name, limit in (value or {}).items():
        if isinstance(limit, dict):
            out[name] = {"soft": to_int(limit.get("soft"), f"{path}.{name}.soft"),
                         "hard": to_int(limit.get("hard"), f"{path}.{name}.hard")}
        else:
            n = to_int(limit, f"{path}.{name}")
            out[name] = {"soft": n, "hard": n}
    return out


def _extra_hosts(value: Any, path: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(value, dict):
        for host, ips in value.items():
            out.setdefault(str(host), []).extend(str_list(ips, f"{path}.{host}"))
        return out
    for item in _as_list(value, path):
        text = str(item)
        sep = "=" if "=" in text else ":"
        host, _, ip = text.partition(sep)
        out.setdefault(host, []).append(ip.strip("[]"))
    return out


def _env_files(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(_as_list(value, path)):
        if isinstance(item, dict):
            entry = {"path": str(item["path"]), "required": to_bool(item.get("required", True),
                                                                     f"{path}[{i}].required")}
            if item.get("format"):
                entry["format"] = str(item["format"])
            out.append(entry)
        else:
            out.append({"path": str(item), "required": True})
    return out


def _as_list(value: Any, path: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str | int):
        return [value]
    raise ComposeError(f"{path} must be a list")


def _deploy(value: Any, path: str) -> dict[str, Any]:
    deploy = dict(value or {})
    if deploy.get("replicas") is not None:
        deploy["replicas"] = to_int(deploy["replicas"], f"{path}.replicas")
    if "labels" in deploy:
        deploy["labels"] = key_value_map(deploy["labels"], f"{path}.labels", "")
    resources = deploy.get("resources")
    if isinstance(resources, dict):
        deploy["resources"] = {kind: _resource_limits(spec, f"{path}.resources.{kind}")
                               for kind, spec in resources.items()}
    return deploy


def _resource_limits(spec: Any, path: str) -> Any:
    if not isinstance(spec, dict):
        return spec
    out = dict(spec)
    if out.get("memory") is not None:
        out["memory"] = ss.parse_size(out["memory"], f"{path}.memory")
    if out.get("pids") is not None:
        out["pids"] = to_int(out["pids"], f"{path}.pids")
    return out


def _duration(value: Any, path: str) -> str:
    return ss.format_duration(ss.parse_duration_ns(value, path))


_STRING_KEYS = {"image", "container_name", "hostname", "domainname", "user", "working_dir", "stop_signal",
                "restart", "platform", "pull_policy", "runtime", "mac_address", "cpuset", "userns_mode"}


def _as_str(value: Any, path: str) -> Any:
    """`user: 1000` is the string "1000", as Compose types it."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


_SERVICE_KEYS: dict[str, Callable[[Any, str], Any]] = {
    "ports": _ports, "volumes": _volumes, "depends_on": _depends_on, "networks": _networks,
    "secrets": _refs, "configs": _refs, "healthcheck": _healthcheck, "build": _build,
    "ulimits": _ulimits, "extra_hosts": _extra_hosts, "env_file": _env_files, "deploy": _deploy,
    "command": command, "entrypoint": command,
    "environment": key_value_map, "sysctls": key_value_map,
    "labels": lambda v, p: key_value_map(v, p, ""), "annotations": lambda v, p: key_value_map(v, p, ""),
    "dns": str_list, "dns_search": str_list, "dns_opt": str_list, "tmpfs": str_list,
    "cap_add": str_list, "cap_drop": str_list, "profiles": str_list, "links": str_list,
    "external_links": str_list, "security_opt": str_list, "volumes_from": str_list, "group_add": str_list,
    "devices": str_list, "expose": str_list,
    "scale": to_int, "init": to_bool, "privileged": to_bool, "read_only": to_bool, "tty": to_bool,
    "stdin_open": to_bool, "oom_kill_disable": to_bool,
    "stop_grace_period": _duration, "shm_size": ss.parse_size, "mem_limit": ss.parse_size,
    "memswap_limit": ss.parse_size, "mem_reservation": ss.parse_size,
}


def normalize_service(name: str, svc: Any, source: str) -> dict[str, Any]:
    if svc is None:
        return {}
    if not isinstance(svc, dict):
        raise ComposeError(f"validating {source}: services.{name} must be a mapping")
    out: dict[str, Any] = {}
    for key, value in svc.items():
        path = f"services.{name}.{key}"
        fn = _SERVICE_KEYS.get(key) or (_as_str if key in _STRING_KEYS else None)
        if isinstance(value, Reset) or fn is None or value is None and key not in ("command", "entrypoint"):
            out[key] = value
        elif isinstance(value, Override):
            out[key] = Override(fn(value.value, path))
        else:
            out[key] = fn(value, path)
    return out


def normalize_resource(kind: str, name: str, spec: Any) -> dict[str, Any]:
    """Top-level networks/volumes/secrets/configs entries: labels as mappings, `external` as a bool."""
    spec = dict(spec or {}) if not isinstance(spec, Reset | Override) else spec
    if not isinstance(spec, dict):
        return spec
    path = f"{kind}.{name}"
    if "labels" in spec:
        spec["labels"] = key_value_map(spec["labels"], f"{path}.labels", "")
    for key in ("external", "internal", "attachable", "enable_ipv6"):
        if key in spec and not isinstance(spec[key], dict):
            spec[key] = to_bool(spec[key], f"{path}.{key}")
    if isinstance(spec.get("external"), dict):  # legacy `external: {name: x}`
        spec["name"] = spec["external"].get("name", spec.get("name"))
        spec["external"] = True
    return spec
