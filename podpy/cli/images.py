"""Image commands: images, tag, rmi, inspect, history, import, load, save, prune, exists."""

from __future__ import annotations

import typer

from podpy.cli import common
from podpy.cli.common import engine
from podpy.cli.fastcmds import IMAGES_SORT

IMAGE_FILTERS = ("reference", "dangling", "label", "before", "since")




def images(
    repository: str | None = typer.Argument(None, help="Only images of this repository"),
    all_: bool = typer.Option(False, "--all", "-a", help="Show all images (default hides intermediate images)"),
    digests: bool = typer.Option(False, "--digests", help="Show digests"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter output (reference, dangling, label, before, since)"),
    format_: str | None = typer.Option(None, "--format", help="Format output: table, json or a Go template"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output"),
    noheading: bool = typer.Option(False, "--noheading", "-n", help="Do not print column headings"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only show image IDs"),
    sort: str = typer.Option("created", "--sort", help="Sort by " + ", ".join(IMAGES_SORT)),
    history: bool = typer.Option(False, "--history", help="Display the image name history (every name it was given)"),
) -> None:
    """List images in local storage."""
    from podpy.cli.fastcmds import list_images

    list_images(repository, all_, digests, filter_, format_, no_trunc, noheading, quiet, sort, history)


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
    ignore: bool = typer.Option(False, "--ignore", "-i", help="Ignore errors if a specified image does not exist"),
    no_prune: bool = typer.Option(False, "--no-prune", help="Do not remove dangling parent images (podpy never does)"),
) -> None:
    """Remove one or more images from local storage."""
    from podpy.cli.fastcmds import remove_images

    if code := remove_images(list(images_ or []), force, all_, ignore, no_prune):
        raise typer.Exit(code)


def image_inspect(
    names: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images to inspect"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Format the output using a Go template or json"),
) -> None:
    """Display the configuration of one or more images (JSON)."""
    from podpy.cli.fastcmds import inspect_images

    inspect_images(names, format_)


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
    os_: str = typer.Option("", "--os", help="Set the OS of the imported image (default: linux)"),
    arch: str = typer.Option("", "--arch", help="Set the architecture of the imported image (default: the host's)"),
    variant: str = typer.Option("", "--variant", help="Set the architecture variant of the imported image"),
) -> None:
    """Import a tarball to create a filesystem image."""
    from podpy.engine.importer import import_image

    img = import_image(engine(), source, reference_, change or [], message, (os_, arch, variant))
    common.out(img.id)


def import_busybox(
    reference_: str = typer.Argument("busybox:latest", metavar="[REFERENCE]", help="Name for the new image"),
) -> None:
    """Make a busybox image from the host's busybox-static (no registry needed) and print its ID."""
    import tempfile
    from pathlib import Path

    from podpy import samples
    from podpy.engine.importer import import_image
    from podpy.errors import InvalidArgument

    if (why := samples.busybox_problem()) is not None:
        raise InvalidArgument(f"cannot make a busybox image: {why}")
    with tempfile.TemporaryDirectory(prefix="podpy-busybox-") as tmp:
        tar = samples.make_rootfs_tar(Path(tmp) / "busybox.tar")
        img = import_image(engine(), str(tar), reference_, [samples.BUSYBOX_CMD], None)
    common.out(img.id)


def load(
    input_: str | None = typer.Option(None, "--input", "-i", help="Read from a tar archive file instead of stdin"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress the progress output"),
) -> None:
    """Load images from a docker-archive or oci-archive (file or stdin), or an oci-dir/docker-dir directory."""
    from podpy.cli.fastcmds import load_images

    load_images(input_)


def save(
    images_: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images to save"),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout"),
    format_: str = typer.Option("docker-archive", "--format", help="docker-archive, oci-archive, oci-dir or docker-dir"),
    multi_image_archive: bool = typer.Option(False, "--multi-image-archive", "-m", help="Accepted (archives hold several images)"),
    uncompressed: bool = typer.Option(False, "--uncompressed", help="Accepted (layers are saved as stored)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress the output"),
    compress: bool = typer.Option(False, "--compress", help="Compress uncompressed layers (gzip) in a docker-dir"),
) -> None:
    """Save images to a docker-archive or oci-archive."""
    from podpy.cli.fastcmds import save_images

    save_images(images_, output, format_, compress)


def prune(
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all unused images, not just dangling ones"),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
    filter_: list[str] | None = typer.Option(
        None, "--filter", help="Provide filter values (until=<timestamp>, label=<key>[=<value>], label!=..., dangling=)"
    ),
    external: bool = typer.Option(False, "--external", help="Accepted for Podman compatibility (no build containers)"),
) -> None:
    """Remove unused images."""
    from podpy.cli import humanize
    from podpy.engine.prune import image_prune
    from podpy.image import reference

    if not force:
        what = "all images without at least one container associated with them" if all_ else "all dangling images"
        if not common.confirm(f"WARNING! This command removes {what}.\nAre you sure you want to continue?"):
            return
    reports = image_prune(engine(), all_, filter_ or [])
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
                     ("save", save), ("prune", prune), ("exists", exists), ("import-busybox", import_busybox)):  # fmt: skip
        cmd(image, name, fn, hidden=name == "list")
    app.add_typer(image, name="image")
