"""The event log: its lines, rotation, concurrent writers, filters, time parsing and output shapes."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from podpy.compose import events as cev
from podpy.events import Event, Reader, append, log_path
from podpy.events import log as evlog
from podpy.events.query import QueryError, build
from podpy.events.record import epoch_ns, go_time
from podpy.timeutil import parse_input_time

CID = "e812f7a9c46d1afbfacb3f13d4058c4290f4a28bfba3b9addcbf83720929d253"


def _ctr(status: str, name: str = "c1", labels: dict[str, str] | None = None, **kw: object) -> Event:
    return Event("container", status, id=CID, name=name, image="busybox", attributes=dict(labels or {}), **kw)


def test_json_line_has_podmans_fields() -> None:
    ev = _ctr("died", labels={"app": "x"}, exit_code=3, time="2026-12-04T19:09:04.646445739Z")
    doc = json.loads(ev.line())
    assert list(doc) == ["ContainerExitCode", "ID", "Image", "Name", "Status", "Time", "Type", "Attributes"]
    assert doc["ContainerExitCode"] == 3 and doc["Attributes"] == {"app": "x"}
    assert Event.from_json(doc) == ev
    ok = json.loads(_ctr("died", exit_code=0, time=ev.time).line())  # omitempty, as Podman
    assert "ContainerExitCode" not in ok and ok["Attributes"] is None


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_human_lines_as_podman(utc: None) -> None:
    t = "2026-12-04T19:09:04.646445700Z"
    assert go_time(t) == "2026-12-04 19:09:04.6464457 +0000 UTC"
    assert go_time("2026-12-04T19:09:04.000000000Z") == "2026-12-04 19:09:04 +0000 UTC"
    assert _ctr("create", labels={"app": "x"}, time=t).human() == (
        f"2026-12-04 19:09:04.6464457 +0000 UTC container create {CID} (image=busybox, name=c1, app=x)"
    )
    img = Event("image", "tag", id="664c1219489c", name="busybox:latest", time=t)
    assert img.human() == "2026-12-04 19:09:04.6464457 +0000 UTC image tag 664c1219489c busybox:latest"
    assert Event("volume", "create", name="v1", time=t).human().endswith("volume create v1")
    net = Event("network", "connect", id=CID, network="n1", time=t)
    assert net.human().endswith(f"network connect {CID} (container={CID}, name=n1)")
    assert _ctr("start", time=t).human(truncate=True).split()[6] == CID[:12]


def test_append_and_read_back(tmp_path: Path) -> None:
    for s in ("create", "start", "died"):
        append(tmp_path, _ctr(s))
    assert [e.status for e in Reader(tmp_path).read()] == ["create", "start", "died"]
    assert oct(log_path(tmp_path).stat().st_mode & 0o777) == "0o600"


def test_line_stays_below_pipe_buf(tmp_path: Path) -> None:
    labels = {f"k{i}": "v" * 300 for i in range(40)}
    append(tmp_path, _ctr("create", labels=labels))
    raw = log_path(tmp_path).read_bytes()
    assert raw.count(b"\n") == 1 and len(raw) < evlog.PIPE_BUF
    assert Reader(tmp_path).read()[0].status == "create"


def test_unwritable_log_never_fails(tmp_path: Path) -> None:
    (tmp_path / "events").write_text("a file where the directory should be")
    append(tmp_path, _ctr("create"))  # no exception


def test_rotation_keeps_one_generation_and_readers_follow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODPY_EVENTS_MAX_SIZE", "2000")
    reader = Reader(tmp_path)
    seen = []
    for i in range(30):
        append(tmp_path, _ctr("start", name=f"c{i}"))
        seen += reader.read()
    names = [e.name for e in seen if e.type == "container"]
    assert names == [f"c{i}" for i in range(30)]  # nothing lost across rotations
    assert any(e.status == "log-rotation" for e in seen)
    rotated = log_path(tmp_path).with_name("events.log.1")
    assert rotated.exists() and log_path(tmp_path).stat().st_size <= 2000 + 400
    fresh = [e.name for e in Reader(tmp_path).read() if e.type == "container"]
    assert fresh and fresh == names[-len(fresh) :]  # a new reader: the kept generation then the live file


def _writer(root: str, n: int, tag: str) -> None:
    for i in range(n):
        append(
            Path(root), Event("container", "start", id=f"{tag}-{i}", name="x" * 500, attributes={"t": tag})
        )


def test_concurrent_writers_never_tear_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODPY_EVENTS_MAX_SIZE", "200000")  # rotations happen during the race too
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), 300, f"w{k}")) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    raw = b"".join(p.read_bytes() for p in (log_path(tmp_path).with_name("events.log.1"), log_path(tmp_path)))
    lines = raw.splitlines()
    docs = [json.loads(line) for line in lines]  # every line is whole JSON
    ids = {d["ID"] for d in docs if d["Type"] == "container"}
    assert len(ids) == len([d for d in docs if d["Type"] == "container"])  # no duplicates
    assert all(len(line) < evlog.PIPE_BUF for line in lines)


def test_filters() -> None:
    evs = [
        _ctr("create", labels={"app": "x"}),
        _ctr("died", name="c2"),
        Event("image", "pull", id="664c1219489c", name="docker.io/library/busybox:latest"),
        Event("volume", "create", name="v1"),
        Event("network", "connect", id=CID, network="n1"),
        Event("pod", "create", id="abcdef", name="p1"),
    ]

    def pick(*filters: str) -> list[str]:
        q = build(list(filters))
        return [f"{e.type}:{e.status}" for e in evs if q.matches(e)]

    assert pick("container=c1") == ["container:create"]
    assert pick(f"container={CID[:6]}") == ["container:create", "container:died"]
    assert pick("event=die") == pick("status=died") == ["container:died"]  # Docker's and Podman's names
    assert pick("type=volume", "type=pod") == ["volume:create", "pod:create"]  # one key: OR
    assert pick("type=container", "event=create") == ["container:create"]  # two keys: AND
    assert pick("label=app") == pick("label=app=x") == ["container:create"]
    assert pick("label=app=y") == []
    assert pick("image=busybox") == pick("image=664c") == ["image:pull"]
    assert pick("volume=v1") == ["volume:create"]
    assert pick("network=n1") == ["network:connect"]
    assert pick("pod=p1") == ["pod:create"]
    with pytest.raises(QueryError):
        build(["bogus=1"])
    with pytest.raises(QueryError):
        build(["container"])
    with pytest.raises(QueryError):
        build([], since="yesterday-ish")


def test_since_until() -> None:
    old = _ctr("create", time="2026-01-01T00:00:00.000000001Z")
    new = _ctr("start", time="2026-06-01T00:00:00Z")
    q = build([], since="2026-03-01T00:00:00Z")
    assert not q.matches(old) and q.matches(new)
    q = build(["until=2026-03-01T00:00:00Z"])
    assert q.matches(old) and not q.matches(new)
    assert build([], since=str(epoch_ns(old.time) / 1e9 + 1)).matches(new)


def test_parse_input_time_forms() -> None:
    now = 1_800_000_000.0
    assert parse_input_time("10m", now) == now - 600
    assert parse_input_time("1h30m", now) == now - 5400
    assert parse_input_time("1700000000.5") == 1700000000.5
    assert parse_input_time("2026-12-04T19:09:04.5Z") == parse_input_time("2026-12-04T19:09:04Z") + 0.5
    assert parse_input_time("2026-12-04T19:09:04+01:00") == parse_input_time("2026-12-04T18:09:04Z")
    assert parse_input_time("2026-12-04Z") == parse_input_time("2026-12-04T00:00:00Z")
    with pytest.raises(ValueError):
        parse_input_time("soon")


def test_template_view_fields() -> None:
    from podpy.cli import format as fmtmod

    ev = _ctr("died", labels={"app": "x"}, exit_code=2, time="2026-12-04T19:09:04.5Z")
    out = fmtmod.compile_template(
        "{{.Status}} {{.Name}} {{.ContainerExitCode}} {{.Attributes.app}} {{.Action}}"
    )
    assert out.execute(ev.template_view()) == "died c1 2 x died"


def test_compose_events_shapes(utc: None) -> None:
    labels = {cev.PROJECT_LABEL: "proj", cev.SERVICE_LABEL: "web", "app": "x"}
    ev = _ctr("died", name="proj-web-1", labels=labels, exit_code=0, time="2026-12-04T19:09:04.646445739Z")
    item = cev.select(ev, "proj", [])
    assert item is not None and item["action"] == "die" and item["service"] == "web"
    assert cev.select(ev, "other", []) is None
    assert cev.select(ev, "proj", ["db"]) is None
    oneoff = _ctr("start", labels={**labels, cev.ONEOFF_LABEL: "True"})
    assert cev.select(oneoff, "proj", []) is None
    doc = json.loads(cev.json_line(item))
    assert list(doc) == ["action", "attributes", "id", "service", "time", "type"]
    assert doc["attributes"] == {"app": "x", "exitCode": "0", "image": "busybox", "name": "proj-web-1"}
    assert cev.text(item) == (
        f"2026-12-04 19:09:04.646445 container die {CID} (app=x, exitCode=0, image=busybox, name=proj-web-1)\n\n"
    )


def test_reader_reads_the_kept_generation_once(tmp_path: Path) -> None:
    rotated = log_path(tmp_path).with_name("events.log.1")
    rotated.parent.mkdir(parents=True)
    rotated.write_bytes(_ctr("create").line())
    reader = Reader(tmp_path)
    assert [e.status for e in reader.read()] == ["create"]
    assert reader.read() == []  # no live file yet: nothing read twice
    append(tmp_path, _ctr("start"))
    assert [e.status for e in reader.read()] == ["start"]


def test_undecodable_label_is_escaped_not_fatal(tmp_path: Path) -> None:
    append(tmp_path, _ctr("create", labels={"k": "bad\udcff"}))  # argv bytes that were not UTF-8
    [ev] = Reader(tmp_path).read()
    assert ev.status == "create" and ev.attributes["k"].startswith("bad")
