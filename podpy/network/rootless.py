"""Rootless networking: pasta (default) or slirp4netns connecting a container's namespace to the host.

An ordinary user cannot pin a namespace by bind mount, so a small holder process (forked here,
detached) owns the container's user namespace (the container's id mappings) and its network
namespace; config.json joins both through symlinks <runroot>/userns/<id> and <runroot>/netns/<id>
to the holder's /proc entries. The helper attaches to the holder before the runtime starts, so the
container's first instruction already has its network.

pasta does not exit when its namespace dies (research.md), so both processes are recorded in
<runroot>/netns/<id>.pids with their start times and ended by `stop_all` on exit, rm, or the start
after a supervisor crash. research.md: pasta 1.7-2.1 GB/s and 29 ms to start, slirp4netns
0.83-0.93 GB/s and 47 ms: pasta is the default.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from podpy.errors import PodpyError
from podpy.runtime import syscalls as sc

MODES = ("pasta", "slirp4netns")
TUN = "/dev/net/tun"


def tun_problem() -> str:
    """Why /dev/net/tun cannot be used by this user ('' when it can)."""
    if not os.path.exists(TUN):
        return f"{TUN} does not exist (load the tun module)"
    if not os.access(TUN, os.R_OK | os.W_OK):
        mode = oct(os.stat(TUN).st_mode & 0o777)
        return f"{TUN} is mode {mode[2:]}, not usable by this user (most distributions ship it 0666)"
    return ""


def available(mode: str) -> str:
    """Why `mode` cannot run here ('' when it can)."""
    if shutil.which(mode) is None:
        return f"{mode} is not installed (Debian package {'passt' if mode == 'pasta' else mode})"
    return tun_problem()


def default_mode() -> str:
    """pasta, else slirp4netns; '' when neither can run."""
    return next((m for m in MODES if not available(m)), "")


def check(mode: str) -> None:
    why = available(mode)
    if why:
        raise PodpyError(f"rootless network mode {mode} cannot run: {why}")


def _pids_file(netns_dir: Path, cid: str) -> Path:
    return netns_dir / f"{cid}.pids"


def _start_time(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def _running(pid: int, started: int) -> bool:
    """The process recorded with this start time still runs (a zombie does not: our holders and
    helpers are reparented to an init that may reap them late)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and len(fields) > 19 and fields[19] == str(started)


def _record(netns_dir: Path, cid: str, pids: dict[str, int]) -> None:
    doc = {k: [p, _start_time(p)] for k, p in pids.items()}
    tmp = _pids_file(netns_dir, cid).with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.rename(_pids_file(netns_dir, cid))


def _holder(uid_maps: list[dict[str, int]], gid_maps: list[dict[str, int]], userns: str = "",
            argv0: str = "sleep") -> int:  # fmt: skip
    """A detached process in a new user namespace (mapped like the container; or joining `userns`, a
    path) and a new network namespace with lo up; it waits for SIGTERM. Returns its pid once both
    namespaces are ready."""
    from podpy.runtime.builtin.namespaces import loopback_up, write_id_maps

    r, w = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:  # middle child: forks the holder and exits (the holder is reparented, never a zombie)
        try:
            os.setsid()
            if os.fork() == 0:
                os.close(r)
                os.close(w2)
                if userns:
                    ufd = os.open(userns, os.O_RDONLY | os.O_CLOEXEC)
                    sc.setns(ufd, sc.CLONE_NEWUSER)
                    os.close(ufd)
                else:
                    sc.unshare(sc.CLONE_NEWUSER)
                os.write(w, f"{os.getpid():>10}".encode())
                os.read(r2, 1)  # the maps are written
                sc.unshare(sc.CLONE_NEWNET)
                loopback_up()
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.closerange(3, w)
                os.closerange(w + 1, 65536)
                os.write(w, b"n")
                os.execv("/bin/sleep", [argv0, "infinity"])
        finally:
            os._exit(0)
    os.close(w)
    os.close(r2)
    try:
        os.waitpid(pid, 0)
        head = os.read(r, 10)
        holder = int(head) if head.strip().isdigit() else 0
        if not holder:
            raise PodpyError("starting the rootless network namespace holder failed")
        try:
            if not userns:
                write_id_maps(holder, uid_maps, gid_maps)
        except BaseException:
            os.kill(holder, signal.SIGKILL)
            raise
        os.write(w2, b"g")
        if os.read(r, 1) != b"n":
            raise PodpyError("the rootless network namespace holder failed to set up its namespace")
        return holder
    finally:
        os.close(r)
        os.close(w2)


def _link(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.symlink_to(target)


def start(
    mode: str, runroot: Path, cid: str, maps: tuple[list[Any], list[Any]], ports: list[dict[str, Any]]
) -> None:
    """The holder, the symlinks config.json names, and the helper with `ports` forwarded."""
    check(mode)
    netns_dir = runroot / "netns"
    holder = hold(runroot, cid, maps)
    pids = {"holder": holder}
    pidfile = netns_dir / f"{cid}.helper"
    if mode == "pasta":
        pids["helper"] = _pasta(holder, pidfile, ports)
    else:
        pids["helper"] = _slirp(holder, netns_dir / f"{cid}.sock", ports)
    _record(netns_dir, cid, pids)


def hold(runroot: Path, cid: str, maps: tuple[list[Any], list[Any]], userns: str = "") -> int:
    """The container's namespace holder (see _holder), recorded, with the links config.json names."""
    netns_dir = runroot / "netns"
    netns_dir.mkdir(parents=True, exist_ok=True)
    holder = _holder(*maps, userns=userns)
    _record(netns_dir, cid, {"holder": holder})
    _link(netns_dir / cid, f"/proc/{holder}/ns/net")
    _link(runroot / "userns" / cid, f"/proc/{holder}/ns/user")
    return holder


def add_pid(runroot: Path, cid: str, role: str, pid: int) -> None:
    """One more process of the container's network to end with it (stop_all)."""
    netns_dir = runroot / "netns"
    try:
        doc = json.loads(_pids_file(netns_dir, cid).read_text())
    except (OSError, ValueError):
        doc = {}
    doc[role] = [pid, _start_time(pid)]
    tmp = _pids_file(netns_dir, cid).with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.rename(_pids_file(netns_dir, cid))


def _pasta(holder: int, pidfile: Path, ports: list[dict[str, Any]]) -> int:
    """pasta configures the namespace (address, routes) and daemonizes once ready."""
    import subprocess

    args = [
        "pasta",
        "--config-net",
        "--quiet",
        "--pid",
        str(pidfile),
        "-u",
        "none",
        "-T",
        "none",
        "-U",
        "none",
    ]
    for p in ports:
        where = f"{p['host_ip']}/" if p["host_ip"] else ""
        args += ["-t" if p["protocol"] == "tcp" else "-u", f"{where}{p['host_port']}:{p['container_port']}"]
    if not any(p["protocol"] == "tcp" for p in ports):
        args += ["-t", "none"]
    if args.count("-u") > 1:
        i = args.index("-u")
        del args[i : i + 2]  # udp ports given: drop the "-u none" placeholder
    args.append(str(holder))
    res = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0:  # its syslog complaints aside
        said = [x for x in res.stderr.splitlines() if x.strip() and "syslog" not in x]
        raise PodpyError(f"pasta failed: {said[-1] if said else f'exit status {res.returncode}'}")
    try:
        return int(pidfile.read_text().strip())
    finally:
        pidfile.unlink(missing_ok=True)


def _slirp(holder: int, api: Path, ports: list[dict[str, Any]]) -> int:
    """slirp4netns, ready when it writes to the ready fd; ports added through its API socket (named
    relative to its cwd: a socket path has at most 107 bytes, a runroot can be longer)."""
    import subprocess

    r, w = os.pipe()
    api.unlink(missing_ok=True)
    args = ["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--ready-fd", str(w),
            "--api-socket", api.name, "--userns-path", f"/proc/{holder}/ns/user", str(holder), "tap0"]  # fmt: skip
    log = api.with_suffix(".log")
    with open(log, "wb") as err:
        proc = subprocess.Popen(args, pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True, cwd=api.parent)  # fmt: skip
    os.close(w)
    try:
        if os.read(r, 1) != b"1":
            proc.kill()
            proc.wait()
            said = log.read_text(errors="replace").strip().splitlines()
            raise PodpyError(
                f"slirp4netns failed: {' | '.join(said) if said else 'no network namespace configured'}"
            )
    finally:
        os.close(r)
    for p in ports:
        _slirp_forward(api, p)
    return proc.pid


def _slirp_forward(api: Path, p: dict[str, Any]) -> None:
    import socket

    req = {"execute": "add_hostfwd", "arguments": {"proto": p["protocol"], "host_addr": p["host_ip"] or "0.0.0.0",
           "host_port": int(p["host_port"]), "guest_port": int(p["container_port"])}}  # fmt: skip
    dfd = os.open(api.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(f"/proc/self/fd/{dfd}/{api.name}")
            s.sendall(json.dumps(req).encode())
            s.shutdown(socket.SHUT_WR)
            reply = json.loads(s.recv(65536) or b"{}")
    finally:
        os.close(dfd)
    if "error" in reply:
        raise PodpyError(
            f"slirp4netns: forwarding port {p['host_port']}: {reply['error'].get('desc', reply['error'])}"
        )


def stop_all(runroot: Path, cid: str) -> None:
    """End the helper and the holder (checked against their start times); remove the links. Idempotent."""
    netns_dir = runroot / "netns"
    try:
        doc = json.loads(_pids_file(netns_dir, cid).read_text())
    except (OSError, ValueError):
        doc = {}
    for pid, started in doc.values():
        if pid and _start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 2
    while any(p and _running(p, s) for p, s in doc.values()) and time.monotonic() < deadline:
        time.sleep(0.005)  # not our children: wait until /proc says they are gone (or zombies)
    for path in (netns_dir / cid, runroot / "userns" / cid, _pids_file(netns_dir, cid),
                 netns_dir / f"{cid}.sock", netns_dir / f"{cid}.log", netns_dir / f"{cid}.helper"):  # fmt: skip
        path.unlink(missing_ok=True)
