"""The pod record: one JSON document per pod under <root>/pods/<id>.json.

A pod owns no process itself: its infra container holds the shared namespaces, and its members are
the containers whose spec names the pod (spec["pod"] == id)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from podpy.errors import NotFound
from podpy.state import atomic_write_json, read_json

SCHEMA = 1
SHAREABLE = ("ipc", "net", "uts")  # what members can share with the infra container
DEFAULT_SHARE = ("ipc", "net", "uts")
EXIT_POLICIES = ("continue", "stop")


class NoSuchPod(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no pod with name or ID {ref} found: no such pod")
        self.ref = ref


@dataclass
class PodRecord:
    """One pod's JSON document."""

    id: str
    name: str
    created: str
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    share: list[str] = field(default_factory=lambda: list(DEFAULT_SHARE))
    infra_id: str = ""  # "" = no infra container (--infra=false): members share nothing
    infra_image: str = ""  # "" = podpy's catatonit rootfs
    network: list[str] = field(default_factory=list)
    publish: list[str] = field(default_factory=list)
    created_by_kube: str = ""  # the kube play that made it (kube down removes exactly those)
    exit_policy: str = "continue"  # stop: the infra stops once the last member exits
    share_parent: bool = True  # members take the pod's resource limits and cgroup parent
    member: dict[str, Any] = field(default_factory=dict)  # what every member inherits (pods.inherit)
    schema: int = SCHEMA

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def shares(self, kind: str) -> bool:
        return bool(self.infra_id) and kind in self.share


def pods_dir(root: Path) -> Path:
    return root / "pods"


def save(root: Path, rec: PodRecord) -> None:
    pods_dir(root).mkdir(parents=True, exist_ok=True)
    atomic_write_json(pods_dir(root) / f"{rec.id}.json", asdict(rec))


def load(path: Path) -> PodRecord:
    try:
        doc: dict[str, Any] = read_json(path)
    except FileNotFoundError:
        raise NoSuchPod(path.stem) from None
    known = {f.name for f in fields(PodRecord)}
    return PodRecord(**{k: v for k, v in doc.items() if k in known})


def load_all(root: Path) -> list[PodRecord]:
    d = pods_dir(root)
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.json")):
        try:
            out.append(load(p))
        except NoSuchPod:
            continue  # removed between the listing and the read
    return out


def parse_share(text: str) -> list[str]:
    """`--share ipc,net,uts` (`+pid`-style additions are not supported: pid stays private)."""
    kinds = [k.strip() for k in text.split(",") if k.strip()] if text else []
    for k in kinds:
        if k not in SHAREABLE:
            from podpy.errors import InvalidArgument

            raise InvalidArgument(f"--share {text}: {k!r} cannot be shared (choose from {', '.join(SHAREABLE)})")
    return kinds
