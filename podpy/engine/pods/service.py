"""The pod service: create, list and drive pods (the infra container first up, last down)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podpy.engine import events as ev
from podpy.engine.pods import record as pr
from podpy.engine.pods.record import NoSuchPod, PodRecord
from podpy.errors import ContainerState, InvalidArgument, NameInUse, PodpyError
from podpy.state import FileLock
from podpy.timeutil import now_rfc3339

if TYPE_CHECKING:
    from podpy.engine.container_record import ContainerRecord
    from podpy.engine.core import Engine

INFRA_BINARY = "/usr/bin/catatonit"


@dataclass
class PodCreate:
    name: str = ""
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    share: list[str] = field(default_factory=lambda: list(pr.DEFAULT_SHARE))
    infra: bool = True
    infra_image: str = ""
    infra_command: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    publish: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # names the pod answers to on its networks
    created_by_kube: str = ""
    infra_name: str = ""  # default <short id>-infra
    infra_net: dict[str, Any] = field(default_factory=dict)  # more network flags of the infra (dns, ip...)
    infra_more: dict[str, Any] = field(default_factory=dict)  # the infra's rarer flags (sysctl, pid, uts...)
    member: dict[str, Any] = field(default_factory=dict)  # what every member inherits (pods.inherit)
    exit_policy: str = "continue"
    share_parent: bool = True
    replace: bool = False  # a pod of the same name is removed first


class PodService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.root: Path = engine.layout.root

    # ---- lookup
    def list(self) -> list[PodRecord]:
        return sorted(pr.load_all(self.root), key=lambda p: p.created, reverse=True)

    def get(self, ref: str) -> PodRecord:
        pods = pr.load_all(self.root)
        for match in (lambda p: p.id == ref, lambda p: p.name == ref, lambda p: p.id.startswith(ref)):
            found = [p for p in pods if match(p)] if ref else []
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidArgument(f"more than one pod matches {ref!r}")
        raise NoSuchPod(ref)

    def exists(self, ref: str) -> bool:
        try:
            self.get(ref)
        except NoSuchPod:
            return False
        return True

    def members(self, pod: PodRecord, with_infra: bool = True) -> list[ContainerRecord]:
        recs = [r for r in self.engine.containers.list(True) if r.spec.get("pod") == pod.id]
        recs = [r for r in recs if with_infra or r.id != pod.infra_id]
        return sorted(recs, key=lambda r: r.created)

    # ---- create
    def create(self, req: PodCreate) -> PodRecord:
        from podpy.engine.container_names import new_id, validate_name

        share = [k for k in req.share if k in pr.SHAREABLE]
        if not req.infra and (req.publish or req.network or any(req.infra_net.values())):
            raise InvalidArgument("a pod without an infra container cannot publish ports or join networks")
        if req.exit_policy not in pr.EXIT_POLICIES:
            raise InvalidArgument(f"invalid pod exit policy: {req.exit_policy!r}")
        if req.replace and req.name and self.exists(req.name):
            self.remove(req.name, force=True)
        with FileLock(self.engine.layout.store_lock):
            pods = pr.load_all(self.root)
            name = validate_name(req.name) if req.name else ""
            pid = new_id()
            name = name or f"pod_{pid[:8]}"
            if any(p.name == name for p in pods):
                raise NameInUse(f"{name}: pod already exists")
            pod = PodRecord(id=pid, name=name, created=now_rfc3339(), hostname=req.hostname or name,
                            labels=dict(req.labels), share=share, infra_image=req.infra_image,
                            network=list(req.network), publish=list(req.publish),
                            created_by_kube=req.created_by_kube, exit_policy=req.exit_policy,
                            share_parent=req.share_parent,
                            member={} if req.infra else dict(req.member))  # fmt: skip
            pr.save(self.root, pod)
        if req.infra:
            try:
                pod.infra_id = self._create_infra(pod, req).id
            except BaseException:
                self._forget(pod)
                raise
            pod.member = dict(req.member)  # after the infra: it takes only the network and namespace flags
            pr.save(self.root, pod)
        ev.pod(self.engine, "create", pod)
        return pod

    def _create_infra(self, pod: PodRecord, req: PodCreate) -> ContainerRecord:
        from podpy.engine.container_config import CreateOptions

        if req.infra_image:
            image, rootfs, command = req.infra_image, False, list(req.infra_command)
        else:
            image, rootfs, command = str(self._infra_rootfs(pod)), True, req.infra_command or ["/catatonit", "-P"]
        own_uts = "uts" in pod.share and not req.infra_more.get("uts")
        opts = CreateOptions(image=image, rootfs=rootfs, command=command, name=req.infra_name or f"{pod.short_id}-infra",
                             hostname=pod.hostname if own_uts else "", read_only=rootfs,
                             net=self._infra_net(pod, req), more=dict(req.infra_more),
                             security_opt=list(req.member.get("security_opt") or []),
                             userns=req.member.get("userns") or "",
                             stop_timeout=10, pod=pod.id, image_volumes=False)  # fmt: skip
        return self.engine.containers.create(opts)

    @staticmethod
    def _infra_net(pod: PodRecord, req: PodCreate) -> dict[str, Any]:
        """The infra's network flags; on named networks it answers to the pod's name (and aliases)."""
        import os

        named = [n for n in req.network if n not in ("none", "host", "private") and ":" not in n]
        net: dict[str, Any] = {**req.infra_net, "network": list(req.network), "publish": list(req.publish)}
        aliases = [*req.aliases, *(req.infra_net.get("network_alias") or [])]
        if named or (not req.network and os.geteuid() == 0):
            net["network_alias"] = list(dict.fromkeys([pod.name, *aliases]))
        return net

    def _infra_rootfs(self, pod: PodRecord) -> Path:
        """A root filesystem of one static binary: catatonit in pause mode holds the namespaces."""
        if not Path(INFRA_BINARY).is_file():
            raise PodpyError(f"{INFRA_BINARY} is not installed: install catatonit or use --infra-image")
        d = pr.pods_dir(self.root) / pod.id / "rootfs"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy2(INFRA_BINARY, d / "catatonit")
        return d

    def _forget(self, pod: PodRecord) -> None:
        (pr.pods_dir(self.root) / f"{pod.id}.json").unlink(missing_ok=True)
        shutil.rmtree(pr.pods_dir(self.root) / pod.id, ignore_errors=True)

    # ---- state
    def status(self, pod: PodRecord, members: list[ContainerRecord] | None = None) -> str:
        """Podman's pod states: Created, Running, Degraded (some running), Paused, Exited."""
        recs = self.members(pod) if members is None else members
        states = [r.state.status for r in recs if r.id != pod.infra_id] or [r.state.status for r in recs]
        paused = [r for r in recs if getattr(r.state, "paused", False)]
        if not states:
            return "Created"
        if paused and len(paused) == len([r for r in recs if r.state.status == "running"]):
            return "Paused"
        running = states.count("running")
        if running == len(states):
            return "Running"
        if running:
            return "Degraded"
        return "Created" if all(s == "created" for s in states) else "Exited"

    def ensure_infra(self, pod: PodRecord) -> ContainerRecord | None:
        if not pod.infra_id:
            return None
        svc = self.engine.containers
        rec = svc.get(pod.infra_id)
        if rec.state.status != "running":
            rec, launch = svc.start(pod.infra_id, None)
            if launch is not None:
                launch.close()
            rec = svc.get(pod.infra_id)
        return rec

    # ---- actions on every member
    def start(self, ref: str) -> PodRecord:
        pod = self.get(ref)
        self.ensure_infra(pod)
        for rec in self.members(pod, with_infra=False):
            _rec, launch = self.engine.containers.start(rec.id, None)
            if launch is not None:
                launch.close()
        ev.pod(self.engine, "start", pod)
        return pod

    def stop(self, ref: str, timeout: int | None = None) -> PodRecord:
        pod = self.get(ref)
        self._each(self.members(pod, with_infra=False), lambda r: self.engine.containers.stop(r.id, timeout))
        if pod.infra_id:
            self.engine.containers.stop(pod.infra_id, timeout)
        ev.pod(self.engine, "stop", pod)
        return pod

    def restart(self, ref: str, timeout: int | None = None) -> PodRecord:
        self.stop(ref, timeout)
        return self.start(ref)

    def kill(self, ref: str, sig: str = "SIGKILL") -> PodRecord:
        pod = self.get(ref)
        running = [r for r in self.members(pod) if r.state.status == "running"]
        if not running:
            raise ContainerState(f"pod {pod.name} has no running containers to kill")
        self._each([r for r in running if r.id != pod.infra_id], lambda r: self.engine.containers.kill(r.id, sig))
        if any(r.id == pod.infra_id for r in running):
            self.engine.containers.kill(pod.infra_id, sig)
        ev.pod(self.engine, "kill", pod)
        return pod

    def set_paused(self, ref: str, paused: bool) -> PodRecord:
        from podpy.engine.container_cgroups import set_paused

        pod = self.get(ref)
        for rec in self.members(pod):
            if rec.state.status == "running" and bool(rec.state.paused) != paused:
                set_paused(self.engine.containers, rec.id, paused)
        ev.pod(self.engine, "pause" if paused else "unpause", pod)
        return pod

    def remove(self, ref: str, force: bool = False) -> str:
        pod = self.get(ref)
        recs = self.members(pod, with_infra=False)
        running = [r for r in recs if r.state.status in ("running", "restarting")]
        if running and not force:
            raise ContainerState(f"pod {pod.id} has running containers ({', '.join(r.name for r in running)}): "
                                 "stop them or use --force")  # fmt: skip
        self._each(recs, lambda r: self.engine.containers.remove(r.id, force=True))
        if pod.infra_id:
            try:
                self.engine.containers.remove(pod.infra_id, force=True)
            except PodpyError as e:
                if "no container" not in str(e):
                    raise
        self._forget(pod)
        ev.pod(self.engine, "remove", pod)
        return pod.id

    def prune(self) -> list[str]:
        """Pods with no running container."""
        out = []
        for pod in self.list():
            if not any(r.state.status == "running" for r in self.members(pod)):
                out.append(self.remove(pod.id, force=True))
        return out

    @staticmethod
    def _each(recs: list[Any], action: Any) -> None:
        """Members are acted on at once: each stop may wait its timeout."""
        if len(recs) <= 1:
            for r in recs:
                action(r)
            return
        with ThreadPoolExecutor(max_workers=min(8, len(recs))) as pool:
            for fut in [pool.submit(action, r) for r in recs]:
                fut.result()
