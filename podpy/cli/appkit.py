"""What every command module needs to build its typer apps (below app.py, so that command modules
never import the root app back)."""

from __future__ import annotations

import typer

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
