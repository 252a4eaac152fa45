"""Image config as Docker builds it: ENTRYPOINT/CMD interplay, ENV order, EXPOSE, ONBUILD, history."""

from __future__ import annotations

import pytest

from podpy.build.buildargs import Platform
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.build.imageconfig import (
    DEFAULT_PATH,
    StageConfig,
    add_env,
    check_signal,
    effective_command,
    expose_ports,
    scratch_config,
)
from podpy.build.instructions_parse import parse_triggers
from podpy.build.parser import parse
from podpy.build.plan import make_plan

AMD64 = Platform("linux", "amd64")
BASE = {"architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin", "HOME=/root"], "Cmd": ["sh"], "OnBuild": ["RUN echo trig"],
                   "Labels": {"base": "1"}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
        "history": [{"created_by": "base"}]}


def _build(text: str, base: dict | None = None) -> StageConfig:
    plan = make_plan(parse("FROM base\n" + text), None, None, AMD64, AMD64)
    sc = StageConfig.from_base(base or BASE)
    scope = StageScope(plan, sc.config.get("Env"))
    for raw in plan.stages[0].instructions:
        sc.apply(scope.expand(raw), scope)
    return sc


def test_entrypoint_drops_inherited_cmd() -> None:
    cfg = _build('ENTRYPOINT ["/e"]\n').config
    assert cfg["Entrypoint"] == ["/e"] and cfg["Cmd"] is None
    assert effective_command(cfg) == ["/e"]


def test_cmd_before_entrypoint_in_same_stage_survives() -> None:
    cfg = _build('CMD ["x"]\nENTRYPOINT ["/e"]\n').config
    assert effective_command(cfg) == ["/e", "x"]


@pytest.mark.parametrize(
    ("text", "argv"),
    [
        ('CMD ["a", "b"]\n', ["a", "b"]),
        ("CMD a b\n", ["/bin/sh", "-c", "a b"]),
        ('ENTRYPOINT ["e"]\nCMD ["d"]\n', ["e", "d"]),
        ('ENTRYPOINT e -x\nCMD ["ignored"]\n', ["/bin/sh", "-c", "e -x", "ignored"]),
        ('ENTRYPOINT ["e"]\nCMD d\n', ["e", "/bin/sh", "-c", "d"]),
        ('SHELL ["/bin/bash", "-c"]\nCMD d\n', ["/bin/bash", "-c", "d"]),
        ("CMD []\n", []),
    ],
)
def test_entrypoint_cmd_matrix(text: str, argv: list[str]) -> None:
    assert effective_command(_build(text).config) == argv


def test_config_fields() -> None:
    sc = _build(
        "ENV PATH=/usr/bin:$PATH NEW=1\nLABEL a=b base=2\nEXPOSE 80 53/udp 8000-8001\nVOLUME /data\n"
        "USER app\nWORKDIR /srv\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s CMD true\nMAINTAINER me\n"
        "ONBUILD RUN child\n"
    )
    cfg = sc.config
    assert cfg["Env"] == ["PATH=/usr/bin:/bin", "HOME=/root", "NEW=1"]
    assert cfg["Labels"] == {"base": "2", "a": "b"}
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}
    assert cfg["Volumes"] == {"/data": {}}
    assert (cfg["User"], cfg["WorkingDir"], cfg["StopSignal"]) == ("app", "/srv", "SIGINT")
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5 * 10**9}
    assert cfg["OnBuild"] == ["RUN child"]  # the base's triggers are not inherited
    assert sc.triggers == ["RUN echo trig"]
    assert sc.doc["author"] == "me"


def test_history_entries_and_empty_layers() -> None:
    sc = _build("ENV A=1\nRUN true\nCOPY a /b\nWORKDIR /w\n")
    hist = sc.doc["history"]
    assert hist[0] == {"created_by": "base"}
    assert [(h["created_by"], h.get("empty_layer", False)) for h in hist[1:]] == [
        ("ENV A=1", True), ("RUN /bin/sh -c true # buildkit", False), ("COPY a /b # buildkit", False),
        ("WORKDIR /w", False),
    ]


def test_base_is_not_mutated() -> None:
    _build("ENV X=1\nLABEL l=1\n")
    assert BASE["config"]["Env"] == ["PATH=/bin", "HOME=/root"] and "OnBuild" in BASE["config"]


def test_scratch_has_default_path() -> None:
    assert scratch_config()["config"]["Env"] == [DEFAULT_PATH]


def test_add_env_keeps_position() -> None:
    assert add_env(["A=1", "B=2"], "A", "3") == ["A=3", "B=2"]


@pytest.mark.parametrize("bad", ["0", "70000", "80/xyz", "a", "90-80"])
def test_expose_invalid(bad: str) -> None:
    with pytest.raises(ValueError):
        expose_ports([bad])


def test_expose_error_names_line() -> None:
    with pytest.raises(BuildError, match=r"Dockerfile:3: EXPOSE: invalid containerPort: abc"):
        _build("ENV A=1\nEXPOSE abc\n")


@pytest.mark.parametrize(("sig", "ok"), [("SIGTERM", True), ("term", True), ("9", True), ("SIGRTMIN+3", True),
                                         ("SIGNOPE", False), ("99", False)])
def test_check_signal(sig: str, ok: bool) -> None:
    if ok:
        assert check_signal(sig) == sig
    else:
        with pytest.raises(ValueError):
            check_signal(sig)


def test_parse_triggers() -> None:
    got = parse_triggers(["RUN echo hi", "COPY --from=x a b", "RUN <<EOF\necho doc\nEOF"])
    assert [i.name for i in got] == ["RUN", "COPY", "RUN"]
    assert got[2].heredocs[0].content == "echo doc\n"
    with pytest.raises(BuildError, match="isn't allowed as an ONBUILD trigger"):
        parse_triggers(["FROM x"])
