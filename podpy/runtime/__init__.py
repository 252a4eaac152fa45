"""Runtimes turn an OCI bundle into a running process: the built-in one, or runc/crun.

Contract with the caller (the supervisor):
- start/exec make the caller a child subreaper (prctl) and return a host pid that is the caller's
  child: the caller reaps it with waitpid to learn the exit status. Nothing else in the caller may
  reap children indiscriminately (waitpid(-1)) while start/exec run: they reap their helpers.
- fork before threads: the built-in runtime forks, and user/mount namespaces refuse multithreaded
  processes (the forked child is single-threaded, so a threaded caller works, but forking a threaded
  Python is fragile: keep the supervisor single-threaded around start/exec).
- Stdio fds are the caller's; the runtime duplicates them into the container, the caller keeps and
  closes its own. A terminal process gets a pty from the container's devpts; Started.pty_master is
  the caller's to keep and close.
- The container init gets PDEATHSIG=SIGKILL (built-in): if the caller dies, the container dies.
- delete() kills leftovers and removes cgroups and runtime state; call it after reaping.
- The rootfs: root.path as is, or the `io.podpy.rootfs.mount` annotation (overlay options as JSON),
  which the built-in runtime mounts inside the container's mount namespace and an external runtime
  adapter mounts on the host before `create` (root only) and unmounts in delete().
- Root with a user namespace in config.json (new with linux.uidMappings, or a pod's to join): the
  rootfs is ID-mapped through it (builtin/idmap.py: overlay over ID-mapped lower layers, or an
  ID-mapped clone of root.path), attached by the init or, for an external runtime, on the host.
  Bind mounts with the `idmap` option are ID-mapped the same way (built-in runtime only).
- Rootless --uidmap: nothing here is ID-mapped; the engine composes the mappings for newuidmap
  and the annotation's lowers are ID-shifted copies of the layers (storage/idshift.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from podpy.errors import PodpyError
from podpy.runtime.base import Started, Stdio

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from podpy.runtime.base import Runtime
    from podpy.runtime.external import ExternalRuntime

__all__ = ["Runtime", "Started", "Stdio", "get_runtime", "find_external"]

BUILTIN_NAMES = (None, "", "builtin", "podpy")


def __getattr__(name: str) -> object:
    if name == "Runtime":  # a typing.Protocol: imported when asked for, not by every run and exec
        from podpy.runtime.protocol import Runtime

        return Runtime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def find_external(name: str) -> str | None:
    """Path of an OCI runtime given by name (searched on PATH and in sbin dirs) or path."""
    if "/" in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    import shutil  # not at import: shutil loads bz2 and lzma, and run/exec need none of it

    extra = "/usr/local/sbin:/usr/sbin:/sbin"
    return shutil.which(name) or shutil.which(name, path=extra)


def get_runtime(name: str | None = None, runroot: Path | None = None, flags: tuple[str, ...] = ()) -> Runtime:
    """None/"builtin" -> the built-in runtime (it has no flags: `flags` are ignored); else runc, crun
    or a path, given `flags` (--runtime-flag) before every command. External runtimes keep their
    state under <runroot>/runtime."""
    if name in BUILTIN_NAMES:
        from podpy.runtime.builtin import BuiltinRuntime

        return BuiltinRuntime(runroot)
    assert name is not None
    path = find_external(name)
    if path is None:
        raise PodpyError(f'OCI runtime "{name}" not found: not an executable in $PATH: invalid argument')
    from podpy.config import default_runroot
    from podpy.runtime.external import ExternalRuntime

    runtime: ExternalRuntime = ExternalRuntime(path, (runroot or default_runroot()) / "runtime", flags)
    return runtime
