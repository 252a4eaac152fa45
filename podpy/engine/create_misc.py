"""run/create's rarer cgroup and init-system flags (Podman 4.3's semantics), applied to the spec after
engine.create_more: --blkio-weight, --blkio-weight-device, --cpu-rt-period, --cpu-rt-runtime,
--cgroups, --systemd, --sdnotify, --chrootdirs.

Block I/O weights the kernel cannot take (no blkio.weight / blkio.bfq.weight, or no io controller on
cgroup v2) are discarded with Podman's warning; real-time CPU limits need cgroup v1 (Podman refuses
them on v2).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podpy.errors import InvalidArgument
from podpy.record import replace

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.engine.spec import ContainerSpec

CGROUPS_MODES = ("enabled", "disabled", "no-conmon", "split")
SDNOTIFY_MODES = ("container", "conmon", "ignore")
SYSTEMD_MODES = ("true", "false", "always")
SYSTEMD_COMMANDS = ("/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init")
CGROUPS_ANNOTATION = "io.podpy.cgroups"  # "disabled": the runtime makes no cgroup (read by runtime.builtin)
SDNOTIFY_ANNOTATION = "io.podpy.sdnotify"  # the mode, for start (podpy.cli) to act on


def wanted(more: dict[str, Any]) -> bool:
    return any(more.get(k) not in (None, "", []) for k in (
        "blkio_weight", "blkio_weight_device", "cpu_rt_period", "cpu_rt_runtime", "cgroups", "systemd",
        "sdnotify", "chrootdirs", "secret"))  # fmt: skip


def apply(engine: Engine, spec: ContainerSpec, more: dict[str, Any]) -> ContainerSpec:
    if not wanted(more):
        return spec
    resources = {k: (dict(v) if isinstance(v, dict) else v) for k, v in spec.resources.items()}
    notices = engine.containers.notices
    _blkio(resources, more, notices)
    _realtime(resources, more, notices)
    annotations = dict(spec.annotations)
    mode = more.get("cgroups") or "enabled"
    if mode not in CGROUPS_MODES:
        raise InvalidArgument(f'invalid cgroup mode "{mode}": expected enabled, disabled, no-conmon or split')
    if mode == "split":
        raise InvalidArgument("--cgroups=split is not supported by podpy: its supervisor is not placed in a "
                              "cgroup of the caller's (use enabled, no-conmon or disabled)")  # fmt: skip
    if mode == "disabled":
        from podpy.runtime.builtin.cgroups import has_limits

        if has_limits(resources) or spec.cgroup_parent:
            raise InvalidArgument("--cgroups=disabled cannot be used with resource limits or --cgroup-parent")
        annotations[CGROUPS_ANNOTATION] = "disabled"
    _systemd(more.get("systemd"), list(spec.args))
    sdnotify = more.get("sdnotify") or ""
    if sdnotify and sdnotify not in SDNOTIFY_MODES:
        raise InvalidArgument(f"invalid --sdnotify {sdnotify!r}: expected container, conmon or ignore")
    changes: dict[str, Any] = {}
    if sdnotify:
        annotations[SDNOTIFY_ANNOTATION] = sdnotify
    if sdnotify == "container" and os.environ.get("NOTIFY_SOCKET"):
        changes.update(_notify_into_container(spec, os.environ["NOTIFY_SOCKET"]))
    if more.get("secret"):
        from podpy.engine.secrets import SECRETS_ANNOTATION, for_create
        from podpy.engine.spec import merge_env

        mounts, env, ids = for_create(engine, more["secret"])
        annotations[SECRETS_ANNOTATION] = ",".join(ids)
        changes["mounts"] = (*changes.get("mounts", spec.mounts), *mounts)
        if env:
            changes["env"] = merge_env(changes.get("env", spec.env), env)
    if more.get("chrootdirs"):
        changes["chrootdirs"] = tuple(_chrootdirs(more["chrootdirs"]))
    if resources != spec.resources:
        changes["resources"] = resources
    if annotations != spec.annotations:
        changes["annotations"] = annotations
    return replace(spec, **changes) if changes else spec


NOTIFY_IN_CONTAINER = "/run/notify/notify.sock"  # where Podman puts the socket for --sdnotify=container


def _notify_into_container(spec: ContainerSpec, socket: str) -> dict[str, Any]:
    """--sdnotify=container: the host's $NOTIFY_SOCKET bind-mounted in, and NOTIFY_SOCKET pointing at it."""
    from podpy.engine.spec import Mount, merge_env

    if socket.startswith("@") or not os.path.exists(socket):
        raise InvalidArgument(f"--sdnotify=container: NOTIFY_SOCKET {socket!r} is not a socket file that can "
                              "be mounted into the container")  # fmt: skip
    mount = Mount(NOTIFY_IN_CONTAINER, "bind", socket, ("rbind", "rprivate"))
    return {"mounts": (*spec.mounts, mount), "env": merge_env(spec.env, [f"NOTIFY_SOCKET={NOTIFY_IN_CONTAINER}"])}


def notify_ready(annotations: dict[str, str], main_pid: int) -> None:
    """The supervisor, once the container runs: READY=1 and its own pid as MAINPID to $NOTIFY_SOCKET
    (systemd's Type=notify), as conmon does; not with --sdnotify=container (the container says it)
    or ignore. Best effort: a notify socket that is gone is not the container's problem."""
    import socket as so

    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path or annotations.get(SDNOTIFY_ANNOTATION, "conmon") != "conmon":
        return
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with so.socket(so.AF_UNIX, so.SOCK_DGRAM | so.SOCK_CLOEXEC) as s:
            s.sendto(f"MAINPID={main_pid}\nREADY=1\n".encode(), address)
    except OSError:
        pass


def check_blkio(more: dict[str, Any]) -> list[str]:
    """pod create: --blkio-weight(-device) checked as run's; the warnings run would give."""
    notices: list[str] = []
    _blkio({}, more, notices)
    return notices


def _blkio(res: dict[str, Any], more: dict[str, Any], notices: list[str]) -> None:
    weight, devices = more.get("blkio_weight"), more.get("blkio_weight_device") or []
    if weight not in (None, "", 0):
        w = _int(str(weight), "--blkio-weight")
        if not 10 <= w <= 1000:
            raise InvalidArgument(f"invalid --blkio-weight {weight}: must be between 10 and 1000")
        if blkio_weight_supported():
            res.setdefault("blockIO", {})["weight"] = w
        else:
            notices.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                           "Weight discarded.")  # fmt: skip
    entries = [_weight_device(item) for item in devices]
    if entries:
        if blkio_weight_supported():
            res.setdefault("blockIO", {})["weightDevice"] = entries
        else:
            notices.append("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
                           "Weight-device discarded.")  # fmt: skip


def blkio_weight_supported() -> bool:
    """cgroup v2: the io controller; v1: blkio.weight (CFQ) or blkio.bfq.weight (BFQ) in the hierarchy."""
    from podpy.engine.specgen import is_cgroup_v2

    if is_cgroup_v2():
        try:
            return "io" in Path("/sys/fs/cgroup/cgroup.controllers").read_text().split()
        except OSError:
            return False
    root = Path("/sys/fs/cgroup/blkio")
    return (root / "blkio.weight").exists() or (root / "blkio.bfq.weight").exists()


def _weight_device(item: str) -> dict[str, int]:
    path, sep, weight = item.rpartition(":")
    if not sep or not path:
        raise InvalidArgument(f"invalid --blkio-weight-device {item!r}: expected DEVICE:WEIGHT")
    w = _int(weight, "--blkio-weight-device")
    if not 10 <= w <= 1000:
        raise InvalidArgument(f"invalid --blkio-weight-device {item!r}: the weight must be between 10 and 1000")
    major, minor = block_device(path, "--blkio-weight-device")
    return {"major": major, "minor": minor, "weight": w}


def block_device(path: str, flag: str) -> tuple[int, int]:
    """(major, minor) of the block device at `path`; a clear error naming `flag` otherwise."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidArgument(f"{flag} {path}: {e.strerror}") from None
    if not stat.S_ISBLK(st.st_mode):
        raise InvalidArgument(f"{flag} {path}: not a block device")
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def _realtime(res: dict[str, Any], more: dict[str, Any], notices: list[str]) -> None:
    from podpy.engine.specgen import is_cgroup_v2

    for flag, key, file in (("cpu_rt_period", "realtimePeriod", "cpu.rt_period_us"),
                            ("cpu_rt_runtime", "realtimeRuntime", "cpu.rt_runtime_us")):  # fmt: skip
        value = more.get(flag)
        if value in (None, "", 0):
            continue
        name = "--" + flag.replace("_", "-")
        n = _int(str(value), name)
        if is_cgroup_v2():
            raise InvalidArgument(f"{name}: realtime {key[8:].lower()} not supported on cgroups V2 systems")
        if not (Path("/sys/fs/cgroup/cpu") / file).exists():
            notices.append(f"Your kernel does not support cgroup cpu real-time {key[8:].lower()}. "
                           f"{key[8:].capitalize()} discarded.")  # fmt: skip
            continue
        res.setdefault("cpu", {})[key] = n


def _systemd(mode: Any, command: list[str]) -> None:
    """Podman's default is true: systemd mode only for a command that is systemd or init."""
    value = "true" if mode in (None, "") else str(mode).lower()
    if value not in SYSTEMD_MODES:
        raise InvalidArgument(f"invalid --systemd {mode!r}: expected true, false or always")
    is_init = bool(command) and (command[0] in SYSTEMD_COMMANDS or os.path.basename(command[0]) == "systemd")
    if value == "always" or (value == "true" and is_init):
        raise InvalidArgument("systemd mode (--systemd=always, or an init/systemd command with --systemd=true) "
                              "is not supported by podpy: run with --systemd=false to start it as an "
                              "ordinary process")  # fmt: skip


def _chrootdirs(items: list[str]) -> list[str]:
    out = []
    for item in items:
        for d in item.split(","):
            d = d.strip()
            if d:
                if not d.startswith("/"):
                    raise InvalidArgument(f"invalid --chrootdirs {d!r}: must be an absolute path in the container")
                out.append(os.path.normpath(d))
    return out


def _int(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"invalid {flag} {text!r}: not a number") from None
