"""Go/pflag spellings of flags, once for every command: `--flag=false`, `-d=false`, `-dt=false`, `-e=K=V`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from podpy.cli import pflag, run_flags

REPO = Path(__file__).resolve().parents[2]


def _parse(args: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    app = typer.Typer(add_completion=False)

    @app.command()
    def cmd(
        names: list[str] | None = typer.Argument(None),
        all_: bool = typer.Option(False, "--all", "-a"),
        detach: bool = typer.Option(False, "--detach", "-d"),
        tty: bool = typer.Option(False, "--tty", "-t"),
        proxy: bool = typer.Option(True, "--sig-proxy/--no-sig-proxy"),
        env: list[str] | None = typer.Option(None, "--env", "-e"),
    ) -> None:
        seen.update(names=names, all=all_, detach=detach, tty=tty, proxy=proxy, env=env)

    cli = pflag.apply(typer.main.get_command(app))
    cli.main(args=args, prog_name="t", standalone_mode=False)
    return seen


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["--all=true"], {"all": True}),
        (["--all=false"], {"all": False}),
        (["--all", "--all=false"], {"all": False}),  # the last one wins, as pflag
        (["--all=False", "-a"], {"all": True}),
        (["-a=false"], {"all": False}),
        (["-a=1", "-d=t"], {"all": True, "detach": True}),
        (["-dt"], {"detach": True, "tty": True}),
        (["-adt"], {"all": True, "detach": True, "tty": True}),
        (["-dt=false"], {"detach": True, "tty": False}),
        (["--sig-proxy=false"], {"proxy": False}),
        (["--no-sig-proxy=false"], {"proxy": True}),
        (["-e=K=V", "-eA=1", "-e", "B=2"], {"env": ["K=V", "A=1", "B=2"]}),
        (["-de=K=V"], {"detach": True, "env": ["K=V"]}),
        (["x", "-d=0", "y"], {"detach": False, "names": ["x", "y"]}),
    ],
)
def test_pflag_forms(args: list[str], want: dict[str, Any]) -> None:
    got = _parse(args)
    assert {k: got[k] for k in want} == want


def test_bad_bool_value_is_pflags_message() -> None:
    with pytest.raises(
        typer._click.exceptions.BadOptionUsage, match='invalid argument "maybe" for "-a, --all" flag'
    ):
        _parse(["--all=maybe"])
    with pytest.raises(typer._click.exceptions.BadOptionUsage, match='for "-d, --detach" flag'):
        _parse(["-d=yes"])
    with pytest.raises(typer._click.exceptions.BadOptionUsage, match='for "-d, --detach" flag'):
        _parse(["--detach=yes"])  # as pflag: the short form is named too


def test_unknown_short_letter_is_still_an_error() -> None:
    with pytest.raises(typer._click.exceptions.NoSuchOption):
        _parse(["-dz=false"])


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["-d=false", "img"], {"detach": False}),
        (["-dit=false", "img"], {"detach": True, "interactive": True, "tty": False}),
        (["-e=A=1", "img"], {"env": ["A=1"]}),
        (["--rm=true", "-i=1", "img"], {"rm": True, "interactive": True}),
    ],
)
def test_run_fast_path_takes_the_same_forms(args: list[str], want: dict[str, Any]) -> None:
    kw, image, _cmd = run_flags.parse(args)
    assert image == "img"
    assert {k: kw[k] for k in want} == want


def _podpy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "podpy", "--root", str(tmp_path / "r"), "--runroot", str(tmp_path / "rr"),
            "--storage-driver", "vfs", *args]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)


@pytest.mark.parametrize(
    "args",
    [["ps", "--no-trunc=true"], ["ps", "-a=false", "--no-trunc=false"], ["images", "--all=true"],
     ["container", "ls", "-a=true", "-q=false"], ["volume", "ls", "--quiet=false"]],
)  # fmt: skip
def test_every_command_takes_pflag_booleans(tmp_path: Path, args: list[str]) -> None:
    res = _podpy(tmp_path, *args)
    assert res.returncode == 0, res.stderr


def test_bad_bool_value_exit_125(tmp_path: Path) -> None:
    res = _podpy(tmp_path, "ps", "--no-trunc=maybe")
    assert res.returncode == 125
    assert res.stderr.startswith('Error: invalid argument "maybe" for "--no-trunc" flag')
