"""`inspect` imported on first use instead of at start-up.

`dataclasses` imports `inspect` (which pulls in ast, dis, tokenize, linecache: 5-9 ms here) and uses it
for one thing only: the `__doc__` of a dataclass that has no docstring (`inspect.signature`). Every
command that touches a record (run, exec, ps, rm, inspect...) imports `dataclasses`; none needs
`inspect` itself. The front door puts a placeholder module in `sys.modules`: the first attribute
looked up on it that it lacks (`inspect.signature`, `from inspect import X`) imports the real module,
copies its namespace into the placeholder (modules that already hold the placeholder see the real
functions) and leaves the real module in `sys.modules`. Dataclasses on the hot paths carry a
docstring so that they never ask (tests/unit/test_lazymods.py keeps it so).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    import types

NAME = "inspect"


def defer_inspect() -> None:
    """Install the placeholder unless `inspect` is already imported (or deferred)."""
    if NAME in sys.modules:
        return
    import types

    placeholder = types.ModuleType(
        NAME, "placeholder for the standard library's inspect (podpy.cli.lazymods)"
    )

    def __getattr__(attr: str) -> object:
        real = _import_real(placeholder)
        return getattr(real, attr)

    placeholder.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[NAME] = placeholder


def _import_real(placeholder: types.ModuleType) -> types.ModuleType:
    import importlib

    if sys.modules.get(NAME) is placeholder:
        del sys.modules[NAME]
    real = importlib.import_module(NAME)
    if real is not placeholder:
        placeholder.__dict__.update(real.__dict__)
    return real
