"""The supervisor's own error channel: <run_dir>/supervisor.log (it has no terminal)."""

from __future__ import annotations

from pathlib import Path


def log_exception(run_dir: Path) -> None:
    """The supervisor has no terminal: tracebacks go to <run_dir>/supervisor.log."""
    import traceback

    note(run_dir, traceback.format_exc())


def note(run_dir: Path, text: str) -> None:
    """One entry in <run_dir>/supervisor.log, the supervisor's own error channel (runroot: tmpfs,
    so it does not share the fate of a full log disk)."""
    from podpy.timeutil import now_rfc3339

    try:
        with open(run_dir / "supervisor.log", "a") as f:
            f.write(f"{now_rfc3339()} {text.rstrip()}\n")
    except OSError:
        pass
