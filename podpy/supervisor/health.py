"""Health checks, run by the supervisor: no daemon and no timers outside its poll loop.

The runner is a timer on the loop (`due()`/`tick()`): every interval it execs the probe into the
container through the runtime (the probe becomes the supervisor's child, reaped by the loop's
SIGCHLD handler and handed to `reaped()`), collects its output from a pipe, kills it at the timeout,
and gives each result to a recorder that the engine provides (it persists State.Health).

`apply_result` is Docker's state machine, shared with `healthcheck run`.
"""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import time

from podpy.record import field, record
from podpy.supervisor.errlog import log_exception
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up (~3 ms on create)
if TYPE_CHECKING:
    from typing import Any, Protocol

    from podpy.supervisor.monitor import Supervisor
else:
    Protocol = object  # Recorder is a structural type for checkers only

STARTING, HEALTHY, UNHEALTHY, NONE = "starting", "healthy", "unhealthy", "none"
MAX_LOG = 5  # Docker keeps the last 5 results
MAX_OUTPUT = 4096  # and the first 4 KiB of each probe's output


@record(frozen=True)
class ProbeResult:
    """One health check run, as State.Health.Log keeps it."""

    start: str
    end: str
    exit_code: int
    output: str

    def to_json(self) -> dict[str, Any]:
        return {"Start": self.start, "End": self.end, "ExitCode": self.exit_code, "Output": self.output}


class Recorder(Protocol):
    """Where results go (the engine's State.Health document)."""

    def reset(self) -> None: ...

    def record(self, result: ProbeResult, since_start: float) -> str: ...

    def active(self) -> bool:
        """False while the container is paused: no probes then (as Docker)."""
        ...


@record(frozen=True)
class HealthSpec:
    """An effective health check: the probe's argv and its timings in seconds."""

    argv: tuple[str, ...]
    interval: float
    timeout: float
    start_period: float
    retries: int
    recorder: Any = None  # a Recorder; Any so that the spec stays a plain value
    on_failure: str = ""  # --health-on-failure: "" (none), kill, stop or restart, once unhealthy


def apply_result(doc: dict[str, Any], result: ProbeResult, retries: int, in_start_period: bool) -> dict[str, Any]:
    """Docker's rules: success resets the streak (healthy); a failure counts unless the container is
    still starting within its start period, and `retries` failures in a row make it unhealthy."""
    status = doc.get("Status") or STARTING
    streak = int(doc.get("FailingStreak") or 0)
    if result.exit_code == 0:
        status, streak = HEALTHY, 0
    elif not (status == STARTING and in_start_period):
        streak += 1
        if streak >= retries:
            status = UNHEALTHY
    log = [*(doc.get("Log") or []), result.to_json()][-MAX_LOG:]
    return {"Status": status, "FailingStreak": streak, "Log": log}


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() (1s, 500ms, 1m30s, 1h0m0s): Docker prints timeouts this way."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return _trim(ns / size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _trim(rest / 1e9) + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    return f"{minutes}m{secs}" if minutes else secs


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


@record
class _Probe:
    """A health check process that is running."""

    pid: int
    fd: int | None
    start: str
    began: float  # wall clock, for the start period
    deadline: float  # monotonic
    output: bytearray = field(default_factory=bytearray)


class HealthRunner:
    """One container run's health checks; a new runner (status `starting`) for every (re)start."""

    def __init__(self, sup: Supervisor, spec: HealthSpec) -> None:
        self.sup = sup
        self.spec = spec
        self.started = time.time()
        self.next_at = time.monotonic() + spec.interval  # Docker: the first probe after one interval
        self.probe: _Probe | None = None
        self.process = json.loads((sup.cfg.bundle / "config.json").read_bytes())["process"]
        self.acted = False
        self._safely(spec.recorder.reset)

    def due(self) -> float | None:
        """When the loop must call tick() (monotonic), None when nothing is pending."""
        if self.probe is not None:
            return self.probe.deadline
        return None if self.sup.status is not None else self.next_at

    def tick(self) -> None:
        now = time.monotonic()
        if self.probe is not None:
            if now >= self.probe.deadline:
                self._finish(-1, f"Health check exceeded timeout ({go_duration(self.spec.timeout)})", kill=True)
        elif now >= self.next_at and self.sup.status is None:
            if self._active():
                self._start()
            else:
                self.next_at = now + self.spec.interval

    def reaped(self, pid: int, status: int) -> bool:
        """The loop reaped `pid`: True if it was our probe (now recorded)."""
        if self.probe is None or pid != self.probe.pid:
            return False
        code = os.waitstatus_to_exitcode(status)
        self._finish(128 - code if code < 0 else code, None, kill=False)
        return True

    def stop(self) -> None:
        """The container is gone: a probe still running is killed and not recorded."""
        if self.probe is not None:
            self._kill_and_close(self.probe)
            self.probe = None

    # ---- one probe
    def _start(self) -> None:
        from podpy.runtime.base import Stdio  # lazy: the runtime is only loaded in the supervisor

        r, w = os.pipe2(os.O_CLOEXEC)
        null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        start, began = now_rfc3339(), time.time()
        proc = {**self.process, "args": list(self.spec.argv), "terminal": False}
        try:
            started = self.sup.runtime.exec(self.sup.cfg.cid, self.sup.init_pid, proc,
                                             Stdio(stdin=null, stdout=w, stderr=w), self.sup.cfg.run_dir)  # fmt: skip
        except Exception as e:  # noqa: BLE001 - a probe that cannot start is a failed probe (Docker: -1)
            os.close(r)
            self.next_at = time.monotonic() + self.spec.interval
            self._record(ProbeResult(start, now_rfc3339(), -1, str(e)), began)
            return
        finally:
            os.close(w)
            os.close(null)
        os.set_blocking(r, False)
        self.probe = _Probe(started.pid, r, start, began, time.monotonic() + self.spec.timeout)
        self.sup.watch(r, select.POLLIN, self._on_output)

    def _on_output(self, fd: int, _ev: int) -> None:
        if self.probe is None or self.probe.fd != fd or not _drain(fd, self.probe.output):
            return
        self.sup.unwatch(fd)  # EOF: the probe (and whatever it started) closed the pipe
        os.close(fd)
        self.probe.fd = None

    def _finish(self, code: int, message: str | None, kill: bool) -> None:
        probe, self.probe = self.probe, None
        assert probe is not None
        if probe.fd is not None:
            _drain(probe.fd, probe.output)
        if kill:
            self._kill_and_close(probe)
        elif probe.fd is not None:
            self.sup.unwatch(probe.fd)
            os.close(probe.fd)
        output = message if message is not None else probe.output[:MAX_OUTPUT].decode(errors="replace")
        self.next_at = time.monotonic() + self.spec.interval  # Docker: the interval runs from the end
        self._record(ProbeResult(probe.start, now_rfc3339(), code, output), probe.began)

    def _kill_and_close(self, probe: _Probe) -> None:
        try:
            os.kill(probe.pid, signal.SIGKILL)  # not reaped yet, so the pid is still ours
        except ProcessLookupError:
            pass
        if probe.fd is not None:
            self.sup.unwatch(probe.fd)
            os.close(probe.fd)
            probe.fd = None

    def _active(self) -> bool:
        try:
            return bool(self.spec.recorder.active())
        except Exception:  # noqa: BLE001 - removed meanwhile: the loop learns it from the exit
            return False

    def _record(self, result: ProbeResult, began: float) -> None:
        status: list[str] = []
        self._safely(lambda: status.append(self.spec.recorder.record(result, began - self.started)))
        if status == [UNHEALTHY] and self.spec.on_failure not in ("", "none") and not self.acted:
            self.acted = True  # once per run: the action ends it (or restarts it)
            self._safely(lambda: self.sup.unhealthy(self.spec.on_failure))

    def _safely(self, fn: Any) -> None:
        """A store problem (the container removed meanwhile) must not bring the supervisor down."""
        try:
            fn()
        except Exception:  # noqa: BLE001
            log_exception(self.sup.cfg.run_dir)


def _drain(fd: int, buf: bytearray) -> bool:
    """Read what the pipe holds (keeping the first MAX_OUTPUT bytes); True at end of file."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            return True
        if not data:
            return True
        if len(buf) < MAX_OUTPUT:
            buf += data[: MAX_OUTPUT - len(buf)]
