"""The container's rlimits: containers.conf `default_ulimits` (else Podman's nofile/nproc defaults),
never whatever the calling shell happened to have.

Podman asks for nofile=nproc=1048576; raising a hard limit needs CAP_SYS_RESOURCE (this host has
none, and rootless never does), so each value is clamped to the caller's hard limit: setting the soft
limit anywhere up to the hard one and lowering the hard one always succeed, without a warning."""

from __future__ import annotations

import resource

from podpy.config import ContainersConf
from podpy.engine.spec import Rlimit
from podpy.errors import InvalidArgument

PODMAN_DEFAULT = 1048576  # define.RLimitDefaultValue
BUILTIN_DEFAULTS = (f"nofile={PODMAN_DEFAULT}:{PODMAN_DEFAULT}", f"nproc={PODMAN_DEFAULT}:{PODMAN_DEFAULT}")
INF = resource.RLIM_INFINITY


def parse_ulimit(item: str) -> tuple[str, int, int]:
    """`name=soft[:hard]` (-1 = unlimited) -> (name, soft, hard); the name is checked."""
    name, eq, values = item.partition("=")
    name = name.strip().lower().removeprefix("rlimit_")
    soft_s, _, hard_s = values.partition(":")
    try:
        soft = int(soft_s)
        hard = int(hard_s) if hard_s else soft
    except ValueError:
        soft = hard = -2
    if not eq or getattr(resource, f"RLIMIT_{name.upper()}", None) is None or min(soft, hard) < -1:
        raise InvalidArgument(f"invalid ulimit {item!r}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048")
    soft, hard = (INF if soft == -1 else soft), (INF if hard == -1 else hard)
    if hard != INF and (soft == INF or soft > hard):
        raise InvalidArgument(f"invalid ulimit {item!r}: the soft limit is above the hard limit")
    return name, soft, hard


def clamp(name: str, soft: int, hard: int) -> Rlimit | None:
    """What can be set from here without CAP_SYS_RESOURCE; None when the result would be unlimited
    (the OCI value is a uint64 the built-in runtime cannot pass on: the unlimited limit is kept)."""
    cur_hard = resource.getrlimit(getattr(resource, f"RLIMIT_{name.upper()}"))[1]
    if cur_hard != INF:
        hard = cur_hard if hard == INF else min(hard, cur_hard)
    if hard == INF:
        return None
    soft = hard if soft == INF else min(soft, hard)
    return Rlimit(name, soft, hard)


def default_rlimits(conf: ContainersConf) -> tuple[Rlimit, ...]:
    """Podman's nofile/nproc, overridden (and extended) by containers.conf's default_ulimits."""
    wanted = {}
    for item in (*BUILTIN_DEFAULTS, *(conf.default_ulimits or ())):
        name, soft, hard = parse_ulimit(item)
        wanted[name] = (soft, hard)  # a later entry for the same name wins
    return tuple(r for name, (s, h) in wanted.items() if (r := clamp(name, s, h)) is not None)
