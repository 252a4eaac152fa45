"""`compose config`: the normalised model as YAML or JSON, or one of its lists (pure functions)."""

from __future__ import annotations

import json
from typing import Any

from podpy.compose.model import Project

_TOP_ORDER = ("name", "services", "networks", "volumes", "secrets", "configs")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def config_document(project: Project) -> dict[str, Any]:
    doc = project.document
    ordered = {k: _sorted(doc[k]) for k in _TOP_ORDER if k in doc}
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
