"""Every flag of Podman 4.3 (tests/data/podman-flags.json, from scripts/podman_flags.py) is accepted by the
podpy command of the same name, or listed with a reason in tests/data/podman-flags-missing.txt; a
listed flag that podpy has meanwhile must leave the list (so it only shrinks). Needs no podman."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
PODMAN = json.loads((DATA / "podman-flags.json").read_text())["commands"]


def load_missing() -> dict[str, dict[str, str]]:
    """`cmd words --flag  reason` lines (# comments, blank lines): {cmd: {flag: reason}}."""
    out: dict[str, dict[str, str]] = {}
    for n, line in enumerate((DATA / "podman-flags-missing.txt").read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        at = next((i for i, w in enumerate(words) if w.startswith("-")), None)
        assert at and at + 1 < len(words), f"podman-flags-missing.txt:{n}: want `cmd flag  reason`: {line!r}"
        cmd, flag = " ".join(words[:at]), words[at]
        assert flag not in out.get(cmd, {}), f"podman-flags-missing.txt:{n}: {cmd} {flag} listed twice"
        out.setdefault(cmd, {})[flag] = " ".join(words[at + 1 :])
    return out


@cache
def podpy_flags() -> dict[str, frozenset[str]]:
    """Every podpy command path (hidden ones too) -> the option spellings it accepts."""
    from podpy.cli.app import build

    out: dict[str, frozenset[str]] = {}

    def walk(cmd: Any, path: list[str]) -> None:
        if path:
            spellings = {
                o for p in cmd.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))
            }
            out[" ".join(path)] = frozenset(s for s in spellings if s.startswith("-"))
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(build(None), [])
    return out


MISSING = load_missing()
SHARED = sorted(set(PODMAN) & set(podpy_flags()))


def test_the_data_covers_the_commands_both_have() -> None:
    for cmd in ("rm", "container rm", "ps", "container ls", "images", "image ls", "volume ls", "network create",
                "pod rm", "stop", "start", "restart", "kill", "pause", "unpause", "run"):  # fmt: skip
        assert cmd in SHARED, cmd
    assert len(SHARED) > 100


@pytest.mark.parametrize("cmd", SHARED)
def test_podman_flags(cmd: str) -> None:
    ours, listed = podpy_flags()[cmd], MISSING.get(cmd, {})
    lacking = sorted(f for f in PODMAN[cmd] if f not in ours and f not in listed)
    assert not lacking, (
        f"podpy {cmd} lacks Podman's {lacking}: implement, or list in podman-flags-missing.txt"
    )
    done = sorted(f for f in listed if f in ours)
    assert not done, f"podpy {cmd} has {done} now: remove them from podman-flags-missing.txt"


def test_missing_list_names_only_podman_flags() -> None:
    stale = [f"{cmd} {flag}" for cmd, flags in MISSING.items() for flag in flags
             if cmd not in SHARED or flag not in PODMAN[cmd]]  # fmt: skip
    assert not stale, f"not flags of a command both have: {stale}"
    assert all(reason for flags in MISSING.values() for reason in flags.values())
