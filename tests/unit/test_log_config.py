"""Log rotation, the ENOSPC path, --log-opt parsing, containers.conf and default ulimits (no root)."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from podpy.config import ContainersConf, containers_conf
from podpy.engine.log_options import human_size, parse_log_config, parse_log_size
from podpy.engine.ulimits import clamp, default_rlimits, parse_ulimit
from podpy.errors import InvalidArgument
from podpy.supervisor.logfile import LogReader, LogWriter, rotated_paths


def test_writer_rotates_whole_records_and_reader_follows(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    w = LogWriter(path, max_size=300, max_file=3)
    r = LogReader(path)
    got = []
    for i in range(40):
        w.write(b"stdout", b"line %d\n" % i)
        if i % 3 == 0:
            got += [e.data for e in r.read()]
    got += [e.data for e in r.read()]
    w.close()
    assert got == [b"line %d\n" % i for i in range(40)]  # the follower saw every rotation
    assert [p.name for p in rotated_paths(path)] == ["ctr.log.2", "ctr.log.1"]
    for p in [*rotated_paths(path), path]:
        raw = p.read_bytes()
        assert len(raw) <= 300 and raw.endswith(b"\n")
    fresh = [e.data for e in LogReader(path).read()]  # a new reader: oldest kept file first
    assert fresh == got[len(got) - len(fresh):] and len(fresh) < 40


def test_reader_catches_up_after_several_rotations(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    w = LogWriter(path, max_size=100, max_file=5)
    r = LogReader(path)
    w.write(b"stdout", b"first\n")
    got = [e.data for e in r.read()]
    for i in range(8):  # three rotations before the next read
        w.write(b"stdout", b"line %d\n" % i)
    got += [e.data for e in r.read()]
    w.close()
    assert len(rotated_paths(path)) >= 3
    assert got == [b"first\n", *(b"line %d\n" % i for i in range(8))]


def test_writer_partial_records_span_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    w = LogWriter(path, max_size=80, max_file=2)
    w.write(b"stdout", b"abc")
    w.write(b"stdout", b"def\n")
    w.close()
    assert [e.data for e in LogReader(path).read()] == [b"abcdef\n"]


def test_stream_matches_read_in_small_chunks(tmp_path: Path) -> None:
    """`logs` streams the file (flat memory): same entries as read() + flush(), across rotated files,
    records split between chunks and a partial last line."""
    path = tmp_path / "ctr.log"
    w = LogWriter(path, max_size=200, max_file=4)
    for i in range(30):
        w.write(b"stderr" if i % 4 == 0 else b"stdout", b"line %d\n" % i)
    w.write(b"stdout", b"no newline")
    w.close()
    whole = LogReader(path)
    expected = whole.read() + whole.flush()
    for chunk in (1, 7, 64, 1 << 20):
        assert list(LogReader(path).stream(final=True, chunk=chunk)) == expected
    follower = LogReader(path)  # not final: partial lines wait, the live file stays open
    assert list(follower.stream(final=False, chunk=5)) == expected[:-1] and follower.file is not None
    follower.close()


def test_write_errors_are_reported_once_and_dropped() -> None:
    errors: list[OSError] = []
    w = LogWriter(Path("/dev/full"), on_error=errors.append)  # every write: ENOSPC, from the kernel
    for _ in range(5):
        w.write(b"stdout", b"lost\n")
    w.close()
    assert len(errors) == 1 and errors[0].errno == 28


@pytest.mark.parametrize("text,size", [("10k", 10_000), ("1m", 1_000_000), ("1.5MB", 1_500_000), ("512", 512),
                                       ("2KiB", 2_000)])  # fmt: skip
def test_log_sizes_are_decimal_like_docker(text: str, size: int) -> None:
    assert parse_log_size(text) == size


def test_log_config_parsing_and_defaults() -> None:
    lc = parse_log_config("json-file", ["max-size=1k", "max-file=2", "tag=t"], ContainersConf())
    assert (lc.driver, lc.max_size, lc.max_file, lc.options["tag"]) == ("k8s-file", 1000, 2, "t")
    lc = parse_log_config(None, [], ContainersConf(log_driver="none", log_size_max=5000))
    assert (lc.driver, lc.max_size) == ("none", 5000)
    assert parse_log_config(None, [], ContainersConf(log_size_max=-1)).max_size == -1
    assert parse_log_config(None, ["max-size=-1"], ContainersConf(log_size_max=5)).max_size == -1
    for driver, opts in (("journald", []), (None, ["max-file=x"]), (None, ["nokey"]), (None, ["path=rel"]),
                         (None, ["max-file=3"])):  # fmt: skip
        with pytest.raises(InvalidArgument):
            parse_log_config(driver, opts, ContainersConf())
    assert (human_size(10_000), human_size(-1), human_size(10 * 1024 * 1024)) == ("10kB", "-1B", "10.49MB")


def test_containers_conf_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main, override = tmp_path / "a.conf", tmp_path / "b.conf"
    main.write_text('[containers]\nlog_driver = "none"\nlog_size_max = 10\ndefault_ulimits = ["nofile=5:6"]\n')
    override.write_text("[containers]\nlog_size_max = 20\n")
    monkeypatch.setenv("CONTAINERS_CONF", str(main))
    monkeypatch.setenv("CONTAINERS_CONF_OVERRIDE", str(override))
    assert containers_conf() == ContainersConf("none", 20, ("nofile=5:6",))
    main.write_text("[containers\n")
    with pytest.raises(InvalidArgument):
        containers_conf()


def test_ulimits_are_clamped_to_what_can_be_set() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert parse_ulimit("NOFILE=10:20") == ("nofile", 10, 20)
    assert parse_ulimit("core=-1")[1:] == (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    for bad in ("nofile", "nosuch=1", "nofile=a:b", "nofile=9:3"):
        with pytest.raises(InvalidArgument):
            parse_ulimit(bad)
    if hard != resource.RLIM_INFINITY:
        r = clamp("nofile", hard * 4, hard * 8)
        assert r is not None and (r.soft, r.hard) == (hard, hard)
    limits = {r.name: r for r in default_rlimits(ContainersConf(default_ulimits=("nofile=7:9",)))}
    assert (limits["nofile"].soft, limits["nofile"].hard) == (7, 9) and "nproc" in limits
