"""scripts/install.sh: man pages and completions land where man, bash-completion, zsh and fish look
for them, and the script needs nothing from the test package (`--docs-only` into a scratch prefix)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install.sh"


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("prefix")
    res = subprocess.run(["bash", str(SCRIPT), "--docs-only", "--prefix", str(p)], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return p


def test_does_not_use_the_test_package() -> None:
    text = SCRIPT.read_text()
    assert "tests" not in text.replace("latest", "")
    assert "image import-busybox" in text


def test_files_in_place(prefix: Path) -> None:
    assert (prefix / "share/man/man1/podpy-run.1").is_file()
    assert len(list((prefix / "share/man/man1").glob("podpy*.1"))) == len(list((REPO / "man").glob("*.1")))
    assert (prefix / "share/bash-completion/completions/podpy").read_text().startswith("# bash completion")
    assert (prefix / "share/zsh/site-functions/_podpy").read_text().startswith("#compdef podpy")
    assert (prefix / "share/fish/vendor_completions.d/podpy.fish").is_file()


@pytest.mark.skipif(not shutil.which("man"), reason="man is not installed")
def test_man_finds_the_pages(prefix: Path) -> None:
    env = {**os.environ, "MANPATH": str(prefix / "share/man"), "MANWIDTH": "80", "LC_ALL": "C.UTF-8"}
    res = subprocess.run(["man", "-w", "podpy-run"], capture_output=True, text=True, env=env)
    assert res.returncode == 0 and res.stdout.strip() == str(prefix / "share/man/man1/podpy-run.1"), res
    res = subprocess.run(["man", "podpy-ps"], capture_output=True, text=True, env=env)
    assert res.returncode == 0 and "FORMAT FIELDS" in res.stdout and "EXAMPLES" in res.stdout


BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


@pytest.mark.skipif(not BASH_COMPLETION.exists(), reason="bash-completion is not installed")
def test_bash_completion_loads_it_on_demand(prefix: Path) -> None:
    """bash-completion's loader searches $XDG_DATA_DIRS/bash-completion/completions/NAME."""
    cmd = f"source {BASH_COMPLETION}; _completion_loader podpy; complete -p podpy"
    env = {**os.environ, "XDG_DATA_DIRS": f"{prefix / 'share'}:/usr/share"}
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=30)
    assert "complete -F _podpy podpy" in res.stdout, res


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_finds_it(prefix: Path, tmp_path: Path) -> None:
    """fish autoloads from $XDG_DATA_DIRS/fish/vendor_completions.d (--no-config would skip those dirs)."""
    env = {**os.environ, "XDG_DATA_DIRS": f"{prefix / 'share'}:/usr/share", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}  # fmt: skip
    res = subprocess.run(["fish", "-c", "complete -C 'podpy ima'"], capture_output=True, text=True, env=env,
                         timeout=30)  # fmt: skip
    assert [ln.split("\t")[0] for ln in res.stdout.splitlines()] == ["image", "images"], res


def test_unknown_option_is_refused() -> None:
    res = subprocess.run(["bash", str(SCRIPT), "--bogus"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 125 and res.stderr.startswith("Error: ")
