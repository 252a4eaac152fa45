"""`kube play` and `kube down`: a plan (plan.py) carried out through the engine.

What play makes is marked: pods by `created_by_kube`, volumes by the KUBE_LABEL label; `down` removes
the pods of the YAML that play made and the volumes play made, nothing that existed before."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.errors import InvalidArgument, NameInUse, PodpyError
from podpy.kube.plan import Plan, PodPlan

KUBE_LABEL = "io.podpy.kube.play"


@dataclass
class PlayOptions:
    start: bool = True
    replace: bool = False
    network: list[str] = field(default_factory=list)
    publish: list[str] = field(default_factory=list)  # --publish: more ports on every pod
    tag: str = "kube"  # what created_by_kube records
    build: bool | None = None  # --build: True always, False never, None when the image is missing
    context_dir: Path | None = None  # where the per-image build directories are (default: the cwd)
    log_driver: str | None = None
    log_opt: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)  # --annotation KEY=VALUE on every container
    registry: Any = None  # RegistryOptions for the pulls (--authfile, --cert-dir, --creds, --tls-verify)
    ips: list[str] = field(default_factory=list)  # --ip: the Nth pod's static address
    macs: list[str] = field(default_factory=list)  # --mac-address: the Nth pod's
    no_hosts: bool = False
    userns: str = ""


@dataclass
class PlayReport:
    pods: list[tuple[str, list[str]]] = field(default_factory=list)  # (pod id, container ids)
    volumes: list[str] = field(default_factory=list)


def _files_dir(engine: Any, pod: str) -> Path:
    return engine.layout.root / "kube" / pod


def play(engine: Any, the_plan: Plan, opts: PlayOptions, say: Callable[[str], None] = print) -> PlayReport:
    from podpy.engine.pods import PodService

    svc = PodService(engine)
    if opts.replace:
        down(engine, the_plan, volumes=False)
    for p in the_plan.pods:
        if svc.exists(p.name):
            raise NameInUse(f"pod {p.name} already exists: use --replace or kube down first")
    build_images(engine, the_plan, opts, say)
    if opts.registry is not None:
        pull_images(engine, the_plan, opts.registry)
    report = PlayReport()
    for name in the_plan.volumes:
        if not _volume_exists(engine, name):
            engine.volumes.create(name, labels={KUBE_LABEL: opts.tag})
            report.volumes.append(name)
    for i, p in enumerate(the_plan.pods):
        report.pods.append(_play_pod(engine, svc, p, opts, i))
    return report


def pull_images(engine: Any, the_plan: Plan, registry: Any) -> None:
    """The images by each container's pull policy, with the registry options of the command line
    (the containers' own create then finds them here)."""
    from podpy.engine.pull import ensure_image

    for c in (c for p in the_plan.pods for c in p.containers):
        policy = c.options.get("pull") or "missing"
        ensure_image(engine, c.image, policy, None, registry)
        if policy in ("always", "newer"):
            c.options["pull"] = "missing"  # pulled just now


def build_dir(base: Path, image: str) -> Path | None:
    """Podman's rule: image `foobar` is built from `foobar/Containerfile` (or `Dockerfile`) under the
    base directory, which is also the build context. The directory is the reference's last path
    component without its tag or digest (`localhost/foobar:1` → `foobar`)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    if not name or name in (".", ".."):
        return None
    d = base / name
    return d if any((d / f).is_file() for f in ("Containerfile", "Dockerfile")) else None


def build_images(engine: Any, the_plan: Plan, opts: PlayOptions, say: Callable[[str], None]) -> list[str]:
    """Build the images that have a build directory: when missing from the store, or always with
    --build; never with --build=false. The built images' IDs."""
    from podpy.build.frontend import BuildRequest, run_build

    if opts.build is False:
        return []
    base = opts.context_dir or Path.cwd()
    built: list[str] = []
    for image in dict.fromkeys(c.image for p in the_plan.pods for c in p.containers):
        ctx = build_dir(base, image)
        if ctx is None or (not opts.build and engine.images.exists(image)):
            continue
        built.append(run_build(engine, BuildRequest(context=str(ctx), tags=[image]), say))
    return built


def _volume_exists(engine: Any, name: str) -> bool:
    try:
        engine.volumes.get(name)
    except PodpyError:
        return False
    return True


def _play_pod(engine: Any, svc: Any, p: PodPlan, opts: PlayOptions, index: int = 0) -> tuple[str, list[str]]:
    from podpy.engine.pods import PodCreate

    infra_net = {**p.infra_net, **{k: v[index] for k, v in (("ip", opts.ips), ("mac_address", opts.macs))
                                   if index < len(v)}}  # fmt: skip
    member: dict[str, Any] = {"userns": opts.userns} if opts.userns else {}
    if opts.no_hosts:
        member["more"] = {"no_hosts": True}
    pod = svc.create(PodCreate(name=p.name, hostname=p.hostname, labels=p.labels, network=opts.network or p.network,
                               publish=[*p.publish, *opts.publish], aliases=p.aliases,
                               created_by_kube=opts.tag, infra_net=infra_net, member=member,
                               infra_more={"no_hosts": True} if opts.no_hosts else {}))  # fmt: skip
    ids = []
    try:
        for c in p.containers:
            ids.append(_create_container(engine, pod, c, opts).id)
        if opts.start:
            svc.start(pod.id)
    except BaseException:
        svc.remove(pod.id, force=True)
        shutil.rmtree(_files_dir(engine, p.name), ignore_errors=True)
        raise
    return pod.id, ids


def _create_container(engine: Any, pod: Any, c: Any, play_opts: PlayOptions) -> Any:
    from podpy.engine.container_config import CreateOptions

    kw = dict(c.options)
    volumes = list(kw.pop("volumes", []))
    for fv in c.file_volumes:  # configMap/secret files: written under the store, bound read-only
        d = _files_dir(engine, pod.name) / fv.name
        d.mkdir(parents=True, exist_ok=True)
        for rel, text in fv.files.items():
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise InvalidArgument(f"{fv.name}: invalid file name {rel!r}")
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(text)
        volumes.append(f"{d}:{fv.dest}:ro")
    labels = [f"{k}={v}" for k, v in pod.labels.items()]
    if play_opts.log_driver:
        kw["log_driver"] = play_opts.log_driver
    if play_opts.log_opt:
        kw["log_opt"] = list(play_opts.log_opt)
    if play_opts.annotations:
        kw["more"] = {**kw.get("more", {}), "annotation": [*kw.get("more", {}).get("annotation", []),
                                                          *play_opts.annotations]}  # fmt: skip
    opts = CreateOptions(image=c.image, name=c.name, pod=pod.id, volumes=volumes, labels=labels, **kw)
    return engine.containers.create(opts)


def down(engine: Any, the_plan: Plan, volumes: bool = True) -> list[str]:
    """Remove the YAML's pods that kube play made (and, with `volumes`, the volumes it made)."""
    from podpy.engine.pods import PodService

    svc = PodService(engine)
    gone = []
    for p in the_plan.pods:
        try:
            pod = svc.get(p.name)
        except PodpyError:
            continue
        if pod.created_by_kube:
            gone.append(svc.remove(pod.id, force=True))
            shutil.rmtree(_files_dir(engine, p.name), ignore_errors=True)
    if volumes:
        for name in the_plan.volumes:
            try:
                v = engine.volumes.get(name)
            except PodpyError:
                continue
            if KUBE_LABEL in v.labels:
                engine.volumes.remove(name)
                gone.append(name)
    return gone


def wait(engine: Any, report: PlayReport, poll: float = 0.2) -> None:
    """--wait: until every container of the played pods has exited."""
    ids = [cid for _pod, cids in report.pods for cid in cids]
    while True:
        states = [engine.containers.get(cid).state.status for cid in ids]
        if all(s not in ("running", "restarting", "created") for s in states):
            return
        time.sleep(poll)
