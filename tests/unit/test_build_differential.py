"""Differential test: podpy's Dockerfile parser against BuildKit's own Go parser (PyPI `dockerfile`).

Skips when the wheel is not installed; it is test-only (the `test` extra).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from podpy.build.errors import BuildError
from podpy.build.parser import Node, parse

dockerfile = pytest.importorskip("dockerfile")

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dockerfile"
CASES = sorted(GOLDEN.glob("*.Dockerfile"))
# Where we choose to differ: an escape at end of file makes BuildKit emit an empty node
SKIP = {"continuation_at_eof"}

EXTRA = {
    "flags_quotes": 'FROM a\nRUN --a="x y" --b=\'p q\' --c=\\"z -- rest\n',
    "env_escapes": "FROM a\nENV A=\\\"x B='y z' C=\"p\\\"q\"\n",
    "heredoc_ws": "FROM a\nCOPY  <<A   <<B  /d\n1\nA\n2\nB\n",
    "heredoc_dash_in_name": "FROM a\nRUN <<END-OF-FILE\nx\nEND-OF-FILE\n",
    "json_spaces": 'FROM a\nCMD    [ "a" ,"b" ]   \n',
    "tabs": "FROM\ta\nRUN\techo\t1\n",
    "nested_quotes_label": "FROM a\nLABEL a=\"b 'c' d\" e='f \"g\" h'\n",
}


# Heredoc markers in odd places, JSON edge cases, empty and blank arguments.
EDGES = [
 "FROM a\nRUN --mount=type=cache,target=/x <<EOF\nbody\nEOF\n",
 "FROM a\nRUN echo '<<EOF'\n",
 "FROM a\nRUN echo \"<<EOF\" <<X\nx\nX\n",
 "FROM a\nRUN <<EOF$(echo)\nx\nEOF$(echo)\n",
 "FROM a\nRUN <<${V}\nx\n${V}\n",
 "FROM a\nRUN <<$V\nx\n$V\n",
 "FROM a\nRUN <<EOF>file\nx\nEOF\n",
 "FROM a\nRUN cat<<EOF\nx\nEOF\n",
 "FROM a\nRUN <<EOF;\nx\nEOF\n",
 "FROM a\nRUN <<A<<B\n1\nA\n2\nB\n",
 "FROM a\nRUN <<\"A B\"\nx\nA B\n",
 "FROM a\nRUN <<'A'\"B\"\nx\nAB\n",
 "FROM a\nRUN <<\\EOF\nx\nEOF\n",
 "FROM a\nCOPY <<EOF <<EOF /x\n1\nEOF\n2\nEOF\n",
 "FROM a\nADD --chmod=644 <<EOF /x\n1\nEOF\n",
 "FROM a\nRUN <<EOF\n\nEOF\n",
 "FROM a\nRUN <<EOF\nEOF\n",
 "FROM a\nRUN <<EOF\n  EOF\nEOF\n",
 "FROM a\nRUN <<-EOF\n  \tEOF\nEOF\n",
 "FROM a\nRUN <<EOF \\\n  && echo\nx\nEOF\n",
 "FROM a\nENV A=\"multi\\\n  line\"\n",
 "FROM a\nLABEL a=\"x\" \\\n  # comment \\\n  b=c\n",
 "FROM a\nRUN echo \\\\\\\n  next\n",
 "FROM a\n   RUN    indented\n",
 "FROM a\nRUN\techo\ttabs\t\n",
 "FROM a\nCMD [\"a\"]\t\n",
 "FROM a\nCMD [ ]\n",
 "FROM a\nCMD [\"a\",]\n",
 "FROM a\nCMD [\"\\u0041\\n\"]\n",
 "FROM a\nCMD [null]\n",
 "FROM a\nCMD {\"a\": 1}\n",
 "FROM a\nEXPOSE  \n",
 "FROM a\nARG A=\"b c\" D='e f'\n",
 "FROM a\nENV A= B=\n",
 "FROM a\nENV =x\n",
 "FROM a\nLABEL \"\"=x\n",
 "from a\nonbuild run echo\n",
 "FROM a\nHEALTHCHECK\n",
 "FROM a\nHEALTHCHECK CMD\n",
 "FROM a\nHEALTHCHECK --interval=1s\n",
]


def _go_shape(c) -> dict:
    return {
        "cmd": (c.cmd or "").upper(),
        "sub": (c.sub_cmd or "").upper() or None,
        "json": c.json,
        "lines": (c.start_line, c.end_line),
        "flags": tuple(c.flags),
        "value": tuple(c.value),
        "heredocs": tuple((h.name, h.file_descriptor, h.content) for h in c.heredocs),
    }


def _our_shape(n: Node) -> dict:
    inner = n.sub if n.sub is not None else n
    nested = n.sub is not None and inner.instruction == "ONBUILD" and inner.sub is not None
    shown = inner.instruction in _KNOWN and not nested
    value = inner.args if shown else [""]  # the wheel shows no words for unknown or nested ONBUILD
    return {
        "cmd": n.instruction,
        "sub": n.sub.instruction if n.sub is not None else None,
        "json": inner.json,
        "lines": (n.start_line, n.end_line),
        "flags": tuple(n.flags),
        "value": tuple(value),
        # the wheel does not expose an ONBUILD trigger's heredocs
        "heredocs": () if n.sub is not None else tuple((h.name, h.fd, h.content) for h in n.heredocs),
    }


_KNOWN = set(dockerfile.all_cmds()) | {c.upper() for c in dockerfile.all_cmds()}


def _compare(text: str) -> None:
    try:
        theirs = [_go_shape(c) for c in dockerfile.parse_string(text)]
        while theirs and theirs[-1]["cmd"] == "":  # an escape on the last line: we emit no empty node
            theirs.pop()
    except dockerfile.GoParseError:
        theirs = None
    try:
        ours = [_our_shape(n) for n in parse(text).nodes]
    except BuildError:
        ours = None
    assert ours == theirs


@pytest.mark.parametrize("path", [p for p in CASES if p.stem not in SKIP], ids=lambda p: p.stem)
def test_golden_inputs_match_buildkit(path: Path) -> None:
    _compare(path.read_bytes().decode("utf-8"))


@pytest.mark.parametrize("text", EDGES)
def test_edge_inputs_match_buildkit(text: str) -> None:
    _compare(text)


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extra_inputs_match_buildkit(name: str) -> None:
    _compare(EXTRA[name])


_INSTRUCTIONS = ["RUN", "CMD", "COPY", "ADD", "ENV", "LABEL", "ARG", "EXPOSE", "VOLUME", "USER", "WORKDIR",
                 "ENTRYPOINT", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER", "FOO", "run", "From"]
_WORDS = ["<<$V", "<<${V}", "cat<<EOF", "<<A<<B", "$(x)", "a", "b=c", "'q w'", '"x y"', "\\", "\\ ", "\\\\", "x``", "`", "$V", "${V:-d}", "--from=x", "--link", "[", "]",
          "--mount=type=cache,target=/x", '["a"]', '["a", "b"]', "[1]", "<<EOF", "<<-E", "<<'Q'", '2<<"R"', "#",
          "# c", "=", "k=v", "--", "-x", "\t", "  ", "CMD", "NONE", "é", "a\\ b", '"', "'", "--x='a b'", "<<"]
_LINES = ["$V", "A", "B", "", "# comment", "   # ind", "  ", "EOF", "\tE", "Q", "R", "\\", "body $V", "# escape=`"]
_HEADERS = ["# escape=`", "# escape=\\", "# syntax=a", "#check=x", "# foo=bar"]


def _random_dockerfile(rng: random.Random) -> str:
    out = [rng.choice(_HEADERS)] if rng.random() < 0.3 else []
    out.append("FROM a")
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.3:
            out.append(rng.choice(_LINES))
            continue
        line = rng.choice(_INSTRUCTIONS) + " " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 5)))
        out.append(line + (" \\" if rng.random() < 0.2 else ""))
    return "\n".join(out) + ("\n" if rng.random() < 0.8 else "")


@pytest.mark.parametrize("seed", range(10))
def test_random_inputs_match_buildkit(seed: int) -> None:
    """Random mixes of continuations, quotes, heredoc markers, JSON, flags and directives."""
    rng = random.Random(seed)
    for _ in range(200):
        _compare(_random_dockerfile(rng))
