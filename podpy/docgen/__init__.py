"""Man pages and shell completion scripts generated from the CLI definition (`python -m podpy.docgen`)."""

from __future__ import annotations

from pathlib import Path

from podpy.docgen.model import Cmd


def render(root: Cmd, version: str) -> dict[str, str]:
    """Relative path → file content for every generated file."""
    from podpy.docgen import bash, fish, man, zsh

    files = {
        "completions/podpy.bash": bash.generate(root),
        "completions/_podpy": zsh.generate(root),
        "completions/podpy.fish": fish.generate(root),
    }
    files.update({f"man/{name}": text for name, text in man.pages(root, version).items()})
    return files


def generated() -> dict[str, str]:
    from podpy import __version__
    from podpy.docgen.model import load
    from podpy.docgen.values import refine

    return render(refine(load()), __version__)


def stale(out: Path, files: dict[str, str]) -> list[str]:
    """Generated-looking files under `out` that the current CLI no longer produces."""
    old = {f"man/{p.name}" for p in (out / "man").glob("podpy*.1")}
    return sorted(old - set(files))


def differences(out: Path, files: dict[str, str]) -> list[str]:
    """Paths that are missing, out of date or stale under `out`."""
    diff = [rel for rel, text in files.items() if not (out / rel).is_file() or (out / rel).read_text() != text]
    return sorted(diff + stale(out, files))


def write(out: Path, files: dict[str, str]) -> list[str]:
    """Write what changed, delete stale pages; returns the paths touched."""
    touched = differences(out, files)
    for rel in touched:
        target = out / rel
        if rel in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[rel])
        else:
            target.unlink()
    return touched
