"""The per-service config hash and the `com.docker.compose.*` labels an executor puts on objects.

The hash digests the normalised service configuration minus what must not recreate a container when it
changes: how many replicas run, how the image is obtained (build, pull_policy), dependencies and
profiles. Same idea as Docker Compose's `com.docker.compose.config-hash` (not the same digest).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from podpy import __version__

LABEL = "com.docker.compose"
PROJECT = f"{LABEL}.project"
SERVICE = f"{LABEL}.service"
NUMBER = f"{LABEL}.container-number"
CONFIG_HASH = f"{LABEL}.config-hash"
ONEOFF = f"{LABEL}.oneoff"
WORKING_DIR = f"{LABEL}.project.working_dir"
CONFIG_FILES = f"{LABEL}.project.config_files"
ENV_FILE = f"{LABEL}.project.environment_file"
VERSION = f"{LABEL}.version"
DEPENDS_ON = f"{LABEL}.depends_on"
IMAGE = f"{LABEL}.image"
NETWORK = f"{LABEL}.network"
VOLUME = f"{LABEL}.volume"

_IGNORED = ("build", "pull_policy", "scale", "depends_on", "profiles")


def service_hash(config: dict[str, Any]) -> str:
    cfg = {k: v for k, v in config.items() if k not in _IGNORED}
    if isinstance(cfg.get("deploy"), dict):
        deploy = {k: v for k, v in cfg["deploy"].items() if k != "replicas"}
        if deploy:
            cfg["deploy"] = deploy
        else:
            del cfg["deploy"]
    blob = json.dumps(cfg, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def container_labels(project: Any, service: Any, number: int, oneoff: bool = False,
                     image_digest: str = "") -> dict[str, str]:
    """Labels for container `number` of `service` (a model.Service) in `project` (a model.Project)."""
    labels = dict(service.config.get("labels") or {})
    deps = ",".join(f"{d.service}:{d.condition}:{str(d.restart).lower()}"
                    for d in service.depends_on.values())
    labels.update({
        PROJECT: project.name,
        SERVICE: service.name,
        NUMBER: str(number),
        CONFIG_HASH: service.config_hash,
        ONEOFF: "True" if oneoff else "False",
        WORKING_DIR: project.working_dir,
        CONFIG_FILES: ",".join(project.config_files),
        ENV_FILE: ",".join(project.env_files),
        VERSION: __version__,
        DEPENDS_ON: deps,
        IMAGE: image_digest,
    })
    return {k: v for k, v in labels.items() if v != "" or k in (DEPENDS_ON, ENV_FILE)}


def resource_hash(spec: dict[str, Any]) -> str:
    """Digest of a network's or volume's normalised definition (to notice it changed since creation)."""
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def resource_labels(project: Any, resource: Any, kind_label: str) -> dict[str, str]:
    """Labels for a network (kind_label=NETWORK) or volume (VOLUME) the project creates."""
    labels = dict(resource.labels)
    labels.update({PROJECT: project.name, kind_label: resource.key, VERSION: __version__,
                   CONFIG_HASH: resource_hash(resource.spec)})
    return labels


def container_name(project: str, service: Any, number: int) -> str:
    """`container_name:` or `<project>-<service>-<n>` (Compose v2)."""
    return service.container_name or f"{project}-{service.name}-{number}"
