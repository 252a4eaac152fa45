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
    code = common.each(refs, action)
    if code:
        raise typer.Exit(code)
