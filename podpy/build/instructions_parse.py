"""Syntax node → typed instruction, with BuildKit's argument checks and error wording."""

from __future__ import annotations

import re
from collections.abc import Callable

from podpy.build import instructions as ins
from podpy.build.bflags import Flags, parse_flags
from podpy.build.errors import BuildError
from podpy.build.heredoc import parse_heredoc
from podpy.build.parser import Node

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
_DURATION_PART = re.compile(r"(\d*\.?\d*)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def parse_instruction(node: Node, file: str = "Dockerfile") -> ins.Instruction:
    """The typed instruction of one node; BuildError names the file, line and instruction."""
    fn = _PARSERS.get(node.instruction)
    try:
        if fn is None:
            raise ValueError(f"unknown instruction: {node.original.split()[0] if node.original else ''}")
        flags = parse_flags(node.instruction, node.flags)
        result = fn(node, flags)
    except ValueError as e:
        raise BuildError(str(e), file=file, line=node.start_line, instruction=node.instruction) from None
    result.line, result.end_line, result.original = node.start_line, node.end_line, node.original
    return result


def parse_triggers(triggers: list[str], file: str = "Dockerfile") -> list[ins.Instruction]:
    """A base image's ONBUILD expressions as instructions (they run right after the child's FROM)."""
    from podpy.build.parser import parse

    out: list[ins.Instruction] = []
    for expr in triggers:
        for node in parse(expr, f"{file} (ONBUILD)").nodes:
            if node.instruction in ("ONBUILD", "FROM", "MAINTAINER"):
                raise BuildError(f"{node.instruction} isn't allowed as an ONBUILD trigger", file=file,
                                 instruction="ONBUILD")
            out.append(parse_instruction(node, file))
    return out


def _exactly_one(node: Node) -> str:
    if len(node.args) != 1:
        raise ValueError(f"{node.instruction} requires exactly one argument")
    return node.args[0]


def _at_least_one(node: Node) -> list[str]:
    if not node.args:
        raise ValueError(f"{node.instruction} requires at least one argument")
    return node.args


def _from(node: Node, flags: Flags) -> ins.From:
    args = node.args
    if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise ValueError("FROM requires either one or three arguments")
    name = args[2].lower() if len(args) == 3 else None
    if name is not None and not _STAGE_NAME.match(name):
        raise ValueError(f'invalid name for build stage: "{args[2]}", name can\'t start with a number or contain symbols')
    return ins.From(base=args[0], stage_name=name, platform=flags.str("platform"))


def _run(node: Node, flags: Flags) -> ins.Run:
    if not node.args and not node.json:
        raise ValueError("RUN requires at least one argument")
    if flags.str("network") not in (None, "default", "none", "host"):
        raise ValueError(f'unsupported network mode "{flags.str("network")}"')
    if flags.str("security") not in (None, "insecure", "sandbox"):
        raise ValueError(f'unsupported security mode "{flags.str("security")}"')
    return ins.Run(
        command=list(node.args), prepend_shell=not node.json, heredocs=list(node.heredocs),
        mounts=flags.list("mount"), network=flags.str("network"), security=flags.str("security"),
        devices=flags.list("device"),
    )


def _sources(node: Node) -> tuple[list[str], str, list[ins.SourceContent]]:
    if len(node.args) < 2:
        raise ValueError(
            f"{node.instruction} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    *srcs, dest = node.args
    if parse_heredoc(dest) is not None:
        raise ValueError(f"{node.instruction} cannot accept a heredoc as a destination")
    bodies = {h.name: h for h in node.heredocs}
    paths: list[str] = []
    contents: list[ins.SourceContent] = []
    for src in srcs:
        doc = parse_heredoc(src) if not node.json else None
        if doc is None:
            paths.append(src)
            continue
        body = bodies.get(doc.name)
        data = body.chomped() if body is not None else ""
        contents.append(ins.SourceContent(path=doc.name, data=data, expand=doc.expand))
    return paths, dest, contents


def _copy_fields(node: Node, flags: Flags) -> dict:
    paths, dest, contents = _sources(node)
    return dict(
        sources=paths, dest=dest, contents=contents, chown=flags.str("chown"), chmod=flags.str("chmod"),
        link=bool(flags.bool("link")), parents=bool(flags.bool("parents")), exclude=flags.list("exclude"),
    )


def _copy(node: Node, flags: Flags) -> ins.Copy:
    return ins.Copy(from_=flags.str("from"), **_copy_fields(node, flags))


def _add(node: Node, flags: Flags) -> ins.Add:
    return ins.Add(
        checksum=flags.str("checksum"), keep_git_dir=bool(flags.bool("keep-git-dir")),
        unpack=flags.bool("unpack"), **_copy_fields(node, flags),
    )


def _pairs(node: Node) -> list[tuple[str, str]]:
    args = _at_least_one(node)
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
    for key, _ in pairs:
        if not key:
            raise ValueError(f"{node.instruction} names can not be blank")
    return pairs


def _arg(node: Node, flags: Flags) -> ins.Arg:
    pairs: list[tuple[str, str | None]] = []
    for word in _at_least_one(node):
        key, eq, value = word.partition("=")
        if not key:
            raise ValueError("ARG names can not be blank")
        pairs.append((key, value if eq else None))
    return ins.Arg(pairs=pairs)


def _command(cls: type) -> Callable[[Node, Flags], ins.Instruction]:
    def parse(node: Node, flags: Flags) -> ins.Instruction:
        return cls(command=list(node.args), prepend_shell=not node.json and bool(node.args))

    return parse


def _volume(node: Node, flags: Flags) -> ins.Volume:
    paths = _at_least_one(node)
    if any(not p.strip() for p in paths):
        raise ValueError("VOLUME specified can not be an empty string")
    return ins.Volume(paths=list(paths))


def parse_duration(text: str, flag: str) -> int:
    """Go's time.ParseDuration ("1m30s", "1.5h", "300ms") in nanoseconds."""
    if text in ("", "0"):
        return 0
    pos, total = 0, 0.0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.group(1) in ("", "."):
            raise ValueError(f'invalid duration "{text}" for --{flag}')
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return int(total)


def _healthcheck(node: Node, flags: Flags) -> ins.Healthcheck:
    if not node.args:
        raise ValueError("HEALTHCHECK requires at least one argument")
    kind, rest = node.args[0].upper(), node.args[1:]
    if kind == "NONE":
        if rest or flags.values:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        return ins.Healthcheck(test=["NONE"])
    if kind != "CMD":
        raise ValueError(f'Unknown type "{node.args[0]}" in HEALTHCHECK (try CMD)')
    if not rest:
        raise ValueError("Missing command after HEALTHCHECK CMD")
    test = ["CMD", *rest] if node.json else ["CMD-SHELL", rest[0]]
    durations = {}
    for flag in ("interval", "timeout", "start-period", "start-interval"):
        value = parse_duration(flags.str(flag) or "", flag)
        if 0 < value < 1_000_000:
            raise ValueError(f'{flag.capitalize()} "{flags.str(flag)}" cannot be less than 1ms')
        durations[flag.replace("-", "_")] = value
    retries = 0
    if (text := flags.str("retries")) is not None:
        try:
            retries = int(text)
        except ValueError:
            raise ValueError(f'invalid --retries "{text}": not an integer') from None
        if retries < 0:
            raise ValueError("--retries cannot be negative")
    return ins.Healthcheck(test=test, retries=retries, **durations)


def _shell(node: Node, flags: Flags) -> ins.Shell:
    if not node.json:
        raise ValueError("SHELL requires the arguments to be in JSON form")
    return ins.Shell(shell=_at_least_one(node))


def _onbuild(node: Node, flags: Flags) -> ins.OnBuild:
    if node.sub is None:
        raise ValueError("ONBUILD requires at least one argument")
    trigger = node.sub.instruction
    if trigger == "ONBUILD":
        raise ValueError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("FROM", "MAINTAINER"):
        raise ValueError(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original)
    for doc in node.heredocs:
        expression += "\n" + doc.content + doc.name
    return ins.OnBuild(expression=expression)


_PARSERS: dict[str, Callable[[Node, Flags], ins.Instruction]] = {
    "FROM": _from,
    "RUN": _run,
    "COPY": _copy,
    "ADD": _add,
    "ENV": lambda n, f: ins.Env(pairs=_pairs(n)),
    "LABEL": lambda n, f: ins.Label(pairs=_pairs(n)),
    "ARG": _arg,
    "MAINTAINER": lambda n, f: ins.Maintainer(maintainer=_exactly_one(n)),
    "EXPOSE": lambda n, f: ins.Expose(ports=list(_at_least_one(n))),
    "VOLUME": _volume,
    "USER": lambda n, f: ins.User(user=_exactly_one(n)),
    "WORKDIR": lambda n, f: ins.Workdir(path=_exactly_one(n)),
    "CMD": _command(ins.Cmd),
    "ENTRYPOINT": _command(ins.Entrypoint),
    "HEALTHCHECK": _healthcheck,
    "SHELL": _shell,
    "STOPSIGNAL": lambda n, f: ins.StopSignal(signal=_exactly_one(n)),
    "ONBUILD": _onbuild,
}
