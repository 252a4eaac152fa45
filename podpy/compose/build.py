"""A service's `build:` section through podpy's builder (podpy.build.frontend.run_build, in process):
the image is named as the service's `image:` or, without one, `<project>-<service>` (Compose v2)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.compose.errors import ComposeError
from podpy.compose.model import Project, Service

# Build keys podpy's builder has no counterpart for: warned about, not fatal (as unknown platforms are).
_IGNORED = ("ssh", "cache_from", "cache_to", "extra_hosts", "isolation", "privileged", "shm_size",
            "ulimits", "platforms", "entitlements")


@dataclass
class BuildFlags:
    """What `compose build` / `up --build` add to every service's `build:`."""

    no_cache: bool = False
    pull: bool = False
    build_args: list[str] = field(default_factory=list)  # KEY=VALUE or KEY (from the environment)
    quiet: bool = False


def build_service(engine: Any, project: Project, svc: Service, flags: BuildFlags,
                  say: Callable[[str], None]) -> str:
    """Build `svc`'s image and tag it; the image ID."""
    from podpy.build.frontend import BuildRequest, run_build

    spec = svc.build
    if spec is None:
        raise ComposeError(f'service "{svc.name}" has no build section')
    context = str(spec.get("context") or ".")
    if "://" in context or context.startswith("git@"):
        raise ComposeError(f'service "{svc.name}": build context {context!r}: only local directories are supported')
    with _dockerfile(svc.name, context, spec) as dockerfile:
        req = BuildRequest(
            context=context, dockerfile=dockerfile, tags=[svc.image, *map(str, spec.get("tags") or [])],
            build_args=[*_args(spec.get("args")), *flags.build_args], target=spec.get("target") or None,
            no_cache=flags.no_cache or bool(spec.get("no_cache")),
            pull="always" if flags.pull or spec.get("pull") else "missing",
            labels=[f"{k}={'' if v is None else v}" for k, v in (spec.get("labels") or {}).items()],
            quiet=flags.quiet, network=_network(svc.name, spec.get("network")),
            secrets=_secrets(project, svc.name, spec.get("secrets") or []),
            build_contexts=[f"{k}={v}" for k, v in (spec.get("additional_contexts") or {}).items()],
        )  # fmt: skip
        return run_build(engine, req, say)


def ignored_keys(svc: Service) -> list[str]:
    return [k for k in _IGNORED if (svc.build or {}).get(k)]


@contextmanager
def _dockerfile(service: str, context: str, spec: dict[str, Any]) -> Iterator[str]:
    """The Dockerfile's absolute path: `dockerfile` is relative to the context; `dockerfile_inline` is
    written to a scratch file for the build's duration."""
    inline = spec.get("dockerfile_inline")
    if inline is not None:
        with tempfile.TemporaryDirectory(prefix="podpy-compose-") as tmp:
            path = Path(tmp) / "Dockerfile"
            path.write_text(str(inline))
            yield str(path)
        return
    path = Path(context) / str(spec.get("dockerfile") or "Dockerfile")
    if not path.is_file():
        raise ComposeError(f'service "{service}": Dockerfile {path} not found')
    yield str(path)


def _args(args: dict[str, Any] | None) -> list[str]:
    """Arguments whose value is null (not in the environment either) are left out, as Compose does."""
    return [f"{k}={v}" for k, v in (args or {}).items() if v is not None]


def _network(service: str, network: Any) -> str:
    net = str(network or "")
    if net in ("", "default", "bridge"):
        return ""
    if net not in ("none", "host"):
        raise ComposeError(f'service "{service}": build network {net!r}: only default, none and host are supported')
    return net


def _secrets(project: Project, service: str, refs: list[Any]) -> list[str]:
    """Build secrets name top-level secrets: file-backed ones become `id=..,src=..`, environment ones
    `id=..,env=..` (the builder reads the variable from this process)."""
    out = []
    for ref in refs:
        source = str(ref["source"] if isinstance(ref, dict) else ref)
        target = str(ref.get("target") or source) if isinstance(ref, dict) else source
        res = project.secrets.get(source)
        if res is None:
            raise ComposeError(f'service "{service}" refers to undefined build secret {source}')
        if res.spec.get("file"):
            out.append(f"id={target},src={res.spec['file']}")
        elif res.spec.get("environment"):
            out.append(f"id={target},env={res.spec['environment']}")
        else:
            raise ComposeError(f'service "{service}": build secret {source} has neither file nor environment')
    return out
