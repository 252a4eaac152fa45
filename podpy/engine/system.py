"""`info`, `version` and `system df` data (Podman's key layout)."""

from __future__ import annotations

import os
import platform
import sys
from typing import TYPE_CHECKING, Any

from podpy import __version__

if TYPE_CHECKING:
    from podpy.engine.core import Engine


def cgroup_version() -> str:
    """v2 when /sys/fs/cgroup is a cgroup2 mount (unified), v1 otherwise (legacy or hybrid)."""
    try:
        return "v2" if os.statvfs("/sys/fs/cgroup") and _fstype("/sys/fs/cgroup") == "cgroup2" else "v1"
    except OSError:
        return "v1"


def _fstype(mountpoint: str) -> str:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            if parts[4] == mountpoint:
                return parts[parts.index("-") + 1]
    return ""


def version() -> dict[str, Any]:
    return {
        "Client": {
            "APIVersion": __version__,
            "Version": __version__,
            "GoVersion": "",
            "PythonVersion": platform.python_version(),
            "OsArch": f"linux/{_arch()}",
            "Os": "linux",
        }
    }


def _arch() -> str:
    from podpy.engine.importer import go_arch

    return go_arch()


def _count(path: Any, pattern: str) -> int:
    return sum(1 for _ in path.glob(pattern)) if path.exists() else 0


def _security(rootless: bool) -> dict[str, Any]:
    """Podman's host.security; the default seccomp profile is built in (Docker says "builtin")."""
    from podpy.runtime.seccomp import supported

    return {
        "apparmorEnabled": False,
        "capabilities": "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE,"
                        "CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT",  # fmt: skip
        "rootless": rootless,
        "seccompEnabled": supported(),
        "seccompProfilePath": "builtin",
        "selinuxEnabled": False,
    }


def info(engine: Engine) -> dict[str, Any]:
    opts = engine.opts
    images = len(engine.index.load())
    runtime = opts.runtime or "builtin"
    return {
        "host": {
            "arch": _arch(),
            "kernel": platform.release(),
            "os": "linux",
            "hostname": platform.node(),
            "cgroupVersion": cgroup_version(),
            "cgroupManager": "cgroupfs",
            "ociRuntime": {"name": runtime, "path": sys.executable if runtime == "builtin" else runtime},
            "security": _security(opts.rootless),
            "cpus": os.cpu_count(),
        },
        "store": {
            "graphRoot": str(opts.root),
            "runRoot": str(opts.runroot),
            "graphDriverName": engine.driver,
            "imageStore": {"number": images},
            "containerStore": {"number": _count(engine.layout.containers, "*/container.json")},
            "volumePath": str(engine.layout.volumes),
        },
        "version": version()["Client"],
    }


def docker_info(engine: Engine, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of Docker's `docker info` template (`{{.ServerVersion}}`, `{{.Driver}}`, ...), from the
    Podman-shaped `info` data; templates see both, JSON output only Podman's."""
    from podpy.engine import container_record as cr

    host, store = data["host"], data["store"]
    states = [r.state.status for r in engine.containers.list(all_=True)]
    paused = sum(1 for s in states if s == "paused")
    running = sum(1 for s in states if s in (cr.RUNNING, cr.RESTARTING))
    mem = _mem_total()
    return {
        "ID": "", "Name": host["hostname"], "ServerVersion": data["version"]["Version"],
        "Driver": store["graphDriverName"], "DriverStatus": [], "DockerRootDir": store["graphRoot"],
        "Containers": len(states), "ContainersRunning": running, "ContainersPaused": paused,
        "ContainersStopped": len(states) - running - paused, "Images": store["imageStore"]["number"],
        "OperatingSystem": _os_name(), "OSType": "linux", "OSVersion": "", "Architecture": platform.machine(),
        "KernelVersion": host["kernel"], "NCPU": host["cpus"], "MemTotal": mem,
        "CgroupDriver": host["cgroupManager"], "CgroupVersion": host["cgroupVersion"].removeprefix("v"),
        "DefaultRuntime": host["ociRuntime"]["name"], "LoggingDriver": "k8s-file",
        "SecurityOptions": ["name=seccomp,profile=builtin"] + (["name=rootless"] if host["security"]["rootless"]
                                                                else []),  # fmt: skip
        "Labels": [], "Debug": False, "Runtimes": {host["ociRuntime"]["name"]: {"path": host["ociRuntime"]["path"]}},
    }  # fmt: skip


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "linux")
    except OSError:
        return "linux"


def disk_usage(engine: Engine) -> list[dict[str, Any]]:
    """`system df` rows: Images, Containers, Local Volumes, Build Cache (engine/disk_usage.py)."""
    from podpy.engine.disk_usage import summary

    return summary(engine)
