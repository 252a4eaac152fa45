"""Secret commands: secret create, ls, inspect, rm (Podman's file driver; engine.secrets)."""

from __future__ import annotations

from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine

SECRETS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}"


def _store() -> Any:
    from podpy.engine.secrets import SecretStore

    return SecretStore(engine())


def create(
    name: str = typer.Argument(..., help="Name of the secret"),
    source: str = typer.Argument(..., metavar="FILE|-", help="File holding the secret, - for stdin (or a variable with --env)"),
    driver: str = typer.Option("file", "--driver", "-d", help="Secret driver (file only)"),
    driver_opts: list[str] | None = typer.Option(None, "--driver-opts", help="Driver options (none for file)"),
    env: bool = typer.Option(False, "--env", help="Read the secret from the environment variable FILE names"),
    label: list[str] | None = typer.Option(None, "--label", "-l", help="Set metadata (KEY=VALUE)"),
    replace: bool = typer.Option(False, "--replace", help="Replace a secret of the same name"),
) -> None:
    """Create a new secret."""
    from podpy.engine.secrets import read_source
    from podpy.errors import InvalidArgument
    from podpy.volumes.options import parse_key_values

    if driver_opts:
        raise InvalidArgument("the file driver takes no --driver-opts")
    labels = parse_key_values(label or [], "label")
    rec = _store().create(name, read_source(source, env), driver, labels, replace)
    common.out(rec.id)


def ls(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print secret IDs only"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    noheading: bool = typer.Option(False, "--noheading", help="Do not print headers"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter output: name=NAME, id=ID"),
) -> None:
    """List secrets."""
    from podpy.cli import humanize
    from podpy.errors import InvalidArgument

    recs = _store().list()
    for f in filter_ or []:
        key, eq, value = f.partition("=")
        if key not in ("name", "id") or not eq:
            raise InvalidArgument(f"invalid filter {f!r}: expected name=NAME or id=ID")
        recs = [r for r in recs if (r.name if key == "name" else r.id).startswith(value)]
    if quiet:
        common.out("".join(r.id + "\n" for r in recs))
        return
    rows = [{"ID": r.id, "Name": r.name, "Driver": r.driver, "CreatedAt": humanize.ago(r.created),
             "UpdatedAt": humanize.ago(r.created), "Labels": r.labels} for r in recs]  # fmt: skip
    common.render(rows, format_, SECRETS_TABLE, headers={"CreatedAt": "CREATED", "UpdatedAt": "UPDATED"},
                  noheading=noheading)  # fmt: skip


def inspect(
    names: list[str] = typer.Argument(..., metavar="SECRET...", help="Secrets"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
    pretty: bool = typer.Option(False, "--pretty", help="Print inspect output in human-readable format"),
) -> None:
    """Display detailed information on one or more secrets."""
    import json

    from podpy.engine.secrets import inspect_json

    store = _store()
    recs = [store.get(n) for n in names]
    if pretty:
        for r in recs:
            labels = "".join(f"\t- {k}={v}\n" for k, v in sorted(r.labels.items()))
            common.out(f"ID:\t\t{r.id}\nName:\t\t{r.name}\n" + (f"Labels:\n{labels}" if labels else "")
                       + f"Driver:\t\t{r.driver}\nCreated at:\t{r.created}\nUpdated at:\t{r.created}")
        return
    if format_ and format_ != "json":
        docs = json.loads(inspect_json(store, recs))
        common.render(docs, format_, format_)
        return
    common.out(inspect_json(store, recs))


def rm(
    names: list[str] | None = typer.Argument(None, metavar="SECRET...", help="Secrets to remove"),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all secrets"),
) -> None:
    """Remove one or more secrets (never one a container uses)."""
    from podpy.errors import InvalidArgument, PodpyError

    store = _store()
    if all_ and names:
        raise InvalidArgument("when using the --all switch, you may not pass any secret names")
    targets = [r.id for r in store.list()] if all_ else list(names or [])
    if not targets:
        raise InvalidArgument("requires at least 1 argument(s)")
    failed: PodpyError | None = None
    for name in targets:
        try:
            common.out(store.remove(name).id)
        except PodpyError as e:
            common.err(f"Error: {e}")
            failed = e
    if failed:
        raise typer.Exit(failed.exit_code)


def register(app: typer.Typer, new_app: Any, settings: dict[str, Any]) -> None:
    group = new_app("Manage secrets.")
    for name, fn in (("create", create), ("ls", ls), ("list", ls), ("inspect", inspect), ("rm", rm)):
        group.command(name, context_settings=settings, hidden=name == "list")(fn)
    app.add_typer(group, name="secret")
