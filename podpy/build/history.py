"""How Docker (BuildKit) records each instruction in image history: `created_by` text and `empty_layer`.

The text is also the instruction part of a step's cache key, so it must be canonical: it is built
from the expanded instruction and the stage scope, never from the raw Dockerfile line.
"""

from __future__ import annotations

import json

from podpy.build import instructions as ins
from podpy.build.expand import StageScope
from podpy.build.heredoc import parse_heredoc

COMMENT = "buildkit.dockerfile.v0"
_LAYER = (ins.Run, ins.Copy, ins.Add)


def go_quote_list(items: list[str]) -> str:
    """Go's `%q` of a []string: `["a" "b"]`."""
    return "[" + " ".join(json.dumps(s, ensure_ascii=False) for s in items) + "]"


def go_duration(ns: int) -> str:
    """Go's time.Duration.String(): 0s, 300ms, 1.5s, 1m30s, 2h0m0s."""
    if ns == 0:
        return "0s"
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return f"{ns / size:g}{unit}" if ns % size else f"{ns // size}{unit}"
    secs = ns / 10**9
    h, rem = divmod(int(secs), 3600)
    m = rem // 60
    s = secs - h * 3600 - m * 60
    text = f"{s:.9f}".rstrip("0").rstrip(".") + "s"
    if h:
        return f"{h}h{m}m{text}"
    return f"{m}m{text}" if m else text


def run_args(run: ins.Run, scope: StageScope) -> list[str]:
    """The argv BuildKit runs for a RUN (heredocs folded in, the SHELL prepended for shell form)."""
    args = list(run.command)
    if run.heredocs and run.prepend_shell and len(args) == 1:
        if parse_heredoc(args[0]) is not None:
            data = run.heredocs[0].chomped()
            # a lone heredoc with a shebang is a script file the executor mounts at /dev/pipes/NAME
            args = ["/dev/pipes/" + run.heredocs[0].name] if data.startswith("#!") else [data]
        else:
            args = [args[0] + "".join("\n" + h.content + h.name for h in run.heredocs)]
    if run.prepend_shell:
        args = [*scope.shell, " ".join(args)]
    return args


def _copy_text(inst: ins.Copy) -> str:
    parts = ["ADD" if isinstance(inst, ins.Add) else "COPY"]
    if inst.parents:
        parts.append("--parents")
    if inst.chown:
        parts.append("--chown=" + inst.chown)
    if inst.chmod:
        parts.append("--chmod=" + inst.chmod)
    parts += inst.sources
    parts += ["<<" + c.path for c in inst.contents]
    parts.append(inst.dest)
    return " ".join(parts)


def _healthcheck_text(hc: ins.Healthcheck) -> str:
    durations = " ".join(json.dumps(go_duration(d)) for d in (hc.interval, hc.timeout, hc.start_period,
                                                               hc.start_interval))
    return f"HEALTHCHECK &{{{go_quote_list(hc.test)} {durations} {_go_char(hc.retries)}}}"


def _go_char(n: int) -> str:
    """Go's %q of a small int (a rune literal), as BuildKit's HEALTHCHECK history shows retries."""
    ch = chr(n)
    return f"'{ch}'" if ch.isprintable() and ch not in "'\\" else f"'\\x{n:02x}'"


def created_by(inst: ins.Instruction, scope: StageScope) -> str:
    """`created_by` of the history entry an (expanded) instruction adds; FROM adds none."""
    if isinstance(inst, ins.Run):
        history = scope.history_args()
        prefix = [f"|{len(history)}", *history] if history else []
        return "RUN " + " ".join(prefix + run_args(inst, scope)) + " # buildkit"
    if isinstance(inst, ins.Copy):
        return _copy_text(inst) + " # buildkit"
    simple = {
        ins.Env: lambda i: "ENV " + " ".join(f"{k}={v}" for k, v in i.pairs),
        ins.Label: lambda i: "LABEL " + " ".join(f"{k}={v}" for k, v in i.pairs),
        ins.Arg: lambda i: "ARG " + " ".join(k if v is None else f"{k}={v}" for k, v in i.pairs),
        ins.Maintainer: lambda i: "MAINTAINER " + i.maintainer,
        ins.Expose: lambda i: "EXPOSE " + " ".join(i.ports),
        ins.Volume: lambda i: "VOLUME [" + " ".join(i.paths) + "]",
        ins.User: lambda i: "USER " + i.user,
        ins.Workdir: lambda i: "WORKDIR " + i.path,
        ins.StopSignal: lambda i: "STOPSIGNAL " + i.signal,
        ins.Shell: lambda i: "SHELL [" + " ".join(i.shell) + "]",
        ins.OnBuild: lambda i: "ONBUILD " + i.expression,
        ins.Healthcheck: _healthcheck_text,
        ins.Cmd: lambda i: "CMD " + go_quote_list(command_of(i, scope)),
        ins.Entrypoint: lambda i: "ENTRYPOINT " + go_quote_list(command_of(i, scope)),
    }
    fn = simple.get(type(inst))
    if fn is None:
        raise ValueError(f"{inst.name} adds no history entry")
    return fn(inst)


def command_of(inst: ins.Cmd | ins.Entrypoint, scope: StageScope) -> list[str]:
    """The config value CMD/ENTRYPOINT store: exec form as written, shell form through SHELL."""
    if inst.prepend_shell:
        return [*scope.shell, " ".join(inst.command)]
    return list(inst.command)


def empty_layer(inst: ins.Instruction, workdir: str = "/") -> bool:
    """True when the step changes only the config (Docker's `empty_layer`)."""
    if isinstance(inst, _LAYER):
        return False
    if isinstance(inst, ins.Workdir):
        return workdir == "/"  # BuildKit creates the directory, which is a layer
    return True


def history_entry(inst: ins.Instruction, scope: StageScope, created: str | None = None) -> dict:
    """One OCI history entry (call after scope.expand(inst))."""
    entry: dict = {}
    if created:
        entry["created"] = created
    entry["created_by"] = created_by(inst, scope)
    entry["comment"] = COMMENT
    if empty_layer(inst, scope.workdir):
        entry["empty_layer"] = True
    return entry
