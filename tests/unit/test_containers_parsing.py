"""Pure pieces of the container commands: flags, detach keys, log records, signals, ps columns."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from podpy.cli import fastpath, run_flags
from podpy.cli.containers import command_text, status_text
from podpy.engine.container_config import CreateOptions, build_spec, parse_entrypoint, parse_signal
from podpy.engine.container_logs import log_time, parse_time_arg
from podpy.errors import InvalidArgument
from podpy.supervisor.logfile import parse_records
from podpy.supervisor.protocol import DetachMatcher, parse_detach_keys


def test_detach_keys() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("ctrl-a,x") == b"\x01x"
    assert parse_detach_keys("ctrl-@,ctrl-[") == b"\x00\x1b"
    assert parse_detach_keys("") == b""
    with pytest.raises(InvalidArgument):
        parse_detach_keys("ctrl-pp")


def test_detach_matcher_holds_partial_sequences() -> None:
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"ab\x10") == (b"ab", False)
    assert m.feed(b"c") == (b"\x10c", False)  # not the sequence after all: the held byte goes through
    assert m.feed(b"\x10\x10") == (b"\x10", False)
    assert m.feed(b"\x11rest") == (b"", True)
    assert DetachMatcher(b"").feed(b"\x10\x11") == (b"\x10\x11", False)


def test_log_records_join_partial_lines() -> None:
    raw = (b"2024-01-01T00:00:00.000000001Z stdout P hel\n"
           b"2024-01-01T00:00:00.000000002Z stderr F oops\n"
           b"2024-01-01T00:00:00.000000003Z stdout F lo\n"
           b"2024-01-01T00:00:00.000000004Z stdout F \n")  # fmt: skip
    partial: dict = {}
    got = [(e.time[-2:], e.stream, e.data) for e in parse_records(raw, partial)]
    assert got == [(b"2Z", b"stderr", b"oops\n"), (b"1Z", b"stdout", b"hello\n"), (b"4Z", b"stdout", b"\n")]
    assert partial == {}


def test_run_flags_parse() -> None:
    kw, image, cmd = run_flags.parse(["-it", "--rm", "-e", "A=1", "-eB=2", "--name=x", "--sig-proxy=false",
                                      "busybox", "sh", "-c", "echo -e x"])  # fmt: skip
    assert (image, cmd) == ("busybox", ["sh", "-c", "echo -e x"])
    assert kw["interactive"] and kw["tty"] and kw["rm"] and not kw["detach"] and not kw["sig_proxy"]
    assert kw["env"] == ["A=1", "B=2"] and kw["name"] == "x"
    assert run_flags.parse(["--", "img", "-x"])[1:] == ("img", ["-x"])
    for bad in (["--help"], ["--bogus", "img"], ["-it"], ["-ix", "img"], ["--stop-timeout", "x", "img"]):
        with pytest.raises(run_flags.NotHandled):
            run_flags.parse(bad)


def test_fastpath_leaves_help_and_unknowns_to_typer() -> None:
    assert fastpath.dispatch(["--unknown-global", "run", "img"]) is None
    assert fastpath.dispatch(["run", "--help"]) is None
    assert fastpath.dispatch(["--root", "/x", "ps", "--help"]) is None
    assert fastpath.dispatch(["pod", "ps"]) is None


def test_parse_signal() -> None:
    assert parse_signal("TERM") == signal.SIGTERM
    assert parse_signal("SIGKILL") == signal.SIGKILL
    assert parse_signal("9") == 9
    assert parse_signal("SIGRTMIN+3") == signal.SIGRTMIN + 3
    for bad in ("NOPE", "0", "999"):
        with pytest.raises(InvalidArgument):
            parse_signal(bad)


def test_entrypoint_and_spec_merge() -> None:
    assert parse_entrypoint('["a", "b"]') == ["a", "b"]
    assert parse_entrypoint("/bin/x y") == ["/bin/x y"]
    assert parse_entrypoint("") == []
    image = {"Entrypoint": ["/ep"], "Cmd": ["default"], "Env": ["A=img", "B=img"], "WorkingDir": "/w",
             "Labels": {"l": "img"}}  # fmt: skip
    spec = build_spec(CreateOptions("img", ["arg"], env=["B=flag"], labels=["l=flag", "m=2"]), image)
    assert spec.args == ("/ep", "arg")
    assert spec.env == ("A=img", "B=flag") and spec.cwd == "/w" and spec.labels == {"l": "flag", "m": "2"}
    with pytest.raises(InvalidArgument):  # --entrypoint "" clears the image's Cmd too: nothing to run
        build_spec(CreateOptions("img", entrypoint=""), {"Cmd": ["c"]})
    with pytest.raises(InvalidArgument):
        build_spec(CreateOptions("img"), {})


def test_ps_columns() -> None:
    assert command_text(["sh", "-c", "exit 3"], True) == '"sh -c exit 3"'
    assert command_text(["echo", "a long command line"], True) == '"echo a long command…"'
    assert command_text(["echo", "a long command line"], False) == '"echo a long command line"'

    def rec(status: str, **st: object) -> SimpleNamespace:
        return SimpleNamespace(state=SimpleNamespace(status=status, exit_code=st.get("code", 0),
                               started_at=st.get("started", ""), finished_at=st.get("finished", "")))  # fmt: skip

    now = 1_700_000_100.0
    assert status_text(rec("created"), now) == "Created"
    assert status_text(rec("running", started="2023-11-14T22:14:50Z"), now) == "Up 10 seconds"
    assert (
        status_text(rec("exited", code=3, finished="2023-11-14T22:11:00Z"), now) == "Exited (3) 4 minutes ago"
    )


def test_log_time_args() -> None:
    now = 1_700_000_000.0
    assert log_time(now) == "2023-11-14T22:13:20.000000000Z"
    assert parse_time_arg("10m", now) == "2023-11-14T22:03:20.000000000Z"
    assert parse_time_arg("1h30m", now) == "2023-11-14T20:43:20.000000000Z"
    assert parse_time_arg("1700000000", now) == "2023-11-14T22:13:20.000000000Z"
    assert parse_time_arg("2023-11-14T22:13:20Z", now) == "2023-11-14T22:13:20.000000000Z"
    with pytest.raises(InvalidArgument):
        parse_time_arg("yesterday", now)
