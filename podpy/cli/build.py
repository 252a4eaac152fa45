"""`build` (also `image build`, `buildx build`): a Dockerfile and a context → an image."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine
from podpy.cli.fastbuild import normalize_args  # noqa: F401 - app.run and tests take it from here


def build(
    context: str = typer.Argument(".", help="Build context: a directory, a tar archive URL, or - for a tar on stdin"),
    tag: list[str] | None = typer.Option(None, "--tag", "-t", help="Name the image (repeatable)"),
    file: str | None = typer.Option(None, "--file", "-f", help="Dockerfile path, or - for stdin"),
    build_arg: list[str] | None = typer.Option(None, "--build-arg", help="Set a build-time variable (NAME=value, or NAME from the environment)"),
    target: str | None = typer.Option(None, "--target", help="Build this stage and what it needs"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, ignoring the cache"),
    pull: str | None = typer.Option(None, "--pull", help="Pull policy: always, missing, never (alone: always)"),
    label: list[str] | None = typer.Option(None, "--label", help="Add a label to the image (KEY=VALUE)"),
    iidfile: str | None = typer.Option(None, "--iidfile", help="Write the image ID to this file"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the image ID"),
    rm: bool = typer.Option(True, "--rm/--no-rm", help="Remove intermediate containers (always done)"),
    force_rm: bool = typer.Option(False, "--force-rm", help="Remove intermediate containers even when a step fails (always done)"),
    platform: str | None = typer.Option(None, "--platform", help="Target platform (only the host's)"),
    format_: str = typer.Option("oci", "--format", help="Image format: oci or docker"),
    layers: bool = typer.Option(True, "--layers/--no-layers", help="Keep each step's image and use the cache"),
    network: str | None = typer.Option(None, "--network", help="RUN's network: default, none or host"),
    secret: list[str] | None = typer.Option(None, "--secret", help="A secret for RUN --mount=type=secret (id=..,src=..|env=..)"),
    ssh: list[str] | None = typer.Option(None, "--ssh", help="Forward an SSH agent for RUN --mount=type=ssh (default, or id=socket)"),
    cache_from: list[str] | None = typer.Option(None, "--cache-from", help="A registry repository to look up cached steps in (REGISTRY/NAME)"),
    cache_to: list[str] | None = typer.Option(None, "--cache-to", help="A registry repository to push each step's image to, as a cache for other hosts"),
    cache_ttl: str | None = typer.Option(None, "--cache-ttl", help="Only use cache images younger than this (e.g. 10h)"),
    progress: str = typer.Option("auto", "--progress", help="Progress output: auto, plain or tty"),
    build_context: list[str] | None = typer.Option(None, "--build-context", help="A named context for COPY --from / RUN --mount from= (name=dir or name=docker-image://ref)"),
    no_cache_filter: list[str] | None = typer.Option(None, "--no-cache-filter", help="Do not use the cache for these stages"),
    annotation: list[str] | None = typer.Option(None, "--annotation", help="Add an annotation to the image manifest (KEY=VALUE)"),
    squash: bool = typer.Option(False, "--squash", help="Squash the build's new layers into one"),
    squash_all: bool = typer.Option(False, "--squash-all", help="Squash all of the image's layers into one"),
    **kw: Any,  # build_flags.EXTRA_FLAGS (added to the signature below)
) -> None:
    """Build an image from a Dockerfile."""
    params = dict(locals())  # first: the parameters only
    params.update(params.pop("kw"))
    from podpy.cli.fastbuild import build_image

    build_image(params)


def _signature() -> inspect.Signature:
    """build's own parameters plus build_flags.EXTRA_FLAGS (run's table entries where shared)."""
    from podpy.cli.build_flags import EXTRA_FLAGS
    from podpy.cli.run_flags import BOOL

    own = [p for p in inspect.signature(build).parameters.values() if p.kind != p.VAR_KEYWORD]
    for f in EXTRA_FLAGS:
        decls = f.decls
        if f.kind == BOOL and f.default is not False:
            decls = (f"{decls[0]}/--no-{decls[0][2:]}", *decls[1:])
        opt = typer.Option(f.default, *decls, help=f.help)
        annotation = bool | None if f.kind == BOOL and f.default is None else f.annotation
        own.append(inspect.Parameter(f.field, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=annotation))  # fmt: skip
    return inspect.Signature(own, return_annotation=None)


build.__signature__ = _signature()  # type: ignore[attr-defined]


def builder_prune(
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all build cache (the same here)"),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation"),
) -> None:
    """Remove the build cache: intermediate images no container uses."""
    from podpy.cli import humanize
    from podpy.engine.build_support import prune_cache

    if not force and sys.stdin.isatty() and not typer.confirm("WARNING! This will remove all build cache. Continue?"):
        return
    removed, freed = prune_cache(engine())
    for image_id in removed:
        common.out(image_id.removeprefix("sha256:"))
    common.out(f"Total reclaimed space: {humanize.size(freed)}")


def register(app: typer.Typer, new_app: Callable[[str], typer.Typer], settings: dict[str, Any]) -> None:
    """`build`, `image build` (when the image group is registered), `builder` and `buildx`; app passes
    its group factory and settings in (no import of app from here)."""
    app.command("build", context_settings=settings)(build)
    for group in app.registered_groups:
        if group.name in ("image",) and group.typer_instance is not None:
            group.typer_instance.command("build", context_settings=settings)(build)
    builder = new_app("Manage the build cache.")
    builder.command("build", context_settings=settings)(build)
    builder.command("prune", context_settings=settings)(builder_prune)
    app.add_typer(builder, name="builder")
    buildx = new_app("Build images (buildx compatibility).")
    buildx.command("build", context_settings=settings)(build)
    buildx.command("prune", context_settings=settings)(builder_prune)
    app.add_typer(buildx, name="buildx")
