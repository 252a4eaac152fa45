"""The project model: typed records over the normalised document, which stays the source of truth
(`Service.config` is what `compose config` prints and what the config hash digests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podpy.compose.errors import ComposeError


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: str = "service_started"  # service_started | service_healthy | service_completed_successfully
    required: bool = True
    restart: bool = False


@dataclass(frozen=True)
class Port:
    target: int
    published: str = ""  # "8080", "8000-8010" or "" (an ephemeral host port)
    host_ip: str = ""
    protocol: str = "tcp"
    mode: str = "ingress"


@dataclass(frozen=True)
class Mount:
    type: str  # volume | bind | tmpfs | image | npipe | cluster
    target: str
    source: str = ""  # volume key (not the engine name), absolute host path, or "" (anonymous)
    read_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)  # the bind/volume/tmpfs sub-mapping


@dataclass(frozen=True)
class Attachment:
    network: str  # network key in the project
    aliases: tuple[str, ...] = ()
    ipv4_address: str = ""
    ipv6_address: str = ""
    priority: int = 0


@dataclass(frozen=True)
class FileRef:
    """A service's use of a secret or config."""

    source: str
    target: str
    uid: str = ""
    gid: str = ""
    mode: int | None = None


@dataclass
class Service:
    name: str
    config: dict[str, Any]
    image: str  # given, or `<project>-<service>` for a build-only service
    scale: int
    depends_on: dict[str, Dependency]
    networks: list[Attachment]
    ports: list[Port]
    mounts: list[Mount]
    secrets: list[FileRef]
    configs: list[FileRef]
    config_hash: str = ""

    @property
    def build(self) -> dict[str, Any] | None:
        return self.config.get("build")

    @property
    def container_name(self) -> str | None:
        return self.config.get("container_name")

    def references(self) -> set[str]:
        """Services whose containers this one's containers point at (so must be recreated with them)."""
        refs = set()
        for key in ("network_mode", "ipc", "pid"):
            mode = str(self.config.get(key) or "")
            if mode.startswith("service:"):
                refs.add(mode[8:])
        for ref in self.config.get("volumes_from") or []:
            if not ref.startswith("container:"):
                refs.add(ref.split(":")[0])
        return refs

    def dependencies(self) -> set[str]:
        return set(self.depends_on) | self.references()


@dataclass
class Resource:
    """A top-level network, volume, secret or config; `name` is the engine-side name."""

    key: str
    name: str
    external: bool
    spec: dict[str, Any]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.spec.get("labels") or {})


@dataclass
class Project:
    name: str
    working_dir: str
    config_files: list[str]
    env_files: list[str]
    services: dict[str, Service]
    networks: dict[str, Resource]
    volumes: dict[str, Resource]
    secrets: dict[str, Resource]
    configs: dict[str, Resource]
    disabled_services: list[str]
    profiles: list[str]  # every profile any service declares, enabled or not
    document: dict[str, Any]  # the normalised model, as `compose config` prints it
    environment: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def service_order(self, names: list[str] | None = None) -> list[str]:
        """Services (default: all) in dependency order: each after the ones it depends on."""
        wanted = list(names) if names is not None else sorted(self.services)
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, chain: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ComposeError(f"dependency cycle detected: {' -> '.join((*chain, name))}")
            state[name] = 1
            for dep in sorted(self.services[name].dependencies()):
                if dep in self.services:
                    visit(dep, (*chain, name))
            state[name] = 2
            order.append(name)

        for name in wanted:
            visit(name, ())
        return order



def _service(name: str, svc: dict[str, Any], project: str) -> Service:
    deploy = svc.get("deploy") or {}
    scale = svc.get("scale", deploy.get("replicas"))
    return Service(
        name=name, config=svc, image=str(svc.get("image") or f"{project}-{name}"),
        scale=1 if scale is None else int(scale),
        depends_on={d: Dependency(d, s.get("condition", "service_started"), s.get("required", True),
                                  s.get("restart", False)) for d, s in (svc.get("depends_on") or {}).items()},
        networks=[_attachment(k, v) for k, v in (svc.get("networks") or {}).items()],
        ports=[Port(int(p["target"]), str(p.get("published") or ""), p.get("host_ip", ""),
                    p.get("protocol", "tcp"), p.get("mode", "ingress")) for p in svc.get("ports") or []],
        mounts=[_mount(v) for v in svc.get("volumes") or []],
        secrets=[_ref(r, "/run/secrets/") for r in svc.get("secrets") or []],
        configs=[_ref(r, "/") for r in svc.get("configs") or []],
    )


def _attachment(key: str, spec: dict[str, Any] | None) -> Attachment:
    spec = spec or {}
    return Attachment(key, tuple(spec.get("aliases") or ()), str(spec.get("ipv4_address") or ""),
                      str(spec.get("ipv6_address") or ""), int(spec.get("priority") or 0))


def _mount(vol: dict[str, Any]) -> Mount:
    kind = vol.get("type", "volume")
    return Mount(kind, str(vol["target"]), str(vol.get("source") or ""), bool(vol.get("read_only")),
                 dict(vol.get(kind) or {}))


def _ref(ref: dict[str, Any], prefix: str) -> FileRef:
    target = str(ref.get("target") or f"{prefix}{ref['source']}")
    mode = ref.get("mode")
    return FileRef(str(ref["source"]), target, str(ref.get("uid") or ""), str(ref.get("gid") or ""),
                   int(str(mode), 8) if isinstance(mode, str) else mode)


def _resources(section: dict[str, Any] | None) -> dict[str, Resource]:
    return {k: Resource(k, str(v["name"]), bool(v.get("external")), v) for k, v in (section or {}).items()}


def build_project(doc: dict[str, Any], working_dir: Any, config_files: list[str], env_files: list[str],
                  environment: dict[str, str], warnings: list[str]) -> Project:
    from podpy.compose.hashing import service_hash

    disabled = doc.pop("x-disabled-services", [])
    profiles = doc.pop("x-all-profiles", [])
    name = doc["name"]
    services = {n: _service(n, s, name) for n, s in doc["services"].items()}
    for svc in services.values():
        svc.config_hash = service_hash(svc.config)
    project = Project(name, str(working_dir), config_files, env_files, services, _resources(doc.get("networks")),
                      _resources(doc.get("volumes")), _resources(doc.get("secrets")),
                      _resources(doc.get("configs")), disabled, profiles, doc, environment, warnings)
    project.service_order()  # fail early on cycles
    return project
