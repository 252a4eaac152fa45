"""Merging compose files the way the Compose Specification says (after normalisation to long syntax).

Mappings merge key by key, scalars are replaced, `command`/`entrypoint`/`healthcheck.test` are replaced
whole, sequences are appended and then made unique by the key the spec gives each one (ports by
ip/published/target/protocol, volumes by target, secrets/configs by target, env_file by path...).
`!reset` removes a key, `!override` replaces instead of merging.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podpy.compose.yamlio import Override, Reset

_REPLACED = {"command", "entrypoint", "healthcheck.test", "logging.options"}


def _port_key(p: dict[str, Any]) -> str:
    return f"{p.get('host_ip', '')}:{p.get('published', '')}:{p.get('target')}/{p.get('protocol', 'tcp')}"


def _mount_key(default_dir: str) -> Callable[[dict[str, Any]], str]:
    def key(ref: dict[str, Any]) -> str:
        return str(ref.get("target") or f"{default_dir}/{ref.get('source')}")

    return key


def _same(x: Any) -> str:
    return repr(x)


_UNIQUE: dict[str, Callable[[Any], str]] = {
    "ports": _port_key,
    "volumes": lambda v: str(v.get("target")),
    "secrets": _mount_key("/run/secrets"),
    "configs": _mount_key(""),
    "env_file": lambda e: str(e.get("path")),
    **{k: _same for k in ("dns", "dns_search", "dns_opt", "cap_add", "cap_drop", "profiles", "links",
                          "expose", "tmpfs", "devices", "external_links", "security_opt", "group_add",
                          "volumes_from", "build.tags", "build.platforms", "build.cache_from",
                          "networks.aliases")},
}


def unique(items: list[Any], key: Callable[[Any], str], path: str = "") -> list[Any]:
    """A later entry with the same key is merged into the earlier one in its place, field by field
    when both are mappings (ports, volumes, secrets, configs: the spec's "merge entries that share a
    unique key"); a volume of another type, or a plain value, replaces it."""
    out: list[Any] = []
    where: dict[str, int] = {}
    for item in items:
        k = key(item)
        if k in where:
            old = out[where[k]]
            same = isinstance(old, dict) and isinstance(item, dict) and old.get("type") == item.get("type")
            out[where[k]] = merge_mapping(old, item, path) if same else item
        else:
            where[k] = len(out)
            out.append(item)
    return out


def merge_value(base: Any, over: Any, path: str) -> Any:
    """Merge `over` onto `base`; `path` is the key path inside a service ("ports", "build.args")."""
    if isinstance(over, Reset):
        return over
    if isinstance(over, Override):
        return over.value
    if over is None:
        return base
    if path in _REPLACED:
        return over
    if isinstance(base, dict) and isinstance(over, dict):
        return merge_mapping(base, over, path)
    if isinstance(base, list) and isinstance(over, list):
        key = _UNIQUE.get(_generic(path))
        merged = base + over
        return unique(merged, key, path) if key else merged
    return over


def _generic(path: str) -> str:
    """"networks.front.aliases" → "networks.aliases" so per-name entries share one rule."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "networks":
        return f"{parts[0]}.{parts[2]}"
    return path


def merge_mapping(base: dict[str, Any], over: dict[str, Any], path: str = "") -> dict[str, Any]:
    if path == "logging" and over.get("driver") not in (None, base.get("driver")):
        return dict(over)
    out = dict(base)
    for key, value in over.items():
        sub = f"{path}.{key}" if path else key
        if isinstance(value, Reset):
            out.pop(key, None)
        elif key in out:
            out[key] = merge_value(out[key], value, sub)
        else:
            out[key] = value.value if isinstance(value, Override) else value
    return out


def merge_documents(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge two whole (normalised) compose documents."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            out.pop(key, None)
        elif key == "services" and isinstance(value, dict):
            services = dict(out.get("services") or {})
            for name, svc in value.items():
                if isinstance(svc, Reset):
                    services.pop(name, None)
                elif name in services and not isinstance(svc, Override):
                    services[name] = merge_mapping(services[name] or {}, svc or {})
                else:
                    services[name] = svc.value if isinstance(svc, Override) else svc
            out["services"] = services
        elif key == "include" and isinstance(value, list):
            out["include"] = list(out.get("include") or []) + value
        elif key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge_deep(out[key], value)
        else:
            out[key] = value.value if isinstance(value, Override) else value
    return out


def _merge_deep(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            out.pop(key, None)
        elif isinstance(value, Override):
            out[key] = value.value
        elif isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge_deep(out[key], value)
        elif value is not None or key not in out:
            out[key] = value
    return out
