"""Capability names and applying process.capabilities: bounding drop, then capset, then ambient."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

# Index = capability number (linux/capability.h).
CAP_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)  # fmt: skip
CAP_NUMBERS = {name: i for i, name in enumerate(CAP_NAMES)}

# Podman's default set (containers.conf default_capabilities): CapEff 00000000800405fb.
DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
)  # fmt: skip


def normalize(name: str) -> str:
    """`net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` -> `CAP_NET_ADMIN` (ALL stays ALL)."""
    up = name.strip().upper()
    if up == "ALL":
        return up
    return up if up.startswith("CAP_") else f"CAP_{up}"


@cache
def last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return len(CAP_NAMES) - 1


def mask(names: Iterable[str]) -> int:
    """Bit mask of the known names; names this kernel does not know are skipped (like runc)."""
    bits = 0
    for name in names:
        num = CAP_NUMBERS.get(normalize(name))
        if num is not None and num <= last_cap():
            bits |= 1 << num
    return bits


def names_of(bits: int) -> list[str]:
    return [name for i, name in enumerate(CAP_NAMES) if bits >> i & 1]


def current_bounding() -> frozenset[str]:
    """The bounding set of this process (what --privileged may hand to a container)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return frozenset(names_of(int(line.split()[1], 16)))
    return frozenset(CAP_NAMES)


def drop_bounding(keep: int) -> None:
    """Drop every capability not in `keep` from the bounding set (needs CAP_SETPCAP)."""
    from podpy.runtime import syscalls  # ctypes (~3 ms): `create` reads the tables only

    for num in range(last_cap() + 1):
        if not keep >> num & 1 and syscalls.prctl(syscalls.PR_CAPBSET_READ, num) == 1:
            syscalls.prctl(syscalls.PR_CAPBSET_DROP, num)


def apply(caps: dict[str, list[str]]) -> None:
    """capset effective/permitted/inheritable, then raise ambient. Called after the uid switch."""
    from podpy.runtime import syscalls

    syscalls.capset(mask(caps.get("effective", ())), mask(caps.get("permitted", ())),
                    mask(caps.get("inheritable", ())))  # fmt: skip
    syscalls.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_CLEAR_ALL)
    for name in caps.get("ambient", ()):
        num = CAP_NUMBERS.get(normalize(name))
        if num is not None and num <= last_cap():
            syscalls.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_RAISE, num)
