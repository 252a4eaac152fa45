"""What a container joining a pod takes from it: the pod-level flags of `pod create`.

As Podman: volumes, devices and security options go to every container of the pod (before the
container's own); resource limits and the cgroup parent too while --share-parent holds (podpy has
no pod cgroup: each member gets the pod's limits unless it sets its own; block I/O weights only
where the kernel takes them, pod create having warned once); sysctls of namespaces the
member does not share with the infra (the infra holds the shared ones); --pid, --shm-size,
--userns, the ID mappings (--uidmap & co.) and --no-hosts as the member's defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podpy.errors import InvalidArgument
from podpy.record import replace

if TYPE_CHECKING:
    from podpy.engine.container_config import CreateOptions
    from podpy.engine.core import Engine
    from podpy.engine.pods.record import PodRecord

LISTS = ("volumes", "volumes_from", "devices", "security_opt")
LIMIT_MORE = ("cgroup_parent", "device_read_bps", "device_write_bps", "blkio_weight", "blkio_weight_device")
# left out where the kernel has none (pod create warned)
BLKIO_WEIGHTS = ("blkio_weight", "blkio_weight_device")
IPC_SYSCTLS = ("kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue.")
IDMAP = ("uidmap", "gidmap", "subuidname", "subgidname")  # taken together or not at all


def _set(value: Any) -> bool:
    return value not in (None, False, "", [])


def inherit(engine: Engine, opts: CreateOptions) -> CreateOptions:
    """opts with the pod's member options merged in (the container's own values win)."""
    if not opts.pod or opts.pod.startswith("new:"):
        return opts
    from podpy.engine.pods.service import PodService

    pod = PodService(engine).get(opts.pod)
    m = pod.member
    if not m:
        return opts
    ch: dict[str, Any] = {}
    for key in LISTS:
        if m.get(key):
            ch[key] = [*m[key], *getattr(opts, key)]
    if m.get("userns") and not opts.userns:
        ch["userns"] = m["userns"]
    if pod.share_parent and m.get("resources"):
        own = {k: v for k, v in opts.resources.items() if _set(v)}
        ch["resources"] = {**opts.resources, **{k: v for k, v in m["resources"].items() if _set(v)}, **own}
    more = dict(opts.more)
    own_maps = opts.userns or any(more.get(k) for k in IDMAP)  # the pod's ID mappings, unless its own
    if pod.infra_id and any(more.get(k) for k in IDMAP):  # members join the infra's user namespace
        raise InvalidArgument("cannot specify a new uid/gid map when entering a pod with an infra container")
    pod_more = m.get("more") or {}
    if any(pod_more.get(k) for k in BLKIO_WEIGHTS):
        from podpy.engine.create_misc import blkio_weight_supported

        if not blkio_weight_supported():
            pod_more = {k: v for k, v in pod_more.items() if k not in BLKIO_WEIGHTS}
    for key, value in pod_more.items():
        if key in LIMIT_MORE and not pod.share_parent or key in IDMAP and own_maps:
            continue
        if key == "sysctl":
            value = member_sysctls(pod, value)
        if isinstance(value, list):
            more[key] = [*value, *(more.get(key) or [])] if value else more.get(key)
        elif not _set(more.get(key)):
            more[key] = value
    ch["more"] = more
    return replace(opts, **ch)


def member_sysctls(pod: PodRecord, items: list[str]) -> list[str]:
    """The sysctls a member sets itself: those of the namespaces it does not share with the infra."""

    def shared(item: str) -> bool:
        key = item.partition("=")[0].strip()
        if key.startswith("net."):
            return pod.shares("net")
        if key.startswith(IPC_SYSCTLS):
            return pod.shares("ipc")
        return key in ("kernel.hostname", "kernel.domainname") and pod.shares("uts")

    return [i for i in items if not shared(i)]
