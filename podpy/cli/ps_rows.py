"""The rows of `ps` (typer-free: the CLI's ps and the fast front door share them)."""

from __future__ import annotations

import time

from podpy.cli.common import engine

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

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


PS_SORT = ("command", "created", "id", "image", "names", "runningfor", "size", "status")
PS_NS_TABLE = ("table {{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.Namespaces.Cgroup}}\t{{.Namespaces.IPC}}\t{{.Namespaces.MNT}}"
               "\t{{.Namespaces.NET}}\t{{.Namespaces.PIDNS}}\t{{.Namespaces.User}}\t{{.Namespaces.UTS}}")  # fmt: skip
PS_HEADERS = {"ID": "CONTAINER ID", "RunningFor": "CREATED", "Pod": "POD ID", "PodName": "PODNAME",
              "Namespaces.Cgroup": "CGROUPNS", "Namespaces.User": "USERNS", "Namespaces.PIDNS": "PIDNS"}  # fmt: skip


def ps_listing(all_: bool, filter_: list[str] | None, format_: str | None, last: int, latest: bool,  # fmt: skip
                no_trunc: bool, noheading: bool, ns: bool, pod: bool, quiet: bool, size: bool, sort: str | None) -> str:
    """`ps` (the typer command and the fast path): the text to print."""
    from podpy.cli import format as fmtmod

    if sort is not None and sort not in PS_SORT:
        from podpy.errors import InvalidArgument

        raise InvalidArgument(f'invalid argument "{sort}" for "--sort" flag: "{sort}" is not a valid value.  '
                              f'Choose from: "{", ".join(PS_SORT)}"')  # fmt: skip

    from podpy.state.layout import holds_nothing

    if not filter_ and holds_nothing(engine().layout.containers):
        recs = []  # no containers: the record and filter modules (~6 ms of imports) are not needed
    else:
        recs = engine().containers.ps(all_ or latest or last >= 0, filter_ or [])
    if latest:
        recs = recs[:1]
    elif last >= 0:
        recs = recs[:last]
    recs = _sorted(recs, sort)
    if quiet:
        return "\n".join(r.id if no_trunc else r.short_id for r in recs)
    now = time.time()
    created_at = bool(format_) and ("CreatedAt" in format_ or "json" in format_)  # costly: only when shown
    rows = [ps_row(r, no_trunc, size, now, created_at) for r in recs]
    table = PS_TABLE_SIZE if size else PS_TABLE
    if pod:  # the pods code is only imported when asked for
        from podpy.engine.container_views import pod_columns

        pod_columns(engine(), recs, rows, no_trunc)
        table += "\t{{.Pod}}\t{{.PodName}}"
    if ns:
        for rec, row in zip(recs, rows, strict=True):
            row.update(_namespaces(rec))
        table = PS_NS_TABLE
    text = fmtmod.render(rows, format_, table, headers=PS_HEADERS)
    is_table = not (format_ or "").strip() or (format_ or "").strip().startswith("table")
    return text.partition("\n")[2] if noheading and is_table else text


def _sorted(recs: list[Any], key: str | None) -> list[Any]:
    """Podman's --sort: oldest first by created/runningfor, else by the column's value."""
    if not key:
        return recs
    if key == "size":
        from podpy.storage.fsutil import disk_usage

        svc = engine().containers
        return sorted(recs, key=lambda r: disk_usage(svc.cdir(r.id) / "rw"))
    now = time.time()
    keys = {"created": lambda r: r.created, "runningfor": lambda r: r.created, "id": lambda r: r.id,
            "image": lambda r: r.image_name or "", "names": lambda r: r.name, "command": lambda r: " ".join(r.args),
            "status": lambda r: status_text(r, now)}  # fmt: skip
    return sorted(recs, key=keys[key])


def _namespaces(rec: Any) -> dict[str, Any]:
    """--ns: the PID and the namespace inodes of a running container (Podman's columns)."""
    import os

    pid = rec.state.pid if rec.state.status == "running" else 0
    names = {"Cgroup": "cgroup", "IPC": "ipc", "MNT": "mnt", "NET": "net", "PIDNS": "pid", "User": "user",
             "UTS": "uts"}  # fmt: skip
    spaces: dict[str, str] = {}
    for key, ns in names.items():
        try:
            spaces[key] = str(os.stat(f"/proc/{pid}/ns/{ns}").st_ino) if pid else ""
        except OSError:
            spaces[key] = ""
    return {"Pid": pid, "Namespaces": spaces}
