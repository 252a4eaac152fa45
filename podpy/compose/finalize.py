"""The merged document made whole: env_file read, profiles applied, defaults set, references checked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from podpy.compose.dotenv import read_env_file
from podpy.compose.errors import ComposeError

_KINDS = ("networks", "volumes", "secrets", "configs")


def finalize(doc: dict[str, Any], project: str, env: Mapping[str, str], profiles: list[str],
             selected: list[str], warnings: list[str]) -> dict[str, Any]:
    services = {n: dict(s or {}) for n, s in (doc.get("services") or {}).items()}
    for name in selected:
        if name not in services:
            raise ComposeError(f"no such service: {name}")
    active, disabled = _apply_profiles(services, profiles, selected, warnings)
    for name, svc in active.items():
        active[name] = _service(name, svc, env)
    out: dict[str, Any] = {"name": project, "services": dict(sorted(active.items()))}
    for kind in _KINDS:
        section = {k: dict(v or {}) for k, v in (doc.get(kind) or {}).items()}
        if kind == "networks" and "default" not in section and _uses_default(active):
            section["default"] = {}
        for key, spec in section.items():
            spec.setdefault("name", key if spec.get("external") else f"{project}_{key}")
        if section:
            out[kind] = dict(sorted(section.items()))
    out.update({k: v for k, v in doc.items() if k.startswith("x-")})
    _check_references(out)
    out["x-disabled-services"] = sorted(disabled)
    out["x-all-profiles"] = sorted({p for s in services.values() for p in s.get("profiles") or []})
    return out


def _uses_default(services: dict[str, Any]) -> bool:
    return any("default" in (s.get("networks") or {}) for s in services.values())


def _apply_profiles(services: dict[str, dict[str, Any]], profiles: list[str], selected: list[str],
                    warnings: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Active services: no profiles or an active one. Naming a service on the command line activates
    its profiles; it does not pull in dependencies of other profiles: a required one is an error, an
    optional one is dropped."""
    active_profiles = set(profiles) | {p for n in selected for p in services[n].get("profiles") or []}

    def enabled(name: str) -> bool:
        own = services[name].get("profiles") or []
        return not own or "*" in active_profiles or bool(set(own) & active_profiles)

    active = {n for n in services if enabled(n)}
    for name in sorted(active):
        deps = services[name].get("depends_on") or {}
        for dep, spec in list(deps.items()):
            if dep in active:
                continue
            if spec.get("required", True):
                raise ComposeError(_missing_dependency(name, dep, dep in services))
            warnings.append(f'service "{name}" depends on "{dep}" which is not enabled: ignored (required: false)')
            del deps[dep]
        if not deps:
            services[name].pop("depends_on", None)
    return {n: services[n] for n in services if n in active}, [n for n in services if n not in active]


def _missing_dependency(name: str, dep: str, defined: bool) -> str:
    if not defined:
        return f'service "{name}" depends on undefined service "{dep}": invalid compose project'
    return (f'service "{dep}" was pulled in as a dependency of service "{name}" but is not enabled by the '
            f'active profiles. You may fix this by adding a common profile to "{name}" and "{dep}"')


def _service(name: str, svc: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    if not svc.get("image") and not svc.get("build"):
        raise ComposeError(f'service "{name}" has neither an image nor a build context specified: '
                           f"invalid compose project")
    environment: dict[str, str | None] = {}
    for entry in svc.get("env_file") or []:
        path = Path(entry["path"])
        if not path.is_file():
            if entry.get("required", True):
                raise ComposeError(f'env file {path} not found: stat {path}: no such file or directory')
            continue
        parsed = read_env_file(path, env, raw=entry.get("format") == "raw")
        environment.update(parsed)
    environment.update(svc.get("environment") or {})
    if environment:
        svc["environment"] = {k: (env.get(k) if v is None else v) for k, v in environment.items()}
    build = svc.get("build")
    if isinstance(build, dict) and build.get("args"):  # `args: [NAME]` takes NAME from the environment
        build["args"] = {k: (env.get(k) if v is None else v) for k, v in build["args"].items()}
    if svc.get("label_file"):
        svc["labels"] = {**_label_files(svc["label_file"], env), **(svc.get("labels") or {})}
    if not svc.get("network_mode") and not svc.get("networks"):
        svc["networks"] = {"default": None}
    replicas = (svc.get("deploy") or {}).get("replicas")
    if svc.get("scale") is not None and replicas is not None and svc["scale"] != replicas:
        raise ComposeError(f"services.{name}: can't set distinct values on 'scale' and 'deploy.replicas': "
                           f"invalid compose project")
    if svc.get("container_name") and _scale(svc) > 1:
        raise ComposeError(f'services.{name}: can\'t set container_name and {name} as container name must '
                           f"be unique: invalid compose project")
    return svc


def _label_files(files: list[str], env: Mapping[str, str]) -> dict[str, str]:
    """`label_file`: KEY=VALUE files like env files; later files win, `labels` win over all."""
    labels: dict[str, str] = {}
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise ComposeError(f"label file {path} not found")
        labels.update({k: v or "" for k, v in read_env_file(path, env).items()})
    return labels


def _scale(svc: dict[str, Any]) -> int:
    replicas = (svc.get("deploy") or {}).get("replicas")
    return int(svc.get("scale") if svc.get("scale") is not None else replicas if replicas is not None else 1)


def _check_references(doc: dict[str, Any]) -> None:
    services = doc["services"]
    declared = {kind: set(doc.get(kind) or {}) for kind in _KINDS}
    for name, svc in services.items():
        for net in svc.get("networks") or {}:
            if net not in declared["networks"]:
                raise ComposeError(f'service "{name}" refers to undefined network {net}: invalid compose project')
        for vol in svc.get("volumes") or []:
            if vol.get("type") == "volume" and vol.get("source") and vol["source"] not in declared["volumes"]:
                raise ComposeError(f'service "{name}" refers to undefined volume {vol["source"]}: '
                                   f"invalid compose project")
        for kind in ("secrets", "configs"):
            for ref in svc.get(kind) or []:
                if ref.get("source") not in declared[kind]:
                    raise ComposeError(f'service "{name}" refers to undefined {kind[:-1]} {ref.get("source")}: '
                                       f"invalid compose project")
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                raise ComposeError(f'service "{name}" depends on undefined service "{dep}": invalid compose project')
        _check_service_refs(name, svc, services)


def _check_service_refs(name: str, svc: dict[str, Any], services: dict[str, Any]) -> None:
    for key in ("network_mode", "ipc", "pid"):
        mode = str(svc.get(key) or "")
        if mode.startswith("service:") and mode[8:] not in services:
            raise ComposeError(f'service "{name}" refers to undefined service {mode[8:]} in {key}: '
                               f"invalid compose project")
    for ref in svc.get("volumes_from") or []:
        target = ref.split(":")[0]
        if not ref.startswith("container:") and target not in services:
            raise ComposeError(f'service "{name}" refers to undefined service {target} in volumes_from: '
                               f"invalid compose project")
