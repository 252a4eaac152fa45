"""The lean start-up pieces behave like what they replace: frozen records like frozen dataclasses, the plain
table renderer like the template engine, an empty store's listing like the full one."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest

from podpy.cli import format as fmtmod
from podpy.config import ContainersConf, Options
from podpy.state.layout import Layout, holds_nothing


def test_frozen_value_objects() -> None:
    a = Options.from_env(root="/x", runroot="/y", runtime_flags=("--a",))
    b = Options(root=Path("/x"), runroot=Path("/y"), runtime_flags=("--a",))
    assert a == b and hash(a) == hash(b) and a != Options.from_env(root="/z", runroot="/y")
    assert repr(Layout(Path("/r"), Path("/s"))) == "Layout(root=PosixPath('/r'), runroot=PosixPath('/s'))"
    for obj in (a, Layout(Path("/r"), Path("/s")), ContainersConf("k8s-file", 10, ("nofile=1:2",))):
        assert pickle.loads(pickle.dumps(obj)) == obj == copy.deepcopy(obj) == copy.copy(obj)
    with pytest.raises(AttributeError):
        a.root = Path("/elsewhere")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del a.root


ROWS = [
    {"ID": "abc", "Names": "x\ty", "Image": "img\nnext", "CreatedSince": "2 days", "Size": 3},
    {"ID": "d", "Names": "", "Image": "", "CreatedSince": "now", "Size": 0},
]


@pytest.mark.parametrize(
    "body",
    ["{{.ID}}\t{{.Names}}\t{{.Image}}", "{{ .ID }}\\t{{.CreatedSince}}", "{{.ID}}", "{{.ID}}\t{{.Size}}",
     "{{.ID}} {{.Names}}", "{{.Missing}}\t{{.ID}}"],
)  # fmt: skip
@pytest.mark.parametrize("rows", [ROWS, []])
def test_plain_table_is_the_template_output(body: str, rows: list[dict[str, object]], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    headers = {"ID": "CONTAINER ID"}
    try:
        fast = fmtmod.render_table([dict(r) for r in rows], body, headers=headers)
    except Exception as e:  # noqa: BLE001 - the template engine's error must be the same
        fast = repr(e)
    monkeypatch.setattr(fmtmod, "_plain_table", lambda *a: None)
    try:
        slow = fmtmod.render_table([dict(r) for r in rows], body, headers=headers)
    except Exception as e:  # noqa: BLE001
        slow = repr(e)
    assert fast == slow


def test_holds_nothing(tmp_path: Path) -> None:
    assert holds_nothing(tmp_path / "missing")
    assert holds_nothing(tmp_path)
    (tmp_path / "x").mkdir()
    assert not holds_nothing(tmp_path)
    (tmp_path / "file").write_text("")
    assert not holds_nothing(tmp_path / "file")  # not a directory: the full path reports it


def test_frozen_replace_copies_with_changes() -> None:
    from pathlib import Path

    from podpy.config import Options
    from podpy.record import replace

    a = Options(root=Path("/r"), runroot=Path("/rr"), runtime_flags=("debug",))
    b = replace(a, runtime_flags=("debug", "x"))
    assert b.runtime_flags == ("debug", "x") and b.root == a.root and a.runtime_flags == ("debug",)
    assert replace(a) == a


def test_record_is_a_kw_only_dataclass() -> None:
    """podpy.record's @record(kw_only=True): what `@dataclass(kw_only=True)` gives (init, defaults,
    fresh factory defaults, inherited fields first, eq, repr, unhashable), with replace/fields."""
    from dataclasses import dataclass

    from podpy.record import field, fields, record, replace

    @record(kw_only=True)
    class Base:
        line: int = 0
        name_: str = ""

    @record(kw_only=True)
    class Thing(Base):
        items: list[str] = field(default_factory=list)
        must: str
        flag: bool = False

    @dataclass(kw_only=True)
    class DBase:
        line: int = 0
        name_: str = ""

    @dataclass(kw_only=True)
    class DThing(DBase):
        items: list[str] = dataclasses.field(default_factory=list)
        must: str
        flag: bool = False

    a, d = Thing(must="m", line=3), DThing(must="m", line=3)
    assert repr(a).replace("Thing", "DThing", 1).split("(", 1)[1] == repr(d).split("(", 1)[1]
    assert [f.name for f in fields(Thing)] == ["line", "name_", "items", "must", "flag"]
    assert a == Thing(line=3, must="m") and a != Thing(must="x", line=3) and a != Base(line=3)
    assert Thing(must="a").items is not Thing(must="a").items
    b = replace(a, flag=True)
    assert b.flag and not a.flag and b.items == a.items and b.must == "m"
    for bad in ({}, {"must": "m", "nope": 1}):
        with pytest.raises(TypeError):
            Thing(**bad)
    with pytest.raises(TypeError):
        Thing("m")  # keyword only
    with pytest.raises(TypeError):
        replace(a, nope=1)
    with pytest.raises(TypeError):
        hash(a)
    assert b == copy.deepcopy(b) == copy.copy(b)
    from podpy.build import instructions as ins

    c = ins.Copy(sources=["a"], dest="/b", line=2)
    assert pickle.loads(pickle.dumps(c)) == c and c.name == "COPY" and c.to_dict()["sources"] == ["a"]
