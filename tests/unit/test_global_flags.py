"""Podman's global flags (issue 11): accepted and validated by the typer CLI and the fast path alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from podpy.cli import common, fastpath
from podpy.errors import InvalidArgument

REPO = Path(__file__).resolve().parents[2]


def test_fastpath_parses_every_global() -> None:
    args = ["--noout", "--log-level=panic", "--cgroup-manager", "systemd", "--events-backend=none",
            "--runtime-flag", "debug", "--runtime-flag=log-format=json", "--tmpdir", "/tmp/x", "run", "img"]  # fmt: skip
    opts, i = fastpath._globals(args)  # type: ignore[misc]
    assert args[i] == "run"
    assert opts == {"noout": True, "log_level": "panic", "cgroup_manager": "systemd", "events_backend": "none",
                    "runtime_flags": ["debug", "log-format=json"], "tmpdir": "/tmp/x"}  # fmt: skip
    assert fastpath._globals(["--noout=false", "ps"]) == ({"noout": False}, 1)


@pytest.mark.parametrize("level", ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"])
def test_log_levels(level: str) -> None:
    common.configure(log_level=level)
    assert common.log_level() == level


@pytest.mark.parametrize(("key", "value"), [("log_level", "loud"), ("cgroup_manager", "foo"),
                                            ("events_backend", "syslog")])  # fmt: skip
def test_bad_values_are_refused(key: str, value: str) -> None:
    with pytest.raises(InvalidArgument):
        common.configure(**{key: value})


def test_options_keep_the_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)  # restored afterwards, as TMPDIR
    monkeypatch.setenv("TMPDIR", tempfile.gettempdir())
    common.configure(cgroup_manager="systemd", events_backend="journald", runtime_flags=["debug"],
                     tmpdir=tmp_path / "t")  # fmt: skip
    opts = common._options
    assert opts is not None
    assert (opts.cgroup_manager, opts.events_backend, opts.runtime_flags) == ("systemd", "journald", ("debug",))
    assert opts.tmpdir == tmp_path / "t" and (tmp_path / "t").is_dir()
    common.configure()


def test_external_runtime_gets_the_flags() -> None:
    from podpy.runtime.external import ExternalRuntime

    rt = ExternalRuntime("/bin/true", Path("/tmp"), ("debug", "--log-format=json"))
    assert rt.flags == ["--debug", "--log-format=json"]


def _podpy(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "podpy", "--root", str(tmp / "r"), "--runroot", str(tmp / "rr"),
                           "--storage-driver", "vfs", *args], capture_output=True, text=True, cwd=REPO)  # fmt: skip


def test_cli_accepts_and_validates(tmp_path: Path) -> None:
    res = _podpy("--cgroup-manager", "systemd", "--events-backend", "file", "--runtime-flag", "debug",
                 "--tmpdir", str(tmp_path / "t"), "--log-level", "fatal", "ps", tmp=tmp_path)  # fmt: skip
    assert res.returncode == 0 and res.stdout.startswith("CONTAINER ID"), res.stderr
    assert _podpy("--noout", "ps", tmp=tmp_path).stdout == ""
    res = _podpy("--log-level", "loud", "ps", tmp=tmp_path)
    assert res.returncode == 125 and res.stderr.startswith('Error: invalid log level "loud"')
    assert _podpy("--events-backend", "x", "run", "img", tmp=tmp_path).returncode == 125  # the fast path too
