"""Generated completions and man pages: in sync with the CLI, and they actually work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import pytest

from podpy.docgen import differences, generated, render
from podpy.docgen.model import from_click, value_for

REPO = Path(__file__).resolve().parents[2]
BASH = REPO / "completions" / "podpy.bash"
ZSH = REPO / "completions" / "_podpy"
FISH = REPO / "completions" / "podpy.fish"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return generated()


@pytest.fixture
def podpy_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `podpy` on PATH that runs this interpreter's podpy (completion scripts call `podpy __names`)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "podpy"
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} -m podpy "$@"\n')
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return exe


@pytest.fixture
def store(podpy_vfs, busybox_tar: Path, podpy_on_path: Path) -> Path:  # type: ignore[no-untyped-def]
    podpy_vfs("import", str(busybox_tar), "busybox:latest")
    podpy_vfs("tag", "busybox:latest", "example.com/team/tool:v1")
    return podpy_vfs.root


def bash_complete(script: Path, *words: str, line: str | None = None) -> list[str]:
    """COMPREPLY for `words` (the last one is being completed), or for a COMP_LINE typed by a user."""
    if line is None:
        setup = 'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))'
    else:
        setup = "COMP_LINE=$1; COMP_POINT=${#1}"
        words = (line,)
    cmd = f'source "{script}"; {setup}; _podpy; printf "%s\\n" "${{COMPREPLY[@]}}"'
    res = subprocess.run(["bash", "-c", cmd, "bash", *words], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and not res.stderr, res.stderr
    return [w for w in res.stdout.splitlines() if w]


# --- in sync -------------------------------------------------------------------------------------


def test_committed_files_are_current(files: dict[str, str]) -> None:
    diff = differences(REPO, files)
    assert not diff, f"generated files are out of date: {diff}\nregenerate with: python -m podpy.docgen"


def test_every_visible_command_has_a_page(files: dict[str, str]) -> None:
    assert "man/podpy.1" in files and "man/podpy-image-ls.1" in files and "man/podpy-images.1" in files
    assert "man/podpy-image-list.1" not in files  # hidden alias
    for name in ("images", "image", "system", "rmi"):
        assert f".BR podpy\\-{name} (1)" in files["man/podpy.1"]


def test_output_is_deterministic(files: dict[str, str]) -> None:
    assert generated() == files


# --- how arguments map to completions ------------------------------------------------------------


def test_value_mapping_by_metavar() -> None:
    assert value_for("IMAGE...", None).kinds == ("images",)
    assert value_for("SOURCE_IMAGE", None).kinds == ("images",)
    assert value_for("CONTAINER|IMAGE", None).kinds == ("containers", "images")
    assert value_for("volumes_", None).kinds == ("volumes",)
    assert value_for("NETWORK", None).kinds == ("networks",)
    assert value_for("SOURCE", None).files == "file"
    assert value_for("REFERENCE", None).empty


class Fmt(StrEnum):
    docker = "docker-archive"
    oci = "oci-archive"


def _toy_tree():  # type: ignore[no-untyped-def]
    """A small CLI shaped like podpy's, with a Choice option and container arguments."""
    import typer

    app = typer.Typer(add_completion=False)
    sub = typer.Typer(add_completion=False, help="Manage containers.")

    @app.callback()
    def main(root: Path | None = typer.Option(None, "--root", help="Store")) -> None:
        """Toy."""

    def save(images: list[str] = typer.Argument(..., metavar="IMAGE..."),
             fmt: Fmt = typer.Option(Fmt.docker, "--format", help="Archive format")) -> None:  # fmt: skip
        """Save images."""

    def stop(containers: list[str] = typer.Argument(..., metavar="CONTAINER..."),
             time_: int = typer.Option(10, "--time", "-t", help="Seconds to wait")) -> None:  # fmt: skip
        """Stop containers."""

    def run(image: str = typer.Argument(..., metavar="IMAGE"),
            command: list[str] = typer.Argument(None, metavar="[COMMAND [ARG...]]"),
            rm: bool = typer.Option(False, "--rm")) -> None:  # fmt: skip
        """Run a command in a new container."""

    app.command("save")(save)
    app.command("run", context_settings={"allow_interspersed_args": False})(run)
    sub.command("stop")(stop)
    app.add_typer(sub, name="container")
    return typer.main.get_command(app)


def test_choices_and_kinds_from_a_new_tree(tmp_path: Path, podpy_on_path: Path) -> None:
    tree = from_click(_toy_tree())
    out = render(tree, "9.9")
    script = tmp_path / "toy.bash"
    script.write_text(out["completions/podpy.bash"])
    assert bash_complete(script, "podpy", "save", "--format", "") == ["docker-archive", "oci-archive"]
    assert bash_complete(script, "podpy", "save", "--format=o") == ["--format=oci-archive"]
    assert bash_complete(script, "podpy", "container", "stop", "-") == ["--time", "-t", "--help"]
    # run: flags before the image only; COMMAND is the container's, not one of podpy's
    assert bash_complete(script, "podpy", "run", "--r") == ["--rm"]
    assert bash_complete(script, "podpy", "run", "img", "--r") == []
    assert bash_complete(script, "podpy", "run", "img", "sa") == []
    assert "CONTAINER" in out["man/podpy-container-stop.1"]
    assert "k:containers" in out["completions/podpy.bash"]
    assert "_podpy__names containers" in out["completions/_podpy"]


# --- bash ----------------------------------------------------------------------------------------


def test_bash_commands_and_flags(podpy_on_path: Path) -> None:
    assert bash_complete(BASH, "podpy", "ima") == ["image", "images"]
    assert "ls" in bash_complete(BASH, "podpy", "image", "")
    assert "list" not in bash_complete(BASH, "podpy", "image", "")  # hidden alias
    flags = bash_complete(BASH, "podpy", "image", "ls", "--")
    assert {"--all", "--quiet", "--digests", "--filter", "--format", "--help"} <= set(flags)
    assert bash_complete(BASH, "podpy", "--ro") == ["--root"]
    assert "images" in bash_complete(BASH, "podpy", "help", "")


def test_bash_image_names_from_the_store(store: Path) -> None:
    root = str(store)
    assert bash_complete(BASH, "podpy", "--root", root, "rmi", "") == [
        "busybox:latest",
        "example.com/team/tool:v1",
    ]
    assert bash_complete(BASH, "podpy", "--root", root, "image", "inspect", "bu") == ["busybox:latest"]
    # a flag value is skipped, not counted as an argument
    assert bash_complete(BASH, "podpy", f"--root={root}", "save", "-o", "x", "ex") == [
        "example.com/team/tool:v1"
    ]
    # a real line: bash splits at ':' so only the text after it is replaced
    assert bash_complete(BASH, line=f"podpy --root {root} rmi busybox:la") == ["latest"]


# --- zsh and fish --------------------------------------------------------------------------------

ZSH_CAPTURE = r"""
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; (( $#__hits )) || return 1; local h; for h in $__hits; do print -r -- "MA""TCH:$h"; done }'
zpty -w z 'bindkey "^I" complete-word; null-line () { echo -E - $"\0" }; compprefuncs=( null-line ); comppostfuncs=( null-line exit )'
zpty -n -w z "$2"$'\t'
while zpty -r z; do :; done | while IFS= read -r line; do
  [[ $line == MATCH:* ]] && print -r -- "${${line#MATCH:}%$'\r'}"
done
"""


def zsh_complete(tmp_path: Path, line: str) -> list[str]:
    fdir = tmp_path / "zfunc"
    fdir.mkdir(exist_ok=True)
    shutil.copy(ZSH, fdir / "_podpy")
    cap = tmp_path / "capture.zsh"
    cap.write_text(ZSH_CAPTURE)
    res = subprocess.run(["zsh", "-f", str(cap), str(fdir), line], capture_output=True, text=True, timeout=30)
    return sorted(set(res.stdout.split()))


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_script(tmp_path: Path, store: Path) -> None:
    assert subprocess.run(["zsh", "-n", str(ZSH)]).returncode == 0
    assert zsh_complete(tmp_path, "podpy ima") == ["image", "images"]
    assert "--digests" in zsh_complete(tmp_path, "podpy image ls --")
    assert zsh_complete(tmp_path, f"podpy --root {store} rmi ") == [
        "busybox:latest",
        "example.com/team/tool:v1",
    ]


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_script(store: Path) -> None:
    assert subprocess.run(["fish", "-n", str(FISH)]).returncode == 0

    def complete(line: str) -> list[str]:
        cmd = f"source {FISH}; complete -C {line!r}"
        res = subprocess.run(["fish", "--no-config", "-c", cmd], capture_output=True, text=True, timeout=30)
        return [ln.split("\t")[0] for ln in res.stdout.splitlines()]

    assert complete("podpy ima") == ["image", "images"]
    assert "--digests" in complete("podpy image ls --")
    assert complete(f"podpy --root {store} image rm ") == ["busybox:latest", "example.com/team/tool:v1"]


# --- man -----------------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("man"), reason="man is not installed")
def test_man_pages_render_without_warnings() -> None:
    pages = sorted((REPO / "man").glob("*.1"))
    assert pages
    env = {**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"}
    for page in pages:
        res = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True, env=env)
        assert res.returncode == 0 and not res.stderr.strip(), f"{page.name}: {res.stderr}"
        assert "NAME" in res.stdout and "SEE ALSO" in res.stdout
