"""`kube play` as a pure translation: Kubernetes objects -> a plan of pods, containers and volumes
(golden tests in tests/golden/kube/play). play.py carries the plan out through the engine."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from podpy.errors import InvalidArgument
from podpy.kube import known

SUPPORTED = ("Pod", "Deployment", "DaemonSet", "Job", "PersistentVolumeClaim", "ConfigMap", "Secret", "Service")
RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
         "Ti": 2**40, "m": 0.001}  # fmt: skip


@dataclass
class FileVolume:
    """A configMap or secret volume: files written under the store, bound read-only."""

    name: str
    files: dict[str, str]
    dest: str


@dataclass
class ContainerPlan:
    name: str
    image: str
    options: dict[str, Any]  # CreateOptions keyword arguments (JSON values)
    file_volumes: list[FileVolume] = field(default_factory=list)


@dataclass
class PodPlan:
    name: str
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    publish: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    restart: str = "always"
    aliases: list[str] = field(default_factory=list)  # the names of the Services that select it
    infra_net: dict[str, Any] = field(default_factory=dict)  # hostAliases, dnsConfig: the infra's flags
    containers: list[ContainerPlan] = field(default_factory=list)


@dataclass
class Plan:
    pods: list[PodPlan] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)  # PersistentVolumeClaims: named volumes
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        for pod in doc["pods"]:
            if not pod["infra_net"]:
                del pod["infra_net"]
        return doc


def quantity(text: Any) -> float:
    """A Kubernetes quantity: 64Mi, 1G, 500m, 0.5, 1e3."""
    m = re.fullmatch(r"\s*([0-9.]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2) not in UNITS:
        raise InvalidArgument(f"invalid quantity {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def load(text: str) -> list[dict[str, Any]]:
    import yaml

    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        raise InvalidArgument(f"invalid YAML: {str(e).splitlines()[0]}") from None
    for d in docs:
        if not isinstance(d, dict) or not d.get("kind"):
            raise InvalidArgument("every YAML document must be a Kubernetes object with a kind")
    return docs


def _data(obj: dict[str, Any]) -> dict[str, str]:
    """A ConfigMap's or Secret's key/value pairs (Secret data is base64)."""
    out = {k: str(v) for k, v in (obj.get("data") or {}).items()}
    if obj["kind"] == "Secret":
        out = {k: base64.b64decode(v).decode(errors="replace") for k, v in out.items()}
        out.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    return out


def _env(c: dict[str, Any], maps: dict[tuple[str, str], dict[str, str]], where: str) -> list[str]:
    env = []
    for src in c.get("envFrom") or []:
        ref = src.get("configMapRef") or src.get("secretRef") or {}
        kind = "ConfigMap" if "configMapRef" in src else "Secret"
        data = maps.get((kind, ref.get("name", "")))
        if data is None and not ref.get("optional"):
            raise InvalidArgument(f"{where}: {kind} {ref.get('name')!r} not found (pass it with --configmap)")
        env += [f"{src.get('prefix', '')}{k}={v}" for k, v in (data or {}).items()]
    for e in c.get("env") or []:
        if "value" in e or "valueFrom" not in e:
            env.append(f"{e['name']}={e.get('value', '')}")
            continue
        vf = e["valueFrom"]
        ref = vf.get("configMapKeyRef") or vf.get("secretKeyRef")
        if ref is None:
            raise InvalidArgument(f"{where}: env {e['name']}: only configMapKeyRef and secretKeyRef are supported")
        kind = "ConfigMap" if "configMapKeyRef" in vf else "Secret"
        value = (maps.get((kind, ref.get("name", ""))) or {}).get(ref.get("key", ""))
        if value is None and not ref.get("optional"):
            raise InvalidArgument(f"{where}: env {e['name']}: key {ref.get('key')!r} of {kind} "
                                  f"{ref.get('name')!r} not found")  # fmt: skip
        if value is not None:
            env.append(f"{e['name']}={value}")
    return env


def _probe_port(port: Any, c: dict[str, Any], where: str) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for cp in c.get("ports") or []:
        if cp.get("name") == port:
            return int(cp["containerPort"])
    raise InvalidArgument(f"{where}: probe port {port!r} names no port of the container")


def _probe_command(p: dict[str, Any], c: dict[str, Any], where: str) -> str | None:
    """The health-check command for an exec, httpGet or tcpSocket probe (None for others).
    Like Podman, HTTP and TCP probes run inside the container; busybox images lack curl, so the
    HTTP check falls back to wget."""
    if "exec" in p:
        cmd = [str(x) for x in p["exec"].get("command") or []]
        shell = len(cmd) == 3 and cmd[:2] == ["/bin/sh", "-c"]  # what generate writes for CMD-SHELL
        return cmd[2] if shell else json.dumps(cmd)
    if "httpGet" in p:
        g = p["httpGet"]
        url = (f"{str(g.get('scheme') or 'HTTP').lower()}://{g.get('host') or 'localhost'}:"
               f"{_probe_port(g.get('port'), c, where)}{g.get('path') or '/'}")  # fmt: skip
        return (f"if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null '{url}'; "
                f"else wget -q -O /dev/null '{url}'; fi")  # fmt: skip
    if "tcpSocket" in p:
        t = p["tcpSocket"]
        return f"nc -w 1 {t.get('host') or 'localhost'} {_probe_port(t.get('port'), c, where)} </dev/null"
    return None


def _probe(c: dict[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    """The container's health check: its livenessProbe, else its readinessProbe (locally both only
    mark the container healthy or not: there is no Service to take it out of)."""
    live, ready = c.get("livenessProbe"), c.get("readinessProbe")
    if live and ready:
        warnings.append(f"{where}.readinessProbe: the livenessProbe is the container's health check: ignored")
    field, p = ("livenessProbe", live) if live else ("readinessProbe", ready)
    if not p:
        return {}
    cmd = _probe_command(p, c, f"{where}.{field}")
    if cmd is None:
        warnings.append(f"{where}.{field}: only exec, httpGet and tcpSocket probes are supported: ignored")
        return {}
    out: dict[str, Any] = {"health_cmd": cmd}
    for key, opt in (("periodSeconds", "health_interval"), ("timeoutSeconds", "health_timeout"),
                     ("initialDelaySeconds", "health_start_period")):  # fmt: skip
        if p.get(key):
            out[opt] = f"{int(p[key])}s"
    if p.get("failureThreshold"):
        out["health_retries"] = int(p["failureThreshold"])
    return out


def _security(c: dict[str, Any], pod_sc: dict[str, Any]) -> dict[str, Any]:
    sc = {**pod_sc, **(c.get("securityContext") or {})}
    out: dict[str, Any] = {}
    if sc.get("privileged"):
        out["privileged"] = True
    caps = sc.get("capabilities") or {}
    if caps.get("add"):
        out["cap_add"] = list(caps["add"])
    if caps.get("drop"):
        out["cap_drop"] = list(caps["drop"])
    if sc.get("runAsUser") is not None:
        out["user"] = str(sc["runAsUser"]) + (f":{sc['runAsGroup']}" if sc.get("runAsGroup") is not None else "")
    if sc.get("readOnlyRootFilesystem"):
        out["read_only"] = True
    if sc.get("allowPrivilegeEscalation") is False:
        out["security_opt"] = ["no-new-privileges"]
    return out


def _resources(c: dict[str, Any]) -> dict[str, Any]:
    limits = (c.get("resources") or {}).get("limits") or {}
    out: dict[str, Any] = {}
    if "memory" in limits:
        out["memory"] = str(int(quantity(limits["memory"])))
    if "cpu" in limits:
        out["cpus"] = f"{quantity(limits['cpu']):g}"
    return out


def _mounts(c: dict[str, Any], vols: dict[str, dict[str, Any]], maps: dict[tuple[str, str], dict[str, str]],
            where: str) -> tuple[list[str], list[str], list[FileVolume]]:  # fmt: skip
    """volumeMounts -> (-v items, --tmpfs items, files to write)."""
    binds, tmpfs, files = [], [], []
    for vm in c.get("volumeMounts") or []:
        v = vols.get(vm.get("name", ""))
        if v is None:
            raise InvalidArgument(f"{where}: volumeMount {vm.get('name')!r} names no volume of the pod")
        dest, ro = vm["mountPath"], ":ro" if vm.get("readOnly") else ""
        if "hostPath" in v:
            binds.append(f"{v['hostPath']['path']}:{dest}{ro}")
        elif "persistentVolumeClaim" in v:
            binds.append(f"{v['persistentVolumeClaim']['claimName']}:{dest}{ro}")
        elif "emptyDir" in v:
            if (v["emptyDir"] or {}).get("medium") == "Memory":
                tmpfs.append(dest)
            else:
                binds.append(dest)
        elif "configMap" in v or "secret" in v:
            kind, ref = ("ConfigMap", v["configMap"]) if "configMap" in v else ("Secret", v["secret"])
            name = ref.get("name") or ref.get("secretName", "")
            data = maps.get((kind, name))
            if data is None:
                raise InvalidArgument(f"{where}: {kind} {name!r} not found (pass it with --configmap)")
            items = ref.get("items")
            chosen = {i["path"]: data[i["key"]] for i in items if i["key"] in data} if items else dict(data)
            files.append(FileVolume(v["name"], chosen, dest))
    return binds, tmpfs, files


def _container(c: dict[str, Any], ctx: dict[str, Any], where: str, warnings: list[str]) -> ContainerPlan:
    opts: dict[str, Any] = {}
    if "command" in c:
        opts["entrypoint"] = json.dumps(list(c["command"]))
    if "args" in c:
        opts["command"] = [str(a) for a in c["args"]]
    if env := _env(c, ctx["maps"], where):
        opts["env"] = env
    if c.get("workingDir"):
        opts["workdir"] = c["workingDir"]
    if c.get("stdin"):
        opts["interactive"] = True
    if c.get("tty"):
        opts["tty"] = True
    opts.update(_security(c, ctx["pod_sc"]))
    if res := _resources(c):
        opts["resources"] = res
    opts.update(_probe(c, where, warnings))
    binds, tmpfs, files = _mounts(c, ctx["vols"], ctx["maps"], where)
    if binds:
        opts["volumes"] = binds
    if tmpfs:
        opts["tmpfs"] = tmpfs
    if not c.get("image"):
        raise InvalidArgument(f"{where}: no image")
    return ContainerPlan(name=f"{ctx['pod']}-{c['name']}", image=c["image"], options=opts, file_volumes=files)


def ports_of(spec: dict[str, Any]) -> list[str]:
    """hostPort entries as -p items on the pod."""
    out = []
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                ip = f"{p['hostIP']}:" if p.get("hostIP") else ""
                out.append(f"{ip}{p['hostPort']}:{p['containerPort']}/{p.get('protocol', 'TCP').lower()}")
    return out


def pod_plan(name: str, meta: dict[str, Any], spec: dict[str, Any], maps: dict[tuple[str, str], dict[str, str]],
             where: str, warnings: list[str]) -> PodPlan:  # fmt: skip
    known.check_pod_spec(spec, f"{where}.spec", warnings)
    ctx = {"pod": name, "maps": maps, "pod_sc": spec.get("securityContext") or {},
           "vols": {v["name"]: v for v in spec.get("volumes") or []}}  # fmt: skip
    restart = RESTART.get(spec.get("restartPolicy", "Always"), "always")
    containers = []
    for i, c in enumerate(spec.get("containers") or []):
        cp = _container(c, ctx, f"{where}.spec.containers[{i}]", warnings)
        cp.options["restart"] = restart
        containers.append(cp)
    if not containers:
        raise InvalidArgument(f"{where}: a pod needs at least one container")
    return PodPlan(name=name, hostname=spec.get("hostname", ""), labels=dict(meta.get("labels") or {}),
                   publish=ports_of(spec), network=["host"] if spec.get("hostNetwork") else [],
                   restart=restart, containers=containers, infra_net=name_resolution(spec))  # fmt: skip


def name_resolution(spec: dict[str, Any]) -> dict[str, Any]:
    """hostAliases -> --add-host, dnsConfig -> --dns, --dns-search, --dns-option (of the pod's infra)."""
    out: dict[str, Any] = {}
    hosts = [f"{h}:{a['ip']}" for a in spec.get("hostAliases") or [] for h in a.get("hostnames") or []]
    if hosts:
        out["add_host"] = hosts
    cfg = spec.get("dnsConfig") or {}
    for key, flag in (("nameservers", "dns"), ("searches", "dns_search")):
        if cfg.get(key):
            out[flag] = [str(x) for x in cfg[key]]
    opts = [f"{o['name']}:{o['value']}" if o.get("value") not in (None, "") else str(o.get("name"))
            for o in cfg.get("options") or [] if o.get("name")]  # fmt: skip
    if opts:
        out["dns_option"] = opts
    return out


def _workload_pods(obj: dict[str, Any], maps: dict[tuple[str, str], dict[str, str]], warnings: list[str],
                   where: str) -> list[PodPlan]:  # fmt: skip
    kind, meta, spec = obj["kind"], obj.get("metadata") or {}, obj.get("spec") or {}
    name = meta.get("name") or ""
    if not name:
        raise InvalidArgument(f"{where}: metadata.name is required")
    if kind == "Pod":
        return [pod_plan(name, meta, spec, maps, where, warnings)]
    known.unknown(spec, known.WORKLOAD_SPEC[kind], f"{where}.spec", warnings)
    tmpl = spec.get("template") or {}
    tmeta = {**(tmpl.get("metadata") or {})}
    tmeta["labels"] = {**(meta.get("labels") or {}), **(tmeta.get("labels") or {})}
    count = int(spec.get("replicas", 1)) if kind == "Deployment" else 1
    pods = []
    for i in range(count):
        pname = f"{name}-pod" if count == 1 else f"{name}-pod-{i}"
        p = pod_plan(pname, tmeta, tmpl.get("spec") or {}, maps, f"{where}.spec.template", warnings)
        if i > 0 and p.publish:  # host ports are the host's: only the first replica can have them
            warnings.append(f"{where}: host ports are published by the first replica only")
            p.publish = []
        pods.append(p)
    return pods


def _service(obj: dict[str, Any], pods: list[PodPlan], publish_all: bool, warnings: list[str]) -> None:
    """A Service's nodePorts (or, with --publish-all, its ports) are published on its first pod."""
    spec = obj.get("spec") or {}
    known.unknown(spec, known.SERVICE_SPEC, f"Service {obj.get('metadata', {}).get('name')}.spec", warnings)
    sel = spec.get("selector") or {}
    targets = [p for p in pods if sel and all(p.labels.get(k) == v for k, v in sel.items())]
    if not targets:
        return
    name = (obj.get("metadata") or {}).get("name")
    for t in targets:  # the Service's name resolves to its pods, as cluster DNS does
        if name and name not in t.aliases and name != t.name:
            t.aliases.append(name)
    for port in spec.get("ports") or []:
        host = port.get("nodePort") or (port.get("port") if publish_all else None)
        if host:
            target = port.get("targetPort", port.get("port"))
            item = f"{host}:{target}/{port.get('protocol', 'TCP').lower()}"
            if item not in targets[0].publish:
                targets[0].publish.append(item)


def plan(objs: list[dict[str, Any]], extra_maps: list[dict[str, Any]] | None = None,
         publish_all: bool = False) -> Plan:  # fmt: skip
    out = Plan()
    maps = {(o["kind"], (o.get("metadata") or {}).get("name", "")): _data(o)
            for o in [*(extra_maps or []), *objs] if o["kind"] in ("ConfigMap", "Secret")}  # fmt: skip
    services = []
    for n, obj in enumerate(objs):
        kind, where = obj["kind"], f"{obj['kind']} {(obj.get('metadata') or {}).get('name', f'#{n}')}"
        if kind not in SUPPORTED:
            out.warnings.append(f"{where}: kind {kind} is not supported by podpy: skipped")
            continue
        known.unknown(obj, known.TOP, where, out.warnings)
        known.unknown(obj.get("metadata"), known.META, f"{where}.metadata", out.warnings)
        if kind in ("Pod", "Deployment", "DaemonSet", "Job"):
            out.pods += _workload_pods(obj, maps, out.warnings, where)
        elif kind == "PersistentVolumeClaim":
            out.volumes.append((obj.get("metadata") or {})["name"])
        elif kind == "Service":
            services.append(obj)
    for svc in services:
        _service(svc, out.pods, publish_all, out.warnings)
    out.warnings = list(dict.fromkeys(out.warnings))  # a Deployment's replicas warn once
    names = [p.name for p in out.pods]
    if len(set(names)) != len(names):
        raise InvalidArgument("two pods of the YAML have the same name")
    return out
