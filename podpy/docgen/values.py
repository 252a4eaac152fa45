"""What flag values and arguments complete to, where the click definition alone cannot say:
network modes and names, pull policies, log levels, signals, --format fields, `CTR:path` for cp,
and containers in the state a command needs (stop/exec/pause/kill: running; start: stopped;
unpause: paused), as Podman's completion does."""

from __future__ import annotations

import re
import signal
from dataclasses import replace

from podpy.docgen import formats
from podpy.docgen.model import Arg, Cmd, Opt, Value

NETWORK_MODES = ("bridge", "host", "none", "private", "pasta", "slirp4netns", "container:", "ns:")
PULL_POLICIES = ("always", "missing", "never", "newer", "policy")
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")
# live kinds of `podpy __names`: containers in a state, and `name:` for cp's CTR:PATH
STATE_KINDS = {"stop": "running", "exec": "running", "pause": "running", "kill": "running",
               "attach": "running", "top": "running", "start": "stopped", "unpause": "paused"}  # fmt: skip
CONTAINER_GROUPS = ((), ("container",))


def signal_names() -> tuple[str, ...]:
    return tuple(sorted({s.name.removeprefix("SIG") for s in signal.Signals if not s.name.startswith("SIG_")}))


def _opt(path: tuple[str, ...], o: Opt) -> Opt:
    if not o.takes_value:
        return o
    names = set(o.names)
    if names & {"--network", "--net"}:
        if path[-1:] == ("build",):
            return replace(o, value=Value(choices=("default", "none", "host")))
        return replace(o, value=Value(choices=NETWORK_MODES, kinds=("networks", "container-refs")))
    if "--pull" in names:
        listed = o.help.partition(":")[2]  # "Pull image policy: missing, always, never, newer"
        said = tuple(p for p in PULL_POLICIES if re.search(rf"\b{p}\b", listed))
        return replace(o, value=Value(choices=said or PULL_POLICIES[:4]))
    if "--log-level" in names:
        return replace(o, value=Value(choices=LOG_LEVELS))
    if "--signal" in names and path[-1:] == ("kill",):
        return replace(o, value=Value(choices=signal_names()))
    if "--format" in names and (choices := formats.completion_choices(path)):
        return replace(o, value=Value(choices=choices))
    return o


def _arg(path: tuple[str, ...], a: Arg) -> Arg:
    if not path:
        return a
    if path[:-1] in CONTAINER_GROUPS and path[-1] == "cp":
        return replace(a, value=Value(kinds=("container-paths",), files="file"))
    state = STATE_KINDS.get(path[-1]) if path[:-1] in CONTAINER_GROUPS else None
    if state and "containers" in a.value.kinds:
        kinds = tuple(f"containers-{state}" if k == "containers" else k for k in a.value.kinds)
        return replace(a, value=replace(a.value, kinds=kinds))
    return a


def refine(root: Cmd) -> Cmd:
    """The tree with these completions filled in (in place; `help`'s arguments stay commands)."""
    for c in root.walk():
        c.options = [_opt(c.path, o) for o in c.options]
        if c.path != ("help",):
            c.args = [_arg(c.path, a) for a in c.args]
    return root
