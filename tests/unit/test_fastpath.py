"""The typer-free front door (podpy.cli.fastcmds): its flag tables agree with the typer commands,
and whatever it does not know is left to typer (None), so help, errors and new flags stay right."""

from __future__ import annotations

import pytest
from typer._click.core import Command, Context  # typer vendors click

from podpy.cli import fastbuild, fastcmds, fastpath, run_flags
from podpy.cli.app import build


def _typer_command(words: tuple[str, ...]) -> Command:
    cmd = build(list(words))
    ctx = Context(cmd)
    for w in words:
        cmd = cmd.get_command(ctx, w)  # type: ignore[attr-defined]
        assert cmd is not None, words
    return cmd


@pytest.mark.parametrize("words", sorted(fastcmds.COMMANDS), ids=" ".join)
def test_tables_match_typer(words: tuple[str, ...]) -> None:
    fast = fastcmds.COMMANDS[words]
    options = {d: p for p in _typer_command(words).params if p.param_type_name == "option" for d in p.opts}
    for decl, (_field, kind, default) in fast.flags.items():
        opt = options.get(decl)
        assert opt is not None, f"{' '.join(words)}: typer has no {decl}"
        if kind == fastcmds.B:
            assert opt.is_flag and not opt.secondary_opts, decl
        elif kind == fastcmds.L:
            assert opt.multiple, decl
        else:
            assert not opt.is_flag and not opt.multiple and opt.default == default, decl


def test_parse_forms() -> None:
    ps = fastcmds.PS
    kw, pos = fastcmds.parse(
        ps, ["-aq", "--filter=name=x", "-f", "status=exited", "-n", "2", "--format", "{{.ID}}"]
    )
    assert (kw["all_"], kw["quiet"], kw["filter_"], kw["last"], kw["format_"], pos) == (
        True, True, ["name=x", "status=exited"], 2, "{{.ID}}", [])  # fmt: skip
    kw, pos = fastcmds.parse(fastcmds.RM, ["a", "-f", "--", "-b"])
    assert kw["force"] and pos == ["a", "-b"]
    kw, pos = fastcmds.parse(fastcmds.EXEC, ["-e", "A=1", "-it", "ctr", "sh", "-c", "x", "-i"])
    assert kw["env"] == ["A=1"] and kw["tty"] and pos == ["ctr", "sh", "-c", "x", "-i"]
    kw, pos = fastcmds.parse(fastcmds.LOGS, ["--tail", "5", "-n", "a", "b"])
    assert kw["tail"] == "5" and kw["names"] and pos == ["a", "b"]  # -n: Podman's --names
    kw, pos = fastcmds.parse(ps, ["-f=status=exited", "-fname=x"])  # pflag's shorthand forms
    assert kw["filter_"] == ["status=exited", "name=x"] and pos == []


@pytest.mark.parametrize(
    ("cmd", "args"),
    [
        (fastcmds.PS, ["--help"]),
        (fastcmds.PS, ["--bogus"]),
        (fastcmds.PS, ["-ax"]),
        (fastcmds.PS, ["--all=false"]),  # booleans with a value: typer's
        (fastcmds.PS, ["-n", "x"]),
        (fastcmds.PS, ["extra"]),
        (fastcmds.PS, ["--format"]),
        (fastcmds.LOGS, ["--details", "a"]),
        (fastcmds.EXEC, ["ctr"]),
        (fastcmds.INSPECT, ["--bogus", "x"]),
    ],
)
def test_left_to_typer(cmd: fastcmds.Cmd, args: list[str]) -> None:
    assert fastcmds.parse(cmd, args) is None


def test_create_refuses_run_only_flags() -> None:
    run_only = next((f for f in run_flags.FLAGS if f.run_only), None)
    if run_only is None:
        pytest.skip("no run-only flag today")
    with pytest.raises(run_flags.NotHandled):
        run_flags.parse([run_only.decls[0], "img"] if run_only.kind == run_flags.BOOL else
                        [run_only.decls[0], "x", "img"], run=False)  # fmt: skip
    assert fastpath.dispatch(["create", run_only.decls[0], "--help"]) is None


def _same(a: object, b: object) -> bool:
    """Typer gives tuples (or None) for repeatable options, the table lists."""
    if isinstance(a, tuple | list) or isinstance(b, tuple | list):
        return list(a or []) == list(b or [])  # type: ignore[call-overload]
    return a == b


@pytest.mark.parametrize("words", fastbuild.WORDS, ids=" ".join)
def test_build_table_matches_typer(words: tuple[str, ...]) -> None:
    params = _typer_command(words).params
    options = {d: p for p in params if p.param_type_name == "option" for d in p.opts}
    for decl, (field, kind, default) in fastbuild.FLAGS.items():
        opt = options.get(decl)
        assert opt is not None and opt.name == field, f"{' '.join(words)}: typer has no {decl} ({field})"
        if kind == fastcmds.B:
            assert opt.is_flag and not opt.secondary_opts and opt.default is False, decl
        elif kind == fastcmds.L:
            assert opt.multiple, decl
        else:
            assert not opt.is_flag and not opt.multiple and opt.default == default, decl
    for field, default in fastbuild.OFF_TABLE.items():
        assert next(p for p in params if p.name == field).default == default, field


BUILD_LINES = [
    [],
    ["-t", "a", "--tag=b", "-tc", "-q", "ctx"],
    ["-f", "-", "-", "--build-arg", "A=1", "--build-arg=B", "--target", "s", "--no-cache"],
    ["--pull", "ctx", "--label", "k=v", "--iidfile", "/x", "--platform", "linux/amd64", "--format", "docker"],
    ["--pull=never", "--network", "none", "--secret", "id=a,src=/b", "--ssh", "default", "--squash"],
    ["--cache-from", "r/x", "--cache-to", "r/y", "--cache-ttl", "1h", "--progress", "plain", "--squash-all"],
    ["--build-context", "n=/d", "--no-cache-filter", "s", "--annotation", "a=b", "--force-rm", "--quiet=true"],
    ["--no-cache=false", "--squash=true", "--", "-ctx"],
]  # fmt: skip


@pytest.mark.parametrize("args", BUILD_LINES, ids=" ".join)
def test_build_parse_matches_typer(args: list[str]) -> None:
    fast = fastbuild.parse_args(["build", *args])
    assert fast is not None, args
    slow = _typer_command(("build",)).make_context("build", fastbuild.normalize_args(args)).params
    for name, value in fast.items():
        assert _same(value, slow[name]), (name, value, slow[name])
    assert fastbuild.request(fast) == fastbuild.request(dict(slow))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--bogus"], ["--layers=false"], ["--no-rm"], ["--rm"], ["-t=x"], ["-q=true"], ["a", "b"],
     ["--memory", "1g"], ["--env", "A=1"], ["-qt", "x"], ["--tag"], ["--no-cache=maybe"]],
)  # fmt: skip
def test_build_left_to_typer(args: list[str]) -> None:
    for words in fastbuild.WORDS:
        assert fastbuild.is_build([*words, *args])
        assert fastbuild.parse_args([*words, *args]) is None, args
    assert fastpath.dispatch(["--root", "/nonexistent", "build", *args]) is None


def test_build_words() -> None:
    assert not fastbuild.is_build(["ps", "build"]) and not fastbuild.is_build(["image", "ls", "build"])
