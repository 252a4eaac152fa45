"""Rootless --uidmap/--gidmap: the maps are relative to the user's own namespace.

A rootless user's intermediate namespace (/etc/subuid) maps its id 0 to the user and 1..N to the
subordinate ids; --uidmap's "host" side names those intermediate ids (as in Podman). The
container's namespace gets the composed mapping, container -> intermediate -> host, written with
newuidmap/newgidmap straight from the host.
"""

from __future__ import annotations

from podpy.errors import InvalidArgument

TYPE_CHECKING = False  # typing's, without importing typing at start-up (create imports this module)
if TYPE_CHECKING:
    from typing import Any

Triple = tuple[int, int, int]

SPARE_ID = 0xFFFFFFFE  # where the user's own id shows when the maps leave it out (see `spare`)


def compose(inner: tuple[Triple, ...] | list[Any], outer: tuple[Triple, ...] | list[Any], kind: str = "UID"
            ) -> tuple[Triple, ...]:  # fmt: skip
    """container -> host triples of `inner` (container -> intermediate) through `outer`
    (intermediate -> host); an intermediate id outside `outer` is a clear error."""
    out: list[Triple] = []
    for c, i, s in inner:
        pos = 0
        while pos < s:
            for oc, oh, os_ in outer:
                if oc <= i + pos < oc + os_:
                    n = min(s - pos, oc + os_ - (i + pos))
                    out.append((c + pos, oh + i + pos - oc, n))
                    pos += n
                    break
            else:
                top, sub = sum(x[2] for x in outer) - 1, f"/etc/sub{kind[0].lower()}id"
                have = f"ids 0-{top}: 0 is you, 1-{top} your {sub} ranges" if top else f"only id 0, you: no {sub} range"
                raise InvalidArgument(f"{kind} mapping {c}:{i}:{s}: id {i + pos} is outside the user namespace "
                                      f"of this user ({have})")  # fmt: skip
    return tuple(out)


def spare(composed: tuple[Triple, ...], own: int) -> tuple[Triple, ...]:
    """The composed maps plus the user's own id at SPARE_ID when they leave it out: the container's
    root must reach the user's private directories (the store, the runtime dir) to mount its rootfs,
    and capabilities in a user namespace only cover ids mapped in it."""
    if any(h <= own < h + s for _, h, s in composed):
        return composed
    if any(c <= SPARE_ID < c + s for c, _, s in composed):
        return composed
    return (*composed, (SPARE_ID, own, 1))


def identity(maps: tuple[Triple, ...] | list[Any]) -> bool:
    """Every container id is the same id of the user's namespace: the default view, nothing to shift."""
    return all(c == h for c, h, _ in maps)


def needs_shift(uids: Any, gids: Any) -> bool:
    """A rootless --uidmap container whose maps differ from the user's default namespace: its
    rootfs must be an ID-shifted copy (storage/idshift)."""
    return bool(uids) and not (identity(uids) and identity(gids or uids))
