"""What every command module needs to build its typer apps (below app.py, so that command modules
never import the root app back)."""

from __future__ import annotations

from typing import Any

import typer

from podpy.cli import common

SETTINGS = {"help_option_names": ["--help"], "max_content_width": 100}


def new_app(help_text: str, **kw: object) -> typer.Typer:
    return typer.Typer(
        help=help_text,
        add_completion=False,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings=SETTINGS,
        **kw,  # type: ignore[arg-type]
    )


def for_each(refs: list[str], action: Any) -> None:
    """Apply `action` to every ref, printing it on success; report failures, exit non-zero at the end."""
    from podpy.errors import PodpyError

    failed: PodpyError | None = None
    for ref in refs:
        try:
            shown = action(ref)
        except PodpyError as e:
            common.err(f"Error: {e}")
            failed = e
            continue
        if shown is not None:
            common.out(str(shown))
    if failed is not None:
        raise typer.Exit(failed.exit_code if len(refs) == 1 else 125)
