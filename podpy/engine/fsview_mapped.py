"""Rootless --uidmap containers seen as their root sees them (for cp, container_fsview): a user
namespace with the container's own (composed) mappings, where only our filesystem ids become 0.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from podpy.errors import PodpyError

if TYPE_CHECKING:
    from podpy.engine import container_record as cr
    from podpy.engine.core import Engine


def rootless_maps(engine: Engine, rec: cr.ContainerRecord) -> tuple[Any, Any] | None:
    """A rootless --uidmap container's own mappings (config.json's, composed for newuidmap): its
    files are seen (and written) as its root sees them. None for every other container."""
    from podpy.engine.idcompose import needs_shift

    if not engine.opts.rootless or not needs_shift(rec.spec.get("uidmap"), rec.spec.get("gidmap")):
        return None
    try:
        linux = json.loads((engine.containers.bundle(rec.id) / "config.json").read_text()).get("linux") or {}
    except (OSError, ValueError):
        return None

    def triples(maps: list[dict[str, int]]) -> tuple[tuple[int, int, int], ...]:
        return tuple((m["containerID"], m["hostID"], m["size"]) for m in maps)

    return triples(linux.get("uidMappings") or []), triples(linux.get("gidMappings") or [])


def as_root() -> None:
    """In a user namespace where uid/gid 0 are mapped: files we make are root's. Only the
    filesystem ids change: our euid stays non-zero, so the code below still knows it is rootless."""
    from podpy.runtime import syscalls as sc

    sc.set_fs_ids(0, 0)


def enter_namespace(sc: Any, uids: Any, gids: Any) -> None:
    """Rootless --uidmap: a user and mount namespace with the container's mappings (a helper forked
    first runs newuidmap/newgidmap on us), where we act as the container's root."""
    from podpy.storage.userns import _helper

    parent = os.getpid()
    go_r, go_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the helper
        code = 1
        try:
            os.close(go_w)
            os.close(err_r)
            if os.read(go_r, 1) == b"1":
                _helper("newuidmap", parent, uids)
                _helper("newgidmap", parent, gids)
                code = 0
        except BaseException as e:  # noqa: BLE001 - the parent hears of it
            os.write(err_w, str(e).encode()[:2000] or b"failed")
        finally:
            os._exit(code)
    os.close(go_r)
    os.close(err_w)
    try:
        sc.unshare(sc.CLONE_NEWUSER | sc.CLONE_NEWNS)
        os.write(go_w, b"1")
    finally:
        os.close(go_w)
        with os.fdopen(err_r, "rb") as f:
            err = f.read().decode(errors="replace")
        _, status = os.waitpid(pid, 0)
    if err or os.waitstatus_to_exitcode(status) != 0:
        raise PodpyError(f"entering the container's user namespace: {err or 'newuidmap failed'}")
    as_root()
