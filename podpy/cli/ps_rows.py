"""The rows of `ps` (typer-free: the CLI's ps and the fast front door share them)."""

from __future__ import annotations

import time
from typing import Any

from podpy.cli.common import engine

PS_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
PS_TABLE_SIZE = PS_TABLE + "\t{{.Size}}"


def status_text(rec: Any, now: float | None = None) -> str:
    """Docker's STATUS column: Created, Up 10 seconds, Exited (0) 4 minutes ago."""
    from podpy.cli import humanize
    from podpy.timeutil import parse_time

    now = time.time() if now is None else now
    st = rec.state
    if st.status == "running":
        up = "Up " + humanize.duration(now - parse_time(st.started_at))
        return up + " (Paused)" if getattr(st, "paused", False) else up + _health_suffix(rec)
    if st.status == "restarting":
        return f"Restarting ({st.exit_code}) {humanize.duration(now - parse_time(st.finished_at))} ago"
    if st.status == "exited":
        return f"Exited ({st.exit_code}) {humanize.duration(now - parse_time(st.finished_at))} ago"
    if st.status == "removing":
        return "Removal In Progress"
    return st.status.capitalize()


def _health_suffix(rec: Any) -> str:
    """Docker: (health: starting), (healthy), (unhealthy); nothing without a health check."""
    if not getattr(rec, "healthcheck", None):
        return ""
    from podpy.engine.container_health import NONE, STARTING, status_of

    status = status_of(engine().containers, rec)
    return "" if status == NONE else " (health: starting)" if status == STARTING else f" ({status})"


def command_text(args: list[str], trunc: bool) -> str:
    """Quoted like Docker, truncated to 20 characters with an ellipsis unless --no-trunc."""
    import json

    cmd = " ".join(args)
    if trunc and len(cmd) > 20:
        cmd = cmd[:19] + "…"
    return json.dumps(cmd, ensure_ascii=False)


def ps_row(rec: Any, no_trunc: bool, size: bool, now: float, created_at: bool = True) -> dict[str, Any]:
    from podpy.cli import humanize
    from podpy.storage.fsutil import disk_usage

    labels = rec.spec.get("labels") or {}
    status = status_text(rec, now)
    row = {
        "ID": rec.id if no_trunc else rec.short_id,
        "Image": rec.image_name,
        "Command": command_text(rec.args, not no_trunc),
        "CreatedAt": humanize.local_time(rec.created) if created_at else "",
        "RunningFor": humanize.ago(rec.created),
        "Ports": _ports(rec),
        "Status": status,
        "State": "paused" if "(Paused)" in status else rec.state.status,
        "Names": rec.name,
        "Labels": dict(labels),  # a map, as Podman: {{.Labels.app}}, {{.Label "app"}}
        "Mounts": "",
        "Networks": "",
        "Size": "",
    }
    if size:
        rw = disk_usage(engine().containers.cdir(rec.id) / "rw")
        row["Size"] = f"{humanize.size(rw)} (virtual {humanize.size(rw + _image_size(rec))})"
    return row


def _ports(rec: Any) -> str:
    """Published ports of a running container (its live bindings: random host ports resolved)."""
    if not rec.spec.get("ports") or rec.state.status != "running":
        return ""
    from podpy.network.ports import load, ps_text

    return ps_text(load(engine().layout, rec.id))


def _image_size(rec: Any) -> int:
    from podpy.errors import PodpyError

    try:
        return engine().images.get(rec.image).size if rec.image else 0
    except PodpyError:
        return 0
