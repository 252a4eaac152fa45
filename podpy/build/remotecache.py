"""`--cache-from` / `--cache-to`: the layer cache shared through a registry, as buildah shares it.

The image a step produced is pushed as `REPO:<hex of the step's cache key>`; a step that misses the
local cache is looked up as that tag in each `--cache-from` repository, pulled, and recorded in the
local cache. The key chains the base image, every earlier step and the content of copied files
(cachekey.py), so a tag that exists is the result of exactly this step. A miss in a stage ends the
remote lookups of that stage: every later key descends from one nobody pushed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from podpy.errors import InvalidArgument, PodpyError, RegistryNotFound

if TYPE_CHECKING:
    from podpy.engine.core import Engine


def parse_repos(items: list[str], flag: str) -> list[str]:
    """Repositories (`registry/name`, no tag or digest) as the user typed them, validated."""
    from podpy.image import reference

    out = []
    for item in items:
        try:
            ref = reference.parse(item, default_tag=False)
        except PodpyError as e:
            raise InvalidArgument(f"{flag} {item!r}: {e}") from None
        if ref.digest or ref.tag:
            raise InvalidArgument(f"{flag} {item!r}: name a repository, without a tag or digest")
        out.append(ref.name)
    return out


@dataclass
class RemoteCache:
    engine: Engine
    sources: list[str] = field(default_factory=list)  # --cache-from repositories
    targets: list[str] = field(default_factory=list)  # --cache-to repositories
    ttl: float | None = None  # --cache-ttl seconds: older cache images are not used
    warn: Callable[[str], None] = print
    _missed: bool = False  # a remote miss in the current stage

    def new_stage(self) -> None:
        self._missed = False

    def lookup(self, key: str) -> str | None:
        """The image ID for `key` pulled from a --cache-from repository, or None."""
        if not self.sources or self._missed:
            return None
        from podpy.engine.pull import pull

        tag = key.removeprefix("sha256:")
        for repo in self.sources:
            ref = f"{repo}:{tag}"
            try:
                img = pull(self.engine, ref)[0]
            except RegistryNotFound:
                continue
            except PodpyError as e:
                self.warn(f"--cache-from {repo}: {e}")
                continue
            self.engine.images.untag(img.id, [ref])  # a cache image, not a name the user asked for
            if self.ttl is not None and time.time() - _created(self.engine, img.id) > self.ttl:
                continue
            return img.id
        self._missed = True
        return None

    def store(self, key: str, image_id: str) -> None:
        """Push the step's image to every --cache-to repository (a failure warns: the build goes on)."""
        from podpy.engine.push import push

        for repo in self.targets:
            try:
                push(self.engine, image_id, f"{repo}:{key.removeprefix('sha256:')}")
            except PodpyError as e:
                self.warn(f"--cache-to {repo}: {e}")


def _created(engine: Engine, image_id: str) -> float:
    import json

    from podpy.timeutil import parse_time

    return parse_time(json.loads(engine.content.read(image_id)).get("created") or "")
