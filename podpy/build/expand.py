"""Per-stage variable scope: expands each instruction as BuildKit does, in order, while tracking the
build-time environment (base image ENV, ARG values, ENV), the working directory and the SHELL.

RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD are not expanded (the shell, or the
child build, does that); every other instruction is.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from podpy.build import instructions as ins
from podpy.build.buildargs import PROXY_ARGS
from podpy.build.copysources import source_kind
from podpy.build.errors import BuildError, ShellSyntaxError
from podpy.build.mounts import Mount, parse_mount
from podpy.build.plan import Plan
from podpy.build.shell_lex import ShellLex
from podpy.record import replace

DEFAULT_SHELL = ("/bin/sh", "-c")
_HEREDOC_LEX = ShellLex(skip_process_quotes=True)


def env_dict(env: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in env or []:
        key, _, value = item.partition("=")
        out[key] = value
    return out


class StageScope:
    """Feed a stage's instructions to `expand` in order; read `env`, `workdir`, `shell`, `args` between."""

    def __init__(self, plan: Plan, base_env: list[str] | None = None, workdir: str = "",
                 shell: list[str] | None = None, file: str | None = None) -> None:
        self.lex = ShellLex(escape=plan.escape)
        self.plan = plan
        self.file = file or plan.file
        self.env = env_dict(base_env)  # what ${VAR} sees and RUN gets (base ENV + ARG + ENV)
        self.workdir = workdir or "/"
        self.shell = list(shell or DEFAULT_SHELL)
        self.args: dict[str, str | None] = {}  # ARGs declared in this stage, in order
        self.used_build_args: set[str] = set()

    def _word(self, inst: ins.Instruction) -> Callable[[str], str]:
        def expand(word: str) -> str:
            try:
                return self.lex.process_word(word, self.env)
            except ShellSyntaxError as e:
                raise BuildError(str(e), file=self.file, line=inst.line, instruction=inst.name) from None

        return expand

    def expand(self, inst: ins.Instruction) -> ins.Instruction:
        """The instruction with its variables substituted; updates the scope (ENV, ARG, WORKDIR, SHELL)."""
        handler = _HANDLERS.get(type(inst))
        return handler(self, inst) if handler else inst

    def _env(self, inst: ins.Env) -> ins.Env:
        w = self._word(inst)
        pairs = [(w(k), w(v)) for k, v in inst.pairs]  # all values see the env from before the line
        for k, v in pairs:
            if not k:
                raise BuildError("ENV names can not be blank", file=self.file, line=inst.line, instruction="ENV")
            self.env[k] = v
        return replace(inst, pairs=pairs)

    def _arg(self, inst: ins.Arg) -> ins.Arg:
        pairs: list[tuple[str, str | None]] = []
        for key, default in inst.pairs:
            value: str | None = None
            if key in self.plan.build_args:
                value = self.plan.build_args[key]
                self.used_build_args.add(key)
            elif default is not None:
                value = self._word(inst)(default)
            elif key in self.plan.global_args:
                value = self.plan.global_args[key]
            if value is not None:
                self.env[key] = value
            self.args.pop(key, None)
            self.args[key] = value
            pairs.append((key, value))
        return replace(inst, pairs=pairs)

    def _label(self, inst: ins.Label) -> ins.Label:
        w = self._word(inst)
        return replace(inst, pairs=[(w(k), w(v)) for k, v in inst.pairs])

    def _copy(self, inst: ins.Copy) -> ins.Copy:
        w = self._word(inst)
        opt = lambda v: w(v) if v is not None else None  # noqa: E731
        contents = [replace(c, data=self._heredoc(inst, c.data)) if c.expand else c for c in inst.contents]
        changes: dict = dict(
            sources=[w(s) for s in inst.sources], dest=w(inst.dest), contents=contents, from_=opt(inst.from_),
            chown=opt(inst.chown), chmod=opt(inst.chmod), exclude=[w(x) for x in inst.exclude],
        )
        if isinstance(inst, ins.Add):
            changes["checksum"] = opt(inst.checksum)
        out = replace(inst, **changes)
        try:
            check_copy(out)
        except ValueError as e:
            raise BuildError(str(e), file=self.file, line=inst.line, instruction=inst.name) from None
        return out

    def _heredoc(self, inst: ins.Instruction, data: str) -> str:
        try:
            return _HEREDOC_LEX.process_word(data, self.env)
        except ShellSyntaxError as e:
            raise BuildError(str(e), file=self.file, line=inst.line, instruction=inst.name) from None

    def _expose(self, inst: ins.Expose) -> ins.Expose:
        ports: list[str] = []
        for p in inst.ports:
            try:
                ports.extend(self.lex.process_words(p, self.env))
            except ShellSyntaxError as e:
                raise BuildError(str(e), file=self.file, line=inst.line, instruction="EXPOSE") from None
        return replace(inst, ports=ports)

    def _volume(self, inst: ins.Volume) -> ins.Volume:
        paths = [self._word(inst)(p) for p in inst.paths]
        if any(not p for p in paths):
            raise BuildError("VOLUME specified can not be an empty string", file=self.file, line=inst.line,
                             instruction="VOLUME")
        return replace(inst, paths=paths)

    def _workdir(self, inst: ins.Workdir) -> ins.Workdir:
        path = self._word(inst)(inst.path)
        if not path:
            raise BuildError("cannot normalize nothing", file=self.file, line=inst.line, instruction="WORKDIR")
        self.workdir = posixpath.normpath(posixpath.join("/", self.workdir, path))
        if self.workdir.startswith("//"):
            self.workdir = "/" + self.workdir.lstrip("/")
        return replace(inst, path=self.workdir)

    def _shell(self, inst: ins.Shell) -> ins.Shell:
        self.shell = list(inst.shell)
        return inst

    def _run(self, inst: ins.Run) -> ins.Run:
        w = self._word(inst)
        return replace(inst, mounts=[w(m) for m in inst.mounts])

    def mounts(self, run: ins.Run) -> list[Mount]:
        """The typed mounts of an expanded RUN; relative targets are under the working directory."""
        out = []
        for raw in run.mounts:
            try:
                m = parse_mount(raw)
            except ValueError as e:
                raise BuildError(str(e), file=self.file, line=run.line, instruction="RUN") from None
            if m.target and not m.target.startswith("/"):
                m = replace(m, target=posixpath.normpath(posixpath.join(self.workdir, m.target)))
            out.append(m)
        return out

    def run_env(self) -> list[str]:
        """RUN's environment: the scope's variables plus proxy --build-args (never recorded)."""
        env = dict(self.env)
        for key in sorted(PROXY_ARGS & self.plan.build_args.keys()):
            env.setdefault(key, self.plan.build_args[key])
        return [f"{k}={v}" for k, v in env.items()]

    def history_args(self) -> list[str]:
        """`K=V` of this stage's ARGs as a RUN's history line shows them (`|N K=V ...`)."""
        out = []
        for key, value in self.args.items():
            if key in PROXY_ARGS:
                continue
            out.append(f"{key}={self.env.get(key, value or '')}")
        return out


_SYMBOLIC_MODE = re.compile(r"^[ugoa]*[-+=][rwxXst]*([-+=][rwxXst]*)*(,[ugoa]*[-+=][rwxXst]*([-+=][rwxXst]*)*)*$")


def check_copy(inst: ins.Copy) -> None:
    """BuildKit's checks on an expanded COPY/ADD: URL and git sources, --checksum, --chmod."""
    kinds = [source_kind(s) for s in inst.sources]
    if not isinstance(inst, ins.Add):
        if "url" in kinds:
            raise ValueError("source can't be a URL for COPY")
        if "git" in kinds:
            raise ValueError("source can't be a git ref for COPY")
    elif inst.checksum:
        if len(inst.sources) != 1:
            raise ValueError("checksum can't be specified for multiple sources")
        if kinds[0] == "local":
            raise ValueError("checksum requires HTTP(S) or Git sources")
    if inst.chmod and not _SYMBOLIC_MODE.match(inst.chmod):
        try:
            mode = int(inst.chmod, 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o7777:
            raise ValueError(f"invalid chmod parameter: '{inst.chmod}'. it should be octal string and between 0 and 07777")


def single_word(attr: str) -> Callable[[StageScope, ins.Instruction], ins.Instruction]:
    def handler(scope: StageScope, inst: ins.Instruction) -> ins.Instruction:
        return replace(inst, **{attr: scope._word(inst)(getattr(inst, attr))})

    return handler


_HANDLERS: dict[type, Callable] = {
    ins.Env: StageScope._env,
    ins.Arg: StageScope._arg,
    ins.Label: StageScope._label,
    ins.Copy: StageScope._copy,
    ins.Add: StageScope._copy,
    ins.Expose: StageScope._expose,
    ins.Volume: StageScope._volume,
    ins.Workdir: StageScope._workdir,
    ins.Shell: StageScope._shell,
    ins.Run: StageScope._run,
    ins.User: single_word("user"),
    ins.StopSignal: single_word("signal"),
}
