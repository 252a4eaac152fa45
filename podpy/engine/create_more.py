"""The less common `run`/`create` flags applied to a ContainerSpec: namespaces (--ipc, --pid, --uts,
--cgroupns), kernel settings (--sysctl, --shm-size, --ulimit, --oom-score-adj, --umask), groups,
device cgroup rules, time zone, annotations and label files, the host's environment.

`more` is the dict of those flags as the CLI parsed them (cli.run_flags.MORE_FLAGS and
LIFECYCLE_FLAGS); an empty or all-default dict leaves the spec alone and this module unimported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podpy.engine import idmaps
from podpy.engine.spec import PROXY_VARS
from podpy.errors import ContainerState, InvalidArgument
from podpy.record import replace

if TYPE_CHECKING:
    from podpy.engine.core import Engine
    from podpy.engine.spec import ContainerSpec

NS_FLAGS = {"ipc": "ipc", "pid": "pid", "uts": "uts", "cgroupns": "cgroup"}  # flag -> /proc/PID/ns name
IPC_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
               "kernel.shmmni", "kernel.shm_rmid_forced")  # fmt: skip
UTS_SYSCTLS = ("kernel.domainname", "kernel.hostname")
ZONEINFO = Path("/usr/share/zoneinfo")
KEEP_GROUPS = "keep-groups"
KEEP_GROUPS_ANNOTATION = "run.oci.keep_original_groups"
THROTTLES = {"device_read_bps": "throttleReadBpsDevice", "device_write_bps": "throttleWriteBpsDevice",
             "device_read_iops": "throttleReadIOPSDevice", "device_write_iops": "throttleWriteIOPSDevice"}  # fmt: skip


def env_layers(more: dict[str, Any], environ: dict[str, str] | None = None) -> list[str]:
    """What the host contributes to the container's environment: its proxy variables (--http-proxy,
    on by default, as Podman) and with --env-host all of it. Between the image's and -e's."""
    env = dict(os.environ if environ is None else environ)
    if more.get("env_host"):
        return [f"{k}={v}" for k, v in env.items()]
    if more.get("http_proxy", True):
        return [f"{k}={env[k]}" for k in PROXY_VARS if k in env]
    return []


def image_env(more: dict[str, Any], env: list[str]) -> list[str]:
    """The image's environment minus --unsetenv names (all of it with --unsetenv-all), with
    --env-merge's KEY=VALUE (its ${KEY} or $KEY is the image's value)."""
    if more.get("unsetenv_all"):
        return []
    drop = set(more.get("unsetenv") or ())
    out = [e for e in env if e.partition("=")[0] not in drop]
    if more.get("env_merge"):
        from podpy.engine.spec import merge_env

        values = dict(e.partition("=")[::2] for e in out)
        merged = []
        for item in more["env_merge"]:
            key, eq, value = item.partition("=")
            if not key or not eq:
                raise InvalidArgument(f"invalid --env-merge {item!r}: expected KEY=VALUE")
            old = values.get(key, "")
            merged.append(f"{key}={value.replace('${' + key + '}', old).replace('$' + key, old)}")
        out = list(merge_env(out, merged))
    return out


def apply(engine: Engine, spec: ContainerSpec, more: dict[str, Any]) -> ContainerSpec:
    """The spec with every flag of `more` applied; errors name the flag (exit 125)."""
    ch: dict[str, Any] = {}
    annotations = dict(spec.annotations)
    for flag in NS_FLAGS:
        if more.get(flag):
            ch[flag] = _namespace(engine, flag, more[flag])
    if ch.get("ipc") == "host":  # POSIX shm lives in /dev/shm: the host's too
        ch["mounts"] = (*spec.mounts, _bind("/dev/shm", "/dev/shm"))
    if ch.get("uts") == "host":
        if spec.hostname:
            raise InvalidArgument("cannot set a hostname (--hostname) with --uts host")
        ch["hostname"] = os.uname().nodename
    if more.get("sysctl"):
        ch["sysctls"] = {**spec.sysctls, **parse_sysctls(more["sysctl"], spec.network, ch.get("ipc", spec.ipc),
                                                       ch.get("uts", spec.uts))}  # fmt: skip
    if more.get("shm_size"):
        from podpy.engine.resources import parse_size

        ch["shm_size"] = parse_size(more["shm_size"], "shm-size")
    if more.get("ulimit"):
        ch["rlimits"] = merge_ulimits(spec.rlimits, more["ulimit"])
    if more.get("group_add"):
        groups = split_commas(more["group_add"])
        if KEEP_GROUPS in groups:
            if len(groups) > 1:
                raise InvalidArgument("the '--group-add keep-groups' option is not allowed with other groups")
            annotations[KEEP_GROUPS_ANNOTATION] = "1"
        ch["group_add"] = tuple(groups)
    if more.get("device_cgroup_rule"):
        ch["device_cgroup_rules"] = tuple(parse_device_rule(r) for r in more["device_cgroup_rule"])
    if more.get("cgroup_parent"):
        ch["cgroup_parent"] = more["cgroup_parent"]
    if more.get("oom_score_adj") not in (None, ""):
        ch["oom_score_adj"] = _int_in(more["oom_score_adj"], "oom-score-adj", -1000, 1000)
    if more.get("umask"):
        ch["umask"] = parse_umask(more["umask"])
    if more.get("tz"):
        localtime = _bind("/etc/localtime", zone_file(more["tz"]), "ro")
        ch.update(tz=more["tz"], mounts=(*ch.get("mounts", spec.mounts), localtime))
    for item in more.get("annotation") or ():
        key, eq, value = item.partition("=")
        if not key or not eq:
            raise InvalidArgument(f"invalid --annotation {item!r}: expected KEY=VALUE")
        annotations[key] = value
    if not more.get("read_only_tmpfs", True):
        ch["read_only_tmpfs"] = False
    if more.get("unsetenv") or more.get("unsetenv_all"):
        ch.update(unsetenv=tuple(more.get("unsetenv") or ()), unsetenv_all=bool(more.get("unsetenv_all")))
    if more.get("passwd_entry"):
        ch["passwd_entry"] = more["passwd_entry"]
    if not more.get("passwd", True):
        ch["passwd"] = False
    if more.get("no_hosts"):
        ch["no_hosts"] = True
    if more.get("timeout"):
        if more["timeout"] < 0:
            raise InvalidArgument(f"invalid --timeout {more['timeout']}: must be 0 or more seconds")
        ch["timeout"] = int(more["timeout"])
    if more.get("health_on_failure"):
        action = more["health_on_failure"]
        if action not in ("none", "kill", "stop", "restart"):
            raise InvalidArgument(f"invalid --health-on-failure {action!r}: expected none, kill, restart or stop")
        ch["health_on_failure"] = action
    if more.get("personality"):
        domain = more["personality"].upper()
        if domain not in ("LINUX", "LINUX32"):
            raise InvalidArgument(f"invalid --personality {more['personality']!r}: expected LINUX or LINUX32")
        ch["personality"] = domain
    if more.get("hostuser"):
        ch["hostusers"] = tuple(more["hostuser"])
    if idmaps.wanted(more):
        ch["uidmap"], ch["gidmap"] = id_mappings(engine, spec.userns, more)
    if more.get("seccomp_policy") not in (None, "", "default"):
        raise InvalidArgument(f"invalid --seccomp-policy {more['seccomp_policy']!r}: only default is supported")
    if any(more.get(k) not in (None, []) for k in (*THROTTLES, "memory_swappiness", "cgroup_conf")):
        ch["resources"] = io_resources(spec.resources, more)
    if annotations != spec.annotations:
        ch["annotations"] = annotations
    from podpy.engine import create_misc

    return create_misc.apply(engine, replace(spec, **ch) if ch else spec, more)


def id_mappings(engine: Engine, userns: str, more: dict[str, Any]) -> tuple[Any, Any]:
    """--uidmap & co.: host ids as root, ids of the user's own namespace rootless."""
    if userns:
        raise InvalidArgument("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")
    if engine.opts.rootless:
        return rootless_mappings(more)
    return idmaps.from_flags(more)


def rootless_mappings(more: dict[str, Any]) -> tuple[Any, Any]:
    """Rootless --uidmap/--gidmap: relative to the user's own namespace (0 = the user, 1..N its
    /etc/subuid ids), checked against it now; the container gets them composed (specgen)."""
    if more.get("subuidname") or more.get("subgidname"):
        raise InvalidArgument("--subuidname/--subgidname are not supported rootless: they name host ranges an "
                              "ordinary user cannot map; use --uidmap/--gidmap with ids of your own namespace")  # fmt: skip
    from podpy.storage import userns

    uids, gids = idmaps.from_flags(more)
    mine = userns.current()
    if mine is None:
        raise InvalidArgument("rootless: no user namespace mappings")
    idmaps.compose(uids, mine.uids, "UID")
    idmaps.compose(gids, mine.gids, "GID")
    return uids, gids


def split_commas(items: list[str]) -> list[str]:
    """pflag's `strings`: each value may hold several, comma separated."""
    return [x.strip() for item in items for x in item.split(",") if x.strip()]


def _namespace(engine: Engine, flag: str, mode: str) -> str:
    """--ipc/--pid/--uts/--cgroupns -> "" (a new one), "host", "private" (cgroupns) or a path to join."""
    kind = NS_FLAGS[flag]
    if mode in ("private", "") or (flag == "ipc" and mode in ("shareable", "none")):
        return "private" if flag == "cgroupns" else ""
    if mode == "host":
        return "host"
    if mode.startswith("ns:") and len(mode) > 3:
        if not Path(mode[3:]).exists():
            raise InvalidArgument(f"--{flag} {mode}: no such namespace file")
        return mode[3:]
    if mode.startswith("container:") and len(mode) > 10:
        other = engine.containers.get(mode[10:])
        if other.state.status != "running":
            raise ContainerState(f"container {other.id} is not running: cannot join its {kind} namespace")
        return f"/proc/{other.state.pid}/ns/{kind}"
    raise InvalidArgument(f"invalid --{flag} {mode!r}: expected private, host, container:ID or ns:PATH")


def _bind(dest: str, source: str, *extra: str) -> Any:
    from podpy.engine.spec import Mount

    return Mount(dest, "bind", source, ("rbind", "rprivate", *extra))


def parse_sysctls(items: list[str], network: str, ipc: str, uts: str) -> dict[str, str]:
    """Namespaced sysctls only (Podman's and Docker's list), and not those of a namespace shared
    with the host."""
    out: dict[str, str] = {}
    for item in split_commas(items):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not key or not eq:
            raise InvalidArgument(f"invalid sysctl {item!r}: expected KEY=VALUE")
        if key.startswith("net."):
            if network == "host":
                raise InvalidArgument(f"sysctl {key!r} can't be set since the network namespace is the host's")
        elif key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
            if ipc == "host":
                raise InvalidArgument(f"sysctl {key!r} can't be set since the IPC namespace is the host's")
        elif key in UTS_SYSCTLS:
            if uts == "host":
                raise InvalidArgument(f"sysctl {key!r} can't be set since the UTS namespace is the host's")
        else:
            raise InvalidArgument(f"sysctl {key!r} is not allowed (only namespaced ones: net.*, kernel.shm*, "
                                  "kernel.msg*, kernel.sem, fs.mqueue.*)")  # fmt: skip
        out[key] = value
    return out


def merge_ulimits(base: tuple[Any, ...], items: list[str]) -> tuple[Any, ...]:
    """--ulimit over the defaults, by name; an unlimited one drops the entry (the limit is inherited)."""
    from podpy.engine.ulimits import clamp, parse_ulimit

    limits = {r.name: r for r in base}
    for item in items:
        name, soft, hard = parse_ulimit(item)
        limits.pop(name, None)
        if (r := clamp(name, soft, hard)) is not None:
            limits[name] = r
    return tuple(limits.values())


def parse_device_rule(rule: str) -> dict[str, Any]:
    """`c 42:* rwm` -> an OCI linux.resources.devices entry (allow)."""
    parts = rule.split()
    ok = len(parts) == 3 and parts[0] in ("a", "b", "c") and parts[1].count(":") == 1
    ok = ok and set(parts[2]) <= set("rwm") and bool(parts[2])
    nums = parts[1].split(":") if ok else []
    if not ok or not all(n == "*" or n.isdigit() for n in nums):
        raise InvalidArgument(f"invalid device cgroup rule {rule!r}: expected TYPE MAJOR:MINOR ACCESS, e.g. 'c 42:* rwm'")
    out: dict[str, Any] = {"allow": True, "type": parts[0], "access": parts[2]}
    for key, n in zip(("major", "minor"), nums, strict=True):
        if n != "*":
            out[key] = int(n)
    return out


def _int_in(text: str, flag: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise InvalidArgument(f"invalid --{flag} {text!r}: not an integer") from None
    if not low <= value <= high:
        raise InvalidArgument(f"invalid --{flag} {value}: must be between {low} and {high}")
    return value


def parse_umask(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777:
        raise InvalidArgument(f"invalid umask string {text}: must be an octal number from 0000 to 0777")
    return value


def zone_file(tz: str) -> str:
    """--tz: the host file to bind on /etc/localtime (`local`: the host's own zone)."""
    if tz == "local":
        path = Path("/etc/localtime")
    elif tz.startswith(("/", ".")) or ".." in tz.split("/"):
        raise InvalidArgument(f"finding timezone: unknown time zone {tz}")
    else:
        path = ZONEINFO / tz
    try:
        resolved = path.resolve(strict=True)
    except OSError:
        raise InvalidArgument(f"finding timezone: unknown time zone {tz}") from None
    if not resolved.is_file():
        raise InvalidArgument(f"finding timezone: unknown time zone {tz}")
    return str(resolved)


def read_label_files(paths: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for path in paths:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise InvalidArgument(f"reading label file {path}: {e.strerror}") from None
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                labels[key] = value
    return labels


def io_resources(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """linux.resources plus --memory-swappiness and the --device-{read,write}-{bps,iops} throttles."""
    from podpy.engine.specgen import is_cgroup_v2

    if os.geteuid() != 0 and not is_cgroup_v2():
        raise InvalidArgument("--memory-swappiness and --device-*-bps/iops need cgroup v2 for rootless containers; "
                              "this host uses cgroup v1, which only root can control")  # fmt: skip
    res = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    swap = more.get("memory_swappiness")
    if swap is not None and swap != -1:
        if not 0 <= swap <= 100:
            raise InvalidArgument(f"invalid --memory-swappiness {swap}: must be between 0 and 100, or -1")
        res.setdefault("memory", {})["swappiness"] = swap
    for flag, key in THROTTLES.items():
        for item in more.get(flag) or ():
            res.setdefault("blockIO", {}).setdefault(key, []).append(_throttle(flag, item))
    for item in more.get("cgroup_conf") or ():
        if not is_cgroup_v2():
            raise InvalidArgument("--cgroup-conf sets cgroup v2 files: this host uses cgroup v1")
        key, eq, value = item.partition("=")
        if not eq or not key or "/" in key or key.startswith("."):
            raise InvalidArgument(f"invalid --cgroup-conf {item!r}: expected KEY=VALUE")
        res.setdefault("unified", {})[key] = value
    return res


def _throttle(flag: str, item: str) -> dict[str, int]:
    """`/dev/sda:10m` -> {major, minor, rate} (a rate in bytes for *-bps, operations for *-iops)."""
    from podpy.engine.create_misc import block_device

    path, sep, rate_text = item.rpartition(":")
    name = "--" + flag.replace("_", "-")
    if not sep or not path:
        raise InvalidArgument(f"invalid {name} {item!r}: expected DEVICE:RATE")
    major, minor = block_device(path, name)
    if flag.endswith("bps"):
        from podpy.engine.resources import parse_size

        rate = parse_size(rate_text, flag.replace("_", "-"))
    elif rate_text.isdigit():
        rate = int(rate_text)
    else:
        raise InvalidArgument(f"invalid {name} rate {rate_text!r}: a number of operations per second")
    return {"major": major, "minor": minor, "rate": rate}
