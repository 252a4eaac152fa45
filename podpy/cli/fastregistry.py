"""`pull` and `push` without typer: their flag tables for the front door (fastpath) and their
bodies, shared with the typer commands in podpy.cli.registry; also the pull/push progress display
(`ProgressView`, what run/create hand to ensure_image too) and the registry options.

A pull of an image that is already here, or a push of layers the registry has, is a handful of
small requests: what it costs is mostly start-up, so these commands skip typer (~30 ms). A flag
the tables do not know (or --help) leaves the whole command line to typer.
"""

from __future__ import annotations

import sys
import threading

from podpy.cli import common
from podpy.cli.fastcmds import B, Cmd, I, S, _flags

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from podpy.engine.registry_session import RegistryOptions
    from podpy.registry.progress import Progress


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


# ---------------------------------------------------------------- bodies (typer's and the fast path's)
def pull_images(images: list[str], all_tags: bool = False, platform: str | None = None, arch: str | None = None,
                os_: str | None = None, variant: str | None = None, tls_verify: str | None = None,
                cert_dir: Path | str | None = None, creds: str | None = None, authfile: Path | str | None = None,
                retry: int | None = None, quiet: bool = False) -> None:  # fmt: skip
    """`pull`: each image (a registry reference or another transport); prints the IDs stored."""
    from podpy.engine import transports
    from podpy.engine.pull import pull as do_pull

    opts = registry_options(tls_verify, _path(cert_dir), creds, _path(authfile), retry)
    if arch or os_ or variant:
        from podpy.registry import platforms

        platform = str(platforms.parse(platform, os_=os_, arch=arch, variant=variant))
    eng = common.engine()
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


def push_image(image: str, destination: str | None = None, format_: str | None = None,
               digestfile: Path | str | None = None, tls_verify: str | None = None, cert_dir: Path | str | None = None,
               creds: str | None = None, authfile: Path | str | None = None, retry: int | None = None,
               quiet: bool = False, compress: bool = False, compression_format: str | None = None,
               sign_by: str | None = None, sign_by_sigstore_private_key: str | None = None,
               sign_passphrase_file: str | None = None) -> None:  # fmt: skip
    """`push`: to a registry, or to another transport (docker-archive:, oci-archive:, oci:, dir:)."""
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
        transports.push(common.engine(), image, loc, compress=compress)
        return
    destination = loc.path if loc is not None else destination
    opts = registry_options(tls_verify, _path(cert_dir), creds, _path(authfile), retry)
    with ProgressView(quiet, push=True) as view:
        do_push(common.engine(), image, destination, opts, fmt=format_, digestfile=_path(digestfile), progress=view,
                compression=compression_format)  # fmt: skip


def _path(p: Path | str | None) -> Path | None:
    if p is None:
        return None
    from pathlib import Path

    return Path(p)


# ---------------------------------------------------------------- the fast path's tables
def _pull(kw: dict[str, Any], pos: list[str]) -> int:
    kw.pop("disable_content_trust")
    pull_images(pos, **kw)
    return 0


def _push(kw: dict[str, Any], pos: list[str]) -> int:
    kw.pop("disable_content_trust")
    kw.pop("remove_signatures")
    push_image(*pos, **kw)
    return 0


_REGISTRY = (("tls_verify", S, None, ("--tls-verify",)), ("cert_dir", S, None, ("--cert-dir",)),
             ("creds", S, None, ("--creds",)), ("authfile", S, None, ("--authfile",)),
             ("retry", I, None, ("--retry",)), ("quiet", B, False, ("--quiet", "-q")),
             ("disable_content_trust", B, False, ("--disable-content-trust",)))  # fmt: skip
PULL = Cmd(_pull, _flags(("all_tags", B, False, ("--all-tags", "-a")), ("platform", S, None, ("--platform",)),
                         ("arch", S, None, ("--arch",)), ("os_", S, None, ("--os",)),
                         ("variant", S, None, ("--variant",)), *_REGISTRY), (1, None))  # fmt: skip
PUSH = Cmd(_push, _flags(("format_", S, None, ("--format", "-f")), ("digestfile", S, None, ("--digestfile",)),
                         ("remove_signatures", B, False, ("--remove-signatures",)),
                         ("compress", B, False, ("--compress",)),
                         ("compression_format", S, None, ("--compression-format",)),
                         ("sign_by", S, None, ("--sign-by",)),
                         ("sign_by_sigstore_private_key", S, None, ("--sign-by-sigstore-private-key",)),
                         ("sign_passphrase_file", S, None, ("--sign-passphrase-file",)), *_REGISTRY), (1, 2))  # fmt: skip

COMMANDS: dict[tuple[str, ...], Cmd] = {("pull",): PULL, ("image", "pull"): PULL, ("push",): PUSH,
                                        ("image", "push"): PUSH}  # fmt: skip


