"""Health checks, engine side: `--health-*` flags merged with the image's HEALTHCHECK into
Config.Healthcheck (Docker's shape, durations in nanoseconds), the State.Health document
(containers/<id>/health.json, rewritten atomically under the container lock by the supervisor and
by `healthcheck run`), `healthcheck run` itself, and what inspect and ps show."""

from __future__ import annotations

import os
import re
import select
import signal
import time

from podpy.engine import container_record as cr
from podpy.engine import events as ev
from podpy.errors import ContainerState, InvalidArgument, NoSuchContainer, PodpyError
from podpy.state import atomic_write_json, read_json
from podpy.supervisor.health import (
    HEALTHY,
    NONE,
    STARTING,
    HealthSpec,
    ProbeResult,
    apply_result,
    go_duration,
)
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.container_config import CreateOptions
    from podpy.engine.containers import ContainerService

NS = 1_000_000_000
DEFAULT_INTERVAL = DEFAULT_TIMEOUT = 30 * NS
DEFAULT_RETRIES = 3
MIN_DURATION = 1_000_000  # Docker refuses anything between 0 and 1 ms
HEALTH_FILE = "health.json"
FILTER_VALUES = ("starting", "healthy", "unhealthy", "none")
__all__ = ["HEALTHY", "NONE", "STARTING", "healthcheck_config", "run_check", "spec_for", "status_of"]
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": NS, "m": 60 * NS, "h": 3600 * NS}
_PART = re.compile(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)")
_FIELDS = (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start_period"))


# ---- configuration
def parse_duration(text: str, flag: str) -> int:
    """A Go duration (1s, 500ms, 1m30s, 0) in nanoseconds, refused as Docker's flag parser does."""
    bad = InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"')
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body == "0":
        return 0
    parts = _PART.findall(body)
    if not body or "".join(n + u for n, u in parts) != body or any(n in ("", ".") for n, _ in parts):
        raise bad
    return sign * round(sum(float(n) * _UNITS[u] for n, u in parts))


def _flags_config(opts: CreateOptions) -> dict[str, Any] | None:
    """Docker's client-side rules for the health flags (None: no flag given)."""
    durations = {key: getattr(opts, f"health_{attr}") for key, attr in _FIELDS}
    given = opts.health_cmd is not None or opts.health_retries is not None or any(
        v is not None for v in durations.values()
    )
    if opts.no_healthcheck:
        if given:
            raise InvalidArgument("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not given:
        return None
    conf: dict[str, Any] = {"Test": _test_from_flag(opts.health_cmd) if opts.health_cmd else []}
    for key, attr in _FIELDS:
        flag = "--health-" + attr.replace("_", "-")
        value = parse_duration(durations[key], flag) if durations[key] is not None else 0
        if value < 0:
            raise InvalidArgument(f"{flag} cannot be negative")
        if 0 < value < MIN_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
        conf[key] = value
    if (opts.health_retries or 0) < 0:
        raise InvalidArgument("--health-retries cannot be negative")
    conf["Retries"] = opts.health_retries or 0
    return conf


def _test_from_flag(cmd: str) -> list[str]:
    """A shell string runs through /bin/sh -c (CMD-SHELL); a JSON array is exec'd as is (CMD), as
    Podman reads it; `none` disables the image's check."""
    if cmd.strip().lower() == "none":
        return ["NONE"]
    if cmd.lstrip().startswith("["):
        import json

        try:
            argv = json.loads(cmd)
        except ValueError:
            raise InvalidArgument(f"invalid --health-cmd {cmd!r}: not a JSON array") from None
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise InvalidArgument(f"invalid --health-cmd {cmd!r}: a JSON array of strings")
        return argv if argv[0] in ("CMD", "CMD-SHELL", "NONE") else ["CMD", *argv]
    return ["CMD-SHELL", cmd]


def healthcheck_config(opts: CreateOptions, image_cfg: dict[str, Any]) -> dict[str, Any] | None:
    """Config.Healthcheck: the flags, their unset fields filled from the image's (Docker's merge)."""
    user = _flags_config(opts)
    image = (image_cfg or {}).get("Healthcheck") or None
    if user is None:
        return _compact(dict(image)) if image else None
    if image:
        for key in ("Test", "Interval", "Timeout", "StartPeriod", "Retries"):
            if not user.get(key):
                user[key] = image.get(key) or user.get(key)
    return _compact(user)


def _compact(conf: dict[str, Any]) -> dict[str, Any]:
    """Docker omits zero fields (omitempty)."""
    return {k: v for k, v in conf.items() if v or k == "Test"}


def probe_argv(test: list[str] | None) -> tuple[str, ...] | None:
    """The command a Test runs; None when there is no check (empty, NONE, or unknown kind)."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD" and len(test) > 1:
        return tuple(test[1:])
    if test[0] == "CMD-SHELL" and len(test) > 1:
        return ("/bin/sh", "-c", " ".join(test[1:]))
    return None


def spec_for(svc: ContainerService, rec: cr.ContainerRecord) -> HealthSpec | None:
    """The effective check of a container (Docker's defaults filled in), None without one."""
    hc = rec.healthcheck or {}
    argv = probe_argv(hc.get("Test"))
    if argv is None:
        return None
    return HealthSpec(argv=argv, interval=(hc.get("Interval") or DEFAULT_INTERVAL) / NS,
                      timeout=(hc.get("Timeout") or DEFAULT_TIMEOUT) / NS,
                      start_period=(hc.get("StartPeriod") or 0) / NS,
                      retries=hc.get("Retries") or DEFAULT_RETRIES,
                      recorder=StateFile(svc, rec.id, hc.get("Retries") or DEFAULT_RETRIES,
                                         (hc.get("StartPeriod") or 0) / NS),
                      on_failure=rec.spec.get("health_on_failure") or "")  # fmt: skip


# ---- State.Health
class StateFile:
    """containers/<id>/health.json. Under the container lock, which fails once the container is
    removed: a late result never brings a removed container's directory back."""

    def __init__(self, svc: ContainerService, cid: str, retries: int, start_period: float) -> None:
        self.svc, self.cid = svc, cid
        self.retries, self.start_period = retries, start_period

    @property
    def path(self) -> Any:
        return self.svc.cdir(self.cid) / HEALTH_FILE

    def reset(self) -> None:
        """A new run starts over (the log of earlier results stays)."""
        with self.svc.lock(self.cid):
            doc = load_doc(self.path) or {}
            self._write({"Status": STARTING, "FailingStreak": 0, "Log": doc.get("Log") or []})

    def record(self, result: ProbeResult, since_start: float) -> str:
        with self.svc.lock(self.cid):
            doc = apply_result(load_doc(self.path) or {}, result, self.retries, since_start < self.start_period)
            self._write(doc)
            ev.container(self.svc, cr.load(self.svc.cdir(self.cid)), "health_status", health=str(doc["Status"]))
        return str(doc["Status"])

    def active(self) -> bool:
        return not cr.load(self.svc.cdir(self.cid)).state.paused

    def _write(self, doc: dict[str, Any]) -> None:
        atomic_write_json(self.path, doc, durable=False)


def load_doc(path: Any) -> dict[str, Any] | None:
    doc = read_json(path, default={})
    doc.pop("schemaVersion", None)
    return doc or None


def health_doc(svc: ContainerService, rec: cr.ContainerRecord) -> dict[str, Any] | None:
    """inspect's State.Health: only for a container with a check that has been started."""
    if probe_argv((rec.healthcheck or {}).get("Test")) is None:
        return None
    return load_doc(svc.cdir(rec.id) / HEALTH_FILE)


def status_of(svc: ContainerService, rec: cr.ContainerRecord) -> str:
    """starting|healthy|unhealthy, or none (no check, or never started)."""
    if probe_argv((rec.healthcheck or {}).get("Test")) is None:
        return NONE
    doc = load_doc(svc.cdir(rec.id) / HEALTH_FILE)
    if doc is None:  # started a moment ago, before its supervisor wrote the document
        return STARTING if rec.state.status == cr.RUNNING else NONE
    return str(doc.get("Status") or STARTING)


def filter_health(svc: ContainerService, recs: list[cr.ContainerRecord], wanted: list[str]) -> list[cr.ContainerRecord]:
    """ps --filter health=...: values OR together."""
    for w in wanted:
        if w not in FILTER_VALUES:
            raise InvalidArgument(f"Unrecognised filter value for health: {w}")
    return [r for r in recs if status_of(svc, r) in wanted]


def health_values(filters: list[str]) -> list[str]:
    """The values of `health=` filters (ps handles them here: they need each container's document)."""
    return [v for k, _, v in (f.partition("=") for f in filters) if k.strip().lower() == "health"]


# ---- healthcheck run
def run_check(svc: ContainerService, ref: str) -> str:
    """Run the container's check once from this process, record it, and return the new status."""
    rec = svc.get(ref)
    if rec.state.status != cr.RUNNING or rec.state.paused:
        what = "paused" if rec.state.status == cr.RUNNING else "not running"
        raise ContainerState(f"container {rec.id} is {what}: container state improper")
    spec = spec_for(svc, rec)
    if spec is None:
        raise PodpyError(f"container {rec.id} has no defined healthcheck")
    from podpy.timeutil import parse_time

    began = time.time()
    result = _probe(svc, rec, spec)
    try:
        return spec.recorder.record(result, began - parse_time(rec.state.started_at))
    except NoSuchContainer:
        raise ContainerState(f"container {rec.id} was removed during its health check") from None


def _probe(svc: ContainerService, rec: cr.ContainerRecord, spec: HealthSpec) -> ProbeResult:
    from podpy.engine.container_exec import ExecOptions, exec_start
    from podpy.runtime.base import Stdio

    r, w = os.pipe2(os.O_CLOEXEC)
    null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    start = now_rfc3339()
    try:
        started = exec_start(svc, rec.id, ExecOptions(list(spec.argv)), Stdio(stdin=null, stdout=w, stderr=w))
    except PodpyError as e:
        os.close(r)
        return ProbeResult(start, now_rfc3339(), -1, str(e))
    finally:
        os.close(w)
        os.close(null)
    try:
        code, output = _collect(r, started.pid, spec.timeout)
    finally:
        os.close(r)
    if code is None:
        output = f"Health check exceeded timeout ({go_duration(spec.timeout)})"
    return ProbeResult(start, now_rfc3339(), -1 if code is None else code, output)


def _collect(r: int, pid: int, timeout: float) -> tuple[int | None, str]:
    """The probe's exit code and first 4 KiB of output; None (killed) when it outlives `timeout`."""
    from podpy.supervisor.health import MAX_OUTPUT

    deadline = time.monotonic() + timeout
    buf, eof = bytearray(), False
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None, ""
            ready, _, _ = select.select([pidfd] + ([] if eof else [r]), [], [], left)
            if r in ready:
                data = os.read(r, 65536)
                eof = not data
                buf += data[: max(0, MAX_OUTPUT - len(buf))]
            if pidfd in ready:
                break
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    os.set_blocking(r, False)
    try:
        buf += os.read(r, 65536)[: max(0, MAX_OUTPUT - len(buf))]  # what it wrote just before exiting
    except (BlockingIOError, OSError):
        pass
    code = os.waitstatus_to_exitcode(status)
    return (128 - code if code < 0 else code), buf.decode(errors="replace")
