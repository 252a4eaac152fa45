"""`--change` instructions (import, commit): a Dockerfile subset applied to an image config."""

from __future__ import annotations

import json
import shlex
from typing import Any

from podpy.errors import InvalidArgument

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "WORKDIR", "VOLUME", "STOPSIGNAL", "ONBUILD")


def _exec_form(value: str, shell_form: bool) -> list[str]:
    """JSON array form as-is; shell form wrapped in /bin/sh -c (CMD/ENTRYPOINT)."""
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return parsed
    return ["/bin/sh", "-c", value] if shell_form else shlex.split(value)


def _pairs(value: str, instr: str) -> dict[str, str]:
    """KEY=VALUE pairs (quoted values allowed), or the legacy `KEY VALUE` form."""
    words = shlex.split(value)
    if words and "=" not in words[0]:
        if len(words) < 2:
            raise InvalidArgument(f"{instr} requires a value: {value!r}")
        return {words[0]: value.split(None, 1)[1].strip()}
    out: dict[str, str] = {}
    for w in words:
        k, sep, v = w.partition("=")
        if not sep or not k:
            raise InvalidArgument(f"{instr} expects KEY=VALUE: {w!r}")
        out[k] = v
    return out


def apply_change(config: dict[str, Any], change: str) -> None:
    """Apply one instruction like `CMD ["/bin/sh"]` to the `config` section of an image config."""
    instr, _, value = change.strip().partition(" ")
    instr = instr.upper()
    value = value.strip()
    if instr not in SUPPORTED:
        raise InvalidArgument(f"invalid change {change!r}: {instr or 'empty'} is not one of {', '.join(SUPPORTED)}")
    if not value:
        raise InvalidArgument(f"invalid change {change!r}: {instr} requires an argument")
    if instr in ("CMD", "ENTRYPOINT"):
        key = "Cmd" if instr == "CMD" else "Entrypoint"
        config[key] = _exec_form(value, shell_form=True)
    elif instr == "ENV":
        env = [e for e in config.get("Env") or []]
        for k, v in _pairs(value, instr).items():
            env = [e for e in env if e.split("=", 1)[0] != k] + [f"{k}={v}"]
        config["Env"] = env
    elif instr == "LABEL":
        config["Labels"] = {**(config.get("Labels") or {}), **_pairs(value, instr)}
    elif instr == "EXPOSE":
        ports = config.get("ExposedPorts") or {}
        for p in value.split():
            ports[p if "/" in p else f"{p}/tcp"] = {}
        config["ExposedPorts"] = ports
    elif instr == "VOLUME":
        vols = config.get("Volumes") or {}
        for v in _exec_form(value, shell_form=False):
            vols[v] = {}
        config["Volumes"] = vols
    elif instr == "USER":
        config["User"] = value
    elif instr == "WORKDIR":
        config["WorkingDir"] = value
    elif instr == "STOPSIGNAL":
        config["StopSignal"] = value
    elif instr == "ONBUILD":
        config["OnBuild"] = [*(config.get("OnBuild") or []), value]
