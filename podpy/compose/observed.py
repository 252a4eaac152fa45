"""What exists in the engine for a project, as plain records the planner compares with the model.

The executor (or `observe` code over the engine's stores) fills these from containers, networks and
volumes carrying `com.docker.compose.*` labels; the planner never queries the engine itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podpy.compose import hashing as lbl


@dataclass(frozen=True)
class ObservedContainer:
    id: str
    name: str
    labels: dict[str, str]
    state: str = "running"  # created | running | paused | restarting | exited | dead
    exit_code: int | None = None
    health: str = ""  # healthy | unhealthy | starting | "" (no healthcheck)

    @property
    def project(self) -> str:
        return self.labels.get(lbl.PROJECT, "")

    @property
    def service(self) -> str:
        return self.labels.get(lbl.SERVICE, "")

    @property
    def number(self) -> int:
        try:
            return int(self.labels.get(lbl.NUMBER, "0"))
        except ValueError:
            return 0

    @property
    def config_hash(self) -> str:
        return self.labels.get(lbl.CONFIG_HASH, "")

    @property
    def image_id(self) -> str:
        return self.labels.get(lbl.IMAGE, "")

    @property
    def oneoff(self) -> bool:
        return self.labels.get(lbl.ONEOFF, "False") == "True"

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")


@dataclass(frozen=True)
class ObservedNetwork:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    id: str = ""


@dataclass(frozen=True)
class ObservedVolume:
    name: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Observed:
    containers: list[ObservedContainer] = field(default_factory=list)
    networks: list[ObservedNetwork] = field(default_factory=list)
    volumes: list[ObservedVolume] = field(default_factory=list)

    def project_containers(self, project: str, oneoff: bool | None = False) -> list[ObservedContainer]:
        """The project's containers (`oneoff=None`: `run` containers too)."""
        return [c for c in self.containers
                if c.project == project and (oneoff is None or c.oneoff == oneoff)]

    def network(self, name: str) -> ObservedNetwork | None:
        return next((n for n in self.networks if n.name == name), None)

    def volume(self, name: str) -> ObservedVolume | None:
        return next((v for v in self.volumes if v.name == name), None)
