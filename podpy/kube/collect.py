"""The facts `kube generate` translates, read from the engine: containers, pods and volumes by name."""

from __future__ import annotations

from typing import Any

from podpy.errors import InvalidArgument, PodpyError


def container_facts(engine: Any, ref: str) -> dict[str, Any]:
    doc = engine.containers.inspect(ref)
    rec = engine.containers.get(ref)
    image: dict[str, Any] = {}
    if rec.image:
        try:
            img = engine.images.get(rec.image)
            image = engine.images.config(img).get("config") or {}
        except PodpyError:
            image = {}  # removed since: every value is then written out
    return {"inspect": doc, "image": image, "pod": rec.spec.get("pod") or ""}


def pod_facts(engine: Any, pod: Any) -> dict[str, Any]:
    from podpy.engine.pods import PodService

    svc = PodService(engine)
    members = svc.members(pod, with_infra=False)
    hc: dict[str, Any] = {}
    if pod.infra_id:
        hc = engine.containers.inspect(pod.infra_id).get("HostConfig") or {}
    return {"name": pod.name, "hostname": pod.hostname if pod.hostname != pod.name else "",
            "labels": dict(pod.labels), "ports": hc.get("PortBindings") or {}, **name_resolution(hc),
            "containers": [_no_pod(container_facts(engine, r.id)) for r in members]}  # fmt: skip


def name_resolution(hc: dict[str, Any]) -> dict[str, Any]:
    """--add-host and --dns* of a pod's infra (or a lone container): hostAliases and dnsConfig."""
    out: dict[str, Any] = {}
    if hc.get("ExtraHosts"):
        out["extra_hosts"] = list(hc["ExtraHosts"])
    dns = {k: list(hc[k]) for k in ("Dns", "DnsSearch", "DnsOptions") if hc.get(k)}
    if dns:
        out["dns"] = dns
    return out


def _no_pod(facts: dict[str, Any]) -> dict[str, Any]:
    facts.pop("pod", None)
    return facts


def collect(engine: Any, names: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pods, volumes): each name is a pod, a container (wrapped as a pod `<name>-pod`) or a volume."""
    from podpy.engine.pods import NoSuchPod, PodService

    pods, volumes = [], []
    svc = PodService(engine)
    for name in names:
        try:
            pods.append(pod_facts(engine, svc.get(name)))
            continue
        except NoSuchPod:
            pass
        try:
            facts = container_facts(engine, name)
        except PodpyError:
            facts = None
        if facts is not None:
            if facts.pop("pod"):
                raise InvalidArgument(f"{name} is in a pod: generate the pod instead")
            pods.append({"name": facts["inspect"]["Name"].lstrip("/") + "-pod", "containers": [facts],
                         **name_resolution(facts["inspect"].get("HostConfig") or {})})  # fmt: skip
            continue
        try:
            v = engine.volumes.get(name)
        except PodpyError:
            raise InvalidArgument(f"{name}: no such pod, container or volume") from None
        volumes.append({"name": v.name, "driver": getattr(v, "driver", "local"), "labels": dict(v.labels)})
    return pods, volumes


COMPOSE = "com.docker.compose."


def compose_facts(engine: Any, project: str) -> list[dict[str, Any]]:
    """One pod per service of a compose project (what kompose does), its replicas the number of the
    service's containers; compose's own labels are left out."""
    by_service: dict[str, list[Any]] = {}
    for rec in engine.containers.list(True):
        labels = rec.spec.get("labels") or {}
        if labels.get(COMPOSE + "project") == project and labels.get(COMPOSE + "oneoff", "False") != "True":
            by_service.setdefault(labels.get(COMPOSE + "service", rec.name), []).append(rec)
    if not by_service:
        raise InvalidArgument(f"no containers of compose project {project!r}: run `compose up` first")
    pods = []
    for service, recs in sorted(by_service.items()):
        first = sorted(recs, key=lambda r: r.created)[0]
        facts = _no_pod(container_facts(engine, first.id))
        cfg = facts["inspect"].setdefault("Config", {})
        cfg["Labels"] = {k: v for k, v in (cfg.get("Labels") or {}).items() if not k.startswith(COMPOSE)}
        facts["inspect"]["Name"] = service
        pods.append({"name": service, "containers": [facts], "replicas": len(recs)})
    return pods
