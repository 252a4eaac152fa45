"""System commands: info, version, system df."""

from __future__ import annotations

import typer

from podpy.cli import common
from podpy.cli.common import engine


def info(format_: str | None = typer.Option(None, "--format", "-f", help="json or a Go template")) -> None:
    """Display podpy system information."""
    from podpy.engine.system import info as get_info

    eng = engine()
    data = get_info(eng)
    if format_:
        from podpy.cli import format as fmtmod
        from podpy.engine.system import docker_info

        if format_ == "json":
            common.out(fmtmod.render_json(data))
        else:  # Podman's {{.Host.Arch}} and Docker's {{.ServerVersion}} alike
            common.out(fmtmod.compile_template(format_).execute(fmtmod.template_view(data, docker_info(eng, data))))
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

    if verbose:
        _df_verbose(format_)
        return
    rows = disk_usage(engine())
    for r in rows:
        r["Size"] = humanize.size(r["RawSize"])
        pct = f" ({100 * r['RawReclaimable'] // r['RawSize']}%)" if r["RawSize"] else " (0%)"
        r["Reclaimable"] = humanize.size(r["RawReclaimable"]) + pct
    common.render(rows, format_, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                  headers={"TotalCount": "TOTAL"})


DF_IMAGES = ("table {{.Repository}}\t{{.Tag}}\t{{.ImageID}}\t{{.Created}}\t{{.Size}}\t{{.SharedSize}}"
             "\t{{.UniqueSize}}\t{{.Containers}}")  # fmt: skip
DF_CONTAINERS = ("table {{.ContainerID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.Created}}"
                 "\t{{.Status}}\t{{.Names}}")  # fmt: skip
DF_VOLUMES = "table {{.VolumeName}}\t{{.Links}}\t{{.Size}}"


def _df_verbose(format_: str | None) -> None:
    """Podman's `system df -v`: images, containers and volumes, one table each."""
    from podpy.cli import humanize
    from podpy.engine import disk_usage as du

    eng = engine()
    images, ctrs, vols = du.image_rows(eng), du.container_rows(eng), du.volume_rows(eng)
    for r in [*images, *ctrs, *vols]:
        for key in ("Size", "SharedSize", "UniqueSize"):
            if "Raw" + key in r:
                r[key] = humanize.size(r["Raw" + key])
        if "Created" in r:
            r["Created"] = humanize.ago(r["Created"]).removesuffix(" ago")
    for r in images:
        r["ImageID"] = r["ImageID"][:12]
    for r in ctrs:
        r["ContainerID"], r["Image"] = r["ContainerID"][:12], r["Image"][:12]
    if format_ and format_ != "table":
        from podpy.cli import format as fmtmod

        common.out(fmtmod.render_json({"Images": images, "Containers": ctrs, "Volumes": vols}) if format_ == "json"
                   else fmtmod.compile_template(format_).execute({"Images": images, "Containers": ctrs,
                                                                  "Volumes": vols}))  # fmt: skip
        return
    sections = (("Images space usage:", images, DF_IMAGES, {"ImageID": "IMAGE ID"}),
                ("Containers space usage:", ctrs, DF_CONTAINERS, {"ContainerID": "CONTAINER ID"}),
                ("Local Volumes space usage:", vols, DF_VOLUMES, {"VolumeName": "VOLUME NAME"}))  # fmt: skip
    text = []
    for title, rows, tmpl, headers in sections:
        from podpy.cli import format as fmtmod

        text.append(title + "\n\n" + fmtmod.render(rows, None, tmpl, headers=headers))
    common.out("\n".join(text).rstrip("\n"))


def prune(
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all unused images, not just dangling ones"),
    volumes: bool = typer.Option(False, "--volumes", help="Prune anonymous volumes"),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
    filter_: list[str] | None = typer.Option(
        None, "--filter", help="Provide filter values (until=<timestamp>, label=<key>[=<value>], label!=...)"
    ),
) -> None:
    """Remove unused data: stopped containers, unused networks, dangling images (and unused volumes)."""
    from podpy.cli import humanize
    from podpy.engine.prune import system_prune
    from podpy.image import reference

    if not force and not common.confirm(_prune_warning(all_, volumes, filter_ or [])):
        return
    report = system_prune(engine(), all_, volumes, filter_ or [])
    sections = (("Deleted Containers:", report.containers), ("Deleted Networks:", report.networks),
                ("Deleted Volumes:", report.volumes),
                ("Deleted Images:", [f"untagged: {reference.familiar(n)}" for r in report.images for n in r.untagged]
                 + [f"deleted: {d}" for r in report.images for d in r.deleted]))  # fmt: skip
    for title, lines in sections:
        if lines:
            common.out(title + "\n" + "".join(x + "\n" for x in lines) + "\n")  # a blank line, as Docker
    common.out(f"Total reclaimed space: {humanize.size(report.reclaimed)}")


def _prune_warning(all_: bool, volumes: bool, filters: list[str]) -> str:
    """Podman's wording (`podman system prune`)."""
    items = ["all stopped containers", "all networks not used by at least one container"]
    if volumes:
        items.append("all volumes not used by at least one container")
    items.append("all images without at least one container associated with them" if all_ else "all dangling images")
    text = "WARNING! This command removes:\n" + "".join(f"\t- {x}\n" for x in items)
    if filters:
        text += "\nItems to be pruned will be filtered with:\n" + "".join(f"\t- {x}\n" for x in filters)
    return text + "\nAre you sure you want to continue?"


def register(app: typer.Typer) -> None:
    from podpy.cli.appkit import SETTINGS, new_app

    app.command("info", context_settings=SETTINGS)(info)
    app.command("version", context_settings=SETTINGS)(version)
    system = new_app("Manage podpy.")
    system.command("info", context_settings=SETTINGS)(info)
    system.command("df", context_settings=SETTINGS)(df)
    system.command("prune", context_settings=SETTINGS)(prune)
    from podpy.cli import events  # `events` and `system events`

    events.register(app, system)
    app.add_typer(system, name="system")
