"""A frozen value object without `dataclasses` (whose import pulls in inspect, ast, dis and tokenize:
~5 ms per start). For the few objects every command builds (config.Options, state.layout.Layout);
records and specs stay dataclasses. Subclasses list their fields in __slots__ and set them with
`init`; equality, hash and repr follow the fields, like a frozen dataclass."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


class Frozen:
    __slots__ = ()

    def _init(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Any:
        """A copy with some fields changed (dataclasses.replace's counterpart); the constructor must
        take every field by name."""
        return type(self)(**{n: changes.pop(n, getattr(self, n)) for n in self.__slots__}, **changes)

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __setstate__(self, state: Any) -> None:  # pickle and copy: (None, {slot: value})
        for name, value in (state[1] if isinstance(state, tuple) else state).items():
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__qualname__}({inner})"
