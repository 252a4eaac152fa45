"""`compose config`: the normalised model as YAML or JSON, or one of its lists (pure functions)."""

from __future__ import annotations

import json
from typing import Any

from podpy.compose.model import Project

_TOP_ORDER = ("name", "services", "networks", "volumes", "secrets", "configs")


# Docker Compose prints a service's keys, and a port's or volume's, in its model's field order (not
# alphabetically); maps (environment, labels, ...) and unknown keys come sorted.
_SERVICE_ORDER = (
    "profiles annotations attach build develop blkio_config cap_add cap_drop cgroup_parent cgroup cpu_count "
    "cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpus cpuset cpu_shares command configs "
    "container_name credential_spec depends_on deploy device_cgroup_rules devices dns dns_opt dns_search "
    "dockerfile domainname entrypoint provider environment env_file expose extends external_links "
    "extra_hosts group_add gpus hostname healthcheck image init ipc isolation labels label_file links "
    "logging log_driver log_opt mem_limit mem_reservation memswap_limit mem_swappiness mac_address models "
    "net network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports privileged "
    "pull_policy read_only restart runtime scale secrets security_opt shm_size stdin_open "
    "stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode "
    "uts volume_driver volumes volumes_from working_dir post_start pre_stop").split()
_PORT_ORDER = ("name", "mode", "host_ip", "target", "published", "protocol", "app_protocol")
_VOLUME_ORDER = ("type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs", "image")
_FILE_ORDER = ("source", "target", "uid", "gid", "mode")


def _sorted(value: Any, order: tuple[str, ...] | list[str] = ()) -> Any:
    if isinstance(value, dict):
        rank = {k: i for i, k in enumerate(order)}
        return {k: _sorted(value[k]) for k in sorted(value, key=lambda k: (rank.get(k, len(rank)), k))}
    if isinstance(value, list):
        return [_sorted(v, order) for v in value]
    return value


def _service(svc: Any) -> Any:
    if not isinstance(svc, dict):
        return svc
    out = _sorted(svc, _SERVICE_ORDER)
    for key, order in (("ports", _PORT_ORDER), ("volumes", _VOLUME_ORDER), ("secrets", _FILE_ORDER),
                       ("configs", _FILE_ORDER)):
        if isinstance(svc.get(key), list):
            out[key] = _sorted(svc[key], order)
    return out


def config_document(project: Project) -> dict[str, Any]:
    doc = project.document
    ordered = {k: _sorted(doc[k]) for k in _TOP_ORDER if k in doc and k != "services"}
    if "services" in doc:
        services = {n: _service(s) for n, s in sorted(doc["services"].items())}
        ordered = {**{k: v for k, v in ordered.items() if k == "name"}, "services": services,
                   **{k: v for k, v in ordered.items() if k != "name"}}
    ordered.update({k: _sorted(v) for k, v in doc.items() if k not in ordered})
    return ordered


def render_config(project: Project, fmt: str = "yaml") -> str:
    doc = config_document(project)
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    if fmt != "yaml":
        raise ValueError(f"unsupported format {fmt!r}")
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # never emit &anchors for repeated values
            return True

        def choose_scalar_style(self) -> str:  # quote like Compose: "8080", not '8080'
            style = super().choose_scalar_style()
            return '"' if style == "'" else style

    def literal_multiline(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, literal_multiline)
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def list_services(project: Project) -> list[str]:
    return project.service_order()


def list_volumes(project: Project) -> list[str]:
    return sorted(project.volumes)


def list_profiles(project: Project) -> list[str]:
    return list(project.profiles)


def list_images(project: Project) -> list[str]:
    return [project.services[n].image for n in project.service_order()]


def list_hashes(project: Project, which: str = "*") -> list[str]:
    """`--hash "*"` or `--hash a,b`: "service hash" lines."""
    names = project.service_order() if which == "*" else [n for n in which.split(",") if n]
    for name in names:
        if name not in project.services:
            from podpy.compose.errors import ComposeError

            raise ComposeError(f"no such service: {name}")
    return [f"{n} {project.services[n].config_hash}" for n in names]
