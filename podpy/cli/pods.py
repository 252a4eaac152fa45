"""Pod commands: pod create, ls/ps, inspect, start, stop, restart, kill, pause, unpause, rm, prune,
top, stats, exists, logs."""

from __future__ import annotations

import inspect as pyinspect
import sys
import time
from pathlib import Path
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


# `pod create` flags that run/create have too (run_flags.FLAGS: one help text, one parser), and where
# each goes: the infra container's network flags, the infra's other flags, what every member inherits
POD_RESOURCES = ("memory", "memory_swap", "cpus", "cpu_shares", "cpuset_cpus", "cpuset_mems")
POD_INFRA_NET = ("add_host", "dns", "dns_option", "dns_search", "ip", "ip6", "mac_address", "network_alias")
POD_MEMBER = {"volume": "volumes", "volumes_from": "volumes_from", "device": "devices",
              "security_opt": "security_opt", "userns": "userns"}  # fmt: skip
POD_IDMAP = ("uidmap", "gidmap", "subuidname", "subgidname")  # the infra and every member (pods.inherit)
POD_MEMBER_MORE = ("cgroup_parent", "device_read_bps", "device_write_bps", "blkio_weight", "blkio_weight_device",
                   "pid", "shm_size", "sysctl", "no_hosts", *POD_IDMAP)  # fmt: skip
POD_INFRA_MORE = ("cgroup_parent", "uts", "sysctl", "no_hosts", *POD_IDMAP)
POD_SHARED = (*POD_RESOURCES, *POD_INFRA_NET, *POD_MEMBER, *POD_MEMBER_MORE, "uts", "label_file")


def create(name_arg: str | None = None, **kw: Any) -> None:
    """Create a new, empty pod."""
    from podpy.engine.container_config import parse_labels
    from podpy.engine.pods import PodCreate, parse_share
    from podpy.errors import InvalidArgument

    if name_arg and kw["name"] and name_arg != kw["name"]:
        raise InvalidArgument("cannot specify a name both with --name and as an argument")
    labels = parse_labels(kw["label"] or [])
    if kw["label_file"]:
        from podpy.engine.create_more import read_label_files

        labels = {**read_label_files(kw["label_file"]), **labels}
    resources = {k: kw[k] for k in POD_RESOURCES if kw[k] not in (None, "")}
    if resources:
        from podpy.engine import resources as res

        res.check(res.parse(resources))  # a bad value fails here, not at the first member's create
    if kw["no_hosts"] and kw["add_host"]:
        raise InvalidArgument("--no-hosts and --add-host cannot be set together")
    if kw["blkio_weight"] or kw["blkio_weight_device"]:
        from podpy.engine.create_misc import check_blkio

        for notice in check_blkio(kw):  # as run warns: kept for inspect, left out of the members
            common.warn(notice)
    member: dict[str, Any] = {dst: kw[src] for src, dst in POD_MEMBER.items() if kw[src]}
    if any(kw[k] for k in POD_IDMAP):
        from podpy.engine import idmaps

        if kw["userns"]:
            raise InvalidArgument("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")
        idmaps.from_flags(kw)  # a bad map fails here, not at the first member's create
    more = {k: kw[k] for k in POD_MEMBER_MORE if kw[k]}
    if kw["uts"] and "uts" not in kw["share"]:
        more["uts"] = kw["uts"]
    member.update({"resources": resources} if resources else {}, **({"more": more} if more else {}))
    infra_more = {k: kw[k] for k in POD_INFRA_MORE if kw[k]}
    if kw["infra_conmon_pidfile"]:
        infra_more["conmon_pidfile"] = kw["infra_conmon_pidfile"]
    req = PodCreate(name=kw["name"] or name_arg or "", hostname=kw["hostname"] or "", labels=labels,
                    share=parse_share(kw["share"]), infra=kw["infra"], infra_image=kw["infra_image"] or "",
                    infra_command=_command(kw["infra_command"]), infra_name=kw["infra_name"] or "",
                    network=list(kw["network"] or []), publish=list(kw["publish"] or []),
                    infra_net={k: kw[k] for k in POD_INFRA_NET if kw[k]}, infra_more=infra_more, member=member,
                    exit_policy=kw["exit_policy"], share_parent=kw["share_parent"],
                    replace=kw["replace"])  # fmt: skip
    pod = _svc().create(req)
    if kw["pod_id_file"]:
        from podpy.state import atomic_write_bytes

        atomic_write_bytes(Path(kw["pod_id_file"]), pod.id.encode(), durable=False)
    common.out(pod.id)


def _command(text: str | None) -> list[str]:
    """--infra-command: a JSON array or words."""
    import json
    import shlex

    if not text:
        return []
    if text.lstrip().startswith("["):
        try:
            return [str(x) for x in json.loads(text)]
        except ValueError:
            pass
    return shlex.split(text)


def _create_signature() -> pyinspect.Signature:
    from podpy.cli.run_flags import BOOL, FLAGS

    kinds = pyinspect.Parameter

    def opt(field: str, annotation: Any, default: Any, *decls: str, help: str) -> pyinspect.Parameter:
        return kinds(field, kinds.KEYWORD_ONLY, annotation=annotation, default=typer.Option(default, *decls, help=help))

    params = [
        kinds("name_arg", kinds.POSITIONAL_OR_KEYWORD, annotation=str | None,
              default=typer.Argument(None, metavar="[NAME]", help="Pod name")),
        opt("name", str | None, None, "--name", "-n", help="Pod name"),
        opt("publish", list[str] | None, None, "--publish", "-p", help="Publish a port on the pod's network"),
        opt("network", list[str] | None, None, "--network", "--net", help="Network the pod joins"),
        opt("share", str, "ipc,net,uts", "--share", help="Namespaces the containers share (ipc, net, uts)"),
        opt("infra", bool, True, "--infra/--no-infra", help="Create an infra container holding the namespaces"),
        opt("infra_image", str | None, None, "--infra-image", help="Image of the infra container"),
        opt("infra_command", str | None, None, "--infra-command", help="Command of the infra container"),
        opt("infra_name", str | None, None, "--infra-name", help="Name of the infra container"),
        opt("infra_conmon_pidfile", str | None, None, "--infra-conmon-pidfile",
            help="Write the infra container's supervisor PID to the file"),
        opt("label", list[str] | None, None, "--label", "-l", help="Set metadata (KEY=VALUE)"),
        opt("hostname", str | None, None, "--hostname", "-h", help="Host name of the pod (default: its name)"),
        opt("exit_policy", str, "continue", "--exit-policy",
            help="When the last container exits: continue (the pod keeps running) or stop"),
        opt("share_parent", bool, True, "--share-parent/--no-share-parent",
            help="Containers take the pod's resource limits and cgroup parent"),
        opt("pod_id_file", str | None, None, "--pod-id-file", help="Write the pod ID to the file"),
        opt("replace", bool, False, "--replace", help="Replace a pod of the same name"),
    ]  # fmt: skip
    by_field = {f.field: f for f in FLAGS}
    for field in dict.fromkeys(POD_SHARED):
        f = by_field[field]
        decls = f.decls if not (f.kind == BOOL and f.default is True) else (f"{f.decls[0]}/--no-{f.decls[0][2:]}",)
        params.append(opt(f.field, f.annotation, f.default, *decls, help=f.help))
    return pyinspect.Signature(params, return_annotation=None)


create.__signature__ = _create_signature()  # type: ignore[attr-defined]


def _row(svc: Any, pod: Any, now: float) -> dict[str, Any]:
    from podpy.cli import humanize

    recs = svc.members(pod)
    return {"ID": pod.short_id, "Name": pod.name, "Status": svc.status(pod, recs),
            "Created": humanize.ago(pod.created),
            "InfraID": pod.infra_id[:12], "NumberOfContainers": len(recs), "Labels": pod.labels,
            "ContainerNames": ",".join(r.name for r in recs),
            "ContainerIDs": ",".join(r.short_id for r in recs),
            "ContainerStatuses": ",".join(r.state.status for r in recs),
            "Networks": ",".join(pod.network),
            "Cgroup": (pod.member.get("more") or {}).get("cgroup_parent", "") if pod.share_parent else "",
            "Namespaces": ",".join(pod.share) if pod.infra_id else ""}  # fmt: skip


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
    ns: bool = typer.Option(False, "--ns", "--namespace", help="Show the pod's cgroup parent and shared namespaces"),
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
    table = PODS_TABLE  # --ns: CGROUP and NAMESPACES before the number of containers, as Podman
    if ns:
        table = table.replace("\t{{.NumberOfContainers}}", "\t{{.Cgroup}}\t{{.Namespaces}}\t{{.NumberOfContainers}}")
    for flag, col in ((ctr_ids, "ContainerIDs"), (ctr_names, "ContainerNames"), (ctr_status, "ContainerStatuses")):
        if flag:
            table += "\t{{." + col + "}}"
    common.render(rows, format_, table, headers={"ID": "POD ID", "InfraID": "INFRA ID",
                                                  "NumberOfContainers": "# OF CONTAINERS",
                                                  "ContainerNames": "NAMES", "ContainerIDs": "IDS",
                                                  "ContainerStatuses": "STATUS", "Cgroup": "CGROUP",
                                                  "Namespaces": "NAMESPACES"}, noheading=noheading)  # fmt: skip


def _inspect_doc(svc: Any, pod: Any) -> dict[str, Any]:
    """Podman's pod inspect document; the pod-level limits and options under Podman's JSON names
    (cpu_period, memory_limit, mounts, ...), present only when set (Go's omitempty)."""
    from podpy.engine import resources

    recs = svc.members(pod)
    infra = next((r.spec for r in recs if r.id == pod.infra_id), {})
    m, more = pod.member, pod.member.get("more") or {}
    lim = resources.parse(m.get("resources") or {})
    doc = {"Id": pod.id, "Name": pod.name, "Created": pod.created, "ExitPolicy": pod.exit_policy,
           "State": svc.status(pod, recs), "Hostname": pod.hostname, "Labels": pod.labels,
           "CgroupParent": more.get("cgroup_parent", ""), "CreateInfra": bool(pod.infra_id),
           "InfraContainerID": pod.infra_id,
           "InfraConfig": {"PortBindings": pod.publish, "Networks": pod.network, "InfraImage": pod.infra_image,
                           "DNSServer": list(infra.get("dns") or []) or None,
                           "DNSSearch": list(infra.get("dns_search") or []) or None,
                           "DNSOption": list(infra.get("dns_options") or []) or None,
                           "NoManageHosts": bool(infra.get("no_hosts")),
                           "HostAdd": [f"{h}:{ip}" for h, ip in infra.get("add_hosts") or []] or None,
                           "userns": m.get("userns") or "host"},
           "SharedNamespaces": list(pod.share) if pod.infra_id else [], "NumContainers": len(recs),
           "Containers": [{"Id": r.id, "Name": r.name, "State": r.state.status} for r in recs]}  # fmt: skip
    extra = {"cpu_period": 100000 if lim.nano_cpus else 0, "cpu_quota": lim.nano_cpus // 10000,
             "cpu_shares": lim.cpu_shares, "cpuset_cpus": lim.cpuset_cpus, "cpuset_mems": lim.cpuset_mems,
             "mounts": [_mount_doc(v) for v in m.get("volumes") or []],
             "devices": [_device_doc(d) for d in m.get("devices") or []],
             "volumes_from": list(m.get("volumes_from") or []), "security_opt": list(m.get("security_opt") or []),
             "memory_limit": lim.memory, "memory_swap": lim.memory_swap,
             "blkio_weight": int(more.get("blkio_weight") or 0),
             "blkio_weight_device": [_weight_device_doc(d) for d in more.get("blkio_weight_device") or []]}  # fmt: skip
    from podpy.cli.gotemplate.jsonshape import GoStruct

    doc["InfraConfig"] = GoStruct(doc["InfraConfig"])
    return GoStruct({**doc, **{k: v for k, v in extra.items() if v}})


def _mount_doc(volume: str) -> dict[str, Any]:
    src, _, rest = volume.partition(":")
    dst, _, opts = rest.partition(":")
    if not dst:  # -v /dst: an anonymous volume
        src, dst = "", src
    options = [o for o in opts.split(",") if o]
    return {"Type": "bind" if src.startswith("/") else "volume", "Name": "" if src.startswith("/") else src,
            "Source": src if src.startswith("/") else "", "Destination": dst, "Options": options,
            "RW": "ro" not in options}  # fmt: skip


def _weight_device_doc(item: str) -> dict[str, Any]:
    path, _, weight = item.rpartition(":")
    return {"Path": path, "Weight": int(weight)}


def _device_doc(device: str) -> dict[str, str]:
    parts = device.split(":")
    host = parts[0]
    inside = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
    perms = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": perms}


def inspect(
    pods: list[str] | None = typer.Argument(None, metavar="POD...", help="Pods to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest pod podpy is aware of"),
) -> None:
    """Display detailed information on one or more pods."""
    svc = _svc()
    docs = [_inspect_doc(svc, svc.get(p)) for p in _targets(pods, False, latest)]
    common.render_one(docs, format_)


PODS = typer.Argument(None, metavar="POD...", help="Pods")


def _all(help_text: str = "Act on all pods") -> Any:
    return typer.Option(False, "--all", "-a", help=help_text)


def _latest() -> Any:
    return typer.Option(False, "--latest", "-l", help="Act on the latest pod podpy is aware of")


def _id_files() -> Any:
    return typer.Option(None, "--pod-id-file", help="Read the pod ID from the file")


def _targets(pods: list[str] | None, all_: bool, latest: bool, id_files: list[str] | None = None) -> list[str]:
    """Named pods and those read from --pod-id-file, or every pod (--all) or the newest (--latest)."""
    from podpy.cli.ctr_select import exclusive, read_id_files
    from podpy.errors import InvalidArgument

    refs = [*(pods or []), *read_id_files(id_files, "pod ID file")]
    exclusive(refs, all_, latest)
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


def top(
    pod: str | None = typer.Argument(None, metavar="POD", help="Pod"),
    options: list[str] | None = typer.Argument(None, metavar="[FORMAT-DESCRIPTORS|ARGS...]",
                                               help="Descriptors (user pid args ...) or ps options (-ef, aux)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest pod podpy is aware of"),
) -> None:  # fmt: skip
    """Display the running processes of a pod's containers."""
    from podpy.cli.format import align
    from podpy.engine.container_top import top as top_of
    from podpy.errors import InvalidArgument

    words = [*([pod] if pod is not None else []), *(options or [])]
    if latest:  # `pod top -l -ef`: every word is a ps option
        pod = _targets(None, False, True)[0] if _svc().list() else None
        if pod is None:
            raise InvalidArgument("no pods to show the processes of")
    elif pod is None:
        raise InvalidArgument("you must provide the name or ID of a running pod or use --latest")
    else:
        words = words[1:]
    svc = _svc()
    lines: list[list[str]] = []
    for rec in svc.members(svc.get(pod)):
        if rec.state.status == "running":
            titles, rows = top_of(engine().containers, rec.id, words)
            lines = lines or [["CONTAINER", *titles]]
            lines += [[rec.name, *row] for row in rows]
    common.out("".join(line + "\n" for line in align(lines)))


def stats(
    pods: list[str] | None = typer.Argument(None, metavar="[POD...]", help="Pods (default: every pod)"),
    all_: bool = typer.Option(False, "--all", "-a", help="Provide stats for all pods"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest pod podpy is aware of"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    no_stream: bool = typer.Option(False, "--no-stream", help="Print one result and exit"),
    no_reset: bool = typer.Option(False, "--no-reset", help="Do not clear the screen between results"),
) -> None:
    """Display a live stream of the resource usage of the pods' running containers."""
    from podpy.cli import format as fmtmod
    from podpy.cli.container_resources import CLEAR, NO_STREAM_GAP
    from podpy.cli.humanize import binary_size
    from podpy.engine.container_stats import Sampler

    svc = _svc()
    chosen = [svc.get(p) for p in _targets(pods, all_ or not (pods or latest), latest)]
    by_pod = {r.id: p for p in chosen for r in svc.members(p) if r.state.status == "running"}
    if not by_pod:
        return
    sampler = Sampler(engine().containers, list(by_pod), False)
    sampler.frame()
    clear = not no_stream and not no_reset and sys.stdout.isatty() and not (format_ or "").startswith(("json", "{{"))
    try:
        while True:
            time.sleep(NO_STREAM_GAP if no_stream else 1.0)  # CPU % needs two samples
            rows = [{"Pod": by_pod[s.id].short_id, "CID": s.id[:12], "Name": s.name, "CPU": f"{s.cpu_percent:.2f}%",
                     "MemUsage": f"{binary_size(s.mem_usage)} / {binary_size(s.mem_limit)}",
                     "Mem": f"{s.mem_percent:.2f}%", "PIDS": str(s.pids)} for s in sampler.frame()]  # fmt: skip
            text = fmtmod.render(rows, format_, STATS_TABLE, headers={"Pod": "POD", "CID": "CID", "CPU": "CPU %",
                                                                        "MemUsage": "MEM USAGE / LIMIT",
                                                                        "Mem": "MEM %"})  # fmt: skip
            sys.stdout.write((CLEAR if clear else "") + text)
            sys.stdout.flush()
            if no_stream or not rows:
                return
    except KeyboardInterrupt:
        return


def logs(
    pod: str | None = typer.Argument(None, metavar="POD", help="Pod"),
    container: str | None = typer.Option(None, "--container", "-c", help="Only this container's logs"),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest pod podpy is aware of"),
    names: bool = typer.Option(False, "--names", "-n", help="Prefix lines with container names, not IDs"),
    color: bool = typer.Option(False, "--color", help="Each container's prefix in its own color"),
    since: str | None = typer.Option(None, "--since", help="Show logs since TIMESTAMP (or a duration: 10m)"),
    until: str | None = typer.Option(None, "--until", help="Show logs until TIMESTAMP (or a duration: 30m)"),
    tail: str | None = typer.Option(None, "--tail", help="Number of lines at the end of each log (-1: all)"),
) -> None:
    """Fetch the logs of a pod's containers (several: each line prefixed by its container's ID or name)."""
    from podpy.cli.logs_out import show_logs
    from podpy.errors import InvalidArgument

    svc = _svc()
    p = svc.get(_targets([pod] if pod else [], False, latest)[0])
    recs = svc.members(p, with_infra=False)
    if container:
        recs = [r for r in recs if container in (r.name, r.id) or r.id.startswith(container)]
        if not recs:
            raise InvalidArgument(f"container {container} is not in pod {p.name}")
    if not recs:
        return
    show_logs([r.id for r in recs], follow=follow, timestamps=timestamps, since=since, until=until,
              tail=None if tail in (None, "-1") else tail, names=names, color=color)  # fmt: skip


COMMANDS = (("create", create), ("ls", ls), ("ps", ls), ("list", ls), ("inspect", inspect), ("start", start),
            ("stop", stop), ("restart", restart), ("kill", kill), ("pause", pause), ("unpause", unpause),
            ("rm", rm), ("prune", prune), ("exists", exists), ("top", top), ("stats", stats), ("logs", logs))


def register(app: typer.Typer, new_app: Any, settings: dict[str, Any]) -> None:
    group = new_app("Manage pods: containers sharing network, IPC and UTS namespaces.")
    for name, fn in COMMANDS:
        group.command(name, context_settings=settings, hidden=name in ("list", "ps"))(fn)
    app.add_typer(group, name="pod")
