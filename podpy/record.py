"""Value objects declared like dataclasses, without dataclasses' code generation: each @dataclass
compiles its __init__, __repr__ and __eq__ when its module is imported (~0.2 ms a class, twice that
frozen), and a cached `podpy build` imports dozens of them (the Dockerfile instructions alone are
twenty) for a few milliseconds of work. A Record class costs what a plain class costs.

Subclasses declare annotated fields (inherited fields first, as dataclasses order them), `= value`
defaults and `= factory(list)` for a fresh mutable default (dataclasses.field(default_factory=...)).
Construction by keyword (or positionally, in field order); equality and repr follow the fields as a
dataclass's do. Objects are unhashable as a non-frozen dataclass's, unless the class is declared
`class X(Record, frozen=True)`: then fields cannot be assigned and objects hash by their fields.
`replace()` and `fields()` stand in for dataclasses.replace and dataclasses.fields. Names starting
with `_` and ClassVar annotations are not fields.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def factory(make: Callable[[], Any]) -> Any:
    """A default made afresh for every object (typed Any so that `x: list[str] = factory(list)` checks)."""
    return _Factory(make)


_MISSING = object()


class Record:
    _fields: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    _factories: dict[str, Callable[[], Any]] = {}
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable, as a dataclass

    def __init_subclass__(cls, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields, defaults, factories = list(cls._fields), dict(cls._defaults), dict(cls._factories)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if name not in fields:
                fields.append(name)
            defaults.pop(name, None)
            factories.pop(name, None)
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Factory):
                factories[name] = value.make
                delattr(cls, name)
            elif value is not _MISSING:
                defaults[name] = value
        cls._fields, cls._defaults, cls._factories = tuple(fields), defaults, factories
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[assignment,method-assign]
            cls.__delattr__ = _frozen_delattr  # type: ignore[assignment,method-assign]
            cls.__hash__ = _hash  # type: ignore[assignment,method-assign]

    def __init__(self, *args: Any, **values: Any) -> None:
        name = type(self).__qualname__
        if args:  # positionally, in field order (as a dataclass without kw_only takes them)
            if len(args) > len(self._fields):
                raise TypeError(f"{name}.__init__() takes {len(self._fields)} positional arguments")
            for field, value in zip(self._fields, args, strict=False):
                if field in values:
                    raise TypeError(f"{name}.__init__() got multiple values for argument {field!r}")
                values[field] = value
        for field in self._fields:
            if field in values:
                value = values.pop(field)
            elif field in self._defaults:
                value = self._defaults[field]
            elif field in self._factories:
                value = self._factories[field]()
            else:
                raise TypeError(f"{name}.__init__() missing 1 required argument: {field!r}")
            self.__dict__[field] = value
        if values:
            raise TypeError(f"{name}.__init__() got an unexpected keyword argument {next(iter(values))!r}")

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return cls._fields

    def replace(self, **changes: Any) -> Any:
        """A copy with some fields changed (dataclasses.replace's counterpart)."""
        values = {n: changes.pop(n) if n in changes else getattr(self, n) for n in self._fields}
        return type(self)(**values, **changes)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__qualname__}({inner})"


def _frozen_setattr(self: Record, name: str, value: Any) -> None:
    raise AttributeError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Record, name: str) -> None:
    raise AttributeError(f"cannot delete field {name!r}")


def _hash(self: Record) -> int:
    return hash(self._values())
