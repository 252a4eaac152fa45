"""The one place the engine (and the supervisor's hooks, which run engine code) writes events:
each helper builds a Podman event from a record and appends it to `<runroot>/events/events.log`.

`owner` is anything with a `.layout` (the Engine, a ContainerService, ...). Writing never fails
the command (podpy.events.log.append swallows OSError)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def _write(owner: Any, *args: Any, **kw: Any) -> None:
    """Build and append one Event (podpy.events is imported on the first event: `ps` never pays it)."""
    from podpy.events import Event, append

    append(owner.layout.runroot, Event(*args, **kw))


def container(owner: Any, rec: Any, status: str, exit_code: int | None = None, health: str = "") -> None:
    """A container event from a ContainerRecord: Podman's ID, Name, Image, labels as attributes."""
    spec = rec.spec or {}
    _write(
        owner, "container", status, id=rec.id, name=rec.name, image=rec.image_name,
        attributes=dict(spec.get("labels") or {}), exit_code=exit_code, health_status=health,
        pod_id=str(spec.get("pod") or ""),
    )  # fmt: skip


def image(owner: Any, status: str, image_id: str, name: str = "") -> None:
    """An image event: ID without `sha256:` (as Podman), Name the reference or the archive path."""
    _write(owner, "image", status, id=image_id.removeprefix("sha256:"), name=name)


def volume(owner: Any, status: str, name: str) -> None:
    _write(owner, "volume", status, name=name)


def network(
    owner: Any, status: str, net_id: str, net_name: str, container_id: str = "", driver: str = "bridge"
) -> None:
    """create/remove: the network's ID; connect/disconnect: the container's ID (as Podman)."""
    ident = container_id or net_id
    attrs = {"driver": driver} if status in ("create", "remove") else {}
    _write(owner, "network", status, id=ident, network=net_name, attributes=attrs)


def pod(owner: Any, status: str, pod_rec: Any) -> None:
    _write(owner, "pod", status, id=pod_rec.id, name=pod_rec.name)


def started(owner: Any, rec: Any, attached: bool = False) -> None:
    """A run began (first start or a restart by its policy): init, start, attach when the CLI is
    attached, and a mount event for each named volume it uses (as Podman's `volume mount`)."""
    container(owner, rec, "init")
    container(owner, rec, "start")
    if attached:
        container(owner, rec, "attach")
    for name in rec.volumes or ():
        volume(owner, "mount", name)


def exec_died(owner: Any, ref: str, exit_code: int) -> None:
    """The end of an exec session (the container may be gone by now: then no event)."""
    try:
        rec = owner.get(ref)
    except Exception:  # noqa: BLE001 - an event is never worth an error
        return
    container(owner, rec, "exec_died", exit_code=exit_code)


def images(owner: Any, status: str, image_id: str, names: list[str]) -> None:
    """One image event per name (tag and untag name one reference each, as Podman)."""
    for name in names:
        image(owner, status, image_id, name)
