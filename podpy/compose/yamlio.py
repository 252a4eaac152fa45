"""YAML reading for compose files: the safe loader plus Compose's `!reset` and `!override` tags.

Anchors, aliases and `<<` merge keys come from PyYAML's safe loader (YAML 1.1 merge keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podpy.compose.errors import ComposeError


@dataclass
class Reset:
    """`!reset`: the key is removed from what was merged so far."""


@dataclass
class Override:
    """`!override value`: the value replaces what was merged so far instead of merging into it."""

    value: Any


def _loader_class() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class ComposeLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            """Reject a key written twice in one mapping (PyYAML would keep the last silently);
            keys brought in by `<<` merges may be overridden, as YAML says."""
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"mapping key {key!r} already defined at line {seen[key]}",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep)

    def reset(loader: Any, node: Any) -> Reset:
        return Reset()

    def override(loader: Any, node: Any) -> Override:
        if isinstance(node, yaml.MappingNode):
            return Override(loader.construct_mapping(node, deep=True))
        if isinstance(node, yaml.SequenceNode):
            return Override(loader.construct_sequence(node, deep=True))
        return Override(loader.construct_scalar(node))

    _yaml12_scalars(ComposeLoader)
    ComposeLoader.add_constructor("!reset", reset)
    ComposeLoader.add_constructor("!override", override)
    return ComposeLoader


_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))


def _yaml12_scalars(loader: type) -> None:
    """Resolve plain scalars as Compose's YAML 1.2 parser does, not as YAML 1.1: `no`, `yes`, `on`, `off`
    stay strings (`restart: no`), and `22:22` is a string, not the base-60 integer 1342."""
    import re

    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
        for first, resolvers in loader.yaml_implicit_resolvers.items()}
    loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    loader.add_implicit_resolver(
        _INT, re.compile(r"^(?:[-+]?0b[01_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"))
    loader.add_implicit_resolver(
        _FLOAT, re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)"
                           r"(?:[eE][-+]?[0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                           r"|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """Parse one compose document; `source` names the file in error messages."""
    import yaml

    try:
        data = yaml.load(text, Loader=_loader_class())  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ComposeError(f"{source}: yaml: {where}{problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ComposeError(f"{source}: top-level object must be a mapping")
    for key in data:
        if not isinstance(key, str):
            raise ComposeError(f"{source}: non-string key at top level: {key!r}")
    return data


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComposeError(f"{path}: {exc.strerror or exc}") from None
    return parse_yaml(text, str(path))


def strip_tags(value: Any) -> Any:
    """Resolve markers left after merging: Reset drops the entry, Override unwraps."""
    if isinstance(value, Override):
        return strip_tags(value.value)
    if isinstance(value, dict):
        return {k: strip_tags(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [strip_tags(v) for v in value if not isinstance(v, Reset)]
    return value
