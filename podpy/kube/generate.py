"""Kubernetes YAML from what runs: pure translation functions (golden tests in tests/golden/kube).

Input: "facts", plain dicts (collect.py builds them from the engine):
  container: {"inspect": Docker inspect document, "image": the image's Config}
  pod:       {"name", "hostname", "labels", "ports": inspect PortBindings, "containers": [container]}
  volume:    {"name", "driver", "labels"}
Output: Kubernetes objects as dicts (apiVersion v1 / apps/v1)."""

from __future__ import annotations

import re
from typing import Any

# Docker's and Podman's default capability set: --cap-add/--cap-drop are relative to it, as
# Kubernetes' capabilities.add/drop are relative to the runtime's default.
DEFAULT_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
                "SETPCAP", "SETUID", "SYS_CHROOT")  # fmt: skip
RESTART = {"": "Never", "no": "Never", "always": "Always", "unless-stopped": "Always", "on-failure": "OnFailure"}
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
GO_NS = 1_000_000_000


def dns_name(text: str) -> str:
    """A DNS-1123 label from any name (container and volume names allow _ and upper case)."""
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return out[:63].strip("-") or "x"


def _command(ins: dict[str, Any], img: dict[str, Any]) -> dict[str, Any]:
    cfg = ins.get("Config") or {}
    entry, cmd = list(cfg.get("Entrypoint") or []), list(cfg.get("Cmd") or [])
    out: dict[str, Any] = {}
    if entry != list(img.get("Entrypoint") or []):
        out["command"] = entry
        if cmd:
            out["args"] = cmd
    elif cmd != list(img.get("Cmd") or []):
        out["args"] = cmd
    return out


def _env(ins: dict[str, Any], img: dict[str, Any]) -> list[dict[str, str]]:
    ours = set(img.get("Env") or [])
    pairs = [e.partition("=") for e in (ins.get("Config") or {}).get("Env") or [] if e not in ours]
    return [{"name": k, "value": v} for k, _, v in pairs if k and k != "HOSTNAME"]


def ports_of(bindings: dict[str, Any] | None) -> list[dict[str, Any]]:
    out = []
    for key, hosts in sorted((bindings or {}).items(), key=lambda kv: int(kv[0].partition("/")[0])):
        port, _, proto = key.partition("/")
        for h in hosts or [{}]:
            p: dict[str, Any] = {"containerPort": int(port)}
            if h.get("HostPort") and h["HostPort"] != "0":
                p["hostPort"] = int(h["HostPort"])
            if h.get("HostIp") and h["HostIp"] not in ("0.0.0.0", "::"):
                p["hostIP"] = h["HostIp"]
            if proto and proto != "tcp":
                p["protocol"] = proto.upper()
            out.append(p)
    return out


def _volumes(ins: dict[str, Any], ctr: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumeMounts, pod volumes): binds as hostPath, named volumes as persistentVolumeClaim."""
    mounts, vols = [], []
    for i, m in enumerate(ins.get("Mounts") or []):
        if m.get("Type") == "bind":
            name = f"{dns_name(ctr)}-host-{i}"
            vols.append({"name": name, "hostPath": {"path": m["Source"], "type": "Directory"}})
        elif m.get("Type") == "volume" and m.get("Name"):
            name = dns_name(m["Name"]) + "-pvc"
            vols.append({"name": name, "persistentVolumeClaim": {"claimName": m["Name"]}})
        else:
            continue
        vm: dict[str, Any] = {"name": name, "mountPath": m["Destination"]}
        if m.get("RW") is False:
            vm["readOnly"] = True
        mounts.append(vm)
    return mounts, vols


def _resources(hc: dict[str, Any]) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if hc.get("Memory"):
        limits["memory"] = str(hc["Memory"])
    if hc.get("NanoCpus"):
        limits["cpu"] = f"{hc['NanoCpus'] // 1_000_000}m"
    elif hc.get("CpuQuota") and hc.get("CpuPeriod"):
        limits["cpu"] = f"{hc['CpuQuota'] * 1000 // hc['CpuPeriod']}m"
    return {"limits": limits} if limits else {}


def _security(ins: dict[str, Any]) -> dict[str, Any]:
    hc, cfg = ins.get("HostConfig") or {}, ins.get("Config") or {}
    sc: dict[str, Any] = {}
    if hc.get("Privileged"):
        sc["privileged"] = True
    caps = {}
    add = [c.upper().removeprefix("CAP_") for c in hc.get("CapAdd") or []]
    drop = [c.upper().removeprefix("CAP_") for c in hc.get("CapDrop") or []]
    if add := [c for c in add if c not in DEFAULT_CAPS or c in drop]:
        caps["add"] = add
    if drop:
        caps["drop"] = ["ALL"] if "ALL" in drop else drop
    if caps:
        sc["capabilities"] = caps
    uid, _, gid = (cfg.get("User") or "").partition(":")
    if uid.isdigit():
        sc["runAsUser"] = int(uid)
    if gid.isdigit():
        sc["runAsGroup"] = int(gid)
    if hc.get("ReadonlyRootfs"):
        sc["readOnlyRootFilesystem"] = True
    return sc


def _probe(hcheck: dict[str, Any] | None) -> dict[str, Any]:
    test = list((hcheck or {}).get("Test") or [])
    if not test or test[0] == "NONE":
        return {}
    cmd = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
    probe: dict[str, Any] = {"exec": {"command": cmd}}
    for key, field in (("Interval", "periodSeconds"), ("Timeout", "timeoutSeconds"),
                       ("StartPeriod", "initialDelaySeconds")):  # fmt: skip
        if hcheck.get(key):  # type: ignore[union-attr]
            probe[field] = max(1, int(hcheck[key]) // GO_NS)  # type: ignore[index]
    if hcheck.get("Retries"):  # type: ignore[union-attr]
        probe["failureThreshold"] = int(hcheck["Retries"])  # type: ignore[index]
    return probe


def container(facts: dict[str, Any], extra_ports: dict[str, Any] | None = None,
              pod_name: str = "") -> tuple[dict, list[dict]]:  # fmt: skip
    """One container entry of a pod spec, and the pod volumes it needs. `kube play` names containers
    `<pod>-<name>`: that prefix is dropped, so a generate/play round trip keeps the names."""
    ins, img = facts["inspect"], facts.get("image") or {}
    cfg, hc = ins.get("Config") or {}, ins.get("HostConfig") or {}
    name = dns_name(ins.get("Name", "").lstrip("/").removeprefix(f"{pod_name}-" if pod_name else ""))
    c: dict[str, Any] = {"name": name, "image": cfg.get("Image") or ins.get("ImageName", "")}
    c.update(_command(ins, img))
    if env := _env(ins, img):
        c["env"] = env
    exposed = {k: [] for k in cfg.get("ExposedPorts") or {}}  # containerPort only (a Service's target)
    if ports := ports_of({**exposed, **(hc.get("PortBindings") or {}), **(extra_ports or {})}):
        c["ports"] = ports
    wd = cfg.get("WorkingDir") or ""
    if wd and wd != (img.get("WorkingDir") or "/"):
        c["workingDir"] = wd
    mounts, vols = _volumes(ins, name)
    if mounts:
        c["volumeMounts"] = mounts
    if res := _resources(hc):
        c["resources"] = res
    if sc := _security(ins):
        c["securityContext"] = sc
    if probe := _probe(cfg.get("Healthcheck")):
        c["livenessProbe"] = probe
    if cfg.get("OpenStdin"):
        c["stdin"] = True
    if cfg.get("Tty"):
        c["tty"] = True
    return c, vols


def _split_labels(labels: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Valid Kubernetes labels stay labels; anything else becomes an annotation."""
    good = {k: v for k, v in labels.items() if LABEL_KEY.match(k) and LABEL_VALUE.match(v)}
    return good, {k: v for k, v in labels.items() if k not in good}


def pod(facts: dict[str, Any]) -> dict[str, Any]:
    """A v1 Pod from a pod (or a lone container wrapped as `<name>-pod`)."""
    name = dns_name(facts["name"])
    ctrs, vols, labels = [], [], dict(facts.get("labels") or {})
    policies = []
    for i, cf in enumerate(facts["containers"]):
        c, v = container(cf, facts.get("ports") if i == 0 else None, facts["name"])
        ctrs.append(c)
        vols += [x for x in v if x not in vols]
        labels.update((cf["inspect"].get("Config") or {}).get("Labels") or {})
        policies.append(((cf["inspect"].get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name", ""))
    good, annotations = _split_labels(labels)
    if good.get("app", name) != name:  # `app` selects the pod's replicas: its own label is kept aside
        annotations["app"] = good.pop("app")
    meta: dict[str, Any] = {"name": name, "labels": {"app": name, **good}}
    if annotations:
        meta["annotations"] = annotations
    spec: dict[str, Any] = {"containers": ctrs}
    if facts.get("hostname"):
        spec["hostname"] = facts["hostname"]
    spec.update(_name_resolution(facts))
    spec["restartPolicy"] = RESTART.get(policies[0] if policies else "", "Never")
    if vols:
        spec["volumes"] = vols
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _name_resolution(facts: dict[str, Any]) -> dict[str, Any]:
    """hostAliases (one per address, as Podman) and dnsConfig from --add-host and --dns*."""
    out: dict[str, Any] = {}
    by_ip: dict[str, list[str]] = {}
    for item in facts.get("extra_hosts") or []:
        host, _, ip = item.partition(":")
        by_ip.setdefault(ip, []).append(host)
    if by_ip:
        out["hostAliases"] = [{"ip": ip, "hostnames": hosts} for ip, hosts in by_ip.items()]
    dns = facts.get("dns") or {}
    cfg: dict[str, Any] = {}
    if dns.get("Dns"):
        cfg["nameservers"] = list(dns["Dns"])
    if dns.get("DnsSearch"):
        cfg["searches"] = list(dns["DnsSearch"])
    if dns.get("DnsOptions"):
        cfg["options"] = [{"name": n, **({"value": v} if sep else {})}
                          for n, sep, v in (o.partition(":") for o in dns["DnsOptions"])]  # fmt: skip
    if cfg:
        out["dnsConfig"] = cfg
    return out


def workload(pod_doc: dict[str, Any], kind: str, replicas: int = 1) -> dict[str, Any]:
    """A Deployment or DaemonSet whose template is the pod (their pods must restart: Always)."""
    meta = pod_doc["metadata"]
    template = {"metadata": {k: v for k, v in meta.items() if k != "name"},
                "spec": {**pod_doc["spec"], "restartPolicy": "Always"}}  # fmt: skip
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": meta["labels"]["app"]}}, "template": template}
    if kind == "Deployment":
        spec = {"replicas": replicas, **spec}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": meta["name"], "labels": meta["labels"]},
            "spec": spec}  # fmt: skip


def service(pod_doc: dict[str, Any]) -> dict[str, Any] | None:
    """A NodePort Service for the published ports of the pod's containers (None when none are)."""
    spec = pod_doc["spec"] if pod_doc["kind"] == "Pod" else pod_doc["spec"]["template"]["spec"]
    ports = []
    for c in spec["containers"]:
        for p in c.get("ports") or []:
            proto = p.get("protocol", "TCP")
            ports.append({"name": f"{p['containerPort']}-{proto.lower()}", "port": p["containerPort"],
                          "protocol": proto, "targetPort": p["containerPort"]})  # fmt: skip
    if not ports:
        return None
    name = pod_doc["metadata"]["name"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"type": "NodePort", "selector": {"app": pod_doc["metadata"]["labels"]["app"]},
                     "ports": ports}}  # fmt: skip


def claim(facts: dict[str, Any]) -> dict[str, Any]:
    """A PersistentVolumeClaim for a named volume."""
    meta: dict[str, Any] = {"name": facts["name"]}
    notes = {"volume.podman.io/driver": facts.get("driver") or "local"}
    good, other = _split_labels(dict(facts.get("labels") or {}))
    if good:
        meta["labels"] = good
    meta["annotations"] = {**notes, **other}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}  # fmt: skip


def documents(pods: list[dict[str, Any]], volumes: list[dict[str, Any]], kind: str = "pod",
              replicas: int = 1, with_service: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    """Everything `kube generate` prints, in order: claims, workloads, services."""
    if kind not in ("pod", "deployment", "daemonset"):
        from podpy.errors import InvalidArgument

        raise InvalidArgument(f"invalid --type {kind!r}: pod, deployment or daemonset")
    docs = [claim(v) for v in volumes]
    for facts in pods:
        doc = pod(facts)
        if kind != "pod":
            doc = workload(doc, "Deployment" if kind == "deployment" else "DaemonSet",
                           facts.get("replicas", replicas))
        docs.append(doc)
        if with_service and (svc := service(doc)):
            docs.append(svc)
    return docs


def to_yaml(docs: list[dict[str, Any]]) -> str:
    import yaml

    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)
