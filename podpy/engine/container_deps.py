"""Which containers depend on a container (`rm --depend`): members of the pod it is the infra of,
containers in its network namespace, and those that name it in `requires`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podpy.engine.container_record import ContainerRecord
    from podpy.engine.containers import ContainerService


def depends_on(rec: ContainerRecord, other: ContainerRecord) -> bool:
    """Whether `rec` needs `other` (its infra, its network namespace, or one of its --requires)."""
    if rec.id == other.id:
        return False
    spec = rec.spec or {}
    pod = spec.get("pod")
    if pod and (other.spec or {}).get("pod") == pod and _is_infra(other) and not _is_infra(rec):
        return True
    network = str(spec.get("network") or "")
    if other.id in network or network == f"container:{other.name}":
        return True
    requires = spec.get("requires") or []
    return other.id in requires or other.name in requires or other.id[:12] in requires


def _is_infra(rec: ContainerRecord) -> bool:
    return bool((rec.spec or {}).get("infra")) or rec.name.endswith("-infra")


def removal_order(svc: ContainerService, cid: str) -> list[str]:
    """`cid` and every container that depends on it, directly or not: dependents first."""
    recs = svc.list(all_=True)
    by_id = {r.id: r for r in recs}
    order: list[str] = []

    def visit(rid: str, seen: frozenset[str]) -> None:
        for r in recs:
            if r.id not in seen and r.id not in order and depends_on(r, by_id[rid]):
                visit(r.id, seen | {r.id})
        if rid not in order:
            order.append(rid)

    if cid in by_id:
        visit(cid, frozenset({cid}))
    return order or [cid]
