"""Seccomp architectures: their AUDIT_ARCH_* value, the argument width libseccomp compares, and what
each machine can execute."""

from __future__ import annotations

import os

from podpy.errors import InvalidArgument

# name -> (AUDIT_ARCH_* as seen in seccomp_data.arch, argument bits; 32-bit ABIs: the low word only).
# x32 shares x86_64's audit arch: its syscall numbers carry bit 30.
ARCHES: dict[str, tuple[int, int]] = {
    "SCMP_ARCH_X86_64": (0xC000003E, 64), "SCMP_ARCH_X86": (0x40000003, 32),
    "SCMP_ARCH_X32": (0xC000003E, 32), "SCMP_ARCH_AARCH64": (0xC00000B7, 64),
    "SCMP_ARCH_ARM": (0x40000028, 32), "SCMP_ARCH_PPC64LE": (0xC0000015, 64),
    "SCMP_ARCH_S390X": (0x80000016, 64), "SCMP_ARCH_S390": (0x00000016, 32),
    "SCMP_ARCH_RISCV64": (0xC00000F3, 64),
}  # fmt: skip

# What each machine can execute, native first.
MACHINES = {
    "x86_64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "aarch64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
    "ppc64le": ("SCMP_ARCH_PPC64LE",),
    "s390x": ("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
    "riscv64": ("SCMP_ARCH_RISCV64",),
}


def machine_arches(machine: str | None = None) -> tuple[str, ...]:
    machine = machine or os.uname().machine
    if machine not in MACHINES:
        raise InvalidArgument(
            f"seccomp: architecture {machine} is not supported (use --security-opt seccomp=unconfined)"
        )
    return MACHINES[machine]
