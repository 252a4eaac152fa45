#!/usr/bin/env python3
"""Podman's flags, per command, from the installed `podman CMD --help` (run by hand, once per Podman
version; tests/unit/test_podman_flags.py reads the result and never runs podman).

    python3 scripts/podman_flags.py            # writes tests/data/podman-flags.json
    python3 scripts/podman_flags.py --missing  # prints `cmd flag  reason` lines for the flags podpy lacks
                                               # (a start for tests/data/podman-flags-missing.txt)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "podman-flags.json"
SKIP = {"help", "compose"}  # compose: podpy's follows docker compose, not Podman's wrapper
FLAG = re.compile(r"^  (?:(-\w), )?(--[\w-]+)|^      (--[\w-]+)")


def _help(path: list[str]) -> str:
    res = subprocess.run(["podman", *path, "--help"], capture_output=True, text=True, timeout=60)
    return res.stdout if res.returncode == 0 else ""


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    try:
        start = lines.index(title) + 1
    except ValueError:
        return []
    out = []
    for line in lines[start:]:
        if not line.strip():
            break
        out.append(line)
    return out


def parse_flags(text: str) -> list[str]:
    """`-a, --all`, `--cidfile stringArray` ... of the Options section (not the global flags)."""
    flags: set[str] = set()
    for line in _section(text, "Options:"):
        m = FLAG.match(line)
        if m:
            flags.update(f for f in m.groups() if f and f != "--help")  # every podpy command has --help
    return sorted(flags)


def walk(path: list[str], out: dict[str, list[str]]) -> None:
    text = _help(path)
    if not text:
        return
    subs = [line.split()[0] for line in _section(text, "Available Commands:")]
    names = [path[-1]] if path else []
    aliases = _section(text, "Aliases:")
    if aliases and path:
        names = [a.strip() for a in aliases[0].split(",") if a.strip()]
    if path:
        for name in dict.fromkeys([path[-1], *names]):
            out[" ".join([*path[:-1], name])] = parse_flags(text)
    for sub in subs:
        if sub not in SKIP:
            walk([*path, sub], out)


def generate() -> None:
    version = subprocess.run(
        ["podman", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    commands: dict[str, list[str]] = {}
    walk([], commands)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    doc = {"podman": version, "commands": dict(sorted(commands.items()))}
    DATA.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{DATA}: {len(commands)} commands of Podman {version}")


def missing() -> None:
    sys.path.insert(0, str(REPO))
    from tests.unit.test_podman_flags import podpy_flags

    data = json.loads(DATA.read_text())["commands"]
    ours = podpy_flags()
    for cmd, flags in data.items():
        if cmd in ours:
            for flag in flags:
                if flag not in ours[cmd]:
                    print(f"{cmd} {flag}  not implemented yet")


if __name__ == "__main__":
    missing() if "--missing" in sys.argv[1:] else generate()
