"""Nodes → a plan of stages: global ARGs resolved, FROM bases expanded, dependencies between stages
(FROM a stage, COPY --from, RUN --mount=from=), what `--target` needs, and which stages may run at once.
"""

from __future__ import annotations

from podpy.build import instructions as ins
from podpy.build.buildargs import Platform, host_platform, platform_args
from podpy.build.errors import BuildError, ShellSyntaxError
from podpy.build.instructions_parse import parse_instruction
from podpy.build.mounts import mount_from
from podpy.build.parser import Dockerfile
from podpy.build.shell_lex import ShellLex
from podpy.record import field, record, replace


@record(lean_init=True)
class Stage:
    index: int
    name: str | None
    from_: ins.From
    base: str  # FROM's image (expanded), a stage name, or "scratch"
    platform: str | None  # --platform expanded
    instructions: list[ins.Instruction] = field(default_factory=list)
    base_stage: int | None = None
    deps: list[int] = field(default_factory=list)  # stages this one reads (base, --from, mount from)
    images: list[str] = field(default_factory=list)  # images COPY --from / mount from= name directly

    def to_dict(self) -> dict:
        out: dict = {"index": self.index, "base": self.base}
        for key, value in (("name", self.name), ("platform", self.platform), ("base_stage", self.base_stage)):
            if value is not None:
                out[key] = value
        if self.deps:
            out["deps"] = self.deps
        if self.images:
            out["images"] = self.images
        out["instructions"] = [i.to_dict() for i in self.instructions]
        return out


@record(lean_init=True)
class Plan:
    file: str
    escape: str
    global_args: dict[str, str]  # after meta ARGs, --build-arg and the platform ARGs
    meta_args: list[ins.Arg]
    stages: list[Stage]
    target: int
    needed: list[int]  # stages to build for the target, dependencies first
    build_args: dict[str, str]
    warnings: list[str] = field(default_factory=list)  # the parser's, and stage-name lint

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or index, as `--target`, FROM and --from name them."""
        low = ref.lower()
        for st in self.stages:
            if st.name == low:
                return st
        if ref.isdecimal() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def all_stages(self) -> list[int]:
        """Every stage, dependencies first (--skip-unused-stages=false), the target last."""
        order: list[int] = []
        for st in [*self.stages[: self.target], *self.stages[self.target + 1 :], self.stages[self.target]]:
            order += [i for i in _needed(self.stages, st.index, self.file) if i not in order]
        return order

    def levels(self) -> list[list[int]]:
        """Needed stages grouped into waves: each wave depends only on earlier waves."""
        done: set[int] = set()
        waves: list[list[int]] = []
        pending = list(self.needed)
        while pending:
            wave = [i for i in pending if all(d in done for d in self.stages[i].deps)]
            waves.append(wave)
            done.update(wave)
            pending = [i for i in pending if i not in done]
        return waves

    def unused_build_args(self) -> list[str]:
        """--build-arg names no ARG line of a needed stage (or the global scope) declares."""
        declared = {k for a in self.meta_args for k, _ in a.pairs}
        for i in self.needed:
            declared |= {k for inst in self.stages[i].instructions if isinstance(inst, ins.Arg) for k, _ in inst.pairs}
        from podpy.build.buildargs import PROXY_ARGS

        return sorted(k for k in self.build_args if k not in declared and k not in PROXY_ARGS)

    def to_dict(self) -> dict:
        return {
            "global_args": self.global_args,
            "stages": [s.to_dict() for s in self.stages],
            "target": self.target,
            "needed": self.needed,
            "levels": self.levels(),
        }


def make_plan(
    df: Dockerfile,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
    target_platform: Platform | None = None,
    build_platform: Platform | None = None,
    from_image: str | None = None,
) -> Plan:
    """Type every instruction, resolve FROM lines and dependencies; BuildError on the first problem."""
    build_args = dict(build_args or {})
    host = host_platform()
    lex = ShellLex(escape=df.escape)
    globals_ = platform_args(target_platform or host, build_platform or host)
    meta: list[ins.Arg] = []
    stages: list[Stage] = []
    for node in df.nodes:
        inst = parse_instruction(node, df.file)
        if isinstance(inst, ins.From):
            if from_image and not stages:  # --from: the first FROM's image replaced
                inst = replace(inst, base=from_image)
            stages.append(_stage(inst, len(stages), globals_, lex, df.file))
        elif stages:
            stages[-1].instructions.append(inst)
        elif isinstance(inst, ins.Arg):
            meta.append(inst)
            _global_arg(inst, globals_, build_args, lex, df.file)
        else:
            raise BuildError("no build stage in current context", file=df.file, line=inst.line, instruction=inst.name)
    if not stages:
        raise BuildError("file with no stage", file=df.file, line=df.nodes[-1].end_line)
    warnings = list(df.warnings) + _check_names(stages, df.file)
    for st in stages:
        _link(st, stages, globals_, build_args, lex, df.file)
    tgt = _target(stages, target, df.file)
    plan = Plan(df.file, df.escape, globals_, meta, stages, tgt, [], build_args, warnings)
    plan.needed = _needed(stages, tgt, df.file)
    return plan


def _check_names(stages: list[Stage], file: str) -> list[str]:
    seen: set[str] = set()
    warnings = []
    for st in stages:
        if st.name is None:
            continue
        if st.name in seen:
            raise BuildError(f"Duplicate stage name '{st.name}', stage names should be unique", file=file,
                             line=st.from_.line, instruction="FROM")
        seen.add(st.name)
        if st.name in ("scratch", "context"):
            warnings.append(f"{file}:{st.from_.line}: '{st.name}' is reserved and should not be used as a stage name")
    return warnings


def _expand(lex: ShellLex, word: str, env: dict[str, str], file: str, inst: ins.Instruction) -> str:
    try:
        return lex.process_word(word, env)
    except ShellSyntaxError as e:
        raise BuildError(str(e), file=file, line=inst.line, instruction=inst.name) from None


def _global_arg(inst: ins.Arg, globals_: dict[str, str], build_args: dict, lex: ShellLex, file: str) -> None:
    for key, default in inst.pairs:
        value = _expand(lex, default, globals_, file, inst) if default is not None else None
        if key in build_args:
            value = build_args[key]
        if value is not None:
            globals_[key] = value


def _stage(inst: ins.From, index: int, globals_: dict[str, str], lex: ShellLex, file: str) -> Stage:
    base = _expand(lex, inst.base, globals_, file, inst)
    if not base:
        raise BuildError(f"base name ({inst.base}) should not be blank", file=file, line=inst.line, instruction="FROM")
    platform = _expand(lex, inst.platform, globals_, file, inst) if inst.platform is not None else None
    if platform is not None:
        try:
            platform = str(Platform.parse(platform))
        except ValueError as e:
            raise BuildError(str(e), file=file, line=inst.line, instruction="FROM") from None
    return Stage(index, inst.stage_name, inst, base, platform)


def _static_env(st: Stage, globals_: dict[str, str], build_args: dict[str, str],
                inst_limit: ins.Instruction) -> dict[str, str]:
    """ARG/ENV values known without the base image, up to an instruction (for --from expansion)."""
    env: dict[str, str] = {}
    for inst in st.instructions:
        if inst is inst_limit:
            break
        if isinstance(inst, ins.Arg):
            for k, v in inst.pairs:
                value = build_args.get(k, v if v is not None else globals_.get(k))
                if value is not None:
                    env[k] = value
        elif isinstance(inst, ins.Env):
            env.update(inst.pairs)
    return env


def _refs(st: Stage) -> list[tuple[ins.Instruction, str]]:
    out: list[tuple[ins.Instruction, str]] = []
    for inst in st.instructions:
        if isinstance(inst, ins.Copy) and not isinstance(inst, ins.Add) and inst.from_:
            out.append((inst, inst.from_))
        elif isinstance(inst, ins.Run):
            out.extend((inst, ref) for m in inst.mounts if (ref := mount_from(m)))
    return out


def _link(st: Stage, stages: list[Stage], globals_: dict[str, str], build_args: dict[str, str], lex: ShellLex,
          file: str) -> None:
    names = {s.name: s.index for s in stages if s.name}
    if st.base.lower() in names:
        st.base_stage = names[st.base.lower()]
        st.deps.append(st.base_stage)
    for inst, ref in _refs(st):
        value = _expand(lex, ref, _static_env(st, globals_, build_args, inst), file, inst)
        dep = names.get(value.lower())
        if dep is None and value.isdecimal():
            dep = int(value)
            if dep >= st.index:
                raise BuildError(f"invalid from flag value {value}: refers to current or later build stage",
                                 file=file, line=inst.line, instruction=inst.name)
        if dep is None:
            if value not in st.images:
                st.images.append(value)
        elif dep not in st.deps:
            st.deps.append(dep)


def _target(stages: list[Stage], target: str | None, file: str) -> int:
    if not target:
        return len(stages) - 1
    for st in stages:
        if st.name == target.lower():
            return st.index
    raise BuildError(f"target stage {target!r} could not be found", file=file)


def _needed(stages: list[Stage], target: int, file: str) -> list[int]:
    order: list[int] = []
    state: dict[int, str] = {}

    def visit(i: int) -> None:
        if state.get(i) == "done":
            return
        if state.get(i) == "active":
            raise BuildError(f"circular dependency detected on stage: {stages[i].name or i}",
                             file=file, line=stages[i].from_.line, instruction="FROM")
        state[i] = "active"
        for d in stages[i].deps:
            visit(d)
        state[i] = "done"
        order.append(i)

    visit(target)
    return order

