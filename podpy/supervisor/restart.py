"""Restart policies: what the policy says after an exit (the engine asks, under the container lock),
and the supervisor's back-off before it starts the container again.

Docker's rules: `no`, `always`, `unless-stopped` (not after a user stop or kill), `on-failure[:N]`
(non-zero exits, at most N restarts, unlimited when N is 0). Back-off: 100 ms doubling to at most a
minute, back to 100 ms once a run lasted 10 s. A user `stop` cancels any restart.
"""

from __future__ import annotations

import time
from collections import namedtuple

from podpy.errors import InvalidArgument

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from podpy.supervisor.monitor import Supervisor

NO, ALWAYS, UNLESS_STOPPED, ON_FAILURE = "no", "always", "unless-stopped", "on-failure"
POLICIES = (NO, ALWAYS, UNLESS_STOPPED, ON_FAILURE)
FIRST_DELAY, MAX_DELAY, RESET_AFTER = 0.1, 60.0, 10.0


class RestartPolicy(namedtuple("RestartPolicy", ("name", "max_retries"), defaults=(0,))):  # noqa: PYI024
    """A typing.NamedTuple's behaviour (name, max_retries=0) without importing typing (~2 ms on inspect/rm)."""

    __slots__ = ()
    name: str
    max_retries: int

    @property
    def is_none(self) -> bool:
        return self.name == NO

    def __str__(self) -> str:
        return f"{self.name}:{self.max_retries}" if self.max_retries else self.name


def parse_policy(text: str | None) -> RestartPolicy:
    """`--restart` as Docker validates it ("" is `no`)."""
    if not text:
        return RestartPolicy(NO)
    name, colon, count = text.partition(":")
    if colon and not name:
        raise InvalidArgument("invalid restart policy format: no policy provided before colon")
    retries = 0
    if count:
        try:
            retries = int(count)
        except ValueError:
            raise InvalidArgument("invalid restart policy format: maximum retry count must be an integer") from None
    if name not in POLICIES:
        raise InvalidArgument(f"invalid restart policy: unknown policy '{name}'; use one of "
                              "'no', 'always', 'on-failure', or 'unless-stopped'")  # fmt: skip
    if name != ON_FAILURE and retries:
        raise InvalidArgument("invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if retries < 0:
        raise InvalidArgument("invalid restart policy: maximum retry count cannot be negative")
    return RestartPolicy(name, retries)


def should_restart(policy: RestartPolicy, exit_code: int, restarts: int, manually_stopped: bool,
                   canceled: bool) -> bool:  # fmt: skip
    """Whether an exit leads to another run. `canceled`: stopped (or killed) by the user."""
    if canceled or policy.is_none:
        return False
    if policy.name == ALWAYS:
        return True
    if policy.name == UNLESS_STOPPED:
        return not manually_stopped
    return exit_code != 0 and (policy.max_retries == 0 or restarts < policy.max_retries)


def next_delay(previous: float, ran_for: float) -> float:
    """The wait before the next start: doubles from 100 ms, reset after a run of 10 s or more."""
    if ran_for >= RESET_AFTER or previous <= 0:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


class Backoff:
    """The supervisor's wait between an exit and the next start. The loop keeps serving meanwhile
    (attach clients come and go, stray children are reaped); a user `stop` ends the wait by
    recording the container exited and killing this supervisor, which holds nothing by then."""

    def __init__(self) -> None:
        self.delay = 0.0

    def wait(self, sup: Supervisor, ran_for: float) -> None:
        self.delay = next_delay(self.delay, ran_for)
        deadline = time.monotonic() + self.delay
        while (left := deadline - time.monotonic()) > 0:
            for fd, ev in sup.poll.poll(left * 1000):
                handler = sup.handlers.get(fd)
                if handler is not None:
                    handler(fd, ev)
