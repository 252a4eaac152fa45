"""kube play / kube down / kube generate with real containers, on a network of the test's own (the
default bridge is shared with other stores)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.integration.network_fixtures import ctr, leftovers, net, wait_until  # noqa: F401
from tests.integration.test_network_ports import fetch, free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

APP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: site}
data: {index.html: "<h1>hi</h1>", GREETING: hello}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: srv
        image: busybox
        command: [httpd, -f, -p, "80", -h, /www]
        env: [{name: G, valueFrom: {configMapKeyRef: {name: site, key: GREETING}}}]
        volumeMounts: [{name: www, mountPath: /www}, {name: data, mountPath: /data}]
      volumes:
      - {name: www, configMap: {name: site}}
      - {name: data, persistentVolumeClaim: {claimName: webdata}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: webdata}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 80, nodePort: PORT}]
"""


@pytest.fixture
def own_net(net):  # type: ignore[no-untyped-def]  # noqa: F811
    """A network of the test's own, on a random subnet: the default bridge and the first free subnets
    are shared with other stores on this host (their tests may reset them at any time)."""
    import random

    name = f"t{random.randrange(16**6):06x}"  # its bridge too: bridge names are host-wide
    net("network", "create", "--subnet", f"10.{random.randrange(150, 250)}.{random.randrange(256)}.0/24",
        "-o", f"com.docker.network.bridge.name=pa{name}", name)
    yield name
    net("network", "rm", "-f", name, check=False)


def _names(p) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p("ps", "-a", "--format", "{{.Names}}").stdout.split())


def test_deployment_with_service_played_and_torn_down(net, own_net, tmp_path: Path):  # noqa: F811
    port = free_port()
    f = tmp_path / "app.yaml"
    f.write_text(APP.replace("PORT", str(port)))
    net("volume", "create", "keepme")
    res = net("kube", "play", "--network", own_net, str(f))
    assert res.stdout.count("Pod:") == 2 and "Volume:\nwebdata" in res.stdout
    assert sorted(net("pod", "ls", "--format", "{{.Name}} {{.Status}}").stdout.splitlines()) == \
        ["web-pod-0 Running", "web-pod-1 Running"]  # fmt: skip
    assert fetch(f"http://127.0.0.1:{port}/index.html") == "<h1>hi</h1>"
    assert "G=hello" in net("exec", "web-pod-1-srv", "env").stdout
    net("exec", "web-pod-0-srv", "touch", "/data/x")
    assert net("volume", "ls", "-q").stdout.split() == ["keepme", "webdata"]
    again = net("kube", "play", "--network", own_net, str(f), check=False)
    assert again.returncode == 125 and "already exists" in again.stderr
    net("kube", "play", "--replace", "--network", own_net, str(f))
    assert net("pod", "ls", "-q").stdout.count("\n") == 2
    net("kube", "down", str(f))
    assert net("pod", "ls", "-q").stdout == "" and _names(net) == []
    assert net("volume", "ls", "-q").stdout.split() == ["keepme"]  # only what play made is gone
    assert not (net.root / "kube" / "web-pod-0").exists()


def test_start_false_warnings_and_job_wait(net, tmp_path: Path):  # noqa: F811
    f = tmp_path / "job.yaml"
    f.write_text("""\
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: run, image: busybox, command: [sh, -c, "echo done"], lifecycle: {}}
---
kind: Ingress
apiVersion: networking.k8s.io/v1
metadata: {name: ing}
""")
    res = net("play", "kube", "--network", "none", "--start=false", str(f))
    assert "containers[0].lifecycle is not supported by podpy: ignored" in res.stderr
    assert "kind Ingress is not supported by podpy: skipped" in res.stderr
    assert net("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.count("created") == 2
    net("kube", "play", "--down", str(f))
    assert _names(net) == []
    net("kube", "play", "--network", "none", "--wait", str(f))  # runs to completion, then is removed
    assert _names(net) == [] and net("pod", "ls", "-q").stdout == ""


def test_generate_then_play_round_trip(net, own_net, tmp_path: Path):  # noqa: F811
    port = free_port()
    net("pod", "create", "--name", "rt", "--network", own_net, "-p", f"{port}:80", "--label", "tier=front")
    net("run", "-d", "--pod", "rt", "--name", "rt-srv", "-e", "MODE=prod", "-v", "rtvol:/data",
        "--health-cmd", "true", "--health-interval", "5s", "-w", "/data", "busybox", "httpd", "-f", "-p", "80")
    net("run", "-d", "--pod", "rt", "--name", "rt-side", "--cap-add", "NET_ADMIN", "--read-only",
        "-m", "64m", "busybox", "sleep", "600")
    before = {n: _shape(net, n) for n in ("rt-srv", "rt-side")}
    f = tmp_path / "rt.yaml"
    net("kube", "generate", "-s", "-f", str(f), "rt", "rtvol")
    docs = list(yaml.safe_load_all(f.read_text()))
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "Pod", "Service"]
    try:
        import kubernetes_validate as kv
    except ImportError:
        kv = None  # test-only dependency: the golden tests report it as skipped
    for d in docs if kv else []:
        kv.validate(d, "1.30.0", strict=True)
    net("pod", "rm", "-f", "rt")
    net("kube", "play", "--network", own_net, str(f))
    assert {n: _shape(net, n) for n in ("rt-srv", "rt-side")} == before
    assert wait_until(lambda: net("exec", "rt-side", "wget", "-qO-", "http://127.0.0.1/", check=False).returncode
                      in (0, 1), timeout=10)  # fmt: skip
    net("kube", "down", str(f))
    assert _names(net) == []
    net("network", "rm", own_net)


def _shape(p, name: str) -> dict:  # type: ignore[no-untyped-def]
    """What a round trip must keep: image, command, env, ports, volumes, health check, limits."""
    doc = json.loads(p("inspect", name).stdout)[0]
    cfg, hc = doc["Config"], doc["HostConfig"]
    pod = p("ps", "-a", "--pod", "--filter", f"name={name}", "--format", "{{.PodName}}").stdout.strip()
    infra = json.loads(p("pod", "inspect", pod).stdout)[0]["InfraContainerID"]
    return {"image": cfg["Image"], "cmd": cfg["Cmd"], "entrypoint": cfg["Entrypoint"],
            "env": sorted(e for e in cfg["Env"] if not e.startswith("HOSTNAME=")),
            "workdir": cfg["WorkingDir"], "health": cfg.get("Healthcheck"),
            "mounts": sorted((m["Type"], m.get("Name", ""), m["Destination"]) for m in doc["Mounts"]),
            "caps": hc["CapAdd"], "ro": hc["ReadonlyRootfs"], "memory": hc["Memory"],
            "ports": json.loads(p("inspect", infra).stdout)[0]["HostConfig"]["PortBindings"]}  # fmt: skip


def test_compose_project_to_kube_and_back(net, own_net, tmp_path: Path):  # noqa: F811
    import random

    port, sub = free_port(), f"10.{random.randrange(150, 250)}.{random.randrange(256)}.0/24"
    (tmp_path / "compose.yaml").write_text(f"""\
networks:  # a subnet and bridge of its own: the first free ones are shared with other stores
  default:
    driver_opts: {{com.docker.network.bridge.name: "pb{own_net}"}}
    ipam: {{config: [{{subnet: "{sub}"}}]}}
services:
  web:
    image: busybox
    command: [httpd, -f, -p, "80", -h, /etc]
    environment: {{ROLE: server}}
    ports: ["{port}:80"]
  client:
    image: busybox
    command: [sleep, "600"]
    depends_on: [web]
""")
    compose = ("compose", "-f", str(tmp_path / "compose.yaml"), "-p", "shop")
    net(*compose, "up", "-d")
    out = tmp_path / "shop.yaml"
    net("kube", "generate", "--compose", "shop", "-f", str(out))
    docs = list(yaml.safe_load_all(out.read_text()))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == \
        [("Deployment", "client"), ("Deployment", "web"), ("Service", "web")]  # fmt: skip
    net(*compose, "down")
    net("kube", "play", "--network", own_net, str(out))
    assert fetch(f"http://127.0.0.1:{port}/hostname").strip() == "web-pod"
    got = net("exec", "client-pod-client", "wget", "-qO-", "http://web/hostname")  # the Service's name
    assert got.stdout.strip() == "web-pod"
    assert "ROLE=server" in net("exec", "web-pod-web", "env").stdout
    net("kube", "down", str(out))
    assert _names(net) == []


BUILT_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: built}
spec:
  restartPolicy: Never
  containers:
  - name: web
    image: localhost/kbuilt:1
    command: [httpd, -f, -p, "8080", -h, /www]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
"""


def _health(p, name: str) -> str:  # type: ignore[no-untyped-def]
    return p("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()


def test_play_builds_missing_images_and_http_probes_run(net, tmp_path: Path):  # noqa: F811
    ctx = tmp_path / "ctx"
    (ctx / "kbuilt").mkdir(parents=True)
    (ctx / "kbuilt" / "Containerfile").write_text("FROM busybox\nCOPY index.html /www/index.html\n")
    (ctx / "kbuilt" / "index.html").write_text("v1\n")
    f = tmp_path / "pod.yaml"
    f.write_text(BUILT_POD)
    res = net("kube", "play", "--network", "none", "--context-dir", str(ctx), str(f))
    assert "Successfully tagged localhost/kbuilt:1" in res.stderr
    first = net("image", "inspect", "--format", "{{.Id}}", "localhost/kbuilt:1").stdout.strip()
    assert wait_until(lambda: _health(net, "built-web") == "healthy", timeout=30)
    # the image exists now: no build without --build; --build=false never builds
    net("kube", "play", "--down", str(f))
    (ctx / "kbuilt" / "index.html").write_text("v2\n")
    res = net("kube", "play", "--network", "none", "--start=false", "--context-dir", str(ctx), str(f))
    assert "STEP" not in res.stderr and "Successfully tagged" not in res.stderr
    net("kube", "play", "--down", str(f))
    res = net("kube", "play", "--network", "none", "--start=false", "--build", "--context-dir", str(ctx), str(f))
    assert "Successfully tagged localhost/kbuilt:1" in res.stderr
    assert net("image", "inspect", "--format", "{{.Id}}", "localhost/kbuilt:1").stdout.strip() != first
    net("kube", "play", "--down", str(f))


def test_play_failing_tcp_probe_marks_unhealthy(net, tmp_path: Path):  # noqa: F811
    f = tmp_path / "pod.yaml"
    f.write_text("""\
apiVersion: v1
kind: Pod
metadata: {name: tcp}
spec:
  containers:
  - name: srv
    image: busybox
    command: [sleep, "60"]
    livenessProbe: {tcpSocket: {port: 9}, periodSeconds: 1, failureThreshold: 1}
""")
    net("kube", "play", "--network", "none", str(f))
    assert wait_until(lambda: _health(net, "tcp-srv") == "unhealthy", timeout=30)
    net("kube", "play", "--down", str(f))


TWO_PODS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: fl, labels: {app: fl}}
spec:
  replicas: 2
  selector: {matchLabels: {app: fl}}
  template:
    metadata: {labels: {app: fl}}
    spec:
      containers:
      - {name: c, image: busybox, command: [sleep, "600"]}
"""


def test_play_static_addresses_annotations_no_hosts_userns(net, own_net, tmp_path: Path):  # noqa: F811
    subnet = json.loads(net("network", "inspect", own_net).stdout)[0]["subnets"][0]["subnet"]
    base = subnet.rsplit(".", 1)[0]
    f = tmp_path / "two.yaml"
    f.write_text(TWO_PODS)
    net("kube", "play", "--network", own_net, "--ip", f"{base}.77", "--ip", f"{base}.78", "--mac-address",
        "92:d0:c6:0a:29:33", "--annotation", "team=blue", "--no-hosts", "--seccomp-profile-root", "/nowhere",
        "--userns", "keep-id", str(f))  # fmt: skip
    addr0 = net("exec", "fl-pod-0-c", "ip", "addr").stdout
    assert f"{base}.77/" in addr0 and "92:d0:c6:0a:29:33" in addr0
    assert f"{base}.78/" in net("exec", "fl-pod-1-c", "ip", "addr").stdout
    doc = json.loads(net("inspect", "fl-pod-0-c").stdout)[0]
    assert doc["Config"]["Annotations"]["team"] == "blue"
    assert doc["HostConfig"]["UsernsMode"] == "keep-id"
    assert net("exec", "fl-pod-0-c", "cat", "/etc/hosts").stdout == ""  # the image's (empty) hosts file
    net("kube", "down", str(f))
    assert _names(net) == []


def test_pod_name_resolution_round_trip(net, tmp_path: Path):  # noqa: F811
    """pod create --add-host/--dns* -> kube generate (hostAliases, dnsConfig) -> kube play: the same files."""
    net("pod", "create", "--name", "nr", "--network", "none", "--add-host", "db:10.1.2.3", "--dns", "10.9.9.9",
        "--dns-search", "example.test", "--dns-option", "ndots:2")  # fmt: skip
    net("create", "--pod", "nr", "--name", "c", "busybox", "sleep", "600")
    text = net("kube", "generate", "nr").stdout
    spec = yaml.safe_load(text)["spec"]
    assert spec["hostAliases"] == [{"ip": "10.1.2.3", "hostnames": ["db"]}]
    assert spec["dnsConfig"] == {"nameservers": ["10.9.9.9"], "searches": ["example.test"],
                                 "options": [{"name": "ndots", "value": "2"}]}  # fmt: skip
    net("pod", "rm", "-f", "nr")
    f = tmp_path / "nr.yaml"
    f.write_text(text)
    res = net("kube", "play", "--network", "none", str(f))
    assert "not supported" not in res.stderr
    out = net("exec", "nr-c", "cat", "/etc/hosts", "/etc/resolv.conf").stdout
    assert "10.1.2.3\tdb" in out and "nameserver 10.9.9.9" in out and "search example.test" in out, out
    assert "options ndots:2" in out, out
    net("kube", "down", str(f))
    assert _names(net) == []
