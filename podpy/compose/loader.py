"""Compose files → one normalised, merged, validated project (the front half of `podpy compose`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podpy.compose import discover
from podpy.compose.dotenv import read_env_file
from podpy.compose.errors import ComposeError
from podpy.compose.extends import Extender
from podpy.compose.finalize import finalize
from podpy.compose.include import apply_includes
from podpy.compose.interpolate import Interpolator, interpolate_string, interpolate_tree
from podpy.compose.merge import merge_documents
from podpy.compose.model import Project, build_project
from podpy.compose.normalize import normalize_resource, normalize_service
from podpy.compose.resolve import resolve_document
from podpy.compose.validate import validate_document
from podpy.compose.yamlio import parse_yaml, strip_tags

_RESOURCE_KINDS = ("networks", "volumes", "secrets", "configs")


@dataclass
class LoadOptions:
    files: list[str] = field(default_factory=list)  # -f (STDIN "-" reads `stdin`)
    project_directory: str | None = None
    project_name: str | None = None
    env_files: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # named on the command line: enabled whatever profiles
    cwd: Path | None = None
    environ: Mapping[str, str] | None = None
    stdin: str | None = None
    interpolate: bool = True
    resolve_paths: bool = True


@dataclass
class _Context:
    env: dict[str, str]
    home: str
    interpolate: bool
    warnings: list[str]
    cache: dict[Path, dict[str, Any]] = field(default_factory=dict)
    _interp: Interpolator | None = None

    def interpolator(self) -> Interpolator:
        """One per project, so an unset variable is reported once whatever the number of files."""
        if self._interp is None:
            self._interp = Interpolator(self.env, self.warnings.append)
        return self._interp


def load_project(opts: LoadOptions) -> Project:
    cwd = opts.cwd or Path.cwd()
    environ = dict(os.environ if opts.environ is None else opts.environ)
    warnings: list[str] = []
    files = discover.select_files(opts.files, environ, cwd, warnings)
    texts = [(str(f), _read(f, opts.stdin)) for f in files]
    first = files[0]
    project_dir = (cwd / opts.project_directory) if opts.project_directory else (
        cwd if first == discover.STDIN else Path(first).parent)
    project_dir = Path(os.path.normpath(project_dir.absolute()))
    dotenv, env_paths = discover.load_dotenv(opts.env_files, project_dir, cwd, environ)
    ctx = _Context({**dotenv, **environ}, environ.get("HOME", str(Path.home())), opts.interpolate, warnings)
    raws = [parse_yaml(text, source) for source, text in texts]
    declared = _declared_name(raws, ctx)
    name = discover.project_name(opts.project_name, ctx.env, declared, project_dir)
    ctx.env.setdefault("COMPOSE_PROJECT_NAME", name)
    merged: dict[str, Any] = {}
    for (source, _), raw in zip(texts, raws, strict=True):
        src_path = None if source == discover.STDIN else Path(source)
        merged = merge_documents(merged, _document(raw, source, src_path, ctx))
    merged = strip_tags(merged)
    if opts.resolve_paths:
        merged = resolve_document(merged, project_dir, ctx.home)
    merged.pop("include", None)
    profiles = opts.profiles or [p for p in ctx.env.get("COMPOSE_PROFILES", "").split(",") if p]
    doc = finalize(merged, name, ctx.env, profiles, opts.services, warnings)
    config_files = [str(f) if f == discover.STDIN else str(Path(f).absolute()) for f in files]
    return build_project(doc, project_dir, config_files, [str(p) for p in env_paths], ctx.env, warnings)


def _read(f: Path | str, stdin: str | None) -> str:
    if f == discover.STDIN:
        if stdin is None:
            import sys

            return sys.stdin.read()
        return stdin
    path = Path(f)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComposeError(f"open {path}: no such file or directory") from None
    except OSError as exc:
        raise ComposeError(f"open {path}: {exc.strerror or exc}") from None


def _declared_name(raws: list[dict[str, Any]], ctx: _Context) -> str | None:
    name = None
    for raw in raws:
        if isinstance(raw.get("name"), str):
            name = raw["name"]
    if name is not None and ctx.interpolate:
        name = interpolate_string(name, ctx.interpolator(), "name")
    return name


def _document(raw: dict[str, Any], source: str, path: Path | None, ctx: _Context) -> dict[str, Any]:
    """One file: interpolated, validated, normalised, its extends and includes applied."""
    doc = interpolate_tree(raw, ctx.interpolator()) if ctx.interpolate else raw
    validate_document(doc, source)
    if "version" in doc:
        ctx.warnings.append(f"{source}: the attribute `version` is obsolete, it will be ignored, "
                            f"please remove it to avoid potential confusion")
    try:
        doc = _normalize(doc, source)
    except ComposeError as exc:  # shape errors found while normalising: name the file like validation does
        text = str(exc)
        raise ComposeError(text if text.startswith("validating ") else f"validating {source}: {text}") from None
    if isinstance(doc.get("services"), dict):
        extender = Extender(lambda p: _other_file(p, ctx), ctx.home)
        doc["services"] = extender.apply(doc["services"], path)
    if doc.get("include"):
        base = path.parent if path is not None else Path.cwd()
        doc = apply_includes(doc, base, source, lambda f, d, e: _included(f, d, e, ctx))
    return doc


def _normalize(doc: dict[str, Any], source: str) -> dict[str, Any]:
    doc = dict(doc)
    services = doc.get("services")
    if isinstance(services, dict):
        doc["services"] = {str(n): normalize_service(str(n), s, source) for n, s in services.items()}
    for kind in _RESOURCE_KINDS:
        section = doc.get(kind)
        if isinstance(section, dict):
            doc[kind] = {str(n): normalize_resource(kind, str(n), s) for n, s in section.items()}
    return doc


def _other_file(path: Path, ctx: _Context) -> dict[str, Any]:
    """A file named by `extends.file`, loaded once per project."""
    path = Path(os.path.normpath(path.absolute()))
    if path not in ctx.cache:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ComposeError(f"extends: cannot read {path}: {exc.strerror or exc}") from None
        ctx.cache[path] = _document(parse_yaml(text, str(path)), str(path), path, ctx)
    return ctx.cache[path]


def _included(files: list[Path], project_dir: Path, env_files: list[Path], ctx: _Context) -> dict[str, Any]:
    """An included project: its own .env (the including project's variables win), paths resolved."""
    project_dir = Path(os.path.normpath(project_dir.absolute()))
    if not env_files and (project_dir / ".env").is_file():
        env_files = [project_dir / ".env"]
    env = dict(ctx.env)
    for env_file in env_files:
        for key, value in read_env_file(env_file, env).items():
            if value is not None:
                env.setdefault(key, value)
    sub = _Context(env, ctx.home, ctx.interpolate, ctx.warnings, ctx.cache)
    merged: dict[str, Any] = {}
    for f in files:
        merged = merge_documents(merged, _document(parse_yaml(_read(f, None), str(f)), str(f), f, sub))
    merged = resolve_document(strip_tags(merged), project_dir, ctx.home)
    merged.pop("include", None)
    _pin_environment(merged, env)
    return merged


def _pin_environment(doc: dict[str, Any], env: dict[str, str]) -> None:
    """`environment: [FOO]` (and `build.args: [FOO]`) in an included project take FOO from that
    project's environment (its .env), not the including one's: filled in here, while it is known."""
    for svc in (doc.get("services") or {}).values():
        if not isinstance(svc, dict):
            continue
        for holder, key in ((svc, "environment"), (svc.get("build"), "args")):
            if isinstance(holder, dict) and isinstance(holder.get(key), dict):
                holder[key] = {k: env.get(k) if v is None else v for k, v in holder[key].items()}
