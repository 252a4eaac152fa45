"""Pod commands: pod create, ls/ps, inspect, start, stop, restart, kill, pause, unpause, rm, prune,
top, stats, exists, logs."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.appkit import for_each as _each
from podpy.cli.common import engine

STATS_TABLE = "table {{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.Mem}}\t{{.PIDS}}"
PODS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}"


def _svc() -> Any:
    from podpy.engine.pods import PodService

    return PodService(engine())


def create(
    name: str | None = typer.Option(None, "--name", "-n", help="Pod name"),
    publish: list[str] | None = typer.Option(None, "--publish", "-p", help="Publish a port on the pod's network"),
    network: list[str] | None = typer.Option(None, "--network", "--net", help="Network the pod joins"),
    share: str = typer.Option("ipc,net,uts", "--share", help="Namespaces the containers share (ipc, net, uts)"),
    infra: bool = typer.Option(True, "--infra/--no-infra", help="Create an infra container holding the namespaces"),
    infra_image: str | None = typer.Option(None, "--infra-image", help="Image of the infra container"),
    infra_command: str | None = typer.Option(None, "--infra-command", help="Command of the infra container"),
    label: list[str] | None = typer.Option(None, "--label", "-l", help="Set metadata (KEY=VALUE)"),
    hostname: str | None = typer.Option(None, "--hostname", help="Host name of the pod (default: its name)"),
) -> None:
    """Create a new, empty pod."""
    from podpy.engine.container_config import parse_labels
    from podpy.engine.pods import PodCreate, parse_share

    req = PodCreate(name=name or "", hostname=hostname or "", labels=parse_labels(label or []),
                    share=parse_share(share), infra=infra, infra_image=infra_image or "",
                    infra_command=infra_command.split() if infra_command else [],
                    network=list(network or []), publish=list(publish or []))  # fmt: skip
    common.out(_svc().create(req).id)


def _row(svc: Any, pod: Any, now: float) -> dict[str, Any]:
    from podpy.cli import humanize

    recs = svc.members(pod)
    return {"ID": pod.short_id, "Name": pod.name, "Status": svc.status(pod, recs),
            "Created": humanize.ago(pod.created),
            "InfraID": pod.infra_id[:12], "NumberOfContainers": len(recs), "Labels": pod.labels,
            "ContainerNames": ",".join(r.name for r in recs),
            "ContainerIDs": ",".join(r.short_id for r in recs),
            "ContainerStatuses": ",".join(r.state.status for r in recs),
            "Networks": ",".join(pod.network)}  # fmt: skip


def _match(row: dict[str, Any], pod: Any, flt: str) -> bool:
    key, _, value = flt.partition("=")
    if key == "name":
        return value in pod.name
    if key == "id":
        return pod.id.startswith(value)
    if key == "label":
        k, eq, v = value.partition("=")
        return k in pod.labels and (not eq or pod.labels[k] == v)
    if key == "status":
        return row["Status"].lower() == value.lower()
    from podpy.errors import InvalidArgument

    raise InvalidArgument(f"invalid filter {flt!r} (supported: name, id, label, status)")


def ls(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display pod IDs"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter output (name, id, label, status)"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    ctr_names: bool = typer.Option(False, "--ctr-names", help="Show the names of the pod's containers"),
    ctr_status: bool = typer.Option(False, "--ctr-status", help="Show the status of the pod's containers"),
    ctr_ids: bool = typer.Option(False, "--ctr-ids", help="Show the IDs of the pod's containers"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate pod IDs"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Show the latest pod created"),
    noheading: bool = typer.Option(False, "--noheading", help="Do not print headers"),
    sort: str = typer.Option("created", "--sort", help="Sort output by created, id, name, or number"),
) -> None:
    """List pods."""
    from podpy.errors import InvalidArgument

    if sort not in ("created", "id", "name", "number"):
        raise InvalidArgument("invalid option for --sort, options are: id, names, or number")  # Podman's words
    svc, now = _svc(), time.time()
    rows = []
    for pod in svc.list()[:1] if latest else svc.list():
        row = _row(svc, pod, now)
        if all(_match(row, pod, f) for f in filter_ or []):
            rows.append({**row, "ID": pod.id if no_trunc else pod.short_id, "_pod": pod})
    if sort != "created":  # newest first already
        keys = {"id": lambda r: r["_pod"].id, "name": lambda r: r["_pod"].name,
                "number": lambda r: r.get("NumberOfContainers", 0)}  # fmt: skip
        rows.sort(key=keys[sort])
    for r in rows:
        del r["_pod"]
    if quiet:
        common.out("".join(r["ID"] + "\n" for r in rows))
        return
    table = PODS_TABLE
    for flag, col in ((ctr_ids, "ContainerIDs"), (ctr_names, "ContainerNames"), (ctr_status, "ContainerStatuses")):
        if flag:
            table += "\t{{." + col + "}}"
    common.render(rows, format_, table, headers={"ID": "POD ID", "InfraID": "INFRA ID",
                                                  "NumberOfContainers": "# OF CONTAINERS",
                                                  "ContainerNames": "NAMES", "ContainerIDs": "IDS",
                                                  "ContainerStatuses": "STATUS"}, noheading=noheading)  # fmt: skip


def _inspect_doc(svc: Any, pod: Any) -> dict[str, Any]:
    recs = svc.members(pod)
    return {"Id": pod.id, "Name": pod.name, "Created": pod.created, "State": svc.status(pod, recs),
            "Hostname": pod.hostname, "Labels": pod.labels, "CreateInfra": bool(pod.infra_id),
            "InfraContainerID": pod.infra_id, "SharedNamespaces": list(pod.share) if pod.infra_id else [],
            "NumContainers": len(recs),
            "InfraConfig": {"PortBindings": pod.publish, "Networks": pod.network,
                            "InfraImage": pod.infra_image},
            "Containers": [{"Id": r.id, "Name": r.name, "State": r.state.status} for r in recs]}  # fmt: skip


def inspect(
    pods: list[str] = typer.Argument(..., metavar="POD...", help="Pods to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
) -> None:
    """Display detailed information on one or more pods."""
    svc = _svc()
    docs = [_inspect_doc(svc, svc.get(p)) for p in pods]
    common.render_one(docs if len(docs) > 1 or not format_ else docs, format_)




PODS = typer.Argument(None, metavar="POD...", help="Pods")


def _all(help_text: str = "Act on all pods") -> Any:
    return typer.Option(False, "--all", "-a", help=help_text)


def _latest() -> Any:
    return typer.Option(False, "--latest", "-l", help="Act on the latest pod podpy is aware of")


def _id_files() -> Any:
    return typer.Option(None, "--pod-id-file", help="Read the pod ID from the file")


def _targets(pods: list[str] | None, all_: bool, latest: bool, id_files: list[str] | None = None) -> list[str]:
    """Named pods and those read from --pod-id-file, or every pod (--all) or the newest (--latest)."""
    from podpy.errors import InvalidArgument

    refs = list(pods or [])
    for path in id_files or []:
        try:
            with open(path) as f:
                refs.append(f.read().strip())
        except OSError as e:
            raise InvalidArgument(f"reading pod ID file: open {path}: {(e.strerror or str(e)).lower()}") from None
    if all_ and refs:
        raise InvalidArgument("no arguments are needed with --all")
    if latest and refs:
        raise InvalidArgument("--latest and containers cannot be used together")
    if all_ or latest:
        recs = _svc().list()  # newest first
        return [p.id for p in (recs[:1] if latest else recs)]
    if not refs:
        raise InvalidArgument("you must provide at least one name or id")
    return refs


def start(
    pods: list[str] | None = PODS,
    all_: bool = _all("Start all pods"),
    latest: bool = _latest(),
    pod_id_file: list[str] | None = _id_files(),
) -> None:
    """Start one or more pods (the infra container first)."""
    svc = _svc()
    _each(_targets(pods, all_, latest, pod_id_file), lambda p: svc.start(p).id)


def stop(
    pods: list[str] | None = PODS,
    all_: bool = _all("Stop all running pods"),
    ignore: bool = typer.Option(False, "--ignore", "-i", help="Ignore pods that do not exist"),
    latest: bool = _latest(),
    pod_id_file: list[str] | None = _id_files(),
    time_: int | None = typer.Option(None, "--time", "-t", help="Seconds to wait before killing the containers"),
) -> None:
    """Stop one or more pods (the infra container last)."""
    svc = _svc()
    _each(_targets(pods, all_, latest, pod_id_file), _ignoring(ignore, lambda p: svc.stop(p, time_).id))


def restart(pods: list[str] | None = PODS, all_: bool = _all("Restart all pods"), latest: bool = _latest()) -> None:
    """Restart one or more pods."""
    svc = _svc()
    _each(_targets(pods, all_, latest), lambda p: svc.restart(p).id)


def kill(
    pods: list[str] | None = PODS,
    all_: bool = _all("Kill all pods"),
    latest: bool = _latest(),
    signal_: str = typer.Option("SIGKILL", "--signal", "-s", help="Signal to send"),
) -> None:
    """Send a signal to the containers of one or more pods."""
    svc = _svc()
    _each(_targets(pods, all_, latest), lambda p: svc.kill(p, signal_).id)


def pause(pods: list[str] | None = PODS, all_: bool = _all("Pause all running pods"), latest: bool = _latest()) -> None:
    """Pause every container of one or more pods."""
    svc = _svc()
    _each(_targets(pods, all_, latest), lambda p: svc.set_paused(p, True).id)


def unpause(pods: list[str] | None = PODS, all_: bool = _all("Unpause all paused pods"),
            latest: bool = _latest()) -> None:  # fmt: skip
    """Unpause every container of one or more pods."""
    svc = _svc()
    _each(_targets(pods, all_, latest), lambda p: svc.set_paused(p, False).id)


def _ignoring(ignore: bool, action: Any) -> Any:
    from podpy.engine.pods import NoSuchPod

    def one(p: str) -> str | None:
        try:
            return action(p)
        except NoSuchPod:
            if ignore:
                return None
            raise

    return one


def rm(
    pods: list[str] | None = PODS,
    all_: bool = _all("Remove all pods"),
    force: bool = typer.Option(False, "--force", "-f", help="Stop and remove running containers too"),
    ignore: bool = typer.Option(False, "--ignore", "-i", help="Ignore pods that do not exist"),
    latest: bool = _latest(),
    pod_id_file: list[str] | None = _id_files(),
    time_: int | None = typer.Option(None, "--time", "-t", help="Seconds to wait for the pod to stop (with --force)"),
) -> None:
    """Remove one or more pods and their containers."""
    from podpy.engine.pods import NoSuchPod

    svc = _svc()

    def remove(p: str) -> str:
        if force and time_:  # stopped with their stop signal first, as Podman; -f alone kills
            svc.stop(p, time_)
        return svc.remove(p, force=force)

    refs = _targets(pods, all_, latest, pod_id_file)
    try:
        _each(refs, _ignoring(ignore, remove))
    except typer.Exit:
        if any(_missing(svc, r, NoSuchPod) for r in refs):
            raise typer.Exit(1) from None  # Podman: pod rm of a missing pod exits 1
        raise


def _missing(svc: Any, ref: str, error: type) -> bool:
    try:
        svc.get(ref)
    except error:
        return True
    return False


def prune(force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation")) -> None:
    """Remove every pod with no running container."""
    if not force and sys.stdin.isatty() and not typer.confirm("WARNING! This will remove all stopped pods.\n"
                                                             "Are you sure you want to continue?"):  # fmt: skip
        return
    common.out("".join(p + "\n" for p in _svc().prune()))


def exists(pod: str = typer.Argument(..., help="Pod")) -> None:
    """Check if a pod exists (exit 0 if it does, 1 if not)."""
    raise typer.Exit(0 if _svc().exists(pod) else 1)


def top(pod: str = typer.Argument(..., help="Pod")) -> None:
    """Display the running processes of a pod's containers."""
    from podpy.cli.format import align
    from podpy.engine.container_top import top as top_of

    svc = _svc()
    lines: list[list[str]] = []
    for rec in svc.members(svc.get(pod)):
        if rec.state.status == "running":
            titles, rows = top_of(engine().containers, rec.id, [])
            lines = lines or [["CONTAINER", *titles]]
            lines += [[rec.name, *row] for row in rows]
    common.out("".join(line + "\n" for line in align(lines)))


def stats(
    pods: list[str] = typer.Argument(..., metavar="POD...", help="Pods"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
) -> None:
    """Display one sample of the resource usage of the pods' running containers."""
    from podpy.cli.humanize import binary_size
    from podpy.engine.container_stats import Sampler

    svc = _svc()
    by_pod = {r.id: p for p in map(svc.get, pods) for r in svc.members(p) if r.state.status == "running"}
    if not by_pod:
        return
    sampler = Sampler(engine().containers, list(by_pod), False)
    sampler.frame()
    time.sleep(0.5)  # CPU % needs two samples
    rows = [{"Pod": by_pod[s.id].short_id, "CID": s.id[:12], "Name": s.name, "CPU": f"{s.cpu_percent:.2f}%",
             "MemUsage": f"{binary_size(s.mem_usage)} / {binary_size(s.mem_limit)}",
             "Mem": f"{s.mem_percent:.2f}%", "PIDS": str(s.pids)} for s in sampler.frame()]  # fmt: skip
    common.render(rows, format_, STATS_TABLE, headers={"Pod": "POD", "CID": "CID", "CPU": "CPU %",
                                                       "MemUsage": "MEM USAGE / LIMIT", "Mem": "MEM %"})


def logs(
    pod: str = typer.Argument(..., help="Pod"),
    container: str | None = typer.Option(None, "--container", "-c", help="Only this container's logs"),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps"),
) -> None:
    """Fetch the logs of a pod's containers, each line prefixed by its container's name."""
    from podpy.engine.container_logs import LogOptions
    from podpy.engine.container_logs import logs as read_logs

    svc = _svc()
    p = svc.get(pod)
    for rec in svc.members(p, with_infra=False):
        if container and container not in (rec.name, rec.id, rec.short_id):
            continue
        for ts, stream, data in read_logs(engine().containers, rec.id, LogOptions(False, None, None, None)):
            target = sys.stdout.buffer if stream == b"stdout" else sys.stderr.buffer
            target.write(rec.name.encode() + b" " + (ts + b" " if timestamps else b"") + data)


COMMANDS = (("create", create), ("ls", ls), ("ps", ls), ("list", ls), ("inspect", inspect), ("start", start),
            ("stop", stop), ("restart", restart), ("kill", kill), ("pause", pause), ("unpause", unpause),
            ("rm", rm), ("prune", prune), ("exists", exists), ("top", top), ("stats", stats), ("logs", logs))


def register(app: typer.Typer, new_app: Any, settings: dict[str, Any]) -> None:
    group = new_app("Manage pods: containers sharing network, IPC and UTS namespaces.")
    for name, fn in COMMANDS:
        group.command(name, context_settings=settings, hidden=name in ("list", "ps"))(fn)
    app.add_typer(group, name="pod")
