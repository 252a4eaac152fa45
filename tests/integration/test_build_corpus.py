"""A corpus of small build contexts, each checked through `image inspect` and a `run --rm`.

Every case is one real build in a private store (the busybox fixture as base). Slow as a whole:
`-m "not slow"` leaves it to the focused tests in test_build.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Podpy

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="builds run real containers")]


@dataclass
class Case:
    id: str
    dockerfile: str
    files: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    inspect: dict[str, Any] = field(default_factory=dict)  # dotted path in `image inspect` → value
    env: list[str] = field(default_factory=list)  # items Config.Env must hold
    run: list[str] | None = None  # a command for `run --rm` (after the image)
    out: str = ""


CASES = [
    Case("env-expansion", "FROM busybox\nENV A=1 B=${A}2\nENV C=\"$B 3\"\n", env=["A=1", "B=2", "C=2 3"]),  # one ENV sees the values from before it
    Case("env-next-line", "FROM busybox\nENV A=1\nENV B=${A}2\n", env=["B=12"]),
    Case("env-in-run", "FROM busybox\nENV W=world\nRUN echo hello $W > /o\n", run=["cat", "/o"], out="hello world\n"),
    Case("arg-default", "FROM busybox\nARG X=d\nRUN echo $X > /x\n", run=["cat", "/x"], out="d\n"),
    Case("arg-build-arg", "FROM busybox\nARG X=d\nRUN echo $X > /x\n", flags=["--build-arg", "X=given"],
         run=["cat", "/x"], out="given\n"),
    Case("arg-before-from", "ARG BASE=busybox\nFROM $BASE\nRUN true\n", inspect={"Config.Cmd": ["/bin/sh"]}),
    Case("arg-not-in-env", "FROM busybox\nARG SECRETISH=1\nRUN test \"$SECRETISH\" = 1\n",
         run=["sh", "-c", "echo ${SECRETISH:-unset}"], out="unset\n"),
    Case("arg-in-label", "FROM busybox\nARG V=1.2\nLABEL version=$V\n", flags=["--build-arg", "V=3.4"],
         inspect={"Config.Labels": {"version": "3.4"}}),
    Case("labels", 'FROM busybox\nLABEL a=1 "b c"="d e"\nLABEL a=2\n', inspect={"Config.Labels": {"a": "2", "b c": "d e"}}),
    Case("maintainer", "FROM busybox\nMAINTAINER Jane <j@x>\n", inspect={"Author": "Jane <j@x>"}),
    Case("expose", "FROM busybox\nEXPOSE 80 53/udp 8000-8001\n",
         inspect={"Config.ExposedPorts": {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}}),
    Case("run-after-volume-kept", "FROM busybox\nVOLUME /data\nRUN mkdir -p /data && echo x > /data/f\n",
         run=["sh", "-c", "cat /data/f"], out="x\n"),  # BuildKit keeps it (the legacy builder did not)
    Case("volume-json", 'FROM busybox\nVOLUME ["/a", "/b"]\n', inspect={"Config.Volumes": {"/a": {}, "/b": {}}}),
    Case("user-name", "FROM busybox\nUSER nobody\n", inspect={"Config.User": "nobody"}, run=["id", "-un"], out="nobody\n"),
    Case("workdir-relative", "FROM busybox\nWORKDIR /a\nWORKDIR b\n", inspect={"Config.WorkingDir": "/a/b"},
         run=["pwd"], out="/a/b\n"),
    Case("workdir-env", "FROM busybox\nENV D=/srv/app\nWORKDIR $D\n", inspect={"Config.WorkingDir": "/srv/app"}),
    Case("entrypoint-shell", "FROM busybox\nENTRYPOINT echo hi\n",
         inspect={"Config.Entrypoint": ["/bin/sh", "-c", "echo hi"], "Config.Cmd": None}, run=[], out="hi\n"),
    Case("entrypoint-drops-inherited-cmd", 'FROM busybox\nENTRYPOINT ["echo"]\n', inspect={"Config.Cmd": None}),
    Case("cmd-then-entrypoint", 'FROM busybox\nCMD ["b"]\nENTRYPOINT ["echo", "a"]\n',
         inspect={"Config.Cmd": ["b"]}, run=[], out="a b\n"),
    Case("cmd-shell", "FROM busybox\nCMD echo $HOME\n", inspect={"Config.Cmd": ["/bin/sh", "-c", "echo $HOME"]},
         run=[], out="/root\n"),
    Case("shell-instruction", 'FROM busybox\nSHELL ["/bin/sh", "-ec"]\nRUN echo $0 > /o\nCMD echo x\n',
         inspect={"Config.Shell": ["/bin/sh", "-ec"], "Config.Cmd": ["/bin/sh", "-ec", "echo x"]}),
    Case("healthcheck", "FROM busybox\nHEALTHCHECK --interval=5s --retries=2 CMD true\n",
         inspect={"Config.Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 2}}),
    Case("healthcheck-none", "FROM busybox\nHEALTHCHECK NONE\n", inspect={"Config.Healthcheck": {"Test": ["NONE"]}}),
    Case("stopsignal", "FROM busybox\nSTOPSIGNAL SIGKILL\n", inspect={"Config.StopSignal": "SIGKILL"}),
    Case("copy-dir-contents", "FROM busybox\nCOPY d /dst\n", {"d/x": "1\n", "d/s/y": "2\n"},
         run=["sh", "-c", "cat /dst/x /dst/s/y"], out="1\n2\n"),
    Case("copy-wildcard", "FROM busybox\nCOPY *.txt /t/\n", {"a.txt": "a\n", "b.txt": "b\n", "c.md": "c\n"},
         run=["ls", "/t"], out="a.txt\nb.txt\n"),
    Case("copy-rename", "FROM busybox\nCOPY a.txt /b.txt\n", {"a.txt": "a\n"}, run=["cat", "/b.txt"], out="a\n"),
    Case("copy-relative-dest", "FROM busybox\nWORKDIR /w\nCOPY a.txt .\n", {"a.txt": "a\n"},
         run=["cat", "/w/a.txt"], out="a\n"),
    Case("copy-into-existing-dir", "FROM busybox\nCOPY a.txt /tmp\n", {"a.txt": "a\n"},
         run=["cat", "/tmp/a.txt"], out="a\n"),
    Case("copy-chmod", "FROM busybox\nCOPY --chmod=751 a.sh /a.sh\n", {"a.sh": "echo\n"},
         run=["stat", "-c", "%a", "/a.sh"], out="751\n"),
    Case("copy-chown-numeric", "FROM busybox\nCOPY --chown=7:8 a /a\n", {"a": "x"},
         run=["stat", "-c", "%u:%g", "/a"], out="7:8\n"),
    Case("copy-owner-root", "FROM busybox\nCOPY a /a\n", {"a": "x"}, run=["stat", "-c", "%u:%g", "/a"], out="0:0\n"),
    Case("copy-exclude", "# syntax=docker/dockerfile:1.7-labs\nFROM busybox\nCOPY --exclude=*.log d /d\n",
         {"d/a": "1", "d/b.log": "2"}, run=["ls", "/d"], out="a\n"),
    Case("dockerignore-exception", "FROM busybox\nCOPY . /c\n",
         {"keep.md": "k", "drop.md": "d", ".dockerignore": "*.md\n!keep.md\nDockerfile\n.dockerignore\n"},
         run=["ls", "-A", "/c"], out="keep.md\n"),
    Case("heredoc-quoted", "FROM busybox\nENV X=1\nCOPY <<'EOF' /h\n$X\nEOF\n", run=["cat", "/h"], out="$X\n"),
    Case("heredoc-two-files", "FROM busybox\nCOPY <<A <<B /d/\none\nA\ntwo\nB\n",
         run=["cat", "/d/A", "/d/B"], out="one\ntwo\n"),
    Case("run-exec-form", 'FROM busybox\nRUN ["sh", "-c", "echo exec > /e"]\n', run=["cat", "/e"], out="exec\n"),
    Case("run-deletes", "FROM busybox\nRUN rm /etc/group\n", run=["sh", "-c", "test -e /etc/group || echo gone"],
         out="gone\n"),
    Case("run-network-host", "FROM busybox\nRUN --network=host ip -o link | wc -l > /n\n",
         run=["sh", "-c", "test $(cat /n) -ge 1 && echo ok"], out="ok\n"),
    Case("stage-by-index", "FROM busybox\nRUN echo zero > /z\nFROM busybox\nCOPY --from=0 /z /z\n",
         run=["cat", "/z"], out="zero\n"),
    Case("stage-as-base", "FROM busybox AS base\nENV B=1\nFROM base\nRUN echo $B > /b\n", run=["cat", "/b"], out="1\n"),
    Case("target-middle", "FROM busybox AS a\nRUN echo a > /a\nFROM a AS b\nRUN echo b > /b\nFROM b\nRUN false\n",
         flags=["--target", "b"], run=["cat", "/a", "/b"], out="a\nb\n"),
    Case("add-plain-tar", "FROM busybox\nADD t.tar /x/\n", {}, run=["cat", "/x/in"], out="in\n"),
    Case("add-plain-file", "FROM busybox\nADD f /f\n", {"f": "plain\n"}, run=["cat", "/f"], out="plain\n"),
    Case("copy-symlink-kept", "FROM busybox\nCOPY d /d\n", {"d/t": "t\n"},
         run=["readlink", "/d/l"], out="t\n"),
    Case("copy-many-to-dir", "FROM busybox\nCOPY a b /d/\n", {"a": "a\n", "b": "b\n"}, run=["cat", "/d/a", "/d/b"],
         out="a\nb\n"),
    Case("copy-dir-to-slash-dest", "FROM busybox\nCOPY d /x/\n", {"d/f": "f\n"}, run=["cat", "/x/f"], out="f\n"),
    Case("copy-chown-name", "FROM busybox\nCOPY --chown=nobody:nogroup a /a\n", {"a": "a"},
         run=["stat", "-c", "%U", "/a"], out="nobody\n"),
    Case("copy-from-image", "FROM scratch\nCOPY --from=busybox /bin/busybox /bin/busybox\nCMD [\"/bin/busybox\", \"echo\", \"ok\"]\n",
         run=[], out="ok\n"),
    Case("copy-from-stage-dir", "FROM busybox AS b\nRUN mkdir -p /o/s && echo 1 > /o/s/f\nFROM busybox\nCOPY --from=b /o /p\n",
         run=["cat", "/p/s/f"], out="1\n"),
    Case("add-tar-gz", "FROM busybox\nADD t.tar.gz /x/\n", run=["cat", "/x/in"], out="in\n"),
    Case("env-legacy-syntax", "FROM busybox\nENV A b c\n", env=["A=b c"]),
    Case("label-quoted", 'FROM busybox\nLABEL "desc"="two words" x=\'single q\'\n',
         inspect={"Config.Labels": {"desc": "two words", "x": "single q"}}),
    Case("arg-global-redeclared", "ARG V=1\nFROM busybox\nARG V\nRUN echo $V > /v\n", run=["cat", "/v"], out="1\n"),
    Case("arg-global-hidden", "ARG V=1\nFROM busybox\nRUN echo \"[$V]\" > /v\n", run=["cat", "/v"], out="[]\n"),
    Case("arg-run-env", "FROM busybox\nARG A=1\nRUN echo $A > /a\n", run=["cat", "/a"], out="1\n"),
    Case("user-uid-gid", "FROM busybox\nUSER 12:34\n", run=["sh", "-c", "echo $(id -u):$(id -g)"], out="12:34\n"),
    Case("workdir-created", "FROM busybox\nWORKDIR /deep/er/dir\nRUN pwd > /p\n", run=["cat", "/p"],
         out="/deep/er/dir\n"),
    Case("entrypoint-exec-cmd-args", 'FROM busybox\nENTRYPOINT ["echo", "e"]\nCMD ["c"]\n', run=["x"], out="e x\n"),
    Case("cmd-invalid-json-is-shell", "FROM busybox\nCMD [notjson\n",
         inspect={"Config.Cmd": ["/bin/sh", "-c", "[notjson"]}),
    Case("healthcheck-all-options",
         "FROM busybox\nHEALTHCHECK --interval=1m --timeout=3s --start-period=2s --retries=4 CMD [\"true\"]\n",
         inspect={"Config.Healthcheck": {"Test": ["CMD", "true"], "Interval": 60_000_000_000,
                                         "Timeout": 3_000_000_000, "StartPeriod": 2_000_000_000, "Retries": 4}}),
    Case("expose-udp", "FROM busybox\nEXPOSE 5353/udp\n", inspect={"Config.ExposedPorts": {"5353/udp": {}}}),
    Case("escape-backtick", "# escape=`\nFROM busybox\nRUN echo a `\n    b > /e\n", run=["cat", "/e"], out="a b\n"),
    Case("continuation-with-comment", "FROM busybox\nRUN echo one \\\n# a comment inside\n    two > /c\n",
         run=["cat", "/c"], out="one two\n"),
    Case("heredoc-tab-strip", "FROM busybox\nRUN <<-EOT\n\techo stripped > /t\nEOT\n", run=["cat", "/t"],
         out="stripped\n"),
    Case("three-stages-chain", "FROM busybox AS a\nRUN echo a > /a\nFROM a AS b\nRUN echo b > /b\n"
         "FROM busybox\nCOPY --from=b /a /b /x/\n", run=["cat", "/x/a", "/x/b"], out="a\nb\n"),
    Case("dockerignore-dir", "FROM busybox\nCOPY . /c\n", {"keep": "k", "skip/f": "s", ".dockerignore": "skip\n"},
         run=["sh", "-c", "test -e /c/skip && echo there || echo absent"], out="absent\n"),
    Case("dockerfile-own-ignore", "FROM busybox\nCOPY . /c\n", {"Other.df": "FROM busybox\nCOPY . /c\n",
         "Other.df.dockerignore": "x\n", ".dockerignore": "y\n", "x": "x", "y": "y"},
         flags=["-f", "{ctx}/Other.df"], run=["sh", "-c", "ls /c | tr '\\n' ' '"],
         out="Dockerfile Other.df Other.df.dockerignore y "),  # x left out by the -f file's own ignore file
    Case("containerignore", "FROM busybox\nCOPY . /c\n", {"a": "a", "b": "b", ".containerignore": "a\n.*\nDockerfile\n"},
         run=["ls", "-A", "/c"], out="b\n"),
    Case("stopsignal-number", "FROM busybox\nSTOPSIGNAL 9\n", inspect={"Config.StopSignal": "9"}),
    Case("run-pipe-shell", "FROM busybox\nRUN echo abc | tr a-c x-z > /p\n", run=["cat", "/p"], out="xyz\n"),
    Case("workdir-env-relative", "FROM busybox\nENV SUB=s\nWORKDIR /base\nWORKDIR $SUB\n",
         inspect={"Config.WorkingDir": "/base/s"}),
    Case("from-platform-host", "FROM --platform=$BUILDPLATFORM busybox\nRUN true\n", inspect={"Os": "linux"}),
    Case("copy-link-flag", "FROM busybox\nCOPY --link a /a\n", {"a": "l\n"}, run=["cat", "/a"], out="l\n"),
    Case("heredoc-shebang-script", "FROM busybox\nUSER nobody\nRUN <<EOT\n#!/bin/sh\necho \"as $(id -un)\" > /tmp/s\nEOT\n",
         run=["cat", "/tmp/s"], out="as nobody\n"),
    Case("predefined-platform-arg", "FROM busybox\nARG TARGETARCH\nRUN echo $TARGETARCH > /a\n",
         run=["sh", "-c", "test -s /a && echo ok"], out="ok\n"),
]


def _dig(doc: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = (doc or {}).get(part)  # type: ignore[assignment]
    return doc


def _context(tmp_path: Path, case: Case) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(case.dockerfile)
    for name, text in case.files.items():
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(text)
    if case.id in ("add-plain-tar", "add-tar-gz"):
        import tarfile

        (tmp_path / "in").write_text("in\n")
        name, mode = ("t.tar", "w") if case.id == "add-plain-tar" else ("t.tar.gz", "w:gz")
        with tarfile.open(ctx / name, mode) as tf:
            tf.add(tmp_path / "in", "in")
    if case.id == "copy-symlink-kept":
        os.symlink("t", ctx / "d" / "l")
    return ctx


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(podpy: Podpy, busybox_image: str, tmp_path: Path, case: Case) -> None:
    ctx = _context(tmp_path, case)
    flags = [f.replace("{ctx}", str(ctx)) for f in case.flags]
    podpy("build", "-q", "-t", "case", *flags, str(ctx))
    doc = json.loads(podpy("image", "inspect", "case").stdout)[0]
    for dotted, want in case.inspect.items():
        assert _dig(doc, dotted) == want, dotted
    for item in case.env:
        assert item in doc["Config"]["Env"]
    if case.run is not None:
        assert podpy("run", "--rm", "case", *case.run).stdout == case.out
    again = podpy("build", "-t", "case", *flags, str(ctx)).stdout
    assert again.strip().endswith(doc["Id"].removeprefix("sha256:"))  # a rebuild is all cache hits


def test_onbuild_triggers_run_in_the_child(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "Dockerfile").write_text("FROM busybox\nONBUILD RUN echo triggered > /trig\n")
    podpy("build", "-t", "parent", str(parent))
    assert json.loads(podpy("image", "inspect", "parent").stdout)[0]["Config"]["OnBuild"] == [
        "RUN echo triggered > /trig"]
    child = tmp_path / "child"
    child.mkdir()
    (child / "Dockerfile").write_text("FROM parent\nRUN cat /trig\n")
    podpy("build", "-t", "child", str(child))
    assert podpy("run", "--rm", "child", "cat", "/trig").stdout == "triggered\n"
    assert not json.loads(podpy("image", "inspect", "child").stdout)[0]["Config"].get("OnBuild")
