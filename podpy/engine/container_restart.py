"""Restart policies, engine side: the record's `--restart`, the decision at each exit (the
supervisor's `exited` hook, container lock held), the relaunch after the back-off, and what
stop/kill/rm do to a container that has a policy.

While it waits out a back-off a container is `restarting`: nothing of it runs but its supervisor,
which takes the container lock before starting it again. So whoever holds the lock and sees
`restarting` may end that supervisor and record the container exited: `stop` wins over `always`.
"""

from __future__ import annotations

from podpy.engine import container_record as cr
from podpy.errors import InvalidArgument, NoSuchContainer
from podpy.supervisor.restart import RestartPolicy, parse_policy, should_restart

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.container_config import CreateOptions
    from podpy.engine.containers import ContainerService


def policy_of(rec: cr.ContainerRecord) -> RestartPolicy:
    try:
        return parse_policy(rec.restart_policy)
    except InvalidArgument:
        return RestartPolicy("no")  # written by a newer podpy: never restart on a guess


def policy_from_flags(opts: CreateOptions) -> str:
    """The record's restart_policy ("" for no); --rm with a policy is refused as Docker does."""
    policy = parse_policy(opts.restart)
    if opts.auto_remove and not policy.is_none:
        raise InvalidArgument("Conflicting options: --restart and --rm")
    return "" if policy.is_none else str(policy)


def host_config_policy(rec: cr.ContainerRecord) -> dict[str, Any]:
    p = policy_of(rec)
    return {"Name": p.name, "MaximumRetryCount": p.max_retries}


def on_exit(rec: cr.ContainerRecord, exit_code: int) -> bool:
    """In `exited` (lock held, exit recorded in `rec`): mark it restarting when the policy says so."""
    st = rec.state
    if not should_restart(policy_of(rec), exit_code, st.restart_count, st.manually_stopped, st.restart_canceled):
        return False
    st.status = cr.RESTARTING
    st.restart_count += 1
    return True


def relaunch(svc: ContainerService, cid: str, premount: Any) -> int | None:
    """After the back-off: the container lock (for the supervisor to start it with) if the restart
    still stands; None when the container was removed or the restart called off meanwhile."""
    lock = svc.lock(cid)
    try:
        lock.__enter__()
    except NoSuchContainer:
        return None
    try:
        rec = cr.load(svc.cdir(cid))
        if rec.state.status != cr.RESTARTING:
            return None
        if rec.state.restart_canceled:
            rec.state.status = cr.EXITED
            cr.save(svc.cdir(cid), rec)
            return None
        premount(rec)
        return lock.handover()
    finally:
        lock.close()  # a no-op once handed over


def before_signal(svc: ContainerService, rec: cr.ContainerRecord, cancel: bool) -> cr.ContainerRecord:
    """stop (cancel) and kill (cancel for SIGKILL or the stop signal, as Docker's ExitOnNext) of a
    container with a policy: remember the user did it before the signal goes, so that its exit is
    not restarted; a container waiting to restart is simply recorded exited. Returns it fresh."""
    if policy_of(rec).is_none:
        return rec  # the common case: no extra lock, no extra write
    with svc.lock(rec.id):
        fresh = cr.load(svc.cdir(rec.id))
        cr.reconcile(fresh)
        if fresh.state.status == cr.RESTARTING and cancel:
            end_restarting(svc, fresh)
        else:
            mark_stopped(svc, fresh, cancel)
    return fresh


def mark_stopped(svc: ContainerService, rec: cr.ContainerRecord, cancel: bool) -> None:
    """(Lock held.) The user stops or kills it: its next exit is not restarted (`cancel`) or, for
    unless-stopped, not at all."""
    st = rec.state
    if policy_of(rec).is_none or st.status not in (cr.RUNNING, cr.RESTARTING):
        return
    st.manually_stopped = True
    st.restart_canceled = st.restart_canceled or cancel
    cr.save(svc.cdir(rec.id), rec, durable=False)


def end_restarting(svc: ContainerService, rec: cr.ContainerRecord) -> None:
    """(Lock held.) A restarting container's supervisor is waiting out the back-off or for this very
    lock, and holds nothing else: end it and record the container exited with its last exit code."""
    from podpy.engine.container_procs import kill_pid, wait_pid

    st = rec.state
    kill_pid(st.supervisor_pid, st.supervisor_start)
    wait_pid(st.supervisor_pid, st.supervisor_start, 5.0)
    st.status, st.manually_stopped, st.restart_canceled = cr.EXITED, True, True
    cr.save(svc.cdir(rec.id), rec)
