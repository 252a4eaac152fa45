"""`podpy build` end to end: the context (directory or tar on stdin), the Dockerfile, the plan, the
executor, then labels and tags: an image and its names appear only when every step succeeded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from podpy.engine import events as ev
from podpy.errors import InvalidArgument
from podpy.record import field, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from podpy.engine.core import Engine

DEFAULT_NAMES = ("Containerfile", "Dockerfile")


@record(lean_init=True)
class BuildRequest:
    context: str
    dockerfile: str | None = None
    tags: list[str] = field(default_factory=list)
    build_args: list[str] = field(default_factory=list)
    target: str | None = None
    no_cache: bool = False
    pull: str = "missing"
    labels: list[str] = field(default_factory=list)
    quiet: bool = False
    platform: str | None = None
    layers: bool = True
    network: str = ""
    secrets: list[str] = field(default_factory=list)
    ssh: list[str] = field(default_factory=list)  # --ssh default | id=socket
    build_contexts: list[str] = field(default_factory=list)  # name=dir or name=docker-image://ref
    no_cache_filter: list[str] = field(default_factory=list)
    format: str = "oci"  # or "docker": the manifest's media types
    annotations: list[str] = field(default_factory=list)  # KEY=VALUE for the manifest
    squash_all: bool = False  # one layer for the whole image
    squash: bool = False  # the build's new layers as one
    cache_from: list[str] = field(default_factory=list)  # repositories (remotecache)
    cache_to: list[str] = field(default_factory=list)
    cache_ttl: float | None = None  # seconds
    step: dict[str, Any] = field(default_factory=dict)  # RUN containers' CreateOptions fields (bs.STEP_FIELDS)
    stdin: bool = False  # --stdin
    env: list[str] = field(default_factory=list)  # --env KEY=VALUE for the final image (KEY: the host's value)
    unsetenv: list[str] = field(default_factory=list)  # --unsetenv: removed from the final image
    timestamp: int | None = None  # --timestamp: seconds since the epoch
    omit_history: bool = False
    identity_label: bool | None = None  # True: add io.podpy.version
    from_image: str | None = None  # --from: replaces the first FROM's image
    ignorefile: str | None = None
    skip_unused_stages: bool = True
    registry: Any = None  # RegistryOptions for FROM pulls
    os_features: list[str] = field(default_factory=list)  # --os-feature (FEATURE- removes)
    os_version: str | None = None
    cpp_flags: list[str] = field(default_factory=list)  # for a Containerfile named *.in
    all_platforms: bool = False  # also every other platform the bases offer (allplatforms)


def run_build(engine: Engine, req: BuildRequest, say: Callable[[str], None]) -> str:
    """Build and tag; the image ID. Bad input raises before any step runs."""
    from podpy.build.buildargs import Platform, host_platform, parse_build_args
    from podpy.image import reference

    names = [str(reference.parse(t)) for t in req.tags]  # a bad tag fails before any work
    if req.cache_from or req.cache_to:
        from podpy.build.remotecache import parse_repos

        req.cache_from = parse_repos(req.cache_from, "--cache-from")
        req.cache_to = parse_repos(req.cache_to, "--cache-to")
    labels = _pairs(req.labels, "--label")
    _pairs(req.annotations, "--annotation")  # bad input fails before any work
    try:
        args = parse_build_args(req.build_args)
        if req.platform and Platform.parse(req.platform) != host_platform():
            raise InvalidArgument(f"--platform {req.platform}: only the host's platform ({host_platform()}) can be built")
    except ValueError as e:
        raise InvalidArgument(str(e)) from None
    with _context(req.context) as context:
        with _dockerfile(context, req.dockerfile) as (df_path, df_name):
            with _preprocessed(df_path, context, req) as text_path:
                image_id = _execute(engine, req, context, (text_path, df_path), df_name, args, labels, say)
    if names:
        say(f"COMMIT {' '.join(reference.familiar(n) for n in names)}")
    else:
        say("COMMIT")
    say(f"--> {image_id.removeprefix('sha256:')[:12]}")
    if names:
        engine.images.tag(image_id, names)
        for n in names:
            say(f"Successfully tagged {n}")
    ev.image(engine, "build", image_id, names[0] if names else "")
    return image_id


def _execute(engine: Engine, req: BuildRequest, context: Path, paths: tuple[Path, Path], df_name: str,
             args: dict[str, str], labels: dict[str, str], say: Callable[[str], None],
             foreign: Any = None) -> str:  # fmt: skip
    """`paths`: the Dockerfile's text (preprocessed, for *.in) and its own path (its ignore file).
    `foreign`: an allplatforms.Foreign to build instead of the host's platform."""
    from podpy.build.executor import BuildOptions, Executor, fd_for
    from podpy.build.parser import parse_file
    from podpy.build.plan import make_plan

    text_path, df_path = paths
    df = parse_file(text_path, df_name)
    target = foreign.platform if foreign is not None else None
    plan = make_plan(df, args, req.target, target_platform=target, from_image=req.from_image)
    if not req.skip_unused_stages:
        plan.needed = plan.all_stages()
    if req.all_platforms and foreign is None:  # the other platforms first, then (usually) the host's
        from podpy.build.allplatforms import choose

        others, with_host = choose(engine, plan, req.pull, req.registry)
        built = []
        for f in others:
            prefix = f"[{f.platform}] "
            said = lambda t, prefix=prefix: say(prefix + t)  # noqa: E731
            built.append(_execute(engine, req, context, paths, df_name, args, labels, said, f))
            say(f"{prefix}--> {built[-1].removeprefix('sha256:')[:12]}")
        if not with_host:
            return built[0]
    for w in plan.warnings if foreign is None else ():
        sys.stderr.write(f"WARN: {w}\n")
    secrets: dict[str, tuple[str, str]] = {}
    ssh: dict[str, str] = {}
    if req.secrets or req.ssh:
        from podpy.build.runmounts import parse_secrets, parse_ssh

        try:
            secrets = parse_secrets(req.secrets)
            ssh = parse_ssh(req.ssh, os.environ)
        except ValueError as e:
            raise InvalidArgument(str(e)) from None
    ignore = _ignore(context, df_path, req.ignorefile)
    out_fd = fd_for(req.quiet)
    try:
        opts = BuildOptions(context=context, ignore=ignore, no_cache=req.no_cache, layers=req.layers,
                            pull=req.pull, network=req.network, labels=labels, out_fd=out_fd,
                            secrets=secrets, ssh=ssh, contexts=_named_contexts(req.build_contexts),
                            no_cache_stages={x.lower() for x in req.no_cache_filter},
                            cache_from=req.cache_from, cache_to=req.cache_to, cache_ttl=req.cache_ttl,
                            step=req.step, stdin=req.stdin, registry=req.registry,
                            created=_rfc3339(req.timestamp), mtime=req.timestamp, platform=target,
                            bases=foreign.bases if foreign is not None else {},
                            remember_digests=_user_directory(req.context))  # fmt: skip
        ex = Executor(engine, plan, opts, say)
        image_id = ex.build()
        if req.squash:
            from podpy.build.squash import squash_image

            image_id = squash_image(engine, image_id, ex.base_layers.get(plan.target, 0))
    finally:
        os.close(out_fd)
    if req.identity_label:
        from podpy import __version__

        labels = {"io.podpy.version": __version__, **labels}
    if labels or req.env or req.unsetenv or req.omit_history or req.os_features or req.os_version is not None:
        image_id = _final_config(engine, image_id, labels, req)
    if req.squash_all:
        from podpy.engine.build_support import squash_all

        image_id = squash_all(engine, image_id)
    if req.format == "docker" or req.annotations:
        from podpy.engine.build_support import remanifest

        image_id = remanifest(engine, image_id, req.format == "docker", _pairs(req.annotations, "--annotation"))
    ex.cache.finished(image_id)
    return image_id


def _user_directory(arg: str) -> bool:
    """The context is a directory of the user's (not a scratch copy of a tar, a URL or a clone)."""
    from podpy.build.gitsource import is_git_url

    return arg != "-" and not arg.startswith(("http://", "https://")) and not is_git_url(arg)


def _named_contexts(items: list[str]) -> dict[str, str]:
    """--build-context name=dir (made absolute) or name=docker-image://ref."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name or not value:
            raise InvalidArgument(f"invalid --build-context {item!r}: expected name=directory or name=docker-image://ref")
        if not value.startswith("docker-image://"):
            if value.startswith(("http://", "https://", "git@", "oci-layout://")):
                raise InvalidArgument(f"--build-context {item!r}: only directories and docker-image:// are supported")
            if not Path(value).is_dir():
                raise InvalidArgument(f"--build-context {item!r}: {value} is not a directory")
            value = str(Path(value).resolve())
        out[name.lower()] = value
    return out


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {flag} {item!r}: empty key")
        out[key] = value
    return out


def _final_config(engine: Engine, image_id: str, labels: dict[str, str], req: BuildRequest) -> str:
    """The image with --label values added, --env values set (over the Dockerfile's ENV, as Podman
    4.3 commits them; RUN does not see them) and --unsetenv names removed from its environment,
    --os-feature/--os-version set and, with --omit-history, no history (same created time: a
    rebuild gives the same ID)."""
    import json

    from podpy.engine import build_support as bs

    doc = json.loads(engine.content.read(image_id))
    cfg = doc.setdefault("config", {})
    if labels:
        cfg["Labels"] = {**(cfg.get("Labels") or {}), **labels}
    if req.env:
        from podpy.engine.spec import merge_env

        cfg["Env"] = list(merge_env(cfg.get("Env") or [], _env(req.env)))
    if req.unsetenv:
        cfg["Env"] = [e for e in cfg.get("Env") or [] if e.partition("=")[0] not in set(req.unsetenv)]
    if req.omit_history:
        doc.pop("history", None)
    if req.os_features:
        features = list(doc.get("os.features") or [])
        for f in req.os_features:
            if f.endswith("-"):
                features = [x for x in features if x != f[:-1]]
            elif f not in features:
                features.append(f)
        doc["os.features"] = features
        if not features:
            doc.pop("os.features")
    if req.os_version is not None:
        doc["os.version"] = req.os_version
    return bs.register(engine, doc, bs.image_layers(engine.images.get(image_id)), []).id


def _env(items: list[str]) -> list[str]:
    """--env KEY=VALUE as given; a bare KEY takes the host's value (dropped when unset), as Podman."""
    out = []
    for item in items:
        key, eq, _ = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid --env {item!r}: empty name")
        if eq:
            out.append(item)
        elif key in os.environ:
            out.append(f"{key}={os.environ[key]}")
    return out


def _rfc3339(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ignore(context: Path, df_path: Path, ignorefile: str | None) -> Any:
    """The context's .dockerignore / .containerignore, or --ignorefile's patterns."""
    from podpy.build.dockerignore import Matcher, load_matcher, read_patterns

    if ignorefile is None:
        return load_matcher(context, df_path)
    try:
        return Matcher(read_patterns(Path(ignorefile).read_text(encoding="utf-8")))
    except OSError as e:
        raise InvalidArgument(f"--ignorefile {ignorefile}: {e.strerror or e}") from None


@contextmanager
def _context(arg: str) -> Iterator[Path]:
    if arg == "-":
        if sys.stdin.isatty():
            raise InvalidArgument("cannot read a build context from a terminal: pipe a tar archive")
        with _tar_context(sys.stdin.buffer) as path:
            yield path
        return
    from podpy.build.gitsource import cloned, is_git_url

    if is_git_url(arg):
        with cloned(arg) as (tree, _commit):
            yield tree
        return
    if arg.startswith(("http://", "https://")):
        from podpy.engine.importer import open_source

        with open_source(arg) as stream, _tar_context(stream) as path:  # a tar archive at a URL
            yield path
        return
    path = Path(arg)
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "no such file or directory"
        raise InvalidArgument(f"context {arg!r}: {what}")
    yield path.resolve()


@contextmanager
def _tar_context(source: BinaryIO) -> Iterator[Path]:
    """A tar archive (possibly compressed), extracted to a scratch directory (never outside it)."""
    import tarfile
    import tempfile

    from podpy.inroot import Root
    from podpy.storage.compress import open_decompressed
    from podpy.storage.fsutil import force_rmtree
    from podpy.storage.treewrite import TreeWriter, WriteOptions

    tmp = Path(tempfile.mkdtemp(prefix="podpy-context-"))
    try:
        with Root(tmp) as root:
            writer = TreeWriter(root, (), WriteOptions(strict_ids=False))
            stream, _ = open_decompressed(source)
            try:
                with stream, tarfile.open(fileobj=stream, mode="r|") as tf:
                    for m in tf:
                        writer.put(m, tf.extractfile(m) if m.isreg() else None)
                        tf.members.clear()
            except tarfile.TarError as e:
                raise InvalidArgument(f"reading the build context archive: {e}") from None
            writer.finish()
        yield tmp
    finally:
        force_rmtree(tmp)


@contextmanager
def _dockerfile(context: Path, arg: str | None) -> Iterator[tuple[Path, str]]:
    if arg == "-":
        import tempfile

        with tempfile.NamedTemporaryFile(prefix="podpy-dockerfile-") as f:
            f.write(sys.stdin.buffer.read())
            f.flush()
            yield Path(f.name), "Dockerfile"
        return
    yield _dockerfile_path(context, arg)


@contextmanager
def _preprocessed(path: Path, context: Path, req: BuildRequest) -> Iterator[Path]:
    """A Containerfile named *.in goes through cpp first (#include, #define, --cpp-flag), as Buildah
    does: `cpp -E -iquote CONTEXT -traditional -undef -` plus the flags."""
    if not (req.dockerfile or "").endswith(".in"):
        yield path
        return
    import shlex
    import shutil
    import subprocess
    import tempfile

    cpp = shutil.which("cpp")
    if cpp is None:
        raise InvalidArgument(f"{req.dockerfile}: a *.in Containerfile needs cpp, which is not installed")
    flags = shlex.split(os.environ.get("BUILDAH_CPPFLAGS", "")) + req.cpp_flags
    with open(path, "rb") as src:
        proc = subprocess.run([cpp, "-E", "-iquote", str(context), "-traditional", "-undef", "-", *flags],
                              stdin=src, capture_output=True)  # fmt: skip
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines() or [f"cpp exited {proc.returncode}"]
        raise InvalidArgument(f"preprocessing {req.dockerfile}: {err[-1]}")
    with tempfile.NamedTemporaryFile(prefix="podpy-containerfile-") as f:
        f.write(proc.stdout)
        f.flush()
        yield Path(f.name)


def _dockerfile_path(context: Path, arg: str | None) -> tuple[Path, str]:
    if arg:
        path = Path(arg)
        if not path.is_file():
            inside = context / arg
            if not inside.is_file():
                raise InvalidArgument(f"the Dockerfile {arg!r} does not exist")
            path = inside
        return path, arg
    for name in DEFAULT_NAMES:
        if (context / name).is_file():
            return context / name, name
    raise InvalidArgument(f"no Containerfile or Dockerfile in the context directory {context}")
