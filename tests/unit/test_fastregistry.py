"""pull and push on the typer-free front door (podpy.cli.fastregistry): the tables agree with the
typer commands, and what they do not know is left to typer."""

from __future__ import annotations

import pytest
from typer._click.core import Context

from podpy.cli import fastcmds, fastpath, fastregistry
from podpy.cli.app import build


@pytest.mark.parametrize("words", sorted(fastregistry.COMMANDS), ids=" ".join)
def test_tables_match_typer(words: tuple[str, ...]) -> None:
    cmd = build(list(words))
    ctx = Context(cmd)
    for w in words:
        cmd = cmd.get_command(ctx, w)  # type: ignore[attr-defined]
    options = {d: p for p in cmd.params if p.param_type_name == "option" for d in p.opts}
    fast = fastregistry.COMMANDS[words]
    for decl, (_field, kind, default) in fast.flags.items():
        opt = options.get(decl)
        assert opt is not None, f"{' '.join(words)}: typer has no {decl}"
        if kind == fastcmds.B:
            assert opt.is_flag and not opt.secondary_opts, decl
        else:
            assert not opt.is_flag and not opt.multiple and opt.default == default, decl
    args = [p for p in cmd.params if p.param_type_name == "argument"]
    lo = sum(1 for a in args if a.required)
    hi = None if any(a.nargs == -1 for a in args) else len(args)
    assert fast.nargs == (lo, hi)


def test_parse_and_fallbacks() -> None:
    kw, pos = fastcmds.parse(fastregistry.PULL, ["-q", "--tls-verify=false", "--retry", "2", "a/b:c"])
    assert (kw["quiet"], kw["tls_verify"], kw["retry"], pos) == (True, "false", 2, ["a/b:c"])
    kw, pos = fastcmds.parse(fastregistry.PUSH, ["img", "dest", "-f", "oci", "--digestfile", "/d"])
    assert (kw["format_"], kw["digestfile"], pos) == ("oci", "/d", ["img", "dest"])
    for table, args in ((fastregistry.PULL, ["--help"]), (fastregistry.PULL, []), (fastregistry.PUSH, ["a", "b", "c"]),
                        (fastregistry.PULL, ["--bogus", "x"]), (fastregistry.PUSH, ["-q=true", "x"])):  # fmt: skip
        assert fastcmds.parse(table, args) is None, args
    assert fastpath.dispatch(["--root", "/nonexistent-x", "pull", "--help"]) is None
    assert fastpath.dispatch(["image", "push"]) is None
    assert fastcmds.lookup(["image", "pull", "x"], fastregistry.COMMANDS) == (fastregistry.PULL, ["x"])
