"""Docker's JSON seccomp profile -> OCI `linux.seccomp` for one container, the way Docker resolves it:
the architectures from `archMap` for this machine (or the profile's `architectures`), and each
rule's `includes`/`excludes` (Go architecture names, capabilities of the container's bounding set,
minimum kernel) decided here, so that runc and the built-in runtime see plain rules."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from podpy.errors import InvalidArgument
from podpy.runtime.seccomp.arches import MACHINES, machine_arches

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

GO_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def parse(text: str, source: str) -> dict[str, Any]:
    """A profile file's text, checked for the shape Docker accepts."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise InvalidArgument(f"seccomp profile {source}: not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("defaultAction"), str):
        raise InvalidArgument(f"seccomp profile {source}: missing defaultAction")
    if doc.get("architectures") and doc.get("archMap"):
        raise InvalidArgument(f"seccomp profile {source}: both 'architectures' and 'archMap' are specified")
    for rule in doc.get("syscalls") or []:
        _check_rule(rule, source)
    return doc


def _check_rule(rule: Any, source: str) -> None:
    bad = None
    if not isinstance(rule, dict) or not isinstance(rule.get("action"), str):
        bad = "a syscalls entry without an action"
    elif rule.get("name") and rule.get("names"):
        bad = "'name' and 'names' in one syscalls entry"
    elif not all(isinstance(n, str) for n in rule.get("names") or []):
        bad = "syscall names must be strings"
    elif not all(isinstance(a, dict) and isinstance(a.get("index"), int) and isinstance(a.get("op"), str)
                 for a in rule.get("args") or []):  # fmt: skip
        bad = "an argument condition needs an index and an op"
    if bad:
        raise InvalidArgument(f"seccomp profile {source}: {bad}")


def read_file(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise InvalidArgument(f"opening seccomp profile {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidArgument(f"seccomp profile {path}: not valid JSON") from None
    return parse(text, path)


def check_file(path: str) -> None:
    """Refuse a profile that cannot be read or compiled here (with every capability, so that every
    rule of the file is compiled)."""
    from podpy.runtime.builtin.capabilities import CAP_NAMES
    from podpy.runtime.seccomp.compiler import compile_filter

    compile_filter(to_oci(read_file(path), CAP_NAMES))


def _kernel(release: str) -> tuple[int, int]:
    parts = (release.split("-")[0].split(".") + ["0"])[:2]
    return (int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0))


def _applies(rule: dict[str, Any], caps: set[str], go_arch: str, kernel: tuple[int, int]) -> bool:
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if go_arch in (exc.get("arches") or []) or caps & set(exc.get("caps") or []):
        return False
    if exc.get("minKernel") and kernel >= _kernel(exc["minKernel"]):
        return False
    if inc.get("arches") and go_arch not in inc["arches"]:
        return False
    if not set(inc.get("caps") or []) <= caps:
        return False
    return not (inc.get("minKernel") and kernel < _kernel(inc["minKernel"]))


def _architectures(doc: dict[str, Any], machine: str) -> list[str]:
    native = MACHINES.get(machine, ("",))[0]
    for entry in doc.get("archMap") or []:
        if entry.get("architecture") == native:
            return [native, *(entry.get("subArchitectures") or [])]
    return list(doc.get("architectures") or [])


def to_oci(doc: dict[str, Any], caps: Iterable[str], machine: str | None = None,
           kernel: str | None = None) -> dict[str, Any]:  # fmt: skip
    machine = machine or os.uname().machine
    machine_arches(machine)  # refuse a machine the compiler has no table for
    have = set(caps)
    release = _kernel(kernel or os.uname().release)
    out: dict[str, Any] = {"defaultAction": doc["defaultAction"]}
    if doc.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = doc["defaultErrnoRet"]
    arches = _architectures(doc, machine)
    if arches:
        out["architectures"] = arches
    if doc.get("flags"):
        out["flags"] = list(doc["flags"])
    syscalls = []
    for rule in doc.get("syscalls") or []:
        if not _applies(rule, have, GO_ARCH.get(machine, machine), release):
            continue
        entry: dict[str, Any] = {
            "names": list(rule.get("names") or [rule.get("name")]),
            "action": rule["action"],
        }
        if rule.get("errnoRet") is not None:
            entry["errnoRet"] = rule["errnoRet"]
        if rule.get("args"):
            entry["args"] = [{"index": a["index"], "value": a.get("value", 0), "valueTwo": a.get("valueTwo", 0),
                              "op": a["op"]} for a in rule["args"]]  # fmt: skip
        syscalls.append(entry)
    out["syscalls"] = syscalls
    return out
