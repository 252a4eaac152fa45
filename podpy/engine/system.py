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


def disk_usage(engine: Engine) -> list[dict[str, Any]]:
    """`system df` rows: Images, Containers, Local Volumes, Build Cache."""
    imgs = engine.images.list()
    in_use = [i for i in imgs if engine.images.users(i.id)]
    size = sum(i.size for i in imgs)
    reclaim = sum(i.size for i in imgs if i not in in_use)
    return [
        {"Type": "Images", "TotalCount": len(imgs), "Active": len(in_use), "RawSize": size, "RawReclaimable": reclaim},
        {"Type": "Containers", "TotalCount": _count(engine.layout.containers, "*/container.json"), "Active": 0,
         "RawSize": 0, "RawReclaimable": 0},  # fmt: skip
        {"Type": "Local Volumes", "TotalCount": _count(engine.layout.volumes, "*/volume.json"), "Active": 0,
         "RawSize": 0, "RawReclaimable": 0},  # fmt: skip
        _build_cache(engine),
    ]


def _build_cache(engine: Engine) -> dict[str, Any]:
    from podpy.engine.build_support import cache_usage

    return cache_usage(engine)
