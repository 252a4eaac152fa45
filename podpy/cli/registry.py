"""Registry commands: pull, push, login, logout, search — and the pull/push progress display
(`ProgressView`, also what run/create hand to ensure_image)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from podpy.cli import common
from podpy.cli.common import engine

if TYPE_CHECKING:
    from podpy.engine.registry_session import RegistryOptions
    from podpy.registry.progress import Progress

TLS_HELP = "Require HTTPS and verify certificates (true/false; default: verify, except loopback/insecure registries)"


# ---------------------------------------------------------------- progress
class ProgressView:
    """Callback for pull/push progress: rich bars on a terminal, Podman's plain lines otherwise.

    Use as a context manager (the bars live between enter and exit). Thread-safe: layer
    downloads report from several threads.
    """

    def __init__(self, quiet: bool = False, stream: Any = None, push: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.push = push
        self.lock = threading.Lock()
        self.kinds: dict[str, str] = {}
        self.started = False
        self.bars: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressView:
        if not self.quiet and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

            console = Console(file=self.stream)
            self.bars = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), console=console, transient=False)  # fmt: skip
            self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bars is not None:
            self.bars.stop()

    def line(self, text: str) -> None:
        if self.bars is not None:
            self.bars.console.print(text, highlight=False, markup=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def __call__(self, ev: Progress) -> None:
        if self.quiet:
            return
        from podpy.registry import progress as pg

        with self.lock:
            if ev.kind == pg.MISSING:
                self.line(f"Unable to find image '{ev.message}' locally")
            elif ev.kind == pg.TRYING and not self.push:
                self.line(f"Trying to pull {ev.message}...")
            elif ev.kind in (pg.BLOB_START, pg.BLOB_PROGRESS, pg.BLOB_DONE, pg.EXTRACT, pg.EXTRACTED):
                self._blob(ev)
            elif ev.kind == pg.MANIFEST:
                self.line("Writing manifest to image destination")

    def _blob(self, ev: Progress) -> None:
        from podpy.registry import progress as pg

        if not self.started:
            self.started = True
            self.line("Getting image source signatures")
        if ev.kind == pg.BLOB_START:
            self.kinds[ev.id] = ev.message or "blob"
        label = f"Copying {self.kinds.get(ev.id, 'blob')} {ev.id.removeprefix('sha256:')[:12]}"
        if self.bars is None:
            if ev.kind == pg.BLOB_DONE:
                self.line(f"{label} {ev.message}")
            return
        task = self.tasks.get(ev.id)
        if task is None:
            task = self.tasks[ev.id] = self.bars.add_task(label, total=ev.total or None)
        elif ev.kind == pg.BLOB_START:
            self.bars.update(task, total=ev.total or None)
        if ev.kind == pg.EXTRACT:
            self.bars.update(task, description=f"{label} extracting")
        elif ev.kind == pg.EXTRACTED:
            self.bars.update(task, description=f"{label} done")
        elif ev.kind == pg.BLOB_PROGRESS:
            self.bars.update(task, completed=ev.current)
        elif ev.kind == pg.BLOB_DONE:
            self.bars.update(task, description=f"{label} {ev.message}", completed=ev.total, total=ev.total or 1)


# ---------------------------------------------------------------- shared options
def parse_bool(value: str | None, flag: str) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on", ""):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    from podpy.errors import InvalidArgument

    raise InvalidArgument(f"invalid value {value!r} for {flag}: want true or false")


def registry_options(tls_verify: str | None, cert_dir: Path | None, creds: str | None,
                     authfile: Path | None, retry: int | None = None) -> RegistryOptions:  # fmt: skip
    from podpy.engine.registry_session import RegistryOptions
    from podpy.registry.credentials import Credentials, parse_creds

    c = None
    if creds is not None:
        c = parse_creds(creds)
        if not c.password:
            c = Credentials(c.username, _prompt_password())
    opts = RegistryOptions(tls_verify=parse_bool(tls_verify, "--tls-verify"), cert_dir=cert_dir, creds=c,
                           auth_file=authfile)  # fmt: skip
    if retry is not None:
        opts.retries = retry
    return opts


def _prompt_password() -> str:
    from podpy.errors import InvalidArgument

    if not sys.stdin.isatty():
        raise InvalidArgument("password required: give it as USER:PASSWORD, or run on a terminal to be asked")
    import getpass

    return getpass.getpass("Password: ")


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
    from podpy.engine.pull import pull as do_pull

    opts = registry_options(tls_verify, cert_dir, creds, authfile, retry)
    if arch or os_ or variant:
        from podpy.registry import platforms

        platform = str(platforms.parse(platform, os_=os_, arch=arch, variant=variant))
    from podpy.engine import transports

    eng = engine()
    for ref in images:
        loc = transports.parse(ref)  # docker-archive:P, oci-archive:P, oci:DIR, dir:DIR, docker://REF
        if loc is not None and loc.transport != "docker":
            for rec in transports.pull(eng, loc):
                common.out(rec.hex)
            continue
        ref = loc.path if loc is not None else ref
        with ProgressView(quiet) as view:
            recs = do_pull(eng, ref, opts, platform=platform, all_tags=all_tags, progress=view)
        for rec in recs:
            common.out(rec.hex)


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
    from podpy.engine import transports
    from podpy.engine.push import push as do_push
    from podpy.errors import InvalidArgument

    if sign_by or sign_by_sigstore_private_key or sign_passphrase_file:
        raise InvalidArgument("signing images (--sign-by, --sign-by-sigstore-private-key, --sign-passphrase-file) "
                              "is not supported by podpy")  # fmt: skip

    if destination is None and image.startswith("docker://"):
        image = image.removeprefix("docker://")
    loc = transports.parse(destination) if destination else None
    if loc is not None and loc.transport != "docker":  # docker-archive:P[:REF], oci-archive:, oci:DIR, dir:DIR
        if compression_format is not None:
            raise InvalidArgument(f"--compression-format applies to registries only: {loc.transport}: "
                                  "destinations get the layers as stored")  # fmt: skip
        transports.push(engine(), image, loc, compress=compress)
        return
    destination = loc.path if loc is not None else destination
    opts = registry_options(tls_verify, cert_dir, creds, authfile, retry)
    with ProgressView(quiet, push=True) as view:
        do_push(engine(), image, destination, opts, fmt=format_, digestfile=digestfile, progress=view,
                compression=compression_format)  # fmt: skip


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
