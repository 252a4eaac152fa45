"""build --all-platforms: the platforms the build's base images all offer (Buildah's rule: the
intersection of their manifest lists), built as far as podpy can without emulating another CPU.

A base that is one image (a local image, or a registry manifest that is not a list) offers one
platform, the one a build here uses (a local image pulled out of a manifest list offers that list's,
looked up again by its digest); scratch and earlier stages constrain nothing. When the bases
offer nothing but the host's platform, the build is an ordinary one. Another platform is built only
when no needed stage has a RUN step (FROM/COPY/ADD/ENV... run nothing); otherwise the build stops,
before any work, with an error naming the platform that would need emulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podpy.build import instructions as ins
from podpy.build.buildargs import host_platform
from podpy.errors import InvalidArgument
from podpy.registry.platforms import Platform

if TYPE_CHECKING:
    from podpy.build.plan import Plan
    from podpy.engine.core import Engine


@dataclass
class Foreign:
    """One more platform to build: each FROM image pinned to its image for that platform."""

    platform: Platform
    bases: dict[str, str]  # FROM's image → NAME@DIGEST of the platform's manifest


def choose(engine: Engine, plan: Plan, pull: str, registry: Any = None) -> tuple[list[Foreign], bool]:
    """(the other platforms to build, whether the host's is one of the platforms)."""
    host = host_platform()
    offers: dict[str, dict[Platform, str] | None] = {}  # None: one image, for the host
    for i in plan.needed:
        st = plan.stages[i]
        if st.base_stage is None and st.base != "scratch" and st.base not in offers:
            offers[st.base] = _offered(engine, st.base, pull, registry)
    lists = [o for o in offers.values() if o is not None]
    if not lists:
        return [], True
    common = set(lists[0]).intersection(*lists[1:])
    if any(o is None for o in offers.values()):
        common &= {host}
    if not common:
        raise InvalidArgument("--all-platforms: the base images have no platforms in common")
    others = sorted((p for p in common if p != host), key=str)
    if others and (run := _first_run(plan)) is not None:
        raise InvalidArgument(f"--all-platforms: building for {others[0]} needs emulation ({run.original!r} would "
                              f"run {others[0].arch} programs on this {host.arch} host), which podpy does not "
                              f"provide: build for {host} only (without --all-platforms)")  # fmt: skip
    pinned = [Foreign(p, {b: o[p] for b, o in offers.items() if o is not None}) for p in others]
    return pinned, host in common


def _offered(engine: Engine, ref: str, pull: str, registry: Any) -> dict[Platform, str] | None:
    """The platforms a base offers (each with its pinned reference); None for a single image.
    A local image is one, unless it was pulled out of a manifest list: that list (by its digest)."""
    from podpy.engine.pull import find_local, remote_index

    if pull == "never":
        return None
    local = find_local(engine, ref) if pull != "always" else None
    if local is not None:
        lists = [d for d in local.digests if d.partition("@")[2] != local.manifest]
        if not lists:
            return None
        ref = lists[0]
    name, index = remote_index(ref, registry)
    if index is None:
        return None
    out: dict[Platform, str] = {}
    for entry in index.get("manifests") or []:
        plat = entry.get("platform") or {}
        if entry.get("artifactType") or plat.get("os") in (None, "", "unknown"):
            continue  # attestations and other non-images
        if not plat.get("architecture"):
            continue
        p = Platform(plat["os"], plat["architecture"], plat.get("variant", "")).normalised()
        out.setdefault(p, f"{name}@{entry['digest']}")
    return out


def _first_run(plan: Plan) -> ins.Instruction | None:
    for i in plan.needed:
        for inst in plan.stages[i].instructions:
            if isinstance(inst, ins.Run):
                return inst
    return None
