"""Go's shapes of values that need no template engine: a struct-like dict, json.Marshal's output.
Light on purpose: `--format json` (inspect's default) imports only this."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


class GoStruct(dict):  # type: ignore[type-arg]
    """A dict that stands for a Go struct whatever its keys (Podman's JSON names such as cpu_period):
    its keys keep their order in JSON output."""


def is_struct(value: dict) -> bool:
    """A non-empty dict keyed by CamelCase names is treated like a Go struct."""
    if isinstance(value, GoStruct):
        return True
    if not value:
        return False
    for key in value:
        if type(key) is not str or not key[:1].isupper():
            return False
    return True


def jsonable(value: Any) -> Any:
    """Shape values like Go's json.Marshal: maps sorted, integral floats without `.0`."""
    if isinstance(value, dict):
        keys = value if is_struct(value) else sorted(value, key=str)
        return {str(k): jsonable(value[k]) for k in keys}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if type(value) is float and value.is_integer() and abs(value) < 1e21:
        return int(value)
    fields = getattr(value, "__record_fields__", None) or getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {f: jsonable(getattr(value, f)) for f in fields}
    return value
