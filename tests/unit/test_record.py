"""podpy.record: a record behaves as the @dataclass with the same body (what podpy relies on)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from podpy.record import FrozenInstanceError, asdict, field, fields, record, replace


@record
class Inner:
    a: int
    b: list[str] = field(default_factory=list)


@record
class Outer:
    name: str
    inner: Inner
    items: list[Inner] = field(default_factory=list)
    extra: dict[str, int] | None = None
    tag: str = "x"


@record(frozen=True)
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass
class DInner:
    a: int
    b: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class DPoint:
    x: int
    y: int = 0


def test_init_defaults_and_factories_are_fresh() -> None:
    one, two = Inner(1), Inner(2)
    one.b.append("z")
    assert two.b == [] and one.b == ["z"]
    assert Outer("n", one).tag == "x" and Outer("n", one, tag="y").tag == "y"
    with pytest.raises(TypeError):
        Inner()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Inner(1, [], 3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Inner(1, nope=2)  # type: ignore[call-arg]


def test_repr_eq_hash_as_dataclasses() -> None:
    assert repr(Inner(1, ["q"])) == repr(DInner(1, ["q"])).replace("DInner", "Inner")
    assert repr(Point(1)) == repr(DPoint(1)).replace("DPoint", "Point")
    assert Inner(1) == Inner(1) and Inner(1) != Inner(2) and Inner(1) != DInner(1)
    assert hash(Point(1, 2)) == hash(Point(1, 2)) and {Point(1), Point(1)} == {Point(1)}
    with pytest.raises(TypeError):
        hash(Inner(1))  # mutable with eq: unhashable, as a dataclass
    assert Point.__match_args__ == DPoint.__match_args__ == ("x", "y")


def test_frozen() -> None:
    p = Point(1)
    with pytest.raises(FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y  # type: ignore[misc]
    assert replace(p, y=5) == Point(1, 5) and p == Point(1)


def test_asdict_fields_replace_on_records_and_dataclasses() -> None:
    o = Outer("n", Inner(1, ["a"]), [Inner(2)], {"k": 1})
    doc = asdict(o)
    assert doc == {"name": "n", "inner": {"a": 1, "b": ["a"]}, "items": [{"a": 2, "b": []}], "extra": {"k": 1},
                   "tag": "x"}  # fmt: skip
    doc["inner"]["b"].append("changed")
    assert o.inner.b == ["a"]  # a copy, as dataclasses.asdict
    assert asdict(DInner(1, ["a"])) == dataclasses.asdict(DInner(1, ["a"]))
    assert [f.name for f in fields(Outer)] == ["name", "inner", "items", "extra", "tag"]
    assert [f.name for f in fields(DInner)] == ["a", "b"]
    assert replace(DPoint(1), y=3) == DPoint(1, 3)
    with pytest.raises(TypeError):
        asdict({"not": "a record"})
    with pytest.raises(TypeError):
        replace(Point(1), z=1)


def test_copy_and_pickle() -> None:
    o = Outer("n", Inner(1))
    assert pickle.loads(pickle.dumps(o)) == o and copy.deepcopy(o) == o
    p = Point(3, 4)
    assert pickle.loads(pickle.dumps(p)) == p and copy.copy(p) == p


def test_declaration_errors_as_dataclasses() -> None:
    with pytest.raises(TypeError):

        @record
        class Bad:
            a: int = 1
            b: int

    with pytest.raises(ValueError):

        @record
        class Mutable:
            a: list[int] = []


def test_class_defined_methods_win() -> None:
    @record
    class Custom:
        a: int

        def __repr__(self) -> str:
            return "custom"

    assert repr(Custom(1)) == "custom"


def test_stdlib_dataclasses_functions_take_records() -> None:
    o = Outer("n", Inner(1, ["a"]), [Inner(2)])
    assert dataclasses.is_dataclass(o) and dataclasses.is_dataclass(Outer)
    assert dataclasses.asdict(o) == asdict(o)
    assert [f.name for f in dataclasses.fields(o)] == [f.name for f in fields(o)]
    assert dataclasses.replace(Point(1), y=2) == Point(1, 2)
    assert dataclasses.replace(o, tag="t").tag == "t"


def test_post_init_runs() -> None:
    @record(frozen=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    assert Checked(1).a == 1
    with pytest.raises(ValueError):
        Checked(-1)
    with pytest.raises(ValueError):
        replace(Checked(1), a=-1)


@record(frozen=True, lean_init=True)
class Lean:
    a: int
    b: list[str] = field(default_factory=list)
    c: str = "c"

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


@record(frozen=True)
class Compiled:
    a: int
    b: list[str] = field(default_factory=list)
    c: str = "c"


@pytest.mark.parametrize("cls", [Lean, Compiled])
def test_lean_init_takes_what_the_compiled_one_takes(cls) -> None:  # type: ignore[no-untyped-def]
    assert cls(1) == cls(1, [], "c") == cls(a=1, c="c") and cls(1).b is not cls(1).b
    assert cls(1, ["x"], c="d").c == "d" and replace(cls(1), c="e").c == "e"
    for bad_args, bad_kw in [((), {}), ((1, [], "c", 4), {}), ((1,), {"a": 2}), ((1,), {"nope": 1})]:
        with pytest.raises(TypeError):
            cls(*bad_args, **bad_kw)
    with pytest.raises(FrozenInstanceError):
        cls(1).a = 2


def test_lean_init_runs_post_init() -> None:
    with pytest.raises(ValueError):
        Lean(-1)
