"""The flags of `run` and `create`, as data: run.py builds the typer commands from this table and
fastpath.py parses `run` with it without importing typer (run is the command whose latency matters).
No typer import here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOOL, STR, LIST, INT = "bool", "str", "list", "int"


@dataclass(frozen=True)
class Flag:
    field: str  # the keyword the handler receives
    decls: tuple[str, ...]
    kind: str
    help: str
    default: Any = None
    run_only: bool = False  # not a `create` flag

    @property
    def annotation(self) -> Any:
        return {BOOL: bool, STR: str | None, LIST: list[str] | None, INT: int | None}[self.kind]


FLAGS = (
    Flag("detach", ("--detach", "-d"), BOOL, "Run in the background and print the container ID", False, True),
    Flag(
        "sig_proxy",
        ("--sig-proxy",),
        BOOL,
        "Proxy received signals to the container (non-TTY mode only)",
        True,
        True,
    ),  # fmt: skip
    Flag("interactive", ("--interactive", "-i"), BOOL, "Keep STDIN open", False),
    Flag("tty", ("--tty", "-t"), BOOL, "Allocate a pseudo-TTY", False),
    Flag("rm", ("--rm",), BOOL, "Remove the container when it exits", False),
    Flag("name", ("--name",), STR, "Assign a name to the container"),
    Flag("env", ("--env", "-e"), LIST, "Set environment variables (KEY=VALUE, or KEY to pass the host's)"),
    Flag("env_file", ("--env-file",), LIST, "Read environment variables from a file"),
    Flag("workdir", ("--workdir", "-w"), STR, "Working directory inside the container"),
    Flag("user", ("--user", "-u"), STR, "Username or UID[:GID]"),
    Flag(
        "entrypoint", ("--entrypoint",), STR, "Overwrite the image's ENTRYPOINT (a command or a JSON array)"
    ),
    Flag("hostname", ("--hostname", "-h"), STR, "Container host name"),
    Flag("label", ("--label", "-l"), LIST, "Set metadata (KEY=VALUE)"),
    Flag("pull", ("--pull",), STR, "Pull image policy: missing, always, never, newer", "missing"),
    Flag("detach_keys", ("--detach-keys",), STR, "Key sequence for detaching (default ctrl-p,ctrl-q)"),
    Flag("stop_signal", ("--stop-signal",), STR, "Signal to stop the container"),
    Flag("stop_timeout", ("--stop-timeout",), INT, "Seconds to wait for the stop signal before killing"),
    Flag("network", ("--network", "--net"), STR, "Network mode: none, host or private"),
    Flag(
        "init", ("--init",), BOOL, "Run an init inside the container that forwards signals and reaps", False
    ),
    Flag("rootfs", ("--rootfs",), BOOL, "IMAGE is a root filesystem directory, not an image", False),
    Flag("privileged", ("--privileged",), BOOL, "Give extended privileges to the container", False),
    Flag("cap_add", ("--cap-add",), LIST, "Add Linux capabilities"),
    Flag("cap_drop", ("--cap-drop",), LIST, "Drop Linux capabilities"),
    Flag("security_opt", ("--security-opt",), LIST, "Security options (no-new-privileges)"),
    Flag("userns", ("--userns",), STR, "User namespace mode (keep-id)"),
    Flag("volume", ("--volume", "-v"), LIST, "Bind mount a volume: [SRC:]DEST[:OPTIONS]"),
    Flag("mount", ("--mount",), LIST, "Attach a filesystem mount: type=bind|volume|tmpfs,src=...,dst=..."),
    Flag("tmpfs", ("--tmpfs",), LIST, "Mount a tmpfs: DEST[:OPTIONS]"),
    Flag("volumes_from", ("--volumes-from",), LIST, "Mount the volumes of another container: CTR[:ro|rw]"),
    Flag("read_only", ("--read-only",), BOOL, "Mount the container's root filesystem read-only", False),
)

BY_DECL = {d: f for f in FLAGS for d in f.decls}


def defaults(run: bool = True) -> dict[str, Any]:
    return {f.field: f.default for f in FLAGS if run or not f.run_only}


def parse_bool(text: str) -> bool | None:
    low = text.lower()
    return True if low in ("true", "1", "yes") else False if low in ("false", "0", "no") else None


class NotHandled(Exception):
    """The fast parser cannot take these arguments: typer will (and print help or errors)."""


def parse(args: list[str]) -> tuple[dict[str, Any], str, list[str]]:
    """`[flags] IMAGE [COMMAND...]` -> (flag values, image, command). Flags stop at the image."""
    kw = defaults()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        i = _one(args, i, kw)
    if i >= len(args):
        raise NotHandled
    return kw, args[i], args[i + 1 :]


def _one(args: list[str], i: int, kw: dict[str, Any]) -> int:
    arg = args[i]
    if arg.startswith("--"):
        name, eq, value = arg.partition("=")
        return _set(BY_DECL.get(name), value if eq else None, args, i, kw)
    flag = BY_DECL.get(arg[:2])
    if flag is None:
        raise NotHandled
    if flag.kind != BOOL:  # -eFOO=1 or -e FOO=1
        return _set(flag, arg[2:] or None, args, i, kw)
    for ch in arg[1:]:  # -it, -dit
        f = BY_DECL.get("-" + ch)
        if f is None or f.kind != BOOL:
            raise NotHandled
        kw[f.field] = True
    return i + 1


def _set(flag: Flag | None, value: str | None, args: list[str], i: int, kw: dict[str, Any]) -> int:
    if flag is None:
        raise NotHandled
    if flag.kind == BOOL:
        parsed = True if value is None else parse_bool(value)
        if parsed is None:
            raise NotHandled
        kw[flag.field] = parsed
        return i + 1
    if value is None:
        if i + 1 >= len(args):
            raise NotHandled
        value, i = args[i + 1], i + 1
    if flag.kind == LIST:
        kw[flag.field] = [*(kw[flag.field] or []), value]
    elif flag.kind == INT:
        if not value.lstrip("-").isdigit():
            raise NotHandled
        kw[flag.field] = int(value)
    else:
        kw[flag.field] = value
    return i + 1
