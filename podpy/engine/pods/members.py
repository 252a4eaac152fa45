"""A container joining a pod: its spec points at the infra container's namespaces.

Network: the infra's pinned namespace when it is on a bridge (a path that outlives restarts), else
/proc/<infra pid>/ns/net. IPC and UTS: /proc/<infra pid>/ns/*; those paths are refreshed in
config.json before every start (`before_start`, which starts the infra first), since the infra's pid
changes when it restarts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from podpy.errors import InvalidArgument
from podpy.record import replace

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.engine.spec import ContainerSpec

NS_FILES = {"network": "net", "ipc": "ipc", "uts": "uts"}


def join(engine: Engine, spec: ContainerSpec) -> ContainerSpec:
    """The spec of a container created with --pod REF (new:NAME creates the pod first)."""
    from podpy.engine.pods.service import PodCreate, PodService

    svc = PodService(engine)
    ref = spec.pod
    if ref.startswith("new:"):
        pod = svc.create(PodCreate(name=ref[4:]))
    else:
        pod = svc.get(ref)
    spec = replace(spec, pod=pod.id)
    if not pod.infra_id:
        return spec  # the infra container itself (being created), or a pod without one
    if spec.ports:
        raise InvalidArgument("published ports must be set on the pod (pod create -p), not on its containers")
    infra = engine.containers.get(pod.infra_id)
    # a stopped infra (pod create, kube play --start=false): before_start fills in the real pid
    pid = infra.state.pid if infra.state.status == "running" else 0
    changes: dict[str, Any] = {}
    if pod.shares("net"):
        net = infra.spec.get("network", "")
        if net == "bridge":
            from podpy.engine.networks import netns_path

            net = f"ns:{netns_path(engine.networks, infra.id)}"
        elif net not in ("host",) and not net.startswith("ns:"):
            net = f"ns:/proc/{pid}/ns/net"
        # the infra's /etc/hosts (the network code keeps its peers and their aliases in it) and
        # /etc/resolv.conf (the pod's --dns*): shared by every member, as Podman
        from podpy.engine.spec import Mount

        bundle = engine.containers.bundle(infra.id)
        shared = [Mount(f"/etc/{f}", "bind", str(bundle / f), ("rbind", "rprivate"))
                  for f in ("hosts", "resolv.conf") if (bundle / f).is_file()]  # fmt: skip
        changes.update(network=net, networks={}, mounts=(*spec.mounts, *shared))
        if not (bundle / "hosts").is_file():  # pod create --no-hosts
            changes["no_hosts"] = True
    if pod.shares("ipc"):
        changes["ipc"] = f"/proc/{pid}/ns/ipc"
    if pod.shares("uts"):
        uts = "host" if infra.spec.get("uts") == "host" else f"/proc/{pid}/ns/uts"  # pod create --uts host
        changes.update(uts=uts, hostname=infra.spec.get("hostname") or pod.hostname)
    return replace(spec, **changes)


def after_exit(engine: Engine, rec: Any) -> None:
    """`pod create --exit-policy stop`: the last member to exit stops the infra (the pod stops).
    Called by a member's supervisor: never raises (the pod may be going away meanwhile)."""
    from podpy.engine.pods.service import PodService

    svc = PodService(engine)
    try:
        pod = svc.get(rec.spec.get("pod") or "")
        if pod.exit_policy != "stop" or not pod.infra_id or rec.id == pod.infra_id:
            return
        others = [r for r in svc.members(pod, with_infra=False) if r.id != rec.id]
        if any(r.state.status in ("running", "restarting") for r in others):
            return
        engine.containers.stop(pod.infra_id, None)
    except Exception:  # noqa: BLE001 - removed or stopped meanwhile (pod rm -f, pod stop)
        pass


def before_start(engine: Engine, rec: Any) -> None:
    """Start the pod's infra if needed and point config.json at its current namespaces."""
    from podpy.engine.pods.record import NoSuchPod
    from podpy.engine.pods.service import PodService

    svc = PodService(engine)
    try:
        pod = svc.get(rec.spec["pod"])
    except NoSuchPod:
        return
    if not pod.infra_id or pod.infra_id == rec.id:
        return
    infra = svc.ensure_infra(pod)
    assert infra is not None
    path = engine.containers.bundle(rec.id) / "config.json"
    doc = json.loads(path.read_bytes())
    changed = False
    linux = doc.get("linux", {})
    for ns in linux.get("namespaces", []):
        old = ns.get("path", "")
        if old.startswith("/proc/") and ns.get("type") in NS_FILES:
            ns["path"] = f"/proc/{infra.state.pid}/ns/{NS_FILES[ns['type']]}"
        elif ns.get("type") == "user" and (engine.opts.rootless or rec.spec.get("uidmap")):
            # rootless, or the pod's --uidmap: the infra's namespaces belong to its user namespace:
            # join that one too (with the same mappings: the user's subordinate ids, the pod's maps)
            ns["path"] = f"/proc/{infra.state.pid}/ns/user"
            if engine.opts.rootless:  # root keeps the pod's (the same) mappings: runc wants them
                linux.pop("uidMappings", None)
                linux.pop("gidMappings", None)
        changed = changed or ns.get("path", "") != old
    if changed:
        from podpy.state import atomic_write_bytes

        atomic_write_bytes(path, json.dumps(doc).encode(), durable=False)
