"""ExternalRuntime: the same bundle through an OCI runtime binary (runc, crun) and its CLI.

`runc create` forks `runc init`, which becomes the container process, and exits: the init is then
reparented to the nearest child subreaper. So the caller must be one (start/exec make it one) and
reaps the container pid from --pid-file with waitpid, exactly as with the built-in runtime.
Non-terminal stdio is inherited through runc ("pass-through"); with a terminal, runc sends the pty
master over --console-socket (SCM_RIGHTS).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from podpy.errors import CannotInvoke, CommandNotFound, PodpyError
from podpy.runtime import syscalls
from podpy.runtime.base import Started, Stdio, ensure_subreaper, load_config
from podpy.runtime.builtin import idmap
from podpy.runtime.builtin.rootfs import ROOTFS_MOUNT_ANNOTATION, root_path

_MOUNTED_MARK = "rootfs.mounted"
_NOT_FOUND = re.compile(r"executable file.* not found|no such file or directory", re.I)
_DENIED = re.compile(r"permission denied", re.I)


def _error(tool: str, text: str) -> PodpyError:
    """runc's message mapped to podman's exit codes (127 not found, 126 cannot invoke)."""
    line = text.strip().splitlines()[-1] if text.strip() else f"{tool} failed"
    if _NOT_FOUND.search(line) and ("exec" in line or "executable" in line):
        return CommandNotFound(f"{tool}: {line}")
    if _DENIED.search(line) and "exec" in line:
        return CannotInvoke(f"{tool}: {line}")
    return PodpyError(f"{tool}: {line}")


def _last_log_error(log: Path) -> str:
    """The last message of a --log-format json log file."""
    msg = ""
    try:
        for raw in log.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if rec.get("level") in ("error", "fatal") and rec.get("msg"):
                msg = rec["msg"]
    except OSError:
        pass
    return msg


class _ConsoleSocket:
    """A listening unix socket for --console-socket; runc connects and sends the pty master."""

    def __init__(self, state_dir: Path) -> None:
        self._tmp: str | None = None
        path = state_dir / "console.sock"
        if len(str(path)) > 100:  # sun_path limit: fall back to a short private directory
            self._tmp = tempfile.mkdtemp(prefix="podpy-cs-")
            path = Path(self._tmp) / "c.sock"
        path.unlink(missing_ok=True)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)

    def receive(self) -> int:
        self.sock.settimeout(5)
        conn, _ = self.sock.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        if not fds:
            raise PodpyError("the runtime sent no console fd")
        return fds[0]

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


class ExternalRuntime:
    def __init__(self, path: str, root: Path, flags: tuple[str, ...] = ()) -> None:
        self.path = path
        self.name = os.path.basename(path)
        self.root = Path(root)
        self.flags = [f if f.startswith("-") else f"--{f}" for f in flags]  # Podman's `--runtime-flag debug`

    def _run(
        self, args: list[str], state_dir: Path | None = None, stdio: Stdio | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmd = [self.path, *self.flags, "--root", str(self.root)]
        log = None
        if state_dir is not None:
            log = Path(state_dir) / f"{self.name}.log"
            log.unlink(missing_ok=True)
            cmd += ["--log", str(log), "--log-format", "json"]
        io = stdio or Stdio()
        res = subprocess.run(
            cmd + args,
            stdin=io.stdin if stdio else subprocess.DEVNULL,
            stdout=io.stdout if stdio else subprocess.PIPE,
            stderr=io.stderr if stdio else subprocess.PIPE,
            text=True,
            pass_fds=tuple(range(3, 3 + io.preserve)),
        )
        if res.returncode != 0:
            text = (_last_log_error(log) if log else "") or res.stderr or f"exit status {res.returncode}"
            raise _error(self.name, text)
        return res

    def _mount_rootfs(self, cfg: dict[str, Any], bundle: Path, state_dir: Path) -> None:
        """runc knows nothing of podpy's rootfs annotation: mount it on the host (delete unmounts)."""
        spec = (cfg.get("annotations") or {}).get(ROOTFS_MOUNT_ANNOTATION)
        root = root_path(cfg, bundle)
        if idmap.wanted(cfg):  # --uidmap: the rootfs ID-mapped on the host, reachable by the mapped root
            idmap.attach_external(cfg, root, spec, bundle)
            (state_dir / _MOUNTED_MARK).write_text(str(root))
            return
        if not spec or os.path.ismount(root):
            return
        if os.geteuid() != 0:
            raise PodpyError(f"{self.name} cannot use a rootless overlay rootfs (it is mounted inside the "
                             "container's user namespace): use the built-in runtime or the vfs driver")  # fmt: skip
        m = json.loads(spec)
        try:
            syscalls.mount(m.get("source", "overlay"), root, m.get("type", "overlay"), 0, m.get("options"))
        except OSError as e:
            raise PodpyError(f"mounting the container rootfs on {root}: {e.strerror}") from None
        (state_dir / _MOUNTED_MARK).write_text(str(root))

    def _unmount_rootfs(self, state_dir: Path) -> None:
        mark = Path(state_dir) / _MOUNTED_MARK
        try:
            root = mark.read_text()
        except FileNotFoundError:
            return
        try:
            syscalls.umount2(root, syscalls.MNT_DETACH)
        except OSError:
            pass  # already gone
        mark.unlink(missing_ok=True)

    def start(self, cid: str, bundle: Path, stdio: Stdio, state_dir: Path) -> Started:
        """`create` then `start`. The caller must reap the returned pid (it is its child as subreaper)."""
        bundle = Path(bundle).absolute()
        cfg = load_config(bundle)
        terminal = bool(cfg["process"].get("terminal"))
        ensure_subreaper()
        self.root.mkdir(parents=True, exist_ok=True)
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self._mount_rootfs(cfg, bundle, state_dir)
        pid_file = state_dir / f"{self.name}.pid"
        pid_file.unlink(missing_ok=True)
        args = ["create", "--bundle", str(bundle), "--pid-file", str(pid_file)]
        console = _ConsoleSocket(state_dir) if terminal else None
        try:
            if console:
                args += ["--console-socket", str(console.path)]
            if stdio.preserve:
                args += ["--preserve-fds", str(stdio.preserve)]
            self._run(args + [cid], state_dir, stdio)
            pid = int(pid_file.read_text())
            master = console.receive() if console else None
            try:
                self._run(["start", cid], state_dir)
            except PodpyError:
                if master is not None:
                    os.close(master)
                raise
        except BaseException:
            self._force_delete(cid)
            self._unmount_rootfs(state_dir)
            raise
        finally:
            if console:
                console.close()
        return Started(pid, master)

    def exec(self, cid: str, init_pid: int, process: dict[str, Any], stdio: Stdio, state_dir: Path) -> Started:
        ensure_subreaper()
        state_dir = Path(state_dir)
        fd, proc_path = tempfile.mkstemp(prefix="exec-", suffix=".json", dir=state_dir)
        pid_file = Path(proc_path[:-5] + ".pid")
        console = _ConsoleSocket(state_dir) if process.get("terminal") else None
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(process, f)
            args = ["exec", "--detach", "--process", proc_path, "--pid-file", str(pid_file)]
            if console:
                args += ["--console-socket", str(console.path)]
            self._run(args + [cid], state_dir, stdio)
            master = console.receive() if console else None
            return Started(int(pid_file.read_text()), master)
        finally:
            if console:
                console.close()
            Path(proc_path).unlink(missing_ok=True)
            pid_file.unlink(missing_ok=True)

    def kill(self, cid: str, pid: int, sig: int, state_dir: Path) -> None:
        self._run(["kill", cid, str(int(sig))])

    def pause(self, cid: str, state_dir: Path) -> None:
        self._run(["pause", cid])

    def resume(self, cid: str, state_dir: Path) -> None:
        self._run(["resume", cid])

    def state(self, cid: str, state_dir: Path) -> dict[str, Any]:
        try:
            return json.loads(self._run(["state", cid]).stdout)
        except PodpyError:
            return {"id": cid, "pid": 0, "status": "stopped"}

    def _force_delete(self, cid: str) -> None:
        subprocess.run([self.path, "--root", str(self.root), "delete", "--force", cid],
                       stdin=subprocess.DEVNULL, capture_output=True)  # fmt: skip

    def delete(self, cid: str, state_dir: Path) -> None:
        """Kill what is left, remove the runtime's state and the cgroups, unmount an annotated rootfs
        (idempotent)."""
        self._force_delete(cid)
        self._unmount_rootfs(state_dir)
