"""System commands: info, version, system df."""

from __future__ import annotations

import typer

from podpy.cli import common
from podpy.cli.common import engine


def info(format_: str | None = typer.Option(None, "--format", "-f", help="json or a Go template")) -> None:
    """Display podpy system information."""
    from podpy.engine.system import info as get_info

    data = get_info(engine())
    if format_:
        from podpy.cli import format as fmtmod

        common.out(fmtmod.render_json(data) if format_ == "json" else fmtmod.compile_template(format_).execute(data))
        return
    common.out(_yaml_like(data))


def _yaml_like(data: dict, indent: int = 0) -> str:
    lines = []
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(" " * indent + f"{k}:")
            lines.append(_yaml_like(v, indent + 2))
        else:
            lines.append(" " * indent + f"{k}: {str(v).lower() if isinstance(v, bool) else v}")
    return "\n".join(lines)


def version(format_: str | None = typer.Option(None, "--format", "-f", help="json or a Go template")) -> None:
    """Display the podpy version information."""
    from podpy.engine.system import version as get_version

    data = get_version()
    if format_:
        from podpy.cli import format as fmtmod

        common.out(fmtmod.render_json(data) if format_ == "json" else fmtmod.compile_template(format_).execute(data))
        return
    c = data["Client"]
    common.out(f"Version:      {c['Version']}\nPython Version: {c['PythonVersion']}\nOS/Arch:      {c['OsArch']}")


def df(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show detailed information on space usage"),
    format_: str | None = typer.Option(None, "--format", help="table, json or a Go template"),
) -> None:
    """Show podpy disk usage."""
    from podpy.cli import humanize
    from podpy.engine.system import disk_usage

    rows = disk_usage(engine())
    for r in rows:
        r["Size"] = humanize.size(r["RawSize"])
        pct = f" ({100 * r['RawReclaimable'] // r['RawSize']}%)" if r["RawSize"] else " (0%)"
        r["Reclaimable"] = humanize.size(r["RawReclaimable"]) + pct
    common.render(rows, format_, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                  headers={"TotalCount": "TOTAL"})


def register(app: typer.Typer) -> None:
    from podpy.cli.app import SETTINGS, new_app

    app.command("info", context_settings=SETTINGS)(info)
    app.command("version", context_settings=SETTINGS)(version)
    system = new_app("Manage podpy.")
    system.command("info", context_settings=SETTINGS)(info)
    system.command("df", context_settings=SETTINGS)(df)
    app.add_typer(system, name="system")
