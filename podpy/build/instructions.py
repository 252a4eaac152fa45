"""Typed Dockerfile instructions (values, not yet expanded); `parse_instruction` makes them from nodes.
Records (podpy.record), not dataclasses: every build imports all twenty classes."""

from __future__ import annotations

from podpy.build.heredoc import Heredoc
from podpy.record import field, record


@record(kw_only=True)
class Instruction:
    line: int = 0
    end_line: int = 0
    original: str = ""

    @property
    def name(self) -> str:
        return _NAMES[type(self)]

    def to_dict(self) -> dict:
        """A JSON-able view (golden tests, debugging): the instruction name and its non-empty fields."""
        out: dict = {"instruction": self.name}
        for name in self.__record_fields__:
            if name in ("line", "end_line", "original"):
                continue
            value = getattr(self, name)
            if value in (None, [], {}, False, ""):
                continue
            if isinstance(value, list) and value and isinstance(value[0], Heredoc):
                value = [h.to_dict() for h in value]
            elif isinstance(value, list) and value and hasattr(value[0], "to_dict"):
                value = [v.to_dict() for v in value]
            out[name] = value
        return out


@record(kw_only=True)
class From(Instruction):
    base: str
    stage_name: str | None = None
    platform: str | None = None


@record(kw_only=True)
class Run(Instruction):
    """`command` is the exec form, or one shell string when `prepend_shell`."""

    command: list[str]
    prepend_shell: bool
    heredocs: list[Heredoc] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)  # raw --mount values; see mounts.parse_mount
    network: str | None = None
    security: str | None = None
    devices: list[str] = field(default_factory=list)


@record(kw_only=True)
class SourceContent:
    """A heredoc used as a COPY/ADD source: a file named `path` holding `data`."""

    path: str
    data: str
    expand: bool = True

    def to_dict(self) -> dict:
        return {"path": self.path, "data": self.data, "expand": self.expand}


@record(kw_only=True)
class Copy(Instruction):
    sources: list[str]
    dest: str
    contents: list[SourceContent] = field(default_factory=list)
    from_: str | None = None
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    exclude: list[str] = field(default_factory=list)


@record(kw_only=True)
class Add(Copy):
    checksum: str | None = None
    keep_git_dir: bool = False
    unpack: bool | None = None


@record(kw_only=True)
class Env(Instruction):
    pairs: list[tuple[str, str]]


@record(kw_only=True)
class Arg(Instruction):
    """Each pair is (name, default or None)."""

    pairs: list[tuple[str, str | None]]


@record(kw_only=True)
class Label(Instruction):
    pairs: list[tuple[str, str]]


@record(kw_only=True)
class Maintainer(Instruction):
    maintainer: str


@record(kw_only=True)
class Expose(Instruction):
    ports: list[str]


@record(kw_only=True)
class Volume(Instruction):
    paths: list[str]


@record(kw_only=True)
class User(Instruction):
    user: str


@record(kw_only=True)
class Workdir(Instruction):
    path: str


@record(kw_only=True)
class Cmd(Instruction):
    command: list[str]
    prepend_shell: bool


@record(kw_only=True)
class Entrypoint(Instruction):
    command: list[str]
    prepend_shell: bool


@record(kw_only=True)
class Healthcheck(Instruction):
    """`test` as Docker stores it: ["NONE"], ["CMD", ...] or ["CMD-SHELL", "cmd"]; durations in ns."""

    test: list[str]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@record(kw_only=True)
class Shell(Instruction):
    shell: list[str]


@record(kw_only=True)
class StopSignal(Instruction):
    signal: str


@record(kw_only=True)
class OnBuild(Instruction):
    """`expression` is the trigger's text (with heredocs), parsed again when a child image builds."""

    expression: str


_NAMES: dict[type, str] = {
    From: "FROM", Run: "RUN", Copy: "COPY", Add: "ADD", Env: "ENV", Arg: "ARG", Label: "LABEL",
    Maintainer: "MAINTAINER", Expose: "EXPOSE", Volume: "VOLUME", User: "USER", Workdir: "WORKDIR",
    Cmd: "CMD", Entrypoint: "ENTRYPOINT", Healthcheck: "HEALTHCHECK", Shell: "SHELL",
    StopSignal: "STOPSIGNAL", OnBuild: "ONBUILD",
}
