"""Container services: lookup, create, list, rename, prune (lifecycle in container_lifecycle)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.engine.container_record import ContainerLock, ContainerRecord
from podpy.engine.idcompose import needs_shift
from podpy.errors import InvalidArgument, NameInUse, NoSuchContainer, PodpyError
from podpy.record import asdict, replace  # ContainerSpec (a dataclass) or records: both
from podpy.state import FileLock, atomic_write_bytes
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.container_config import CreateOptions
    from podpy.engine.container_lifecycle import Lifecycle
    from podpy.engine.core import Engine
    from podpy.engine.spec import ContainerSpec

INIT_BINARIES = ("catatonit", "tini", "tini-static", "docker-init")
INIT_DIRS = ("/usr/libexec/podman", "/usr/libexec/podpy", "/usr/local/libexec/podman")
LOG_NAME = "ctr.log"


class ContainerService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.layout = engine.layout
        self.notices: list[str] = []  # one-line warnings from the last create, for the CLI to print

    # ---- paths
    def cdir(self, cid: str) -> Path:
        return self.layout.container_dir(cid)

    def run_dir(self, cid: str) -> Path:
        return self.layout.container_run_dir(cid)

    def bundle(self, cid: str) -> Path:
        return self.cdir(cid) / "userdata"

    def log_path(self, cid: str, spec: dict[str, Any] | None = None) -> Path:
        """`--log-opt path=` when the container's spec has one, else <userdata>/ctr.log."""
        custom = ((spec or {}).get("log") or {}).get("path")
        return Path(custom) if custom else self.bundle(cid) / LOG_NAME

    def lock(self, cid: str) -> ContainerLock:
        return ContainerLock(self.cdir(cid))

    # ---- lookup
    def _ids(self) -> list[str]:
        try:
            return [n for n in os.listdir(self.layout.containers) if len(n) == 64]
        except FileNotFoundError:
            return []

    def _load_all(self) -> list[ContainerRecord]:
        return cr.load_all(self.layout.containers, self._ids())  # skips removed and half-created ones

    def resolve(self, ref: str) -> str:
        """Full ID for a full ID, a name, or a unique ID prefix (Docker's order)."""
        ref = ref.removeprefix("/")
        if not ref:
            raise NoSuchContainer(ref)
        ids = self._ids()
        if ref in ids:
            return ref
        for rec in self._load_all():
            if rec.name == ref:
                return rec.id
        matches = [i for i in ids if i.startswith(ref.lower())]
        if len(matches) > 1:
            raise InvalidArgument(f"more than one result for container {ref!r}: be more specific")
        if not matches:
            raise NoSuchContainer(ref)
        return matches[0]

    def latest(self) -> str:
        """-l/--latest: the ID of the container created last."""
        recs = self._load_all()
        if not recs:
            raise PodpyError("no containers to act on with --latest: no such container")
        return max(recs, key=lambda r: r.created).id

    def get(self, ref: str) -> ContainerRecord:
        """The record, reconciled: a dead supervisor means not running (persisted when possible)."""
        cid = self.resolve(ref)
        rec = cr.load(self.cdir(cid))
        if cr.reconcile(rec):
            self._persist_reconciled(rec)
        return rec

    def _persist_reconciled(self, rec: ContainerRecord) -> None:
        try:
            with self.lock(rec.id):
                fresh = cr.load(self.cdir(rec.id))
                if cr.reconcile(fresh):
                    cr.save(self.cdir(rec.id), fresh)
                    from podpy.engine.container_cgroups import release

                    release(self, fresh)
                    self.lifecycle.network_down(fresh)  # its init is gone too: nothing uses the netns
        except (PodpyError, OSError):
            pass  # read-only store, or removed meanwhile: the in-memory answer stands

    def list(self, all_: bool = True) -> list[ContainerRecord]:
        recs = []
        for rec in self._load_all():
            if cr.reconcile(rec):
                self._persist_reconciled(rec)
            if all_ or rec.state.status in (cr.RUNNING, cr.RESTARTING):  # Docker lists both as up
                recs.append(rec)
        return sorted(recs, key=lambda r: r.created, reverse=True)

    # ---- create
    def create(self, opts: CreateOptions, progress: Callable[[Any], None] | None = None) -> ContainerRecord:
        if opts.pod and not opts.pod.startswith("new:"):
            from podpy.engine.pods.inherit import inherit  # the pod's volumes, devices, limits...

            opts = inherit(self.engine, opts)
        more = opts.more if opts.more and _wants_more(opts.more) else {}
        if more:
            from podpy.engine import create_more, create_setup

            create_setup.before_create(self, opts)
        img_id, top, icfg = self._image(opts, progress)
        from podpy.engine.container_config import build_spec, resources_notice  # only create needs these

        spec = build_spec(opts, icfg, self.engine.layout.runroot / "containers-conf.json")
        if os.geteuid() != 0 and (notice := resources_notice(opts.resources)):
            self.notices.append(notice)
        if more:
            spec = create_more.apply(self.engine, spec, more)
        if spec.pod:
            from podpy.engine.pods import join

            spec = join(self.engine, spec)
        if spec.network == "private" and os.geteuid() != 0 and not (opts.network or (opts.net or {}).get("network")):
            self._private_notice()
        if spec.networks or spec.network.startswith("container:"):
            from podpy.engine.networks import for_create

            spec = for_create(self.engine, spec)
        resolved = self._resolve_mounts(opts, icfg)
        if resolved is not None:
            spec = replace(spec, mounts=(*spec.mounts, *resolved.mounts))
        try:
            rec = self._allocate(opts, spec, img_id, top, icfg, resolved)
        except BaseException:
            if resolved is not None:
                self.engine.volumes.discard_new(resolved.anonymous)
            raise
        try:
            self._write_bundle(rec, spec)
            if resolved is not None:
                from podpy.engine.mount_resolution import populate_volumes

                fresh = _fresh_volumes(self.engine, resolved) if needs_shift(spec.uidmap, spec.gidmap) else []
                populate_volumes(self.engine, resolved, top, Path(rec.rootfs) if rec.rootfs else None)
                if fresh:  # Podman's chown of a new volume: its files get the mapping's host ids
                    from podpy.engine.idmaps import shift_volumes

                    shift_volumes(self.engine, resolved.mounts, fresh, spec.uidmap, spec.gidmap)
        except BaseException:
            self.lifecycle.discard(rec)
            self.engine.volumes.remove_anonymous(rec.anonymous_volumes)
            raise
        if more.get("cidfile"):
            create_setup.write_id_file(more["cidfile"], rec.id)
        ev.container(self, rec, "create")
        return rec

    def _private_notice(self) -> None:
        """Rootless default without pasta/slirp4netns: said once per runroot (it is every run's case)."""
        from podpy.network.rootless import tun_problem

        marker = self.layout.runroot / "netns" / "private-noticed"
        if marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        why = tun_problem() or "neither is installed"
        self.notices.append(f"no rootless network (pasta, slirp4netns): {why}: using a private namespace, loopback only")

    def _resolve_mounts(self, opts: CreateOptions, icfg: dict) -> Any:
        """-v/--mount/--tmpfs/--volumes-from and the image's VOLUMEs (None when there are none: the
        volume code is not even imported on the common path)."""
        image_volumes = sorted((icfg.get("Volumes") or {}).keys()) if opts.image_volumes else []
        tmpfs = opts.tmpfs
        mode = (opts.more or {}).get("image_volume") or "bind"
        if mode not in ("bind", "tmpfs", "ignore"):
            raise InvalidArgument(f"invalid --image-volume {mode!r}: expected bind, tmpfs or ignore")
        if mode != "bind":  # ignore: none; tmpfs: a tmpfs on each instead of an anonymous volume
            tmpfs = [*tmpfs, *(image_volumes if mode == "tmpfs" else [])]
            image_volumes = []
        if not opts.wants_mounts and not image_volumes and not tmpfs:
            return None
        from podpy.engine.mount_resolution import resolve_mounts

        return resolve_mounts(self.engine, opts.volumes, mount_flags=opts.mounts, tmpfs_flags=tmpfs,
                              volumes_from=opts.volumes_from, image_volumes=image_volumes,
                              cwd=os.getcwd())  # fmt: skip

    def _image(
        self, opts: CreateOptions, progress: Callable[[Any], None] | None
    ) -> tuple[str, str | None, dict]:
        if opts.rootfs:
            if not Path(opts.image).is_dir():
                raise InvalidArgument(f"--rootfs {opts.image}: not a directory")
            return "", None, {}
        img = self._ensure_image(opts.image, opts.pull, progress, opts.more)
        from podpy.image.config_check import check

        cfg = check(json.loads(self.engine.content.read(img.id)), f"image {img.hex[:12]}: config")
        return img.id, img.top_layer, cfg.get("config") or {}

    def _image_name(self, typed: str, img_id: str) -> str:
        """What ps shows: the reference typed, or for a transport (docker-archive:P) the image's name."""
        if ":" not in typed or typed.split(":", 1)[0] not in ("docker-archive", "oci-archive", "oci", "dir"):
            return typed.removeprefix("docker://")
        from podpy.image import reference

        img = self.engine.index.load().get(img_id.removeprefix("sha256:"))
        return reference.familiar(img.names[0]) if img is not None and img.names else img_id.removeprefix("sha256:")

    def _ensure_image(self, ref: str, policy: str, progress: Callable[[Any], None] | None,
                      more: dict[str, Any] | None = None) -> Any:  # fmt: skip
        """The local image when policy allows (no registry code imported: the hot path), else a pull."""
        from podpy.image.store import find

        if ":" in ref and not ref.startswith("sha256:"):  # docker-archive:P, oci:DIR, ... (Podman pulls them)
            from podpy.engine import transports

            loc = transports.parse(ref)
            if loc is not None and loc.transport == "docker":
                ref = loc.path
            elif loc is not None:
                return transports.pull(self.engine, loc)[0]
        if policy in ("missing", "never"):
            local = find(self.engine.index.load(), ref)
            if local is not None:
                return local
        try:
            from podpy.engine.pull import ensure_image
        except ImportError:
            from podpy.errors import NoSuchImage

            if policy == "always":
                raise PodpyError(f"cannot pull {ref}: pulling from registries is not available") from None
            raise NoSuchImage(ref) from None
        if more and _wants_more(more):  # --authfile, --tls-verify, --platform for the pull
            from podpy.engine.create_setup import pull_settings

            return ensure_image(self.engine, ref, policy, progress, *pull_settings(more))
        return ensure_image(self.engine, ref, policy, progress)

    def _allocate(self, opts: CreateOptions, spec: ContainerSpec, img_id: str, top: str | None,
                  icfg: dict, resolved: Any) -> ContainerRecord:  # fmt: skip
        """Name and ID under the store lock; the record exists (status created) when it is released."""
        stop_sig = opts.stop_signal or icfg.get("StopSignal") or "SIGTERM"
        from podpy.engine.container_config import parse_signal, resource_fields

        parse_signal(stop_sig)
        entrypoint = _effective_entrypoint(opts, icfg)
        from podpy.engine.container_names import new_id, random_name, validate_name
        from podpy.engine.container_restart import policy_from_flags

        restart_policy, healthcheck = policy_from_flags(opts), None
        if _health_asked(opts, icfg):  # else no check: container_health (~1 ms of imports) not loaded
            from podpy.engine.container_health import healthcheck_config

            healthcheck = healthcheck_config(opts, icfg)
        with FileLock(self.layout.store_lock):
            names = {r.name: r.id for r in self._load_all()}
            name = validate_name(opts.name) if opts.name else random_name(set(names))
            if name in names:
                raise NameInUse(
                    f'the container name "{name}" is already in use by {names[name]}. '
                    f"You have to remove that container to be able to reuse that name: that name is already in use"
                )
            cid = new_id()
            rec = ContainerRecord(
                id=cid, name=name, created=now_rfc3339(), image=img_id,
                image_name=self._image_name(opts.image, img_id),
                top_layer=top, rootfs=str(Path(opts.image).absolute()) if opts.rootfs else "",
                driver="" if opts.rootfs else self.engine.driver, runtime=self.engine.opts.runtime or "",
                spec=asdict(spec), entrypoint=entrypoint, cmd=list(spec.args[len(entrypoint):]),
                open_stdin=opts.interactive,
                auto_remove=opts.auto_remove, stop_signal=str(stop_sig),
                stop_timeout=10 if opts.stop_timeout is None else opts.stop_timeout,
                detach_keys="ctrl-p,ctrl-q" if opts.detach_keys is None else opts.detach_keys,
                security_opt=list(opts.security_opt), resources=resource_fields(opts.resources),
                restart_policy=restart_policy, healthcheck=healthcheck,
            )  # fmt: skip
            if opts.more and _wants_more(opts.more):
                from podpy.engine.create_setup import record_fields

                for key, value in record_fields(self, opts.more).items():
                    setattr(rec, key, value)
            if resolved is not None:
                rec.volumes, rec.anonymous_volumes = list(resolved.volumes), list(resolved.anonymous)
                rec.mounts = [dict(p) for p in resolved.points]
            self.cdir(cid).mkdir(parents=True)
            cr.save(self.cdir(cid), rec, durable=not opts.auto_remove)  # --rm: gone soon anyway
        return rec

    def _write_bundle(self, rec: ContainerRecord, spec: ContainerSpec) -> None:
        from podpy.engine.container_config import hosts_file, resolv_conf
        from podpy.engine.spec import Mount

        """rw layer, /etc files and config.json: everything `start` needs."""
        from podpy.engine import specgen

        ud = self.bundle(rec.id)
        ud.mkdir(parents=True, exist_ok=True)
        rootfs, annotations, reader = self._rootfs(rec)
        rootless = self.engine.opts.rootless
        if spec.uidmap and annotations and not rec.rootfs and not rootless:  # the merged root's owner is the upper's
            from podpy.engine.idmaps import map_owner

            map_owner(self.storage_driver.rw_dir(rec.id) / "upper", spec.uidmap, spec.gidmap)
        hostname = spec.hostname or (os.uname().nodename if spec.network == "host" else rec.short_id)
        etc = {"hostname": hostname + "\n", "hosts": hosts_file(hostname, rec.name, spec.network, spec.add_hosts),
               "resolv.conf": resolv_conf(spec.network, spec.dns, spec.dns_search, spec.dns_options)}  # fmt: skip
        if spec.no_hosts:
            del etc["hosts"]
        if (spec.user[:1].isdigit() and spec.passwd) or spec.hostusers:  # accounts the image may not have
            from podpy.engine.create_setup import passwd_text
            from podpy.inroot import read_inside

            passwd = passwd_text(spec, reader or (lambda p: read_inside(rootfs, p)))
            if passwd is not None:
                etc["passwd"] = passwd
        mounts = []
        owner = None if rootless else _root_ids(spec)
        for fname, text in etc.items():
            (ud / fname).write_text(text)  # nobody reads these before the container starts
            if owner is not None:  # Podman: the container's root owns them (else they show as nobody)
                os.chown(ud / fname, *owner)
            for top in ("", *(d.rstrip("/") for d in spec.chrootdirs)):  # --chrootdirs: there too
                mounts.append(Mount(f"{top}/etc/{fname}", "bind", str(ud / fname), ("rbind", "rprivate")))
        if rootless and needs_shift(spec.uidmap, spec.gidmap):  # the same, in the user's namespace (--rootfs:
            from podpy.storage.idshift import map_owners  # used as it is, as Podman does)

            upper = [] if rec.rootfs else [self.storage_driver.rw_dir(rec.id) / "upper"]
            map_owners([*upper, *(ud / f for f in etc)], spec.uidmap, spec.gidmap or spec.uidmap)
        spec = replace(spec, mounts=(*mounts, *spec.mounts), annotations={**spec.annotations, **annotations})
        init = (rec.init_path or find_init()) if spec.init else None
        host = specgen.HostFacts.detect(spec.userns)
        if host.id_maps is not None and host.id_maps.single and spec.userns != "host":
            self.notices.append(
                "no subordinate ids for this user in /etc/subuid and /etc/subgid (or no "
                "newuidmap): using a single-id user namespace, other users appear as nobody"
            )
        if spec.network == "bridge":  # the runtime joins the namespace pinned at start
            spec = replace(spec, network=f"ns:{self.layout.runroot / 'netns' / rec.id}")
        doc = specgen.generate(spec, rootfs, cid=rec.id, host=host, read_etc=reader, init_path=init)
        held = Path(spec.network[3:]) if spec.network.startswith("ns:") else None
        if host.rootless and held is not None and held.parent == self.layout.runroot / "netns":
            # a namespace podpy holds for a rootless container (its own, or the one of a bridge
            # container it joins: container:X, a pod's infra) is owned by the holder's user
            # namespace, which the container must join too
            from podpy.engine.networks.rootless import join_paths

            join_paths(doc, self.layout.runroot, held.name)
        if spec.network in ("pasta", "slirp4netns"):
            _rootless_network(doc, spec.network, host.rootless, self.layout.runroot, rec.id)
        atomic_write_bytes(ud / "config.json", json.dumps(doc).encode(), durable=False)

    def _rootfs(
        self, rec: ContainerRecord
    ) -> tuple[Path, dict[str, str], Callable[[str], str | None] | None]:
        """Where config.json's root points, the rootfs-mount annotation, and a reader for /etc files."""
        if rec.rootfs:
            return Path(rec.rootfs), {}, None
        from podpy.engine.specgen import ROOTFS_MOUNT_ANNOTATION

        driver = self.storage_driver
        driver.create_rw(rec.id, rec.top_layer)
        if self.engine.opts.rootless and needs_shift(rec.spec.get("uidmap"), rec.spec.get("gidmap")):
            if driver.name != "overlay":
                raise InvalidArgument(f"rootless --uidmap/--gidmap need the overlay storage driver, not {driver.name}")
            driver.use_idmap(rec.id, rec.spec["uidmap"], rec.spec.get("gidmap") or rec.spec["uidmap"])  # type: ignore[attr-defined]
        fstype, data = driver.mount_options(rec.id, rec.top_layer)
        if fstype == "bind":  # vfs: a plain directory the runtime binds onto itself
            return Path(data), {}, None
        mount = json.dumps({"type": fstype, "source": fstype, "options": data})
        return (
            self.run_dir(rec.id) / "merged",
            {ROOTFS_MOUNT_ANNOTATION: mount},
            self._layer_reader(rec.top_layer),
        )

    def _layer_reader(self, top: str | None) -> Callable[[str], str | None]:
        """Read a file of the image from its layers, top first (the rootfs is not mounted here)."""
        from podpy.inroot import read_inside

        diffs = [self.engine.layers.diff_path(r.chain_id) for r in self.engine.layers.lineage(top)]

        def read(path: str) -> str | None:
            for diff in diffs:
                text = read_inside(diff, path)
                if text is not None:
                    return text
            return None

        return read

    @property
    def storage_driver(self) -> Any:
        from podpy.storage import make_driver

        return make_driver(self.engine.layers)

    @property
    def lifecycle(self) -> Lifecycle:
        from podpy.engine.container_lifecycle import Lifecycle

        return Lifecycle(self)

    # ---- views and lifecycle (the CLI's entry points)
    def inspect(self, ref: str) -> dict[str, Any]:
        from podpy.engine.container_views import inspect

        return inspect(self, self.get(ref))

    def ps(self, all_: bool, filters: list[str] | None) -> list[ContainerRecord]:
        from podpy.engine.container_views import filter_records

        # Docker: a status or exited filter looks at every container, other filters at the listed ones
        implied = any(f.partition("=")[0].strip().lower() in ("status", "exited") for f in filters or [])
        recs = self.list(all_=all_ or implied)
        if filters:
            from podpy.engine.container_health import filter_health, health_values

            recs = filter_records(recs, filters, self._image_refs(filters))
            if health := health_values(filters):
                recs = filter_health(self, recs, health)
        return recs

    def _image_refs(self, filters: list[str]) -> dict[str, str]:
        """ancestor=NAME: the image ID each name refers to now."""
        out = {}
        for f in filters:
            key, _, value = f.partition("=")
            if key.strip().lower() == "ancestor":
                try:
                    out[value] = self.engine.images.get(value).id
                except PodpyError:
                    continue
        return out

    def start(self, ref: str, attach: Any = None, _chain: tuple[str, ...] = (), preserve_fds: int = 0,
              prefork: Any = None) -> Any:  # fmt: skip
        rec = self.get(ref)
        for dep in rec.requires:  # --requires: those first (each with its own requirements)
            if dep not in _chain and self.get(dep).state.status != cr.RUNNING:
                _rec, launch = self.start(dep, None, (*_chain, rec.id))
                if launch is not None:
                    launch.close()
        if rec.spec.get("pod") and (self.layout.root / "pods").is_dir():
            from podpy.engine.pods import before_start  # its infra first, config.json at its namespaces

            before_start(self.engine, rec)
        return self.lifecycle.start(rec.id, attach, preserve_fds, prefork)

    def stop(self, ref: str, timeout: int | None = None) -> ContainerRecord:
        return self.lifecycle.stop(ref, timeout)

    def kill(self, ref: str, sig: int | str = "SIGKILL") -> ContainerRecord:
        return self.lifecycle.kill(ref, sig)

    def wait(self, ref: str) -> int:
        return self.lifecycle.wait(ref)

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> str:
        return self.lifecycle.remove(ref, force, volumes)

    # ---- rename, prune, port
    def rename(self, ref: str, new: str) -> None:
        from podpy.engine.container_names import validate_name

        new = validate_name(new)
        with FileLock(self.layout.store_lock):
            cid = self.resolve(ref)
            taken = {r.name: r.id for r in self._load_all()}
            if new in taken and taken[new] != cid:
                raise NameInUse(f"the container name {new!r} is already in use by {taken[new][:12]}")
            with self.lock(cid):
                rec = cr.load(self.cdir(cid))
                rec.name = new
                cr.save(self.cdir(cid), rec)
        ev.container(self, rec, "rename")

    def prune(self, filters: list[str] | None = None) -> tuple[list[str], int]:
        """Remove every stopped container (`until`, `label`, `label!` filters): (IDs, bytes reclaimed)."""
        from podpy.engine.prune import prune_containers

        return prune_containers(self, filters)

    def port(self, ref: str, which: str = "") -> list[str]:
        """`port`: Docker's lines for the live bindings of a running container."""
        rec = self.get(ref)
        if rec.state.status != cr.RUNNING or not rec.spec.get("ports"):
            return []
        from podpy.network import ports

        return ports.port_lines(ports.load(self.layout, rec.id), which)


_MORE_DEFAULTS = {"http_proxy": True, "read_only_tmpfs": True, "passwd": True}


def _root_ids(spec: ContainerSpec) -> tuple[int, int] | None:
    """The host ids of a --uidmap container's root (None without a mapping)."""
    if not spec.uidmap:
        return None
    from podpy.engine.idmaps import host_id

    return host_id(spec.uidmap, 0) or 0, host_id(spec.gidmap or spec.uidmap, 0) or 0


def _fresh_volumes(engine: Any, resolved: Any) -> list[str]:
    """The volumes this create is the first to use (not yet filled from an image)."""
    return [name for name, _ in resolved.copy_up if engine.volumes.store.get(name).needs_copy_up]


def _wants_more(more: dict[str, Any]) -> bool:
    """Any of the rarer flags away from its default (else engine.create_more is not imported)."""
    for key, value in more.items():
        default = _MORE_DEFAULTS.get(key)
        if (value is False) if default is True else value not in (None, False, [], ""):
            return True
    return False


def _health_asked(opts: CreateOptions, icfg: dict[str, Any]) -> bool:
    """A --health-*/--no-healthcheck flag or the image's Healthcheck (else the container has none)."""
    from podpy.record import fields

    return bool(opts.no_healthcheck or icfg.get("Healthcheck")) or any(
        getattr(opts, f.name) is not None for f in fields(opts) if f.name.startswith("health_")
    )


def _effective_entrypoint(opts: CreateOptions, icfg: dict) -> list[str]:
    from podpy.engine.container_config import parse_entrypoint

    ep = parse_entrypoint(opts.entrypoint)
    return list(icfg.get("Entrypoint") or []) if ep is None else ep


def find_init() -> str | None:
    for name in INIT_BINARIES:
        import shutil

        found = shutil.which(name) or next(
            (f"{d}/{name}" for d in INIT_DIRS if os.access(f"{d}/{name}", os.X_OK)), None
        )
        if found:
            return found
    return None


def _rootless_network(doc: dict, mode: str, rootless: bool, runroot: Path, cid: str) -> None:
    """pasta/slirp4netns: rootless only, checked usable now (a clear error at create, not at start)."""
    from podpy.engine.networks import rootless as rl
    from podpy.network.rootless import check

    if not rootless:
        raise InvalidArgument(f"--network {mode} is for rootless containers: as root use bridge networks")
    check(mode)
    rl.join_paths(doc, runroot, cid)
