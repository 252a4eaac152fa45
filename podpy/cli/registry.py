"""Registry commands: pull, push, login, logout, search. The bodies of pull and push, the progress
display (`ProgressView`) and the registry options live in podpy.cli.fastregistry (typer-free: the
front door runs pull and push without typer)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from podpy.cli import common
from podpy.cli.fastregistry import ProgressView, parse_bool, pull_images, push_image, registry_options
from podpy.cli.fastregistry import _prompt_password as _prompt_password

__all__ = ["ProgressView", "parse_bool", "registry_options"]  # also imported from here (kube, build, tests)

TLS_HELP = "Require HTTPS and verify certificates (true/false; default: verify, except loopback/insecure registries)"


# ---------------------------------------------------------------- commands
def pull(
    images: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images to pull (NAME[:TAG|@DIGEST]); also "
                                       "docker://, docker-archive:PATH[:REF], oci-archive:PATH[:REF], oci:DIR[:REF], dir:DIR"),
    all_tags: bool = typer.Option(False, "--all-tags", "-a", help="Pull every tagged image of the repository"),
    platform: str | None = typer.Option(None, "--platform", help="Pull the image for OS/ARCH[/VARIANT]"),
    arch: str | None = typer.Option(None, "--arch", help="Override the architecture"),
    os_: str | None = typer.Option(None, "--os", help="Override the operating system"),
    variant: str | None = typer.Option(None, "--variant", help="Override the architecture variant"),
    tls_verify: str | None = typer.Option(None, "--tls-verify", metavar="BOOL", help=TLS_HELP),
    cert_dir: Path | None = typer.Option(None, "--cert-dir", help="Certificates (*.crt, *.cert/*.key) for the registry"),
    creds: str | None = typer.Option(None, "--creds", help="USERNAME[:PASSWORD] for the registry"),
    authfile: Path | None = typer.Option(None, "--authfile", help="Path of the authentication file"),
    retry: int | None = typer.Option(None, "--retry", help="Retries on network errors (default 4)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the image ID"),
    disable_content_trust: bool = typer.Option(
        False, "--disable-content-trust", help="This is a Docker specific option and is a NOOP"
    ),
) -> None:
    """Pull images from a registry."""
    pull_images(images, all_tags, platform, arch, os_, variant, tls_verify, cert_dir, creds, authfile, retry, quiet)


def push(
    image: str = typer.Argument(..., help="Local image"),
    destination: str | None = typer.Argument(
        None, help="Where: a registry reference (default: the image's name), docker://REF, docker-archive:PATH[:REF], "
        "oci-archive:PATH[:REF], oci:DIR[:REF] or dir:DIR"),
    format_: str | None = typer.Option(None, "--format", "-f", help="Manifest format: oci or v2s2"),
    digestfile: Path | None = typer.Option(None, "--digestfile", help="Write the pushed manifest's digest here"),
    tls_verify: str | None = typer.Option(None, "--tls-verify", metavar="BOOL", help=TLS_HELP),
    cert_dir: Path | None = typer.Option(None, "--cert-dir", help="Certificates for the registry"),
    creds: str | None = typer.Option(None, "--creds", help="USERNAME[:PASSWORD] for the registry"),
    authfile: Path | None = typer.Option(None, "--authfile", help="Path of the authentication file"),
    retry: int | None = typer.Option(None, "--retry", help="Retries on network errors (default 4)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Don't print progress"),
    remove_signatures: bool = typer.Option(False, "--remove-signatures", hidden=True),
    compress: bool = typer.Option(
        False, "--compress", help="Compress uncompressed layers (gzip) when pushing to a dir: destination"
    ),
    compression_format: str | None = typer.Option(
        None, "--compression-format", help="Layer compression for the destination: gzip or zstd"
    ),
    disable_content_trust: bool = typer.Option(
        False, "--disable-content-trust", help="This is a Docker specific option and is a NOOP"
    ),
    sign_by: str | None = typer.Option(None, "--sign-by", help="Not supported: podpy does not sign images"),
    sign_by_sigstore_private_key: str | None = typer.Option(
        None, "--sign-by-sigstore-private-key", help="Not supported: podpy does not sign images"
    ),
    sign_passphrase_file: str | None = typer.Option(
        None, "--sign-passphrase-file", help="Not supported: podpy does not sign images"
    ),
) -> None:
    """Push an image to a registry."""
    push_image(image, destination, format_, digestfile, tls_verify, cert_dir, creds, authfile, retry, quiet, compress,
               compression_format, sign_by, sign_by_sigstore_private_key, sign_passphrase_file)  # fmt: skip


def login(
    registry: str | None = typer.Argument(None, help="Registry (default: the first search registry)"),
    username: str | None = typer.Option(None, "--username", "-u", help="Username"),
    password: str | None = typer.Option(None, "--password", "-p", help="Password"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin"),
    authfile: Path | None = typer.Option(None, "--authfile", help="Path of the authentication file"),
    cert_dir: Path | None = typer.Option(None, "--cert-dir", help="Certificates for the registry"),
    tls_verify: str | None = typer.Option(None, "--tls-verify", metavar="BOOL", help=TLS_HELP),
    get_login: bool = typer.Option(False, "--get-login", help="Print the username stored for the registry"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Write more detailed information to stdout"),
) -> None:
    """Log in to a registry (credentials are checked, then stored in auth.json)."""
    from podpy.engine.registry_login import login as do_login
    from podpy.engine.registry_login import login_key
    from podpy.errors import InvalidArgument, RegistryError
    from podpy.registry import credentials

    if get_login:
        key = login_key(registry)
        found = credentials.lookup(key.split("/", 1)[0], key.partition("/")[2] or None, authfile)
        if found is None:
            raise RegistryError(f"not logged into {key}")
        common.out(found.username)
        return
    if password is not None and password_stdin:
        raise InvalidArgument("--password and --password-stdin are mutually exclusive")
    if password_stdin:
        if not username:
            raise InvalidArgument("must provide --username with --password-stdin")
        password = sys.stdin.readline().rstrip("\r\n")
    if not username:
        if not sys.stdin.isatty():
            raise InvalidArgument("username required: use --username")
        username = input("Username: ").strip()
    if password is None:
        password = _prompt_password()
    opts = registry_options(tls_verify, cert_dir, None, authfile)
    written = do_login(registry, credentials.Credentials(username, password), opts)
    if verbose:
        common.out(f"Used: {written}")  # Podman's -v: the auth file
    common.out("Login Succeeded!")


def logout(
    registry: str | None = typer.Argument(None, help="Registry (default: the first search registry)"),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove the credentials of every registry"),
    authfile: Path | None = typer.Option(None, "--authfile", help="Path of the authentication file"),
) -> None:
    """Log out of a registry (forget its stored credentials)."""
    from podpy.engine.registry_login import logout as do_logout

    key = do_logout(registry, all_, authfile)
    common.out(f"Removed login credentials for {key}" if key else "Removed login credentials for all registries")


def search(
    term: str = typer.Argument(..., help="TERM, or REGISTRY/TERM, or REGISTRY/ for the whole catalog"),
    limit: int = typer.Option(25, "--limit", help="Results per registry"),
    format_: str | None = typer.Option(None, "--format", help="table, json or a Go template"),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate descriptions"),
    list_tags: bool = typer.Option(False, "--list-tags", help="List the tags of the repository TERM"),
    tls_verify: str | None = typer.Option(None, "--tls-verify", metavar="BOOL", help=TLS_HELP),
    cert_dir: Path | None = typer.Option(None, "--cert-dir", help="Certificates for the registry"),
    creds: str | None = typer.Option(None, "--creds", help="USERNAME[:PASSWORD] for the registry"),
    authfile: Path | None = typer.Option(None, "--authfile", help="Path of the authentication file"),
    filter_: list[str] | None = typer.Option(
        None, "--filter", "-f", help="Filter output: stars=N, is-official=BOOL, is-automated=BOOL"
    ),
    compatible: bool = typer.Option(
        False, "--compatible", help="List stars, official and automated columns (Docker compatibility)"
    ),
) -> None:
    """Search registries for images."""
    from podpy.engine.registry_search import search as do_search

    opts = registry_options(tls_verify, cert_dir, creds, authfile)
    rows = do_search(term, limit, opts, list_tags, filter_ or [])
    for r in rows:
        if not no_trunc and len(r["Description"]) > 44:
            r["Description"] = r["Description"][:44] + "..."
    default = "table {{.Name}}\t{{.Tag}}" if list_tags else "table {{.Name}}\t{{.Description}}"
    if compatible and not list_tags:
        default += "\t{{.Stars}}\t{{.Official}}\t{{.Automated}}"
    common.render(rows, format_, default)


def register(app: typer.Typer) -> None:
    from podpy.cli.appkit import SETTINGS

    for name, fn in (("pull", pull), ("push", push), ("login", login), ("logout", logout), ("search", search)):
        app.command(name, context_settings=SETTINGS)(fn)
    for group in app.registered_groups:  # `podpy image pull|push|search` too
        if group.name == "image" and group.typer_instance is not None:
            for name, fn in (("pull", pull), ("push", push), ("search", search)):
                group.typer_instance.command(name, context_settings=SETTINGS)(fn)
