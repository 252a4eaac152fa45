"""Record classes without importing `dataclasses` (it imports inspect, which pulls in ast, dis and
tokenize: ~7 ms per start of every short command that reads a container or image record).

`@record` and `@record(frozen=True)` take a `@dataclass` class body unchanged: annotated fields with
defaults or `field(default_factory=...)`, in order (no default after a default is a TypeError, a
list/dict/set default a ValueError, as dataclasses). The class gets an __init__ generated as
dataclasses generates it (calling __post_init__ when the class has one), __repr__, __eq__ over the
fields, __match_args__, and when frozen __setattr__/__delattr__ that raise FrozenInstanceError (an
AttributeError) and __hash__ over the fields (a mutable record is unhashable, as a dataclass).
`@record(kw_only=True)`: every field by keyword only (implies lean_init), as dataclass(kw_only=True).
`@record(lean_init=True)`: an __init__ that is not compiled (defining a class costs ~0.1-0.5 ms
less, each instance ~0.05 µs per field more): for records made a few times per command
(ContainerSpec, CreateOptions, Resources, LogConfig, network records), not for those read by the
hundred (container, image and layer records, leases). Not supported (use dataclasses for those):
ClassVar/InitVar fields, field options other than default/default_factory, order/slots.

`fields`, `asdict` and `replace` here work on records and on real dataclasses alike, without the
import. The stdlib's work on records too: a record's `__dataclass_fields__` is built (importing
dataclasses) the first time anything asks for it, so dataclasses.replace/asdict/fields/is_dataclass
see a dataclass.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FIELDS = "__record_fields__"  # class attribute: {name: Field} in declaration order


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    pass


class Field:
    __slots__ = ("name", "type", "default", "default_factory")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name, self.type, self.default, self.default_factory = "", "", default, default_factory

    def __repr__(self) -> str:
        return (
            f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"
        )


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING) -> Any:
    return Field(default, default_factory)


def record(cls: type | None = None, /, *, frozen: bool = False, lean_init: bool = False, kw_only: bool = False) -> Any:
    def wrap(c: type) -> type:
        return _process(c, frozen, lean_init or kw_only, kw_only)

    return wrap if cls is None else wrap(cls)


def _process(cls: type, frozen: bool, lean_init: bool = False, kw_only: bool = False) -> type:
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        found.update(getattr(base, FIELDS, {}))
    for name, ann in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(ann, str) and ann.partition("[")[0] in ("ClassVar", "typing.ClassVar", "InitVar"):
            raise TypeError(f"{cls.__qualname__}.{name}: ClassVar/InitVar fields need dataclasses")
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(
                f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory"
            )
        f.name, f.type = name, ann
        found[name] = f
        if isinstance(value, Field):  # the class attribute is the default itself, as dataclasses leaves it
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    setattr(cls, FIELDS, found)
    cls.__dataclass_fields__ = _DataclassFields()  # type: ignore[attr-defined]
    init = _lean_init(cls, list(found.values()), kw_only) if lean_init else _make_init(cls, list(found.values()), frozen)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    _set(cls, "__init__", init)
    _set(cls, "__repr__", _repr)
    _set(cls, "__eq__", _eq)
    cls.__match_args__ = tuple(found)  # type: ignore[attr-defined]
    if frozen:
        _set(cls, "__setattr__", _frozen_setattr)
        _set(cls, "__delattr__", _frozen_delattr)
        _set(cls, "__hash__", _hash)
    elif "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
        cls.__hash__ = None  # type: ignore[assignment]  # eq without frozen: unhashable, as a dataclass
    return cls


def _set(cls: type, name: str, fn: Any) -> None:
    if name not in cls.__dict__:  # a method the class defines itself wins, as with dataclasses
        setattr(cls, name, fn)


_HAS_FACTORY = object()


def _make_init(cls: type, flds: list[Field], frozen: bool) -> Any:
    """__init__ compiled from source, as dataclasses does (a generic one would be ~5x slower per
    instance, which `ps -a` over hundreds of records would feel)."""
    params, body = [], []
    env: dict[str, Any] = {"_HAS_FACTORY": _HAS_FACTORY, "_setattr": object.__setattr__}
    seen_default = False
    for f in flds:
        if f.default is not MISSING:
            env[f"_dflt_{f.name}"] = f.default
            params.append(f"{f.name}=_dflt_{f.name}")
            seen_default = True
            value = f.name
        elif f.default_factory is not MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_HAS_FACTORY")
            seen_default = True
            value = f"_factory_{f.name}() if {f.name} is _HAS_FACTORY else {f.name}"
        else:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            params.append(f.name)
            value = f.name
        body.append(f"_setattr(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    src = f"def __init__(self, {', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    ns: dict[str, Any] = {}
    exec(src, env, ns)  # noqa: S102 - source built from the class's own field names
    return ns["__init__"]


class _DataclassFields:
    """A record's `__dataclass_fields__`: dataclasses.Field objects made on first access (importing
    dataclasses then, not at start-up), so the stdlib's functions take records too."""

    def __get__(self, obj: Any, owner: type) -> dict[str, Any]:
        made = owner.__dict__.get("_dataclass_fields")
        if made is None:
            import dataclasses

            made = {}
            for name, f in getattr(owner, FIELDS).items():
                kw = {"default": f.default} if f.default is not MISSING else {}
                if f.default_factory is not MISSING:
                    kw["default_factory"] = f.default_factory
                dc = dataclasses.field(**kw)
                dc.name, dc.type, dc._field_type = name, f.type, dataclasses._FIELD  # type: ignore[attr-defined]
                made[name] = dc
            type.__setattr__(owner, "_dataclass_fields", made)
        return made


def _lean_init(cls: type, flds: list[Field], kw_only: bool) -> Any:
    """The same signature's rules (TypeError for a missing, unknown or doubled argument), checked in
    a loop instead of compiled code. kw_only: every field by name only (dataclass(kw_only=True))."""
    names = () if kw_only else tuple(f.name for f in flds)
    seen_default = False
    for f in flds:
        if f.default is MISSING and f.default_factory is MISSING and seen_default and not kw_only:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        seen_default = seen_default or f.default is not MISSING or f.default_factory is not MISSING
    post_init = hasattr(cls, "__post_init__")
    qual = cls.__qualname__

    def __init__(self: Any, *args: Any, **kw: Any) -> None:
        if len(args) > len(names):
            raise TypeError(
                f"{qual}.__init__() takes {len(names) + 1} positional arguments but {len(args) + 1} were given"
            )
        d = self.__dict__  # frozen records too: as object.__setattr__, past the frozen __setattr__
        for name, value in zip(names, args, strict=False):
            if name in kw:
                raise TypeError(f"{qual}.__init__() got multiple values for argument {name!r}")
            d[name] = value
        for f in flds[len(args) :]:
            if f.name in kw:
                d[f.name] = kw.pop(f.name)
            elif f.default is not MISSING:
                d[f.name] = f.default
            elif f.default_factory is not MISSING:
                d[f.name] = f.default_factory()
            else:
                raise TypeError(f"{qual}.__init__() missing 1 required argument: {f.name!r}")
        if kw:  # what is left names no field
            raise TypeError(f"{qual}.__init__() got an unexpected keyword argument {next(iter(kw))!r}")
        if post_init:
            self.__post_init__()

    return __init__


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, n) for n in getattr(self, FIELDS))


def _repr(self: Any) -> str:
    inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in getattr(self, FIELDS))
    return f"{type(self).__qualname__}({inner})"


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    if name in getattr(self, FIELDS):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self: Any, name: str) -> None:
    if name in getattr(self, FIELDS):
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


# ---- dataclasses' module functions, for records and dataclasses alike


def is_record(obj: Any) -> bool:
    return hasattr(obj if isinstance(obj, type) else type(obj), FIELDS)


def fields(obj: Any) -> tuple[Any, ...]:
    found = getattr(obj, FIELDS, None)
    if found is not None:
        return tuple(found.values())
    import dataclasses

    return dataclasses.fields(obj)


def replace(obj: Any, /, **changes: Any) -> Any:
    found = getattr(type(obj), FIELDS, None)
    if found is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)
    return type(obj)(**{**{n: getattr(obj, n) for n in found}, **changes})


def asdict(obj: Any) -> dict[str, Any]:
    """Like dataclasses.asdict: records and dataclasses (nested too) become dicts, lists/tuples/dicts
    are rebuilt, anything else deep-copied."""
    if isinstance(obj, type) or not (is_record(obj) or _is_dataclass(type(obj))):
        raise TypeError("asdict() should be called on record or dataclass instances")
    return _asdict(obj)


def _is_dataclass(t: type) -> bool:
    return not hasattr(t, FIELDS) and hasattr(t, "__dataclass_fields__")


_PLAIN = (str, int, float, bool, type(None))


def _asdict(v: Any) -> Any:
    if type(v) in _PLAIN:
        return v
    t = type(v)
    names = getattr(t, FIELDS, None)
    if names is None and _is_dataclass(t) and not isinstance(v, type):
        import dataclasses

        names = [f.name for f in dataclasses.fields(v)]
    if names is not None:
        return {n: _asdict(getattr(v, n)) for n in names}
    if isinstance(v, tuple) and hasattr(v, "_fields"):  # a namedtuple: positional, as dataclasses
        return t(*[_asdict(x) for x in v])
    if isinstance(v, (list, tuple)):
        return t(_asdict(x) for x in v)
    if isinstance(v, dict):
        return t((_asdict(k), _asdict(x)) for k, x in v.items())
    import copy

    return copy.deepcopy(v)
