"""The image-config side of a build: pure functions from (config, expanded instruction) to a new config,
with Docker's rules (ENTRYPOINT drops an inherited CMD, ONBUILD is not inherited, EXPOSE normalised
to `port/proto`, HEALTHCHECK stored with nanosecond durations) and its history entries.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from podpy.build import instructions as ins
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.build.history import command_of, history_entry
from podpy.record import field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def scratch_config(os_: str = "linux", arch: str = "amd64", variant: str = "") -> dict:
    """The config a `FROM scratch` stage starts from (BuildKit gives it a default PATH)."""
    doc: dict = {"architecture": arch, "os": os_, "config": {"Env": [DEFAULT_PATH]},
                 "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
    if variant:
        doc["variant"] = variant
    return doc


def add_env(env: list[str], key: str, value: str) -> list[str]:
    """Replace `key` in place, or append it (Docker keeps the first position of a variable)."""
    out = list(env)
    for i, item in enumerate(out):
        if item.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


def expose_ports(specs: list[str]) -> list[str]:
    """`80`, `53/udp`, `8000-8002/tcp` → `80/tcp`, `53/udp`, `8000/tcp` ...; ValueError when invalid."""
    out: list[str] = []
    for spec in specs:
        port, _, proto = spec.partition("/")
        proto = (proto or "tcp").lower()
        if proto not in ("tcp", "udp", "sctp"):
            raise ValueError(f"invalid proto: {proto}")
        low, _, high = port.partition("-")
        try:
            start, end = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"invalid containerPort: {port}") from None
        if not 0 < start <= end <= 65535:
            raise ValueError(f"invalid containerPort: {port}")
        out += [f"{p}/{proto}" for p in range(start, end + 1)]
    return out


def check_signal(sig: str) -> str:
    """A STOPSIGNAL value Docker accepts: a number, or a name with or without SIG."""
    if sig.isdecimal():
        if not 0 < int(sig) < 65:
            raise ValueError(f"invalid signal: {sig}")
        return sig
    name = sig.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name.startswith("SIGRTMIN") or name.startswith("SIGRTMAX") or hasattr(signal.Signals, name):
        return sig
    raise ValueError(f"invalid signal: {sig}")


def _healthcheck(hc: ins.Healthcheck) -> dict:
    out: dict = {"Test": list(hc.test)}
    for key, value in (("Interval", hc.interval), ("Timeout", hc.timeout), ("StartPeriod", hc.start_period),
                       ("StartInterval", hc.start_interval), ("Retries", hc.retries)):
        if value:
            out[key] = value
    return out


@record(lean_init=True)
class StageConfig:
    """The image config of one stage as it builds; `apply` each expanded instruction in order."""

    doc: dict
    cmd_set: bool = False  # a CMD in this stage survives a later ENTRYPOINT; an inherited one does not
    triggers: list[str] = field(default_factory=list)  # the base image's ONBUILD, to run first

    @classmethod
    def from_base(cls, base: dict) -> StageConfig:
        doc = _json_copy(base)
        cfg = doc.setdefault("config", {})
        triggers = list(cfg.pop("OnBuild", None) or [])
        doc.setdefault("history", [])
        doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        return cls(doc, triggers=triggers)

    @property
    def config(self) -> dict:
        return self.doc["config"]

    def apply(self, inst: ins.Instruction, scope: StageScope, created: str | None = None) -> None:
        """Change the config for `inst` (call after scope.expand) and append its history entry."""
        fn = _APPLY.get(type(inst))
        if fn is not None:
            try:
                fn(self, inst, scope)
            except ValueError as e:
                raise BuildError(str(e), file=scope.file, line=inst.line, instruction=inst.name) from None
        self.doc["history"].append(history_entry(inst, scope, created))

    def add_layer(self, diff_id: str) -> None:
        self.doc["rootfs"]["diff_ids"].append(diff_id)


def _env(sc: StageConfig, inst: ins.Env, scope: StageScope) -> None:
    env = sc.config.get("Env") or []
    for k, v in inst.pairs:
        env = add_env(env, k, v)
    sc.config["Env"] = env


def _labels(sc: StageConfig, inst: ins.Label, scope: StageScope) -> None:
    labels = dict(sc.config.get("Labels") or {})
    labels.update(inst.pairs)
    sc.config["Labels"] = labels


def _set(key: str, value: Callable) -> Callable:
    def apply(sc: StageConfig, inst: ins.Instruction, scope: StageScope) -> None:
        sc.config[key] = value(inst, scope)

    return apply


def _merge(key: str, items: Callable) -> Callable:
    def apply(sc: StageConfig, inst: ins.Instruction, scope: StageScope) -> None:
        merged = dict(sc.config.get(key) or {})
        merged.update({item: {} for item in items(inst)})
        sc.config[key] = merged

    return apply


def _cmd(sc: StageConfig, inst: ins.Cmd, scope: StageScope) -> None:
    sc.config["Cmd"] = command_of(inst, scope)
    sc.cmd_set = True


def _entrypoint(sc: StageConfig, inst: ins.Entrypoint, scope: StageScope) -> None:
    sc.config["Entrypoint"] = command_of(inst, scope)
    if not sc.cmd_set:
        sc.config["Cmd"] = None


def _onbuild(sc: StageConfig, inst: ins.OnBuild, scope: StageScope) -> None:
    sc.config["OnBuild"] = [*(sc.config.get("OnBuild") or []), inst.expression]


def _maintainer(sc: StageConfig, inst: ins.Maintainer, scope: StageScope) -> None:
    sc.doc["author"] = inst.maintainer


_APPLY = {
    ins.Env: _env,
    ins.Label: _labels,
    ins.Maintainer: _maintainer,
    ins.Expose: _merge("ExposedPorts", lambda i: expose_ports(i.ports)),
    ins.Volume: _merge("Volumes", lambda i: i.paths),
    ins.User: _set("User", lambda i, s: i.user),
    ins.Workdir: _set("WorkingDir", lambda i, s: i.path),
    ins.StopSignal: _set("StopSignal", lambda i, s: check_signal(i.signal)),
    ins.Shell: _set("Shell", lambda i, s: list(i.shell)),
    ins.Healthcheck: _set("Healthcheck", lambda i, s: _healthcheck(i)),
    ins.Cmd: _cmd,
    ins.Entrypoint: _entrypoint,
    ins.OnBuild: _onbuild,
}


def effective_command(config: dict) -> list[str]:
    """What a container of the image runs: ENTRYPOINT followed by CMD (either may be empty)."""
    return [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]


def _json_copy(value: Any) -> Any:
    """A deep copy of a JSON document (dicts and lists; the rest is immutable): copy.deepcopy's
    result without its import (copy, weakref) on every build."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value
