"""Plan, scope, mounts and flags: what an executor consumes."""

from __future__ import annotations

import pytest

from podpy.build import instructions as ins
from podpy.build.bflags import parse_flags
from podpy.build.buildargs import Platform, parse_build_args
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.build.instructions_parse import parse_duration
from podpy.build.mounts import parse_mount
from podpy.build.parser import parse
from podpy.build.plan import make_plan

AMD64 = Platform("linux", "amd64")


def _plan(text: str, **kw):
    return make_plan(parse(text), target_platform=AMD64, build_platform=AMD64, **kw)


def test_error_is_one_line_with_file_line_instruction() -> None:
    with pytest.raises(BuildError) as e:
        _plan("FROM busybox\n\nCOPY onlyone\n")
    assert e.value.exit_code == 125
    assert str(e.value).startswith("Dockerfile:3: COPY: COPY requires at least two arguments")
    assert "\n" not in str(e.value)
    assert (e.value.line, e.value.instruction) == (3, "COPY")


def test_levels_run_independent_stages_together() -> None:
    plan = _plan("FROM a AS x\nFROM b AS y\nFROM c\nCOPY --from=x /a /a\nCOPY --from=y /b /b\n")
    assert plan.levels() == [[0, 1], [2]]


def test_target_skips_unneeded_stages() -> None:
    plan = _plan("FROM a AS x\nFROM b AS y\nFROM c AS z\nCOPY --from=x / /\n", target="z")
    assert plan.needed == [0, 2]
    assert plan.stage("Z").index == 2 and plan.stage("1").name == "y" and plan.stage("nope") is None


def test_copy_from_expands_stage_args() -> None:
    plan = _plan("FROM a AS src\nFROM b\nARG FROM=src\nCOPY --from=$FROM / /\n")
    assert plan.stages[1].deps == [0]


def test_copy_from_build_arg_picks_the_stage() -> None:
    text = "FROM a AS one\nFROM b AS two\nFROM c\nARG SRC=one\nCOPY --from=$SRC / /\n"
    assert _plan(text).needed == [0, 2]
    assert _plan(text, build_args={"SRC": "two"}).needed == [1, 2]


def test_scope_run_env_and_history() -> None:
    plan = _plan("FROM a\nARG V=1 HTTP_PROXY\nENV P=/x\n", build_args={"HTTP_PROXY": "http://p", "https_proxy": "h"})
    scope = StageScope(plan, ["PATH=/bin"])
    for inst in plan.stages[0].instructions:
        scope.expand(inst)
    assert scope.run_env() == ["PATH=/bin", "V=1", "HTTP_PROXY=http://p", "P=/x", "https_proxy=h"]
    assert scope.history_args() == ["V=1"]  # proxy args never reach history


def test_scope_mounts_relative_target_under_workdir() -> None:
    plan = _plan("FROM a\nWORKDIR /w\nRUN --mount=type=cache,target=c echo\n")
    scope = StageScope(plan)
    run = [scope.expand(i) for i in plan.stages[0].instructions][-1]
    assert isinstance(run, ins.Run)
    assert scope.mounts(run)[0].target == "/w/c"


def test_unused_build_args() -> None:
    plan = _plan("ARG G\nFROM a\nARG S\n", build_args={"G": "1", "S": "2", "X": "3", "no_proxy": "x"})
    assert plan.unused_build_args() == ["X"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("type=cache,target=/c", dict(type="cache", target="/c", id="/c", readonly=False)),
        ("target=/x,source=s", dict(type="bind", target="/x", source="s", readonly=True)),
        ("type=bind,target=/x,rw", dict(type="bind", target="/x", readonly=False)),
        ("type=bind,target=/x,readwrite=true", dict(type="bind", target="/x", readonly=False)),
        ("type=tmpfs,dst=/t,size=100", dict(type="tmpfs", target="/t", size=100, readonly=False)),
        ("type=secret,id=tok", dict(type="secret", id="tok", target="/run/secrets/tok", readonly=False)),
        ("type=secret,id=tok,env=T", dict(type="secret", id="tok", env="T", readonly=False)),
        ("type=secret,target=/run/k", dict(type="secret", id="k", target="/run/k", readonly=False)),
        ("type=ssh,required", dict(type="ssh", id="default", required=True, target="/run/buildkit/ssh_agent.0",
                                    readonly=False)),
        ("type=cache,target=/c,sharing=locked,mode=0700,uid=1,gid=2",
         dict(type="cache", target="/c", id="/c", sharing="locked", mode=0o700, uid=1, gid=2, readonly=False)),
    ],
)
def test_parse_mount(raw: str, expected: dict) -> None:
    m = parse_mount(raw)
    for key, value in expected.items():
        assert getattr(m, key) == value, key


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("type=volume,target=/x", "unsupported mount type"),
        ("type=cache", "requires a target"),
        ("type=cache,target=/c,sharing=weird", "unsupported sharing"),
        ("type=bind,target=/x,sharing=locked", "only supported for cache"),
        ("type=cache,target=/c,uid=x", "invalid value for uid"),
        ("type=bind,target=/x,bogus=1", "unexpected key"),
        ("type=bind,target=/x,flag", "key=value"),
    ],
)
def test_parse_mount_errors(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mount(raw)


def test_flags() -> None:
    f = parse_flags("COPY", ["--from=a", "--link", "--exclude=x", "--exclude=y", "--parents=false"])
    assert (f.str("from"), f.bool("link"), f.list("exclude"), f.bool("parents")) == ("a", True, ["x", "y"], False)
    with pytest.raises(ValueError, match="unknown flag: from"):
        parse_flags("RUN", ["--from=a"])


@pytest.mark.parametrize(("text", "ns"), [("0", 0), ("1s", 10**9), ("1m30s", 90 * 10**9), ("1.5h", 5400 * 10**9),
                                          ("300ms", 300 * 10**6), ("2us", 2000), ("1µs", 1000)])
def test_duration(text: str, ns: int) -> None:
    assert parse_duration(text, "interval") == ns


@pytest.mark.parametrize("text", ["1", "s", "1x", "1s2"])
def test_bad_duration(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text, "interval")


def test_build_args_take_environment() -> None:
    assert parse_build_args(["A=1", "B", "C", "D="], {"B": "env"}) == {"A": "1", "B": "env", "D": ""}


def test_platform_parse() -> None:
    assert str(Platform.parse("linux/x86_64")) == "linux/amd64"
    assert str(Platform.parse("linux/arm64/v8")) == "linux/arm64"
    assert str(Platform.parse("linux/arm/v7")) == "linux/arm/v7"


def test_parse_file_errors(tmp_path) -> None:
    from podpy.build.parser import parse_file

    with pytest.raises(BuildError, match="no such file"):
        parse_file(tmp_path / "missing")
    bad = tmp_path / "Dockerfile"
    bad.write_bytes(b"FROM a\nRUN \xff\n")
    assert parse_file(bad).nodes[1].args[0].encode("utf-8", "surrogateescape") == b"\xff"
    with pytest.raises(BuildError, match="cannot read the Dockerfile"):
        parse_file(tmp_path)
    bad.write_bytes(b"\xef\xbb\xbfFROM a\n")
    assert parse_file(bad).nodes[0].args == ["a"]


def test_error_with_newline_stays_one_line() -> None:
    plan = _plan("FROM a\nCOPY <<EOF /x\n${A:?bad\nvalue}\nEOF\n")
    with pytest.raises(BuildError) as e:
        StageScope(plan).expand(plan.stages[0].instructions[0])
    assert "\n" not in str(e.value) and "A: bad\\nvalue" in str(e.value)
