"""History text (`created_by`, `empty_layer`) as BuildKit records it, and the argv a RUN executes."""

from __future__ import annotations

import pytest

from podpy.build import instructions as ins
from podpy.build.buildargs import Platform
from podpy.build.expand import StageScope
from podpy.build.history import created_by, go_duration, history_entry, run_args
from podpy.build.parser import parse
from podpy.build.plan import make_plan

AMD64 = Platform("linux", "amd64")


def _history(text: str, build_args: dict | None = None) -> list[tuple[str, bool]]:
    plan = make_plan(parse("FROM busybox\n" + text), build_args, None, AMD64, AMD64)
    scope = StageScope(plan)
    out = []
    for raw in plan.stages[-1].instructions:
        inst = scope.expand(raw)
        entry = history_entry(inst, scope)
        assert entry["comment"] == "buildkit.dockerfile.v0"
        out.append((entry["created_by"], entry.get("empty_layer", False)))
    return out


@pytest.mark.parametrize(
    ("line", "created", "empty"),
    [
        ("ENV A=1 B=two\\ words", "ENV A=1 B=two words", True),
        ("ENV OLD value here", "ENV OLD=value here", True),
        ('LABEL a=b "c d"=e', "LABEL a=b c d=e", True),
        ("MAINTAINER me", "MAINTAINER me", True),
        ("EXPOSE 80 53/udp", "EXPOSE 80 53/udp", True),
        ('VOLUME ["/a", "/b"]', "VOLUME [/a /b]", True),
        ("USER app", "USER app", True),
        ("WORKDIR /srv", "WORKDIR /srv", False),
        ("WORKDIR /", "WORKDIR /", True),
        ("STOPSIGNAL SIGKILL", "STOPSIGNAL SIGKILL", True),
        ('SHELL ["/bin/bash", "-c"]', "SHELL [/bin/bash -c]", True),
        ("ONBUILD RUN make", "ONBUILD RUN make", True),
        ("CMD echo hi", 'CMD ["/bin/sh" "-c" "echo hi"]', True),
        ('CMD ["a", "b c"]', 'CMD ["a" "b c"]', True),
        ('ENTRYPOINT ["/e"]', 'ENTRYPOINT ["/e"]', True),
        ("ARG X Y=1", "ARG X Y=1", True),
        ("RUN echo hi", "RUN /bin/sh -c echo hi # buildkit", False),
        ('RUN ["echo", "hi"]', "RUN echo hi # buildkit", False),
        ("COPY --chown=1:1 --chmod=644 a b /d/", "COPY --chown=1:1 --chmod=644 a b /d/ # buildkit", False),
        ("ADD --parents x/./y /d", "ADD --parents x/./y /d # buildkit", False),
        ("COPY <<EOF /f\nhi\nEOF", "COPY <<EOF /f # buildkit", False),
        ("HEALTHCHECK --interval=5s --retries=3 CMD curl -f x",
         "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f x\"] \"5s\" \"0s\" \"0s\" \"0s\" '\\x03'}", True),
    ],
)
def test_created_by(line: str, created: str, empty: bool) -> None:
    assert _history(line + "\n")[-1] == (created, empty)


def test_run_history_lists_stage_args_not_proxies() -> None:
    got = _history("ARG A=1 B\nARG HTTP_PROXY\nENV A=env\nRUN true\n", {"B": "2", "HTTP_PROXY": "http://p"})
    assert got[-1][0] == "RUN |2 A=env B=2 /bin/sh -c true # buildkit"


def test_shell_changes_run_and_cmd() -> None:
    got = _history('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN a | b\nCMD c\n')
    assert got[1][0] == "RUN /bin/bash -eo pipefail -c a | b # buildkit"
    assert got[2][0] == 'CMD ["/bin/bash" "-eo" "pipefail" "-c" "c"]'


def _run(text: str) -> list[str]:
    plan = make_plan(parse("FROM busybox\n" + text), None, None, AMD64, AMD64)
    scope = StageScope(plan)
    inst = plan.stages[0].instructions[-1]
    assert isinstance(inst, ins.Run)
    return run_args(inst, scope)


def test_run_args_heredoc_forms() -> None:
    assert _run("RUN <<EOF\necho a\necho b\nEOF\n") == ["/bin/sh", "-c", "echo a\necho b\n"]
    assert _run("RUN <<-EOF\n\techo a\n\tEOF\n") == ["/bin/sh", "-c", "echo a\n"]
    assert _run("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n") == ["/bin/sh", "-c", "/dev/pipes/EOF"]
    assert _run("RUN cat <<A <<B\n1\nA\n2\nB\n") == ["/bin/sh", "-c", "cat <<A <<B\n1\nA\n2\nB"]
    assert _run('RUN ["echo", "x"]') == ["echo", "x"]


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0s"), (300_000_000, "300ms"), (1_500_000, "1.5ms"), (2_000, "2µs"), (5, "5ns"), (10**9, "1s"),
     (1_500_000_000, "1.5s"), (90 * 10**9, "1m30s"), (7200 * 10**9, "2h0m0s"), (3661 * 10**9, "1h1m1s")],
)
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_from_has_no_history() -> None:
    plan = make_plan(parse("FROM busybox\n"), None, None, AMD64, AMD64)
    with pytest.raises(ValueError):
        created_by(plan.stages[0].from_, StageScope(plan))
