"""`build` (also `image build`, `buildx build`, `builder build`) without typer: its flag table and its
body, which the typer command (podpy.cli.build) calls too, so both behave the same.

fastpath.dispatch hands a build command line here; what the table does not know (--help, the
`--rm/--no-rm` and `--layers` switches, the flags of build_flags.EXTRA_FLAGS, pflag's `-x=value`
forms, a second positional) returns None and typer parses the whole line. No typer import here.
"""

from __future__ import annotations

import os
import sys

from podpy.cli import common
from podpy.cli.fastcmds import B, Cmd, L, S, _flags, parse

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from podpy.build.frontend import BuildRequest

WORDS = (("build",), ("image", "build"), ("buildx", "build"), ("builder", "build"))

# build's own options (podpy.cli.build.build), by the typer parameter names; defaults as typer gives them
FLAGS = _flags(
    ("tag", L, None, ("--tag", "-t")), ("file", S, None, ("--file", "-f")), ("build_arg", L, None, ("--build-arg",)),
    ("target", S, None, ("--target",)), ("no_cache", B, False, ("--no-cache",)), ("pull", S, None, ("--pull",)),
    ("label", L, None, ("--label",)), ("iidfile", S, None, ("--iidfile",)), ("quiet", B, False, ("--quiet", "-q")),
    ("force_rm", B, False, ("--force-rm",)), ("platform", S, None, ("--platform",)),
    ("format_", S, "oci", ("--format",)), ("network", S, None, ("--network",)), ("secret", L, None, ("--secret",)),
    ("ssh", L, None, ("--ssh",)), ("cache_from", L, None, ("--cache-from",)), ("cache_to", L, None, ("--cache-to",)),
    ("cache_ttl", S, None, ("--cache-ttl",)), ("progress", S, "auto", ("--progress",)),
    ("build_context", L, None, ("--build-context",)), ("no_cache_filter", L, None, ("--no-cache-filter",)),
    ("annotation", L, None, ("--annotation",)), ("squash", B, False, ("--squash",)),
    ("squash_all", B, False, ("--squash-all",)),
)  # fmt: skip
BUILD = Cmd(lambda kw, pos: 0, FLAGS, (0, 1))
OFF_TABLE = {"rm": True, "layers": True}  # switches with a --no- form: typer's when given

BOOL_FLAGS = {"--layers": "--no-layers", "--rm": "--no-rm", "--no-cache": "", "--force-rm": "", "--squash": "",
              "--squash-all": "", "--quiet": ""}  # fmt: skip


def is_build(args: list[str]) -> bool:
    return any(tuple(args[: len(w)]) == w for w in WORDS)


def parse_args(args: list[str]) -> dict[str, Any] | None:
    """`args` from the command word on: build's parameters as the typer command receives them (the
    EXTRA_FLAGS at their defaults), or None for typer."""
    words = 1 if args[0] == "build" else 2
    rest = normalize_args(args[words:])
    if any(a.startswith("-") and not a.startswith("--") and "=" in a for a in rest):
        return None  # pflag's -t=NAME / -q=true: typer's pflag parser
    parsed = parse(BUILD, rest)
    if parsed is None:
        return None
    kw, pos = parsed
    from podpy.cli.build_flags import EXTRA_FLAGS  # imported by every build anyway (build_more)
    from podpy.cli.run_flags import LIST

    extra = {f.field: () if f.kind == LIST else f.default for f in EXTRA_FLAGS}
    return {"context": pos[0] if pos else ".", **OFF_TABLE, **extra, **kw}


def normalize_args(args: list[str]) -> list[str]:
    """Podman's spellings click does not take: `--pull` alone (always) and `--flag=true|false`."""
    out: list[str] = []
    for i, a in enumerate(args):
        if a == "--":
            return out + args[i:]
        name, eq, value = a.partition("=")
        if a == "--pull":
            out.append("--pull=always")
        elif a == "--tls-verify":  # pflag's boolean alone (the option takes a value for =false)
            out.append("--tls-verify=true")
        elif eq and name in BOOL_FLAGS and value.lower() in ("true", "false"):
            off = BOOL_FLAGS[name]
            if value.lower() == "true":
                out.append(name)
            elif off:
                out.append(off)
        else:
            out.append(a)
    return out


def request(p: dict[str, Any]) -> BuildRequest:
    """The BuildRequest of build's parameters `p` (own options and EXTRA_FLAGS by name); bad values
    raise before any work."""
    from podpy.build.frontend import BuildRequest
    from podpy.cli import build_more
    from podpy.errors import InvalidArgument

    format_, progress, pull, network = p.get("format_", "oci"), p.get("progress", "auto"), p.get("pull"), p.get("network")  # fmt: skip
    if format_ not in ("oci", "docker"):
        raise InvalidArgument(f"unrecognized image type {format_!r}: use oci or docker")
    if progress not in ("auto", "plain", "tty"):
        raise InvalidArgument(f"invalid --progress {progress!r}: use auto, plain or tty")
    policy = {"true": "always", "false": "missing"}.get(
        (pull or "missing").lower(), (pull or "missing").lower()
    )
    if policy not in ("always", "missing", "never", "newer"):
        raise InvalidArgument(f"invalid --pull {pull!r}: use always, missing or never")
    ttl = None
    if p.get("cache_ttl") is not None:
        from podpy.engine.container_health import parse_duration

        ttl = parse_duration(p["cache_ttl"], "--cache-ttl") / 1e9
    net = "" if network in (None, "", "default", "bridge", "private") else network
    if net not in ("", "none", "host"):
        raise InvalidArgument(f"--network {network!r}: only default, none and host are supported for builds")
    platform = build_more.platform(p.get("platform"), p)
    build_more.check(p)

    def many(name: str) -> list[str]:
        return list(p.get(name) or [])

    return BuildRequest(
        context=p.get("context", "."), dockerfile=p.get("file"), tags=many("tag"), build_args=many("build_arg"),
        target=p.get("target"), no_cache=bool(p.get("no_cache")), pull="missing" if policy == "newer" else policy,
        labels=many("label"), quiet=bool(p.get("quiet")), platform=platform, layers=p.get("layers", True),
        network=net, secrets=many("secret"), ssh=many("ssh"), build_contexts=many("build_context"),
        no_cache_filter=many("no_cache_filter"), format=format_, annotations=many("annotation"),
        squash_all=bool(p.get("squash_all")), squash=bool(p.get("squash")), cache_from=many("cache_from"),
        cache_to=many("cache_to"), cache_ttl=ttl, **build_more.request_fields(p),
    )  # fmt: skip


def build_image(p: dict[str, Any]) -> int:
    """Build an image from a Dockerfile (the typer command's body and the fast path's)."""
    import signal

    from podpy.build.frontend import run_build
    from podpy.cli import build_more

    req = request(p)
    progress = p.get("progress", "auto")
    fancy = progress == "tty" or (
        progress == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    fancy = fancy and not p.get("logfile")
    say = _tty_say() if fancy and not req.quiet else _plain_say(req.quiet)

    signal.signal(signal.SIGTERM, _interrupt)  # unwind: step containers are removed on the way out
    with build_more.logfile(build_more.logfile_path(p, req.platform)):
        image_id = run_build(common.engine(), req, say)
        build_more.output(common.engine(), image_id, p.get("output"))
    if p.get("iidfile"):
        _write_iidfile(p["iidfile"], image_id)
    common.out(image_id.removeprefix("sha256:"))
    return 0


def _plain_say(quiet: bool) -> Callable[[str], None]:
    """Podman's plain lines (what scripts and logs see)."""

    def say(text: str) -> None:
        if not quiet:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    return say


def _tty_say() -> Callable[[str], None]:
    """On a terminal: the same lines, steps in bold and each step's time after its result."""
    import time

    started = [time.monotonic()]

    def say(text: str) -> None:
        if "STEP " in text and ": " in text:
            started[0] = time.monotonic()
            text = f"\033[1m{text}\033[0m"
        elif text.startswith("--> ") and not text.startswith("--> Using cache"):
            text = f"{text}  \033[2m{time.monotonic() - started[0]:.2f}s\033[0m"
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    return say


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _write_iidfile(path: str, image_id: str) -> None:
    from pathlib import Path

    from podpy.errors import PodpyError

    try:
        Path(path).write_text(image_id)
    except OSError as e:
        raise PodpyError(f"writing {path}: {e.strerror or e}") from None
