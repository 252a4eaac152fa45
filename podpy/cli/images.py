"""Image commands: images, tag, rmi, inspect, history, import, load, save, prune, exists."""

from __future__ import annotations

import sys

import typer

from podpy.cli import common
from podpy.cli.common import engine

IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_TABLE_DIGESTS = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGE_FILTERS = ("reference", "dangling", "label", "before", "since")


def images(
    repository: str | None = typer.Argument(None, help="Only images of this repository"),
    all_: bool = typer.Option(False, "--all", "-a", help="Show all images (default hides intermediate images)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only show image IDs"),
    digests: bool = typer.Option(False, "--digests", help="Show digests"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter output (reference, dangling, label, before, since)"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
) -> None:
    """List images in local storage."""
    from podpy.cli import humanize
    from podpy.engine.image_listing import list_images

    rows = list_images(engine(), repository, filter_ or [], all_=all_)
    for r in rows:
        r["CreatedSince"] = humanize.ago(r["CreatedAt"])
        r["Size"] = humanize.size(r["Size"])
        r["CreatedAt"] = humanize.local_time(r["CreatedAt"])
        if no_trunc:
            r["ID"] = r["FullID"]
    if quiet:
        seen: list[str] = []
        for r in rows:
            if r["ID"] not in seen:
                seen.append(r["ID"])
        common.out("\n".join(seen))
        return
    default = IMAGES_TABLE_DIGESTS if digests else IMAGES_TABLE
    common.render(rows, format_, default, headers={"ID": "IMAGE ID"})


def tag(
    image: str = typer.Argument(..., help="Source image"),
    targets: list[str] = typer.Argument(..., help="New name(s) for the image"),
) -> None:
    """Add one or more names to a local image."""
    engine().images.tag(image, targets)


def untag(
    image: str = typer.Argument(..., help="Image"),
    names: list[str] | None = typer.Argument(None, help="Names to remove (default: all)"),
) -> None:
    """Remove names from a local image."""
    engine().images.untag(image, names or [])


def rmi(
    images_: list[str] = typer.Argument(None, metavar="IMAGE...", help="Images to remove"),
    force: bool = typer.Option(False, "--force", "-f", help="Force removal of the image"),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all images"),
) -> None:
    """Remove one or more images from local storage."""
    from podpy.errors import PodpyError
    from podpy.image import reference

    eng = engine()
    targets = list(images_ or [])
    if all_:
        targets = [i.id for i in eng.images.list()]
    if not targets:
        raise PodpyError("image name or ID must be specified")
    failed: PodpyError | None = None
    for ref in targets:
        try:
            rep = eng.images.remove(ref, force=force)
        except PodpyError as e:
            common.err(f"Error: {e}")
            failed = e
            continue
        for name in rep.untagged:
            common.out(f"Untagged: {reference.familiar(name)}")
        for d in rep.deleted:
            common.out(f"Deleted: {d}")
    if failed:
        raise typer.Exit(failed.exit_code if len(targets) == 1 else 125)


def image_inspect(
    names: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
) -> None:
    """Display the configuration of one or more images (JSON)."""
    from podpy.engine.image_views import inspect

    eng = engine()
    objs = []
    for n in names:
        img = eng.images.get(n)
        objs.append(inspect(eng, img, eng.images.config(img)))
    common.render_one(objs, format_)


def history(
    image: str = typer.Argument(..., help="Image"),
    human: bool = typer.Option(True, "--human", "-H", help="Human-readable sizes and dates"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only show IDs"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
) -> None:
    """Show the history of an image."""
    from podpy.cli import humanize
    from podpy.engine.image_views import history_rows

    eng = engine()
    img = eng.images.get(image)
    sizes = eng.images.layer_sizes(img)
    rows = history_rows(img, eng.images.config(img), sizes)
    for r in rows:
        r["ID"] = r["ID"] if no_trunc or r["ID"] == "<missing>" else r["ID"].removeprefix("sha256:")[:12]
        r["CreatedSince"] = humanize.ago(r["CreatedAt"]) if human else r["CreatedAt"]
        r["Size"] = humanize.size(r["Size"]) if human else str(r["Size"])
        if not no_trunc and len(r["CreatedBy"]) > 45:
            r["CreatedBy"] = r["CreatedBy"][:44] + "…"
    if quiet:
        common.out("\n".join(r["ID"] for r in rows))
        return
    common.render(rows, format_, "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                  headers={"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedBy": "CREATED BY"})


def import_(
    source: str = typer.Argument(..., help="Tarball file, URL or - for stdin"),
    reference_: str | None = typer.Argument(None, metavar="[REFERENCE]", help="Name for the new image"),
    change: list[str] | None = typer.Option(None, "--change", "-c", help="Apply a Dockerfile instruction (CMD, ENV, ...)"),
    message: str | None = typer.Option(None, "--message", "-m", help="Commit message for the imported image"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress output"),
) -> None:
    """Import a tarball to create a filesystem image."""
    from podpy.engine.importer import import_image

    img = import_image(engine(), source, reference_, change or [], message)
    common.out(img.id)


def load(
    input_: str | None = typer.Option(None, "--input", "-i", help="Read from a tar archive file instead of stdin"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress the progress output"),
) -> None:
    """Load images from a docker-archive or oci-archive (file or stdin)."""
    from podpy.engine.archives import load_archive
    from podpy.errors import InvalidArgument
    from podpy.image import reference

    if input_ is None and sys.stdin.isatty():
        raise InvalidArgument("cannot read an archive from a terminal: use -i FILE or redirect stdin")
    for img, names in load_archive(engine(), input_):
        common.out("Loaded image: " + (", ".join(reference.familiar(n) for n in names) if names else img.id))


def save(
    images_: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images to save"),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout"),
    format_: str = typer.Option("docker-archive", "--format", help="docker-archive or oci-archive"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress the output"),
) -> None:
    """Save images to a docker-archive or oci-archive."""
    from podpy.engine.archives import save_archive
    from podpy.errors import InvalidArgument

    if output is None and sys.stdout.isatty():
        raise InvalidArgument("refusing to save to terminal. Use -o flag or redirect")
    save_archive(engine(), images_, format_, output)


def prune(
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all unused images, not just dangling ones"),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
) -> None:
    """Remove unused images."""
    from podpy.cli import humanize

    if not force and sys.stdin.isatty():
        what = "all images without at least one container associated to them" if all_ else "all dangling images"
        if not typer.confirm(f"WARNING! This will remove {what}.\nAre you sure you want to continue?"):
            return
    from podpy.image import reference

    reports = engine().images.prune(all_)
    if reports:
        common.out("Deleted Images:")
    for r in reports:
        for n in r.untagged:
            common.out(f"untagged: {reference.familiar(n)}")
        for d in r.deleted:
            common.out(f"deleted: {d}")
    common.out(f"Total reclaimed space: {humanize.size(sum(r.size for r in reports))}")


def exists(image: str = typer.Argument(..., help="Image")) -> None:
    """Check if an image exists in local storage (exit 0 if it does, 1 if not)."""
    raise typer.Exit(0 if engine().images.exists(image) else 1)


def register(app: typer.Typer) -> None:
    from podpy.cli.appkit import SETTINGS, new_app

    def cmd(target: typer.Typer, name: str, fn, hidden: bool = False) -> None:  # type: ignore[no-untyped-def]
        target.command(name, context_settings=SETTINGS, hidden=hidden)(fn)

    for name, fn in (("images", images), ("tag", tag), ("untag", untag), ("rmi", rmi), ("history", history),
                     ("import", import_), ("load", load), ("save", save)):  # fmt: skip
        cmd(app, name, fn)
    image = new_app("Manage images.")
    for name, fn in (("ls", images), ("list", images), ("tag", tag), ("untag", untag), ("rm", rmi),
                     ("inspect", image_inspect), ("history", history), ("import", import_), ("load", load),
                     ("save", save), ("prune", prune), ("exists", exists)):  # fmt: skip
        cmd(image, name, fn, hidden=name == "list")
    app.add_typer(image, name="image")
