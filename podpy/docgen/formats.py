"""`--format` fields and examples per command, for the man pages and the completions.

The fields are the keys each command's rows carry (podpy/cli: ps_row, images' list_rows, the
volume/network/pod rows, stats_row, history_rows, system df); tests/unit/test_docgen_formats.py
renders every documented field through the real command so this table cannot drift silently.
A command's aliases (container ls, image list, ...) share its entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Formats:
    fields: tuple[str, ...]
    examples: tuple[tuple[str, str], ...]  # (command line, what it shows)


_PS = Formats(
    ("ID", "Image", "Command", "CreatedAt", "RunningFor", "Ports", "Status", "State", "Names", "Labels",
     "Mounts", "Networks", "Size"),
    (("podpy ps -a --format '{{.ID}} {{.Names}}'", "one line per container: its ID and name"),
     ("podpy ps --format 'table {{.Names}}\\t{{.Status}}'", "a table with a header of the chosen columns"),
     ("podpy ps -a --format json", "every container as a JSON array"),
     ("podpy ps --format '{{.Label \"app\"}}'", "the value of one label")),
)  # fmt: skip
_IMAGES = Formats(
    ("ID", "FullID", "Repository", "Tag", "Digest", "CreatedAt", "CreatedSince", "Size", "Labels", "Containers",
     "Dangling"),
    (("podpy images --format '{{.Repository}}:{{.Tag}} {{.ID}}'", "name and short ID of every image"),
     ("podpy images --format 'table {{.Repository}}\\t{{.Size}}'", "a table of names and sizes"),
     ("podpy images --format json", "every image as a JSON array")),
)  # fmt: skip
_VOLUMES = Formats(
    ("Name", "Driver", "Mountpoint", "CreatedAt", "Labels", "Options", "Scope", "Anonymous"),
    (("podpy volume ls --format '{{.Name}} {{.Mountpoint}}'", "each volume and where its data lives"),
     ("podpy volume ls --format json", "every volume as a JSON array")),
)  # fmt: skip
_NETWORKS = Formats(
    ("ID", "Name", "Driver", "Scope", "IPv6", "Internal", "Labels", "CreatedAt", "NetworkInterface", "Subnets"),
    (("podpy network ls --format '{{.Name}} {{.Subnets}}'", "each network and its subnets"),
     ("podpy network ls --format json", "every network as a JSON array")),
)  # fmt: skip
_PODS = Formats(
    ("ID", "Name", "Status", "Created", "InfraID", "NumberOfContainers", "Labels", "ContainerNames",
     "ContainerIDs", "ContainerStatuses", "Networks"),
    (("podpy pod ps --format '{{.Name}} {{.NumberOfContainers}}'", "each pod and how many containers it has"),),
)  # fmt: skip
_STATS = Formats(
    ("ID", "Name", "Container", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"),
    (("podpy stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}'", "one sample per container"),
     ("podpy stats --no-stream --format json", "one sample of every running container as JSON")),
)  # fmt: skip
_HISTORY = Formats(
    ("ID", "CreatedAt", "CreatedSince", "CreatedBy", "Size", "Comment", "Tags"),
    (("podpy history --format '{{.ID}} {{.CreatedBy}}' busybox", "each layer and the step that made it"),),
)  # fmt: skip
_DF = Formats(
    ("Type", "TotalCount", "Active", "Size", "Reclaimable"),
    (("podpy system df --format '{{.Type}} {{.Size}}'", "disk use of images, containers and volumes"),),
)  # fmt: skip
_INSPECT = Formats(
    (),
    (("podpy inspect --format '{{.State.Status}}' CONTAINER", "one field of the JSON document"),
     ("podpy inspect --format '{{json .Config}}' IMAGE", "a part of the document as JSON"),
     ("podpy inspect --format '{{range .Mounts}}{{.Destination}} {{end}}' CONTAINER", "a list, one by one")),
)  # fmt: skip

BY_PATH: dict[tuple[str, ...], Formats] = {
    ("ps",): _PS, ("container", "ls"): _PS, ("container", "ps"): _PS, ("container", "list"): _PS,
    ("images",): _IMAGES, ("image", "ls"): _IMAGES, ("image", "list"): _IMAGES,
    ("volume", "ls"): _VOLUMES, ("volume", "list"): _VOLUMES,
    ("network", "ls"): _NETWORKS, ("network", "list"): _NETWORKS,
    ("pod", "ps"): _PODS, ("pod", "ls"): _PODS, ("pod", "list"): _PODS,
    ("stats",): _STATS, ("container", "stats"): _STATS,
    ("history",): _HISTORY, ("image", "history"): _HISTORY,
    ("system", "df"): _DF,
    ("inspect",): _INSPECT, ("container", "inspect"): _INSPECT, ("image", "inspect"): _INSPECT,
    ("volume", "inspect"): _INSPECT, ("network", "inspect"): _INSPECT, ("pod", "inspect"): _INSPECT,
}  # fmt: skip
INSPECT_NOTE = "The fields are those of the JSON document the command prints (Go template syntax)."


def for_path(path: tuple[str, ...]) -> Formats | None:
    return BY_PATH.get(path)


def completion_choices(path: tuple[str, ...]) -> tuple[str, ...]:
    """What `--format <TAB>` offers: json, table and one {{.Field}} per field."""
    f = BY_PATH.get(path)
    return ("json", "table", *(f"{{{{.{name}}}}}" for name in f.fields)) if f else ()
