"""`run` without the CLI framework: shared by the typer command and the front door's fast path."""

from __future__ import annotations

import os
import sys

from podpy.cli import common
from podpy.cli.common import engine

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def create_options(image: str, command: list[str] | None, kw: dict[str, Any]) -> Any:
    from podpy.cli.run_flags import (
        HEALTH_FLAGS,
        IO_FLAGS,
        LIFECYCLE_FLAGS,
        LOG_FLAGS,
        MORE_FLAGS,
        NETWORK_FLAGS,
        RESOURCE_FLAGS,
    )
    from podpy.engine.container_config import CreateOptions

    if kw.get("pod_id_file"):
        from podpy.cli.ctr_select import read_id_files

        kw["pod"] = read_id_files([kw["pod_id_file"]], "pod ID file")[0]
    return CreateOptions(
        image=image, command=list(command or []), name=kw["name"] or "", entrypoint=kw["entrypoint"],
        env=kw["env"] or [], env_files=kw["env_file"] or [], workdir=kw["workdir"] or "",
        user=kw["user"] or "", hostname=kw["hostname"] or "", labels=kw["label"] or [], tty=kw["tty"],
        interactive=kw["interactive"], auto_remove=kw["rm"], pull=kw["pull"], detach_keys=kw["detach_keys"],
        stop_signal=kw["stop_signal"], stop_timeout=kw["stop_timeout"],
        init=kw["init"], rootfs=kw["rootfs"], privileged=kw["privileged"], cap_add=kw["cap_add"] or [],
        cap_drop=kw["cap_drop"] or [], devices=kw["device"] or [], security_opt=kw["security_opt"] or [], userns=kw["userns"] or "",
        volumes=kw["volume"] or [], mounts=kw["mount"] or [], tmpfs=kw["tmpfs"] or [],
        volumes_from=kw["volumes_from"] or [], read_only=kw["read_only"], pod=kw.get("pod") or "",
        resources={f.field: kw.get(f.field) for f in RESOURCE_FLAGS},
        net={f.field: kw.get(f.field) for f in NETWORK_FLAGS},
        more={f.field: kw.get(f.field, f.default) for f in (*MORE_FLAGS, *IO_FLAGS, *LIFECYCLE_FLAGS) if not f.run_only},
        **{f.field: kw.get(f.field, f.default) for f in (*HEALTH_FLAGS, *LOG_FLAGS)},
    )  # fmt: skip


def pull_progress(p: Any) -> None:
    """Plain lines on stderr, like podman run's implicit pull (the registry CLI draws bars)."""
    from podpy.registry import progress as pg

    lines = {pg.MISSING: f"Unable to find image '{p.message}' locally", pg.TRYING: f"Trying to pull {p.message}...",
             pg.MANIFEST: "Writing manifest to image destination"}  # fmt: skip
    if p.kind in lines:
        common.err(lines[p.kind])
    elif p.kind == pg.BLOB_DONE:
        what = "config" if p.message == "config" else "blob"
        common.err(f"Copying {what} {p.id.removeprefix('sha256:')[:12]} done")


def create(image: str, command: list[str] | None, kw: dict[str, Any]) -> Any:
    _attach_streams(kw)  # create -a: checked as run's (the streams are what `start -a` attaches)
    _init_ctr(kw)
    svc = engine().containers
    rec = svc.create(create_options(image, command, kw), progress=None if kw.get("quiet") else pull_progress)
    for notice in svc.notices:
        common.warn(notice)
    return rec


def run_container(image: str, command: list[str] | None, kw: dict[str, Any]) -> int:
    """create + start; attached unless -d. The exit code podpy run returns."""
    _init_ctr(kw)
    eng = engine()
    if kw.get("log_driver"):
        from podpy.engine.log_options import check_for_run

        check_for_run(kw["log_driver"], kw["detach"], kw["tty"], (1, 2, 0) if kw["interactive"] else (1, 2))
    streams = _attach_streams(kw)
    preserve = preserved_fds(kw.get("preserve_fds"))
    if kw.get("rmi"):
        kw["rm"] = True
    pre = _prefork(eng, preserve, kw.get("network"))
    try:
        rec = create(image, command, kw)
        try:
            if kw["detach"]:
                _rec, launch = eng.containers.start(rec.id, None, preserve_fds=preserve, prefork=pre)
                if launch is not None:
                    launch.close()
                common.out(rec.id)
                return 0
            code = run_attached(rec, kw["sig_proxy"], streams, preserve, pre)
        except BaseException:
            if kw["rm"]:  # a start that failed (a port in use, a bad network...) leaves no container behind
                quiet(lambda: eng.containers.remove(rec.id, True, True))
            raise
    finally:
        if pre is not None:
            pre.close()  # unused (an error, a container already running): it sees EOF and exits
    if kw.get("rmi") and rec.image:  # by the name given, as Podman (the last name removes the image)
        _remove_image(rec.image_name or rec.image)
    return code


def _prefork(eng: Any, preserve: int, network: list[str] | None) -> Any:
    """The supervisor forked now, to import the runtime while this process creates the container
    (spawn.prefork); not with --preserve-fds (the fds stay where the plain fork expects them).
    PODPY_NO_PREFORK=1: the plain fork at start (for A/B measurements)."""
    if preserve or os.environ.get("PODPY_NO_PREFORK"):
        return None
    from importlib import import_module

    from podpy.supervisor.spawn import prefork

    mode = (network or [""])[0].split(":")[0]
    bridge = mode not in ("none", "host", "container", "ns", "private")
    for name in (*SHARED_MODULES, *(SHARED_BRIDGE if bridge else ())):
        import_module(name)
    eng.containers.storage_driver  # noqa: B018 - the driver's modules, likewise
    return prefork(eng.containers.lifecycle.preforked, bridge=bridge)


# What this process and the pre-forked supervisor both use: imported once, before the fork (this
# process needs every one of them later anyway), not once in each.
SHARED_MODULES = (
    "podpy.engine.container_record", "podpy.engine.events", "podpy.events", "podpy.runtime.syscalls",
    "podpy.runtime.builtin.runtime", "podpy.runtime.builtin.namespaces", "podpy.runtime.builtin.capabilities",
    "podpy.runtime.seccomp", "podpy.inroot", "podpy.supervisor.logfile",
)  # fmt: skip
SHARED_BRIDGE = ("podpy.engine.networks.attach", "podpy.network.bridge")


def _attach_streams(kw: dict[str, Any]) -> set[str] | None:
    """-a/--attach: which of stdin, stdout, stderr (None: all of them, the default)."""
    if not kw.get("attach"):
        return None
    from podpy.errors import InvalidArgument

    if kw.get("detach"):
        raise InvalidArgument("-d and -a cannot be used together")
    streams = {s.strip().lower() for item in kw["attach"] for s in item.split(",") if s.strip()}
    bad = streams - {"stdin", "stdout", "stderr"}
    if bad:
        raise InvalidArgument(f"invalid stream {sorted(bad)[0]!r} for --attach - must be one of stdin, stdout, or stderr")
    return streams


def _init_ctr(kw: dict[str, Any]) -> None:
    """create --init-ctr always|once: Podman's checks; pods here have no init containers."""
    mode = kw.get("init_ctr")
    if not mode:
        return
    from podpy.errors import InvalidArgument

    if mode not in ("always", "once"):
        raise InvalidArgument("init-ctr value must be 'always' or 'once'")
    if not (kw.get("pod") or kw.get("pod_id_file")):
        raise InvalidArgument("must specify pod value with init-ctr")
    raise InvalidArgument("--init-ctr: podpy's pods do not run init containers (create it as an ordinary "
                          "member and start it first)")  # fmt: skip


def _remove_image(ref: str) -> None:
    """--rmi: the image goes once the container is gone, unless another container uses it."""
    from podpy.errors import PodpyError

    try:
        engine().images.remove(ref)
    except PodpyError as e:
        common.err(f"Error: {e}")


def preserved_fds(count: int | None) -> int:
    """--preserve-fds N (run and exec): fds 3..3+N-1 must all be open here (Podman's rule)."""
    from podpy.errors import InvalidArgument

    if not count:
        return 0
    if count < 0:
        raise InvalidArgument(f"invalid --preserve-fds {count}: must be 0 or more")
    for fd in range(3, 3 + count):
        try:
            os.fstat(fd)
        except OSError:
            raise InvalidArgument(f"file descriptor {fd} is not available - the preserve-fds option requires "
                                  "that all file descriptors must be passed") from None  # fmt: skip
    return count


def run_attached(rec: Any, sig_proxy: bool, streams: set[str] | None = None, preserve: int = 0,
                 prefork: Any = None) -> int:  # fmt: skip
    """Start with the CLI's own stdio handed to the supervisor; relay signals and window size.

    Handlers go in before the start: the container's output reaches the terminal straight from the
    supervisor, so the user may press ^C before start() returns (those signals wait in `pending`)."""
    from podpy.cli import tty as term
    from podpy.engine.container_lifecycle import AttachRequest

    is_tty = bool(rec.spec.get("terminal"))
    req = AttachRequest(stdin=0 if rec.open_stdin and (streams is None or "stdin" in streams) else None,
                        winsize=term.winsize() if is_tty else None)  # fmt: skip
    if streams is not None:  # -a: what is not attached goes nowhere (the log keeps it)
        null = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
        req.stdout = 1 if "stdout" in streams else null
        req.stderr = 2 if "stderr" in streams else null
    svc = engine().containers
    pending: list[int] = []
    running: list[Any] = []

    def forward(sig: int) -> None:
        if running:
            quiet(lambda: svc.kill(rec.id, sig))
        else:
            pending.append(sig)

    def winch() -> None:
        if running and (size := term.winsize()):
            running[0].resize(*size)

    sys.stdout.flush()
    proxy = forward if sig_proxy and not is_tty else None
    with term.raw_mode(0, is_tty and rec.open_stdin), term.proxy_signals(proxy, winch if is_tty else None):
        _rec, launch = svc.start(rec.id, req, preserve_fds=preserve, prefork=prefork)
        if launch is None:
            return 0
        running.append(launch)
        for sig in pending:
            forward(sig)
        outcome = launch.wait()
        launch.close()
    return 0 if outcome.exit_code is None else outcome.exit_code


def quiet(fn: Any) -> None:
    from podpy.errors import PodpyError

    try:
        fn()
    except PodpyError:
        pass
