"""The rootless network namespace: where an ordinary user's bridge networks live (Podman's
rootless-netns).

An ordinary user cannot add a bridge or a veth to the host, so one holder process per runroot
(started on first use) owns a user namespace U, mapped like the containers, and a network
namespace N; pasta (else slirp4netns) attached to N gives it outbound access. podpy makes the
bridges, veths and nft rules inside N (nft works there: U owns N), and a rootless bridge container
runs in U too, with a network namespace of its own owned by U (podpy.network.rootless.hold), so
that a veth can join the two.

    <runroot>/rootless-netns/pids.json   {"holder": [pid, start], "helper": [pid, start], "maps": ...}

Work inside N (`run_in`) runs in a forked child (setns into a user namespace needs a
single-threaded process) that joins U and N and mounts a sysfs of N's own on a private /sys.
The holder and its helper are ended (`stop`) when the last container leaves the networks.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from podpy.errors import PodpyError
from podpy.network import rootless
from podpy.runtime import syscalls as sc

T = TypeVar("T")
NAME = "podpy-rootless-netns"  # the holder's argv[0] (the leak check of the tests looks for it)


def _dir(runroot: Path) -> Path:
    return runroot / "rootless-netns"


def _read(runroot: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((_dir(runroot) / "pids.json").read_text()))
    except (OSError, ValueError):
        return {}


def _write(runroot: Path, doc: dict[str, Any]) -> None:
    path = _dir(runroot) / "pids.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.rename(path)


def _alive(entry: Any) -> bool:
    return bool(entry) and bool(entry[0]) and rootless._start_time(entry[0]) == entry[1]


def holder(runroot: Path) -> int:
    """The live holder's pid, 0 when there is none."""
    doc = _read(runroot)
    return int(doc["holder"][0]) if _alive(doc.get("holder")) else 0


def mode() -> str:
    """pasta, else slirp4netns, for the namespace's outbound access; the cause when neither can run."""
    found = rootless.default_mode()
    if not found:
        raise PodpyError(f"rootless bridge networks need pasta or slirp4netns: {rootless.available('pasta')}")
    return found


def ensure(runroot: Path, maps: tuple[list[Any], list[Any]], mode: str) -> int:
    """The holder (made, with its helper, when missing); its pid. Caller holds the networks lock."""
    doc = _read(runroot)
    if _alive(doc.get("holder")):
        if [list(m) for m in maps] != doc.get("maps"):
            raise PodpyError("rootless bridge networks put every container in one user namespace: this "
                             "container's id mappings (--userns, --uidmap) differ from the running ones'")  # fmt: skip
        if not _alive(doc.get("helper")):  # the helper died: attach a new one
            doc["helper"] = _helper(runroot, mode, doc["holder"][0])
            _write(runroot, doc)
        return int(doc["holder"][0])
    stop(runroot)
    rootless.check(mode)
    _dir(runroot).mkdir(parents=True, exist_ok=True)
    pid = rootless._holder(*maps, argv0=NAME)
    doc = {"holder": [pid, rootless._start_time(pid)], "maps": [list(m) for m in maps], "mode": mode}
    _write(runroot, doc)
    try:
        doc["helper"] = _helper(runroot, mode, pid)
        _write(runroot, doc)
        run_in(runroot, _forwarding)
    except BaseException:
        stop(runroot)
        raise
    return pid


def _helper(runroot: Path, mode: str, pid: int) -> list[int]:
    d = _dir(runroot)
    if mode == "pasta":
        helper = rootless._pasta(pid, d / "helper.pid", [])
    else:
        helper = rootless._slirp(pid, d / "slirp.sock", [])
    return [helper, rootless._start_time(helper)]


def _forwarding() -> None:
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("1")


def stop(runroot: Path) -> None:
    """End the helper and the holder (checked against their start times); idempotent."""
    doc = _read(runroot)
    live = [e for e in (doc.get("helper"), doc.get("holder")) if _alive(e)]
    for pid, _ in live:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 2
    while any(rootless._running(*e) for e in live) and time.monotonic() < deadline:
        time.sleep(0.005)  # not our children: until /proc says they are gone
    d = _dir(runroot)
    for name in ("pids.json", "helper.pid", "slirp.sock", "slirp.log"):
        (d / name).unlink(missing_ok=True)


def _enter(pid: int) -> None:
    """Join the holder's user and network namespaces, with N's own sysfs on a private /sys (so that
    /sys/class/net shows N's links)."""
    for kind, flag in (("user", sc.CLONE_NEWUSER), ("net", sc.CLONE_NEWNET)):
        fd = os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            sc.setns(fd, flag)
        finally:
            os.close(fd)
    sc.unshare(sc.CLONE_NEWNS)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_SLAVE)
    sc.mount("sysfs", "/sys", "sysfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)


def run_in(runroot: Path, fn: Callable[[], T]) -> T:
    """`fn()` in a forked child inside the rootless network namespace; its result or its error."""
    pid = holder(runroot)
    if not pid:
        raise PodpyError("the rootless network namespace is not running")
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(r)
        try:
            try:
                _enter(pid)
                out: tuple[str, Any] = ("ok", fn())
            except PodpyError as e:
                out = ("error", str(e))
            except OSError as e:
                out = ("error", f"in the rootless network namespace: {e.strerror or e}")
            except BaseException as e:  # noqa: BLE001 - reported to the parent, never a traceback here
                out = ("error", f"in the rootless network namespace: {type(e).__name__}: {e}")
            data = pickle.dumps(out)
            while data:
                data = data[os.write(w, data) :]
        finally:
            os._exit(0)
    os.close(w)
    try:
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
    finally:
        os.close(r)
        os.waitpid(child, 0)
    if not chunks:
        raise PodpyError("the rootless network namespace: the helper process failed")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        raise PodpyError(value)
    return value  # type: ignore[no-any-return]


def run_if_up(runroot: Path, fn: Callable[[], Any]) -> None:
    """`fn()` inside the namespace when it runs (nothing of it is left otherwise)."""
    if holder(runroot):
        run_in(runroot, fn)
