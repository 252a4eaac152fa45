"""`compose events`: the engine's container events of one project, in Docker Compose v2's shapes.

Compose v2 reads Docker's event stream filtered by the project label, skips one-off containers
(`compose run`), keeps the services asked for, and drops the `com.docker.compose.*` attributes."""

from __future__ import annotations

import json
import time
from typing import Any

from podpy.events import Event

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
# Docker's action names for the statuses Podman (and podpy) write.
DOCKER_ACTIONS = {"died": "die", "remove": "destroy", "exec": "exec_start", "exec_died": "exec_die"}


def select(ev: Event, project: str, services: list[str]) -> dict[str, Any] | None:
    """The Compose event for one engine event, or None when it is not one of the project's."""
    labels = ev.attributes
    if ev.type != "container" or labels.get(PROJECT_LABEL, "").lower() != project.lower():
        return None
    if labels.get(ONEOFF_LABEL) == "True":
        return None
    service = labels.get(SERVICE_LABEL, "")
    if services and service not in services:
        return None
    attrs = {k: v for k, v in labels.items() if not k.startswith("com.docker.compose.")}
    attrs.update(image=ev.image, name=ev.name)
    action = DOCKER_ACTIONS.get(ev.status, ev.status)
    if ev.status == "health_status":
        action = f"health_status: {ev.health_status}"
    if ev.exit_code is not None and ev.status in ("died", "exec_died"):
        attrs["exitCode"] = str(ev.exit_code)
    return {
        "time": ev.time,
        "ns": ev.ns,
        "service": service,
        "id": ev.id,
        "action": action,
        "attributes": attrs,
    }


def text(item: dict[str, Any]) -> str:
    """Compose v2's Event.String() as printed by Println: `2006-01-02 15:04:05.000000 container ACTION
    ID (k=v, ...)`, then the blank line its trailing newline makes."""
    secs, ns = divmod(item["ns"], 1_000_000_000)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs)) + f".{ns // 1000:06d}"
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(item["attributes"].items()))
    return f"{stamp} container {item['action']} {item['id']} ({attrs})\n\n"


def json_line(item: dict[str, Any]) -> str:
    """`--json`: Go's json.Marshal of Compose's map (keys sorted), one object per line."""
    doc = {"action": item["action"], "attributes": dict(sorted(item["attributes"].items())), "id": item["id"],
           "service": item["service"], "time": item["time"], "type": "container"}  # fmt: skip
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"
