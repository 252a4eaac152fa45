"""`compose ps`, `logs`, `top`, `images`, `port`, `ls`, `wait`, `run` and `exec`."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine
from podpy.cli.compose_common import Events, load
from podpy.compose.errors import ComposeError

PS_COLUMNS = ("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")


def _records(project: str, services: list[str], all_: bool = True, oneoff: bool = False) -> list[Any]:
    from podpy.compose import hashing as lbl
    from podpy.compose.observe import project_records

    out = []
    for rec in project_records(engine(), project):
        labels = rec.spec.get("labels") or {}
        if services and labels.get(lbl.SERVICE) not in services:
            continue
        if not oneoff and labels.get(lbl.ONEOFF) == "True":
            continue
        if all_ or rec.state.status in ("running", "restarting"):
            out.append(rec)
    return sorted(out, key=lambda r: r.name)


def _check_services(project: Any, services: list[str]) -> None:
    for name in services:
        if name not in project.services:
            raise ComposeError(f"no such service: {name}")


def _ports(rec: Any) -> list[dict[str, Any]]:
    if rec.state.status != "running" or not rec.spec.get("ports"):
        return []
    from podpy.network import ports

    return ports.load(engine().layout, rec.id)


def _ps_row(rec: Any) -> dict[str, Any]:
    from podpy.cli import humanize
    from podpy.cli.containers import status_text
    from podpy.compose import hashing as lbl
    from podpy.compose.observe import container_state

    labels = rec.spec.get("labels") or {}
    binds = _ports(rec)
    health = ""
    if rec.healthcheck:
        from podpy.engine.container_health import status_of

        health = status_of(engine().containers, rec).replace("none", "")
    return {"ID": rec.id, "Name": rec.name, "Names": rec.name, "Image": rec.image_name,
            "Command": json.dumps(" ".join(rec.args)), "Project": labels.get(lbl.PROJECT, ""),
            "Service": labels.get(lbl.SERVICE, ""), "Created": humanize.ago(rec.created),
            "RunningFor": humanize.ago(rec.created), "State": container_state(rec),
            "Status": status_text(rec), "Health": health, "ExitCode": rec.state.exit_code,
            "Publishers": [{"URL": b["host_ip"] or "0.0.0.0", "TargetPort": b["container_port"],
                            "PublishedPort": b["host_port"], "Protocol": b["protocol"]} for b in binds],
            "Ports": ", ".join(f"{b['host_ip'] or '0.0.0.0'}:{b['host_port']}->{b['container_port']}/{b['protocol']}"
                               for b in binds),
            "Labels": ",".join(f"{k}={v}" for k, v in labels.items())}


def ps(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    all_: bool = typer.Option(False, "--all", "-a", help="Show all stopped containers"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display IDs"),
    show_services: bool = typer.Option(False, "--services", help="Display services"),
    status: list[str] | None = typer.Option(None, "--status", help="Filter services by status"),
    filter_: list[str] | None = typer.Option(None, "--filter", help="Filter services by a property (status=...)"),
    format_: str = typer.Option("table", "--format", help="Format the output: table, json or a Go template"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output"),
) -> None:
    """List containers."""
    project = load(list(services or []), by_name=True)
    _check_services(project, list(services or []))
    wanted = list(status or [])
    for f in filter_ or []:
        key, _, value = f.partition("=")
        if key != "status":
            raise ComposeError(f"invalid filter {f!r}: only status=... is supported")
        wanted.append(value)
    rows = [_ps_row(r) for r in _records(project.name, list(services or []), all_ or bool(wanted), oneoff=True)]
    if wanted:
        rows = [r for r in rows if r["State"] in wanted]
    if show_services:
        common.out("\n".join(dict.fromkeys(r["Service"] for r in rows)))
    elif quiet:
        common.out("\n".join(r["ID"] for r in rows))
    elif format_ == "json":
        common.out("\n".join(json.dumps(r) for r in rows))
    elif format_ == "table":
        _table([[r["Name"], r["Image"], r["Command"] if no_trunc else _trunc(r["Command"]), r["Service"],
                 r["Created"], r["Status"], r["Ports"]] for r in rows], PS_COLUMNS)
    else:
        from podpy.cli.format import compile_template

        tmpl = compile_template(format_.removeprefix("table").strip())
        common.out("".join(tmpl.execute(r) + "\n" for r in rows))


def _trunc(cmd: str) -> str:
    return cmd if len(cmd) <= 22 else cmd[:20] + "…\""


def _table(rows: list[list[Any]], columns: tuple[str, ...]) -> None:
    from podpy.cli.format import align

    common.out("".join(line + "\n" for line in align([list(columns), *[[str(x) for x in r] for r in rows]])))


def logs(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output"),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps"),
    tail: str = typer.Option("all", "--tail", "-n", help="Number of lines from the end of the logs"),
    since: str | None = typer.Option(None, "--since", help="Show logs since a timestamp or relative time"),
    until: str | None = typer.Option(None, "--until", help="Show logs before a timestamp or relative time"),
    no_log_prefix: bool = typer.Option(False, "--no-log-prefix", help="Don't print prefix in logs"),
    no_color: bool = typer.Option(False, "--no-color", help="Produce monochrome output"),
    index: int | None = typer.Option(None, "--index", help="Index of the container if the service has several"),
) -> None:
    """View output from containers."""
    from podpy.cli.compose_attach import Prefixer, short_name, stream
    from podpy.engine.container_logs import LogOptions

    if tail != "all" and not tail.lstrip("-").isdigit():
        raise ComposeError(f"invalid --tail {tail!r}: a number or all")
    project = load(list(services or []), by_name=True)
    _check_services(project, list(services or []))
    recs = _records(project.name, list(services or []))
    if index is not None:
        recs = [r for r in recs if (r.spec.get("labels") or {}).get("com.docker.compose.container-number")
                == str(index)]
    opts = LogOptions(follow, None if tail == "all" else int(tail), since, until)
    pairs = [(r.id, short_name(project.name, r.name), opts) for r in recs]
    prefix = Prefixer([n for _, n, _ in pairs], not no_log_prefix)
    prefix.color = prefix.color and not no_color
    try:
        stream(pairs, prefix, timestamps)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def top(services: list[str] | None = typer.Argument(None, help="Services (default: all)")) -> None:
    """Display the running processes."""
    from podpy.cli.format import align
    from podpy.engine.container_top import top as top_of

    project = load(list(services or []), by_name=True)
    for rec in _records(project.name, list(services or []), all_=False):
        titles, rows = top_of(engine().containers, rec.id, [])
        common.out(rec.name + "\n" + "".join(line + "\n" for line in align([titles, *rows])))


def images(
    services: list[str] | None = typer.Argument(None, help="Services (default: all)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display IDs"),
    format_: str = typer.Option("table", "--format", help="Format the output: table or json"),
) -> None:
    """List images used by the created containers."""
    from podpy.cli import humanize
    from podpy.errors import PodpyError

    project = load(list(services or []), by_name=True)
    rows = []
    for rec in _records(project.name, list(services or [])):
        try:
            img = engine().images.get(rec.image)
        except PodpyError:
            continue
        repo, _, tag = rec.image_name.rpartition(":") if ":" in rec.image_name.split("/")[-1] else (
            rec.image_name, "", "latest")
        rows.append({"ContainerName": rec.name, "Repository": repo, "Tag": tag,
                     "ID": img.id.removeprefix("sha256:"), "Size": img.size})
    if quiet:
        common.out("\n".join(dict.fromkeys(r["ID"] for r in rows)))
    elif format_ == "json":
        common.out(json.dumps(rows, indent=2))
    else:
        _table([[r["ContainerName"], r["Repository"], r["Tag"], r["ID"][:12], humanize.size(r["Size"])]
                for r in rows], ("CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"))


def service_container(project: Any, service: str, index: int, running: bool = True) -> Any:
    _check_services(project, [service])
    for rec in _records(project.name, [service], all_=not running):
        if (rec.spec.get("labels") or {}).get("com.docker.compose.container-number") == str(index):
            return rec
    raise ComposeError(f'service "{service}" is not running' if running else
                       f'no container found for service "{service}"')


def port(
    service: str = typer.Argument(..., help="Service"),
    private_port: str = typer.Argument(..., help="Private port"),
    protocol: str = typer.Option("tcp", "--protocol", help="tcp or udp"),
    index: int = typer.Option(1, "--index", help="Index of the container if the service has several"),
) -> None:
    """Print the public port for a port binding."""
    rec = service_container(load([service], by_name=True), service, index)
    for b in _ports(rec):
        if str(b["container_port"]) == private_port and b["protocol"] == protocol:
            common.out(f"{b['host_ip'] or '0.0.0.0'}:{b['host_port']}")
            return
    raise ComposeError(f"no port {private_port}/{protocol} for container {rec.name}")


def ls(
    all_: bool = typer.Option(False, "--all", "-a", help="Show all stopped Compose projects"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display project names"),
    format_: str = typer.Option("table", "--format", help="Format the output: table or json"),
    filter_: list[str] | None = typer.Option(None, "--filter", help="Filter output (name=...)"),
) -> None:
    """List running compose projects."""
    from podpy.compose import hashing as lbl
    from podpy.compose.observe import container_state, project_records

    projects: dict[str, dict[str, Any]] = {}
    for rec in project_records(engine(), None):
        labels = rec.spec.get("labels") or {}
        p = projects.setdefault(labels[lbl.PROJECT], {"states": {}, "files": labels.get(lbl.CONFIG_FILES, "")})
        state = container_state(rec)
        p["states"][state] = p["states"].get(state, 0) + 1
    names = [f.partition("=")[2] for f in filter_ or [] if f.startswith("name=")]
    rows = []
    for name in sorted(projects):
        states = projects[name]["states"]
        if (not all_ and "running" not in states) or (names and not any(n in name for n in names)):
            continue
        status = ", ".join(f"{s}({n})" for s, n in sorted(states.items()))
        rows.append({"Name": name, "Status": status, "ConfigFiles": projects[name]["files"]})
    if quiet:
        common.out("\n".join(r["Name"] for r in rows))
    elif format_ == "json":
        common.out(json.dumps(rows))
    else:
        _table([[r["Name"], r["Status"], r["ConfigFiles"]] for r in rows], ("NAME", "STATUS", "CONFIG FILES"))


def wait(
    services: list[str] = typer.Argument(..., help="Services"),
    down_project: bool = typer.Option(False, "--down-project", help="Drop the project when the first one stops"),
) -> None:
    """Block until the first service container stops; exit with its code."""
    project = load(list(services), by_name=True)
    _check_services(project, list(services))
    recs = _records(project.name, list(services))
    code = engine().containers.wait(recs[0].id) if recs else 0
    if down_project:
        from podpy.compose import planner, project_ops

        project_ops.down(engine(), project, planner.DownOptions(), None, Events())
    raise typer.Exit(code)


def exec_(
    service: str = typer.Argument(..., help="Service"),
    command: list[str] = typer.Argument(..., help="Command and arguments"),
    detach: bool = typer.Option(False, "--detach", "-d", help="Run the command in the background"),
    no_tty: bool = typer.Option(False, "--no-TTY", "-T", help="Disable pseudo-TTY allocation"),
    env: list[str] | None = typer.Option(None, "--env", "-e", help="Set environment variables"),
    user: str | None = typer.Option(None, "--user", "-u", help="Run the command as this user"),
    workdir: str | None = typer.Option(None, "--workdir", "-w", help="Working directory"),
    privileged: bool = typer.Option(False, "--privileged", help="Give extended privileges to the process"),
    index: int = typer.Option(1, "--index", help="Index of the container if the service has several"),
    interactive: bool = typer.Option(True, "--interactive", "-i", help="Keep STDIN open (default)"),
) -> None:
    """Execute a command in a running service container."""
    from podpy.cli.exec_core import _exec_attached
    from podpy.engine import container_exec as ce

    rec = service_container(load([service], by_name=True), service, index)
    tty = not no_tty and sys.stdin.isatty()
    opts = ce.ExecOptions(list(command), interactive and not detach, tty, env or [], user or "", workdir or "",
                          privileged)
    if detach:
        ce.exec_detached(engine().containers, rec.id, opts)
        return
    raise typer.Exit(_exec_attached(engine().containers, rec.id, opts))


COMMANDS = (("ps", ps), ("logs", logs), ("top", top), ("images", images), ("port", port), ("ls", ls),
            ("wait", wait), ("exec", exec_))
