"""A plan: the ordered actions an executor performs, printable as `--dry-run` output."""

from __future__ import annotations

from dataclasses import dataclass, field

# Action kinds, in the words the dry-run output uses.
CREATE_NETWORK = "create_network"
CREATE_VOLUME = "create_volume"
CREATE = "create"  # a new container: name, service, number
RECREATE = "recreate"  # create the replacement, stop and remove `container_id`, take its name
START = "start"  # start `target` once each of `waits` holds
RESTART = "restart"  # a dependent with `depends_on.<dep>.restart: true` after its dependency changed
STOP = "stop"
REMOVE = "remove"  # remove a stopped container (its anonymous volumes with it when `volumes`)
REMOVE_NETWORK = "remove_network"
REMOVE_VOLUME = "remove_volume"

_WORDS = {CREATE_NETWORK: ("Network", "Create"), CREATE_VOLUME: ("Volume", "Create"),
          CREATE: ("Container", "Create"), RECREATE: ("Container", "Recreate"),
          START: ("Container", "Start"), RESTART: ("Container", "Restart"), STOP: ("Container", "Stop"),
          REMOVE: ("Container", "Remove"), REMOVE_NETWORK: ("Network", "Remove"),
          REMOVE_VOLUME: ("Volume", "Remove")}


@dataclass(frozen=True)
class Wait:
    """Before starting a container: `service` must reach `condition`; optional ones may be skipped."""

    service: str
    condition: str
    required: bool = True


@dataclass(frozen=True)
class Action:
    kind: str
    target: str  # engine-side name of the container, network or volume
    service: str = ""  # for container actions
    number: int = 0
    container_id: str = ""  # the existing container a recreate/start/stop/remove acts on
    key: str = ""  # network/volume key in the project
    reason: str = ""
    waits: tuple[Wait, ...] = ()

    def describe(self) -> str:
        noun, verb = _WORDS[self.kind]
        text = f"{noun} {self.target}  {verb}"
        if self.reason:
            text += f" ({self.reason})"
        if self.waits:
            text += " after " + ", ".join(
                f"{w.service}:{w.condition}{'' if w.required else '?'}" for w in self.waits)
        return text


@dataclass
class Plan:
    project: str
    actions: list[Action] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.actions)

    def add(self, action: Action) -> None:
        self.actions.append(action)

    def render(self, dry_run: bool = True) -> str:
        """One line per action, in order; `DRY-RUN MODE -` prefixed like Docker Compose's --dry-run."""
        prefix = "DRY-RUN MODE -  " if dry_run else ""
        lines = [f"{prefix}{a.describe()}" for a in self.actions]
        if not lines:
            lines = [f"{prefix}nothing to do"]
        return "\n".join([*(f"WARN {w}" for w in self.warnings), *lines]) + "\n"
