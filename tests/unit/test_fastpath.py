"""The typer-free front door (podpy.cli.fastcmds): its flag tables agree with the typer commands,
and whatever it does not know is left to typer (None), so help, errors and new flags stay right."""

from __future__ import annotations

import pytest
from typer._click.core import Command, Context  # typer vendors click

from podpy.cli import fastcmds, fastpath, run_flags
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
