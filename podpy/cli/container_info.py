"""logs, port and container inspect: reading what a container did and how it is wired."""

from __future__ import annotations

import sys
import threading
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine

COLORS = ("\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m")  # one per container
RESET = "\x1b[0m"


def _targets(names: list[str] | None, latest: bool, what: str = "container") -> list[str]:
    from podpy.errors import InvalidArgument

    if latest:
        if names:
            raise InvalidArgument(f"--latest and {what}s cannot be used together")
        return [engine().containers.latest()]
    if not names:
        raise InvalidArgument(f"specify at least one {what} name or ID, or --latest")
    return list(names)


def logs(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output"),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps"),
    tail: str | None = typer.Option(None, "--tail", help="Number of lines to show from the end (\"all\"; Docker's -n N too)"),
    since: str | None = typer.Option(None, "--since", help="Show logs since a timestamp or relative time (10m)"),
    until: str | None = typer.Option(None, "--until", help="Show logs before a timestamp or relative time"),
    names: bool = typer.Option(False, "--names", "-n", help="Prefix lines with the container name (several containers)"),
    color: bool = typer.Option(False, "--color", help="A color per container for the prefixes"),
    details: bool = typer.Option(False, "--details", help="Show extra details provided to logs (Docker; none here)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """Fetch the logs of one or more containers (stdout and stderr kept apart); with several, each
    line starts with the container's short ID (or its name with --names)."""
    from podpy.engine.container_logs import LogOptions
    from podpy.errors import InvalidArgument

    del details  # Docker's attributes from --log-opt labels/env: podpy records none
    if names and tail is None and containers and len(containers) > 1 and containers[0].isdigit():
        tail, names, containers = containers[0], False, containers[1:]  # Docker's `-n N` (--tail)
    if tail not in (None, "all") and not tail.lstrip("-").isdigit():
        raise InvalidArgument(f"invalid --tail {tail!r}: a number or all")
    refs = _targets(containers, latest)
    opts = LogOptions(follow, None if tail in (None, "all") else int(tail), since, until)
    svc = engine().containers
    recs = [svc.get(r) for r in refs]
    prefixes = [b""] * len(recs)
    if len(recs) > 1:
        prefixes = [_prefix(rec, names, color, i) for i, rec in enumerate(recs)]
    if follow and len(recs) > 1:
        _follow_all(recs, prefixes, opts, timestamps)
        return
    out = _Writer(timestamps, follow)
    if len(recs) > 1:  # interleaved by time, as they were written
        entries = [(e, p) for rec, p in zip(recs, prefixes, strict=True) for e in _read(rec, opts)]
        for e, p in sorted(entries, key=lambda x: x[0][0]):
            out.write(p, e)
        return
    for e in _read(recs[0], opts):
        out.write(b"", e)


def _prefix(rec: Any, names: bool, color: bool, index: int) -> bytes:
    text = rec.name if names else rec.short_id
    if color:
        text = f"{COLORS[index % len(COLORS)]}{text}{RESET}"
    return (text + " ").encode()


def _read(rec: Any, opts: Any) -> Any:
    from podpy.engine.container_logs import logs as read_logs

    return read_logs(engine().containers, rec.id, opts)


class _Writer:
    def __init__(self, timestamps: bool, flush: bool) -> None:
        self.timestamps, self.flush = timestamps, flush
        self.lock = threading.Lock()

    def write(self, prefix: bytes, entry: Any) -> None:
        ts, stream, data = entry
        target = sys.stdout.buffer if stream == b"stdout" else sys.stderr.buffer
        with self.lock:
            target.write(prefix + (ts + b" " if self.timestamps else b"") + data)
            if self.flush:
                target.flush()


def _follow_all(recs: list[Any], prefixes: list[bytes], opts: Any, timestamps: bool) -> None:
    """Several containers followed at once: a thread each, lines written whole as they come."""
    out = _Writer(timestamps, True)
    errors: list[BaseException] = []

    def pump(rec: Any, prefix: bytes) -> None:
        try:
            for e in _read(rec, opts):
                out.write(prefix, e)
        except Exception as e:  # noqa: BLE001 - reported once the others are done
            errors.append(e)

    threads = [threading.Thread(target=pump, args=(r, p), daemon=True) for r, p in zip(recs, prefixes, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    if errors:
        raise errors[0]


def port(
    container: str | None = typer.Argument(None, help="Container"),
    private_port: str | None = typer.Argument(None, metavar="[PRIVATE_PORT[/PROTO]]", help="Only this port"),
    all_: bool = typer.Option(False, "--all", "-a", help="Port mappings of every running container"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """List port mappings or a specific mapping for the container."""
    from podpy.errors import InvalidArgument, PodpyError

    svc = engine().containers
    if all_:
        if container or latest:
            raise InvalidArgument("the --all option cannot be used with a container name or --latest")
        for rec in svc.list(all_=False):
            lines = svc.port(rec.id)
            if lines:
                common.out(rec.id + "\n" + "\n".join(lines))
        return
    if latest:
        if private_port is not None:
            raise InvalidArgument("--latest takes at most one argument: the port")
        container, private_port = svc.latest(), container
    if container is None:
        raise InvalidArgument("specify a container name or ID, --latest or --all")
    if private_port is not None:
        num, _, proto = private_port.partition("/")
        if not num.isdigit() or proto not in ("", "tcp", "udp", "sctp"):
            raise InvalidArgument(f"invalid port {private_port!r}: expected PORT[/PROTO] (tcp, udp or sctp)")
    lines = svc.port(container, private_port or "")
    if private_port and not lines:
        raise PodpyError(f"No public port '{private_port if '/' in private_port else private_port + '/tcp'}' "
                         "published for " + container)  # fmt: skip
    if lines:
        common.out("\n".join(lines))


def container_inspect(
    names: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file sizes"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """Display the configuration of one or more containers (JSON)."""
    from podpy.engine.inspect_any import container_size

    eng = engine()
    docs = [eng.containers.inspect(n) for n in _targets(names, latest)]
    if size:  # Docker's SizeRw / SizeRootFs
        for doc in docs:
            container_size(eng, doc)
    common.render_one(docs, format_)


def inspect_any(
    names: list[str] | None = typer.Argument(None, metavar="NAME...", help="Containers, images, volumes, networks, pods"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
    type_: str = typer.Option("all", "--type", "-t", help="Object type: container, image, volume, network, pod or all"),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file size (containers)"),
    latest: bool = typer.Option(False, "--latest", "-l", help="The container created last"),
) -> None:
    """Display the configuration of containers, images, volumes, networks or pods (JSON)."""
    from podpy.engine.inspect_any import inspect_objects

    refs = _targets(names, latest, "object") if latest or type_ != "all" or not names else list(names)
    common.render_one(inspect_objects(engine(), refs, "container" if latest else type_, _pod_doc, size), format_)


def _pod_doc(name: str) -> dict[str, Any] | None:
    """A pod's inspect document (None: no pods here, or not one of them)."""
    if not (engine().layout.root / "pods").is_dir():
        return None
    from podpy.cli.pods import _inspect_doc, _svc

    svc = _svc()
    return _inspect_doc(svc, svc.get(name))
