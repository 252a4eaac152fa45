"""The last steps before execve, shared by `start` (pid 1) and `exec`: stdio, rlimits, user and groups,
capabilities, no_new_privileges, cwd, signals, PATH lookup. Runs in the forked child only."""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import signal
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from podpy.errors import CannotInvoke, CommandNotFound, PodpyError
from podpy.runtime import syscalls as sc
from podpy.runtime.base import Stdio
from podpy.runtime.builtin import capabilities, devices, execstub
from podpy.runtime.builtin.sync import Channel
from podpy.runtime.seccomp import Filter
from podpy.runtime.seccomp import load as load_seccomp

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PTS_MAJORS = range(136, 144)  # Unix98 pty slaves (/dev/pts/N): the pty the runtime made in the container
_FD_MAX = 2**31 - 1


def close_fds_except(keep: Iterable[int]) -> None:
    """Close every fd above 2 but `keep`, before any setup of the container process (runc's fix for
    CVE-2024-21626): an inherited directory fd (a lock, the store, the caller's cwd) would otherwise
    be a way out of the root through /proc/self/fd/N as a cwd or a path. close_range(2), not
    close-on-exec: the fds must be gone before chdir, not at execve."""
    signal.set_wakeup_fd(-1)  # the supervisor's wakeup pipe: a signal must not write into a reused number
    low = 3
    for fd in sorted({k for k in keep if k >= 3}):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _FD_MAX)


def arrange_stdio(stdio: Stdio, pty_slave: int | None) -> None:
    """fds 0-2 become the given ones (or the pty); a new session either way."""
    if pty_slave is not None:
        devices.make_controlling(pty_slave)
        return
    os.setsid()
    # lift the sources above 2 first so that dup2 onto 0-2 cannot clobber one still needed
    given = [(target, fd) for target, fd in enumerate((stdio.stdin, stdio.stdout, stdio.stderr)) if fd is not None]
    high = [(target, fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)) for target, fd in given]
    for target, fd in high:
        os.dup2(fd, target)
        os.close(fd)


def _fix_stdio_owner(uid: int, gid: int) -> None:
    """Let a non-root process reopen its own stdio (/dev/stdout): hand it the pipes and the pty made
    for it. Only those: a file, socket or terminal of the caller is never chowned (podpy's callers
    give the container pipes of their own; anything else is the caller's and stays as it is)."""
    for fd in (0, 1, 2):
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        ours = stat.S_ISFIFO(st.st_mode) or (stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) in _PTS_MAJORS)
        if ours and st.st_uid != uid:
            try:
                os.fchown(fd, uid, gid)
            except OSError:
                pass  # not ours to give: the kernel decides when the process reopens it


def set_rlimits(rlimits: list[dict[str, Any]]) -> None:
    for rl in rlimits:
        name = rl["type"]
        num = getattr(resource, name, None)
        if num is None:
            raise PodpyError(f"unknown rlimit {name}")
        try:
            resource.setrlimit(num, (rl["soft"], rl["hard"]))
        except (OSError, ValueError) as e:
            raise PodpyError(f"setrlimit {name} to {rl['soft']}:{rl['hard']}: {e} "
                             "(raising a limit needs CAP_SYS_RESOURCE)") from None  # fmt: skip


def _setgroups_allowed() -> bool:
    try:
        return Path("/proc/self/setgroups").read_text().strip() != "deny"
    except OSError:
        return True


def switch_user(user: dict[str, Any], caps: dict[str, list[str]] | None) -> None:
    """Bounding set, then groups/gid/uid keeping the permitted set, then capset + ambient.
    Without process.capabilities the capability sets are left as the uid switch makes them."""
    if caps is not None:
        capabilities.drop_bounding(capabilities.mask(caps.get("bounding", capabilities.CAP_NAMES)))
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    sc.prctl(sc.PR_SET_KEEPCAPS, 1)
    try:
        if not user.get("keepGroups") and _setgroups_allowed():  # keepGroups: --group-add keep-groups
            os.setgroups([int(g) for g in user.get("additionalGids") or []])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as e:
        why = "not mapped in the user namespace" if e.errno == errno.EINVAL else e.strerror
        raise PodpyError(f"setting user {uid}:{gid}: {why}") from None
    sc.prctl(sc.PR_SET_KEEPCAPS, 0)
    if caps is not None:
        capabilities.apply(caps)


def _cloexec_from(low: int) -> None:
    """Nothing but 0-2 (and fds marked for us) may leak into the container."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd >= low:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass


def _reset_signals() -> None:
    """Python ignores SIGPIPE/SIGXFSZ and the caller may block some: exec with defaults."""
    for sig in signal.valid_signals():
        try:
            if signal.getsignal(sig) is signal.SIG_IGN:
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def lookup(arg0: str, env: list[str]) -> str:
    """exec.LookPath over the container's PATH (its env, not ours)."""
    if "/" in arg0:
        return arg0
    path = next((e[5:] for e in env if e.startswith("PATH=")), DEFAULT_PATH)
    denied = None
    for d in path.split(":"):
        cand = os.path.join(d or ".", arg0)
        try:
            if not stat.S_ISREG(os.stat(cand).st_mode):
                continue
        except OSError:
            continue
        if os.access(cand, os.X_OK):
            return cand
        denied = cand
    if denied:
        raise CannotInvoke(f"{denied}: permission denied: OCI permission denied")
    raise CommandNotFound(f"{arg0}: executable file `{arg0}` not found in $PATH: No such file or directory")


def exec_error(path: str, err: int) -> PodpyError:
    """A failed execve as Podman reports it (127 not found, 126 cannot invoke)."""
    if err == errno.ENOENT:
        return CommandNotFound(f"{path}: no such file or directory")
    if err == errno.EACCES:
        return CannotInvoke(f"{path}: permission denied: OCI permission denied")
    return CannotInvoke(f"exec {path}: {os.strerror(err)}")


def execute(args: list[str], env: list[str], chan: Channel | None = None, preserve: int = 0) -> NoReturn:
    """execve the command; with the sync channel, through the sealed stub (execstub.py), which
    reports its own execve failure over the channel."""
    if not args:
        raise PodpyError("no command specified in process.args")
    path = lookup(args[0], env)
    environ = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    if chan is not None:
        chan.send(t="exec", path=path)
        execstub.exec_via_stub(path, args, environ, chan.msg_w, execstub.STUB_FD + preserve)
    try:
        os.execve(path, args, environ)
    except OSError as e:
        raise exec_error(path, e.errno) from None


def _rearm_pdeathsig(orphaned: Callable[[], bool]) -> None:
    """A uid change clears the parent-death signal: arm it again, then make sure the parent did
    not die in between (the signal would never come)."""
    sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if orphaned():
        os._exit(1)


def _check_cwd(cwd: str) -> None:
    """The cwd must be inside the root (runc does the same since CVE-2024-21626): a path through a
    leaked fd or a magic link ends outside it, and getcwd(2) then has no path from the root."""
    try:
        here = os.getcwd()
    except OSError:
        here = ""
    if not here.startswith("/"):
        raise PodpyError(f"chdir to cwd ({cwd!r}) set in config.json failed: "
                         "the working directory is outside the container root")  # fmt: skip


def finalize(
    proc: dict[str, Any],
    stdio: Stdio,
    pty_slave: int | None,
    create_cwd: bool,
    chan: Channel,
    seccomp: Filter | None = None,
) -> NoReturn:
    """Everything after the namespaces and the root are in place, ending in execve (through the
    sealed stub). `chan` is the sync channel to the caller."""
    nnp = bool(proc.get("noNewPrivileges"))
    arrange_stdio(stdio, pty_slave)
    user = proc.get("user") or {}
    if int(user.get("uid", 0)) != 0:
        _fix_stdio_owner(int(user.get("uid", 0)), int(user.get("gid", 0)))
    if proc.get("oomScoreAdj") is not None:
        Path("/proc/self/oom_score_adj").write_text(str(proc["oomScoreAdj"]))
    set_rlimits(proc.get("rlimits") or [])
    cwd = proc.get("cwd") or "/"
    try:
        if create_cwd:
            os.makedirs(cwd, mode=0o755, exist_ok=True)
        if not nnp:  # seccomp: without no_new_privs loading needs CAP_SYS_ADMIN: before caps drop (runc)
            load_seccomp(seccomp)
        switch_user(user, proc.get("capabilities"))
        _rearm_pdeathsig(chan.parent_gone)
        if nnp:
            sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
        os.umask(int(user["umask"]) if user.get("umask") is not None else 0o022)  # not the caller's
        os.chdir(cwd)
    except OSError as e:
        if e.filename is None or cwd not in str(e.filename):
            raise
        raise PodpyError(f"chdir to cwd ({cwd!r}) set in config.json failed: {e.strerror.lower()}") from None
    _check_cwd(cwd)
    _cloexec_from(3 + stdio.preserve)  # --preserve-fds: 3..3+N-1 stay open
    _reset_signals()
    if nnp:  # seccomp: as late as possible, after podpy's own setup
        load_seccomp(seccomp)
    if proc.get("personality"):  # last: podpy's own code reads uname(2), which LINUX32 changes
        sc.personality(proc["personality"])
    execute(list(proc.get("args") or []), list(proc.get("env") or []), chan, stdio.preserve)
