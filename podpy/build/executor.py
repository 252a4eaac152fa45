"""The executor: runs a plan's stages step by step through the engine (build_support), with the cache.

Every step ends as an image (Podman's `--layers`): RUN/COPY/ADD/WORKDIR with one more layer (the
step container's changes, committed as `commit` does), the other instructions with a new config
only. A step's CacheKey digest maps to that image, so a rebuild finds each step's result again and
ends with the same image ID. Nothing is tagged before the last step succeeded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from podpy.build import instructions as ins
from podpy.build.buildargs import host_platform
from podpy.build.cache import BuildCache
from podpy.build.dockerignore import Matcher
from podpy.build.errors import BuildError
from podpy.build.expand import StageScope
from podpy.build.filesteps import copy_files, fetch_sources, make_workdir, url_sources
from podpy.build.imageconfig import StageConfig, scratch_config
from podpy.build.plan import Plan, Stage
from podpy.engine import build_support as bs
from podpy.errors import PodpyError
from podpy.record import field, record
from podpy.timeutil import now_rfc3339

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.build.digestmemo import DigestMemo
    from podpy.build.remotecache import RemoteCache
    from podpy.engine.core import Engine
    from podpy.engine.images import NewLayer

_LAYER_STEPS = (ins.Run, ins.Copy, ins.Workdir)


class StepFailed(PodpyError):
    """A RUN that exited non-zero: Podman exits with the command's own code."""

    def __init__(self, step: str, code: int, reason: str = "") -> None:
        super().__init__(f'building at STEP "{step}": while running runtime: {reason or f"exit status {code}"}')
        self.exit_code = code


@record(lean_init=True)
class BuildOptions:
    context: Path
    ignore: Matcher
    no_cache: bool = False
    layers: bool = True  # keep each step's image and use the cache
    pull: str = "missing"
    network: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    out_fd: int = 1  # where RUN output goes
    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)  # runmounts.parse_secrets
    ssh: dict[str, str] = field(default_factory=dict)  # runmounts.parse_ssh: id → agent socket
    contexts: dict[str, str] = field(default_factory=dict)  # --build-context: name → dir or docker-image://
    no_cache_stages: set[str] = field(default_factory=set)  # --no-cache-filter
    cache_from: list[str] = field(default_factory=list)  # --cache-from repositories (remotecache)
    cache_to: list[str] = field(default_factory=list)  # --cache-to repositories
    cache_ttl: float | None = None  # --cache-ttl seconds
    step: dict[str, Any] = field(default_factory=dict)  # RUN containers' CreateOptions fields (--cap-add...)
    stdin: bool = False  # --stdin: RUN reads the build's stdin
    created: str | None = None  # --timestamp: every created time (RFC 3339)
    mtime: int | None = None  # --timestamp: every file's modification time in the new layers
    registry: Any = None  # RegistryOptions for FROM pulls (--authfile, --creds, --tls-verify, --retry...)
    platform: Any = None  # the target Platform: None for the host's (another only without RUN: allplatforms)
    bases: dict[str, str] = field(default_factory=dict)  # FROM image → NAME@DIGEST for that platform
    remember_digests: bool = False  # the context is the user's directory: its file digests are memoized


@record(lean_init=True)
class Current:
    """Where a stage stands: its image so far (None: scratch not yet committed), config and key."""

    image: str | None
    layers: list[NewLayer]
    key: str


class Executor:
    def __init__(self, engine: Engine, plan: Plan, opts: BuildOptions, say: Callable[[str], None]) -> None:
        self.engine, self.plan, self.opts, self.say = engine, plan, opts, say
        self.cache = BuildCache(engine)
        self.remote: RemoteCache | None = None  # with --cache-from / --cache-to only
        if opts.cache_from or opts.cache_to:
            from podpy.build.remotecache import RemoteCache

            self.remote = RemoteCache(engine, opts.cache_from, opts.cache_to, opts.cache_ttl,
                                      lambda m: say(f"WARNING: {m}"))  # fmt: skip
        self.results: dict[int, str] = {}  # stage index → its image ID
        self.prefix = ""
        self._downloads: Path | None = None  # ADD URL files of this build
        self._url_ctx: Path | None = None  # the current step's downloaded files
        self._stage_now: Stage | None = None
        self.base_layers: dict[int, int] = {}  # stage index → how many layers its base has (--squash)
        self._memos: dict[Path, DigestMemo] = {}  # context directory → its remembered file digests

    def build(self) -> str:
        """Build every needed stage (dependencies first); the target stage's image ID."""
        from podpy.build.waves import run_wave

        many = len(self.plan.needed) > 1
        numbers = {i: n for n, i in enumerate(self.plan.needed, 1)}

        def one(i: int) -> str:
            self.prefix = f"[{numbers[i]}/{len(self.plan.needed)}] " if many else ""
            return self._stage(self.plan.stages[i])

        def reset() -> None:
            self._downloads = None  # a child's own downloads, which it removes itself

        try:
            for wave in self.plan.levels():
                self.results.update(run_wave(wave, one, reset, self._cleanup))
        finally:
            self._cleanup()
        return self.results[self.plan.target]

    def _cleanup(self) -> None:
        for memo in self._memos.values():
            memo.save()
        if self._downloads is not None:
            from podpy.storage.fsutil import force_rmtree

            force_rmtree(self._downloads)
            self._downloads = None

    # ---- one stage
    def _stage(self, st: Stage) -> str:
        self._stage_now = st
        if self.remote is not None:
            self.remote.new_stage()
        total = 1 + len(st.instructions)
        self.say(f"{self.prefix}STEP 1/{total}: {st.from_.original or 'FROM ' + st.base}")
        base_id, doc = self._base(st)
        sc = StageConfig.from_base(doc)
        cfg = sc.config
        scope = StageScope(self.plan, cfg.get("Env"), cfg.get("WorkingDir", ""), cfg.get("Shell"))
        from podpy.build.instructions_parse import parse_triggers

        triggers = parse_triggers(sc.triggers, self.plan.file)
        img = self.engine.images.get(base_id) if base_id else None
        cur = Current(base_id, bs.image_layers(img) if img else [], _salted(base_id or "scratch", self.opts))
        self.base_layers[st.index] = len(cur.layers)
        steps = [(t, True) for t in triggers] + [(s, False) for s in st.instructions]
        n = 1
        for k, (raw, trigger) in enumerate(steps, 1):
            if not trigger:
                n += 1
                self.say(f"{self.prefix}STEP {n}/{total}: {raw.original}")
            self._step(raw, sc, scope, cur)
            if k < len(steps) or st.index != self.plan.target:  # the last one's ID follows COMMIT
                self.say(f"--> {cur.image.removeprefix('sha256:')[:12]}")  # type: ignore[union-attr]
        if cur.image is None:  # FROM scratch and nothing else
            cur.image = bs.register(self.engine, sc.doc, [], []).id
        return cur.image

    def _base(self, st: Stage) -> tuple[str | None, dict]:
        target = self.opts.platform or host_platform()
        if st.platform and _platform_of(st.platform) != str(target):
            raise BuildError(f"platform {st.platform} is not this host's ({host_platform()}): only the host's platform "
                             "can be built", file=self.plan.file, line=st.from_.line, instruction="FROM")  # fmt: skip
        if st.base_stage is not None:
            image_id = self.results[st.base_stage]
        elif st.base == "scratch":
            if self.opts.platform is not None:
                return None, scratch_config(target.os, target.arch, target.variant)
            from podpy.engine.importer import go_arch

            return None, scratch_config(arch=go_arch())
        else:
            image_id = self._ensure(self.opts.bases.get(st.base, st.base))
        doc = json.loads(self.engine.content.read(image_id))
        for k in ("created", "author", "comment", "container", "container_config", "docker_version"):
            doc.pop(k, None)
        return image_id, doc

    def _ensure(self, ref: str) -> str:
        from podpy.image.store import find

        if self.opts.pull != "always":
            local = find(self.engine.index.load(), ref)
            if local is not None:
                return local.id
            if self.opts.pull == "never":
                from podpy.errors import NoSuchImage

                raise NoSuchImage(ref)
        from podpy.engine.pull import ensure_image

        policy = "always" if self.opts.pull == "always" else "missing"
        return ensure_image(self.engine, ref, policy, None, opts=self.opts.registry).id

    # ---- one step
    def _step(self, raw: ins.Instruction, sc: StageConfig, scope: StageScope, cur: Current) -> None:
        from podpy.build.cachekey import content_digest, step_key

        inst = scope.expand(raw)
        content = ""
        self._url_ctx = None
        if isinstance(inst, ins.Copy) and url_sources(self, inst):
            content = fetch_sources(self, inst)
        elif isinstance(inst, ins.Copy) and (not inst.from_ or self._context_dir(inst.from_)):
            root, ignore = (self._context_dir(inst.from_), Matcher([])) if inst.from_ else (
                self.opts.context, self.opts.ignore)  # fmt: skip
            memo = self._memo(root)  # type: ignore[arg-type]
            content = self._guard(inst, lambda: content_digest(root, inst, ignore, memo))  # type: ignore[arg-type]
        sources = {}
        if isinstance(inst, ins.Copy) and inst.from_ and not self._context_dir(inst.from_):
            sources = {inst.from_: self._source_image(inst.from_)}
        key = step_key(cur.key, inst, scope, content=content, platform=str(self.opts.platform or host_platform()),
                       sources=sources).digest()  # fmt: skip
        layered = isinstance(inst, _LAYER_STEPS) and not (isinstance(inst, ins.Workdir) and inst.path == "/")
        hit = None if self._no_cache() or not self.opts.layers else self._lookup(key)
        created = self.opts.created or now_rfc3339()
        self._guard(inst, lambda: sc.apply(inst, scope, created))
        if hit is not None:
            self.say(f"--> Using cache {hit.removeprefix('sha256:')}")
            img = self.engine.images.get(hit)
            sc.doc = json.loads(self.engine.content.read(hit))
            cur.image, cur.layers = img.id, bs.image_layers(img)
        else:
            if layered:
                layer = self._layer(inst, sc, scope, cur)
                if self.opts.mtime is not None:
                    layer = bs.restamp(self.engine, layer, self.opts.mtime)
                sc.add_layer(layer.diff_id)
                cur.layers = [*cur.layers, layer]
            sc.doc["created"] = created
            cur.image = bs.register(self.engine, sc.doc, cur.layers, []).id
            if self.opts.layers:
                self.cache.record(key, cur.image)
                if self.remote is not None:
                    self.remote.store(key, cur.image)
            else:  # --layers=false: not reused, but still a step image (hidden, pruned with the cache)
                self.cache.mark_intermediate(cur.image)
        cur.key = key

    def _lookup(self, key: str) -> str | None:
        """The local cache, then the --cache-from repositories (a remote hit joins the local cache)."""
        hit = self.cache.lookup(key)
        if hit is None and self.remote is not None and (hit := self.remote.lookup(key)) is not None:
            self.cache.record(key, hit)
        return hit

    def _memo(self, root: Path) -> DigestMemo:
        """The digest memo of a context directory (the build's own context only when it is the user's
        directory, not a scratch copy of a tar or a clone)."""
        memo = self._memos.get(root)
        if memo is None:
            from podpy.build.digestmemo import DigestMemo, memo_path

            keep = root != self.opts.context or self.opts.remember_digests
            memo = self._memos[root] = DigestMemo(memo_path(self.cache.dir, root) if keep else None)
        return memo

    def _no_cache(self) -> bool:
        st = self._stage_now
        return self.opts.no_cache or (st is not None and bool(
            {st.name or "", str(st.index)} & self.opts.no_cache_stages))  # fmt: skip

    def _guard(self, inst: ins.Instruction, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ValueError as e:
            raise BuildError(str(e), file=self.plan.file, line=inst.line, instruction=inst.name) from None

    def _source_image(self, ref: str) -> str:
        named = self.opts.contexts.get(ref, "")
        if named.startswith("docker-image://"):
            return self._ensure(named.removeprefix("docker-image://"))
        st = self.plan.stage(ref)
        if st is not None:
            return self.results[st.index]
        return self._ensure(ref)

    def _context_dir(self, ref: str | None) -> Path | None:
        """A --build-context name given as a directory."""
        named = self.opts.contexts.get(ref or "", "")
        return Path(named) if named and not named.startswith("docker-image://") else None

    def _parent_image(self, sc: StageConfig, cur: Current) -> str:
        if cur.image is None:
            cur.image = bs.register(self.engine, {**sc.doc, "history": []}, [], []).id
        return cur.image

    def _layer(self, inst: ins.Instruction, sc: StageConfig, scope: StageScope, cur: Current) -> NewLayer:
        """Run the step in a container of the parent image and commit what it changed."""
        from podpy.build.runmounts import prepare

        parent = self._parent_image(sc, cur)
        spec = bs.StepSpec(env=scope.run_env(), workdir=scope.workdir, user=str(sc.config.get("User") or ""))
        if not isinstance(inst, ins.Run):
            return self._file_layer(inst, scope, bs.create_step(self.engine, parent, spec))
        from podpy.build.history import run_args

        net = {"default": "", None: self.opts.network}.get(inst.network, inst.network or "")
        with prepare(self, scope.mounts(inst), inst.line, _script(inst, run_args(inst, scope))) as prep:
            spec = bs.StepSpec(argv=run_args(inst, scope), env=[*spec.env, *prep.env], workdir=spec.workdir,
                               user=spec.user, network=net or "", mounts=prep.mounts,
                               extra={**self.opts.step, "interactive": self.opts.stdin})  # fmt: skip
            rec = bs.create_step(self.engine, parent, spec)
            try:
                try:
                    code = bs.run_step(self.engine, rec, self.opts.out_fd, 0 if self.opts.stdin else None)
                except StepFailed:
                    raise
                except PodpyError as e:  # the command could not start (not found, not executable)
                    raise StepFailed(inst.original or "RUN", e.exit_code, str(e)) from None
                if code:
                    raise StepFailed(inst.original or "RUN", code)
                targets = [t for m in prep.mounts for t in _targets(m)]
                targets += [_volume_target(v) for v in self.opts.step.get("volumes") or []]
                bs.prune_mount_points(self.engine, rec, targets)
                return bs.commit_layer(self.engine, rec)
            finally:
                bs.discard(self.engine, rec)

    def _file_layer(self, inst: ins.Instruction, scope: StageScope, rec: Any) -> NewLayer:
        """WORKDIR's directory or COPY/ADD's files written into the (never started) step container."""
        try:
            if isinstance(inst, ins.Workdir):
                parts = [p for p in inst.path.split("/") if p]
                defer = bs.owners_deferred(self.engine)
                single = self.engine.opts.rootless and not defer  # one owner: nobody else to give it to
                user = "" if single else str(rec.spec.get("user") or "")
                owners = bs.write_into(self.engine, rec, lambda root: make_workdir(root, parts, user, defer))
                bs.set_owners(self.engine, rec, owners)
            else:
                copy_files(self, inst, scope, rec)  # type: ignore[arg-type]
            return bs.commit_layer(self.engine, rec)
        finally:
            bs.discard(self.engine, rec)

def _salted(key: str, opts: BuildOptions) -> str:
    """A stage's first cache key: its base, and a --timestamp (which changes every step's result)."""
    if opts.created is None:
        return key
    import hashlib

    return f"{key}+{hashlib.sha256(opts.created.encode()).hexdigest()[:16]}"


def _targets(mount: str) -> list[str]:
    """The target= of a `--mount` value (the values runmounts makes: no quoting)."""
    return [f.partition("=")[2] for f in mount.split(",") if f.startswith(("target=", "dst=", "destination="))]


def _volume_target(volume: str) -> str:
    """The container path of a `-v [SRC:]DEST[:OPTIONS]` value."""
    parts = volume.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _script(inst: ins.Run, argv: list[str]) -> tuple[str, str] | None:
    """A lone heredoc with a #! line runs as a script at /dev/pipes/NAME (as BuildKit): (path, text)."""
    target = next((a for a in argv if a.startswith("/dev/pipes/")), "")
    if not inst.heredocs or not target:
        return None
    return target, inst.heredocs[0].chomped()


def _platform_of(text: str) -> str:
    from podpy.build.buildargs import Platform

    try:
        return str(Platform.parse(text))
    except ValueError:
        return text


def fd_for(quiet: bool) -> int:
    return bs.null_fd() if quiet else os.dup(1)
