"""Interactive containers through a real pseudo-terminal: run -it, exec -it, detach and attach."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.conftest import REPO
from tests.integration.containers_fixtures import PtyProc, ctr, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


@pytest.fixture
def term(ctr):  # noqa: F811
    """Start podpy commands on ptys; every one is closed (killed if still running) afterwards."""
    procs: list[PtyProc] = []

    def start(*args: str, **kw) -> PtyProc:  # type: ignore[no-untyped-def]
        p = PtyProc(ctr.argv(*args), REPO, **kw)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.close()


def _running(ctr, name: str) -> bool:  # noqa: F811
    return json.loads(ctr("inspect", name).stdout)[0]["State"]["Running"]


def test_run_it_prompt_input_exit_code(ctr, term):  # noqa: F811
    t = term("run", "-it", "--rm", "busybox", "sh")
    t.expect(r"/ # ")
    t.send("echo $((6*7)); tty\r")
    t.expect(r"42\r\n/dev/pts/0\r\n")
    t.send("stty size\r")
    t.expect(r"24 80")
    t.send("exit 4\r")
    assert t.wait() == 4
    assert ctr("ps", "-aq").stdout == ""


def test_run_it_detach_and_attach(ctr, term):  # noqa: F811
    t = term("run", "-it", "--name", "box", "busybox", "sh")
    t.expect(r"/ # ")
    t.send("echo before\r")
    t.expect(r"before\r\n")
    t.send(b"\x10\x11")  # ctrl-p ctrl-q
    assert t.wait() == 0
    assert _running(ctr, "box")
    a = term("attach", "box")
    a.send("\r")
    a.expect(r"/ # ")
    a.send("echo again\r")
    a.expect(r"again\r\n")
    a.send(b"\x10\x11")
    assert a.wait() == 0
    assert _running(ctr, "box")
    b = term("attach", "box")
    b.send("\rexit 6\r")
    assert b.wait() == 6
    assert wait_until(lambda: not _running(ctr, "box"))
    logs = ctr("logs", "box").stdout
    assert "before" in logs and "again" in logs


def test_custom_detach_keys(ctr, term):  # noqa: F811
    t = term("run", "-it", "--detach-keys", "ctrl-a,x", "--name", "k", "busybox", "sh")
    t.expect(r"/ # ")
    t.send(b"\x10\x11echo still-here\r")  # the default keys are ordinary input now
    t.expect(r"still-here\r\n")
    t.send(b"\x01x")
    assert t.wait() == 0
    assert _running(ctr, "k")
    a = term("attach", "--detach-keys", "ctrl-e", "k")  # this client's own sequence
    a.send(b"\x01x\recho attached\r")
    a.expect(r"attached\r\n")
    a.send(b"\x05")
    assert a.wait() == 0
    assert _running(ctr, "k")


def test_exec_it(ctr, term):  # noqa: F811
    cid = ctr("run", "-d", "busybox", "sleep", "100").stdout.strip()
    t = term("exec", "-it", cid, "sh", rows=30, cols=100)
    t.expect(r"/ # ")
    t.send("stty size; ps -o pid,comm | grep -c sleep\r")
    t.expect(r"30 100\r\n1\r\n")
    t.send("exit 3\r")
    assert t.wait() == 3
    assert _running(ctr, cid)


def test_run_t_without_i_and_signal_proxy(ctr, term):  # noqa: F811
    t = term("run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo done")
    t.expect(r"/dev/pts/0\r+\ndone\r+\n")  # no raw mode without -i (like Docker): \r\r\n
    assert t.wait() == 0
    p = term("run", "--name", "sig", "busybox", "sh", "-c", "trap 'echo got-int; exit 2' INT; echo ready; "
             "while :; do sleep 0.1; done")  # fmt: skip
    p.expect(r"ready")
    p.send(b"\x03")  # ^C on the user's terminal: the CLI forwards SIGINT
    p.expect(r"got-int")
    assert p.wait() == 2


def test_create_it_then_start_ai(ctr, term):  # noqa: F811
    ctr("create", "-it", "--name", "later", "busybox", "sh")
    t = term("start", "-ai", "later")
    t.expect(r"/ # ")
    t.send("echo started-later\r")
    t.expect(r"started-later\r\n")
    t.send("exit 2\r")
    assert t.wait() == 2
    assert json.loads(ctr("inspect", "later").stdout)[0]["State"]["ExitCode"] == 2


def _exec_exit_codes(ctr) -> list[str]:  # noqa: F811
    out = ctr("events", "--stream=false", "--filter", "event=exec_died", "--format", "{{.ContainerExitCode}}")
    return out.stdout.split()


def test_exec_it_detach_keeps_the_process_and_records_its_exit(ctr, term, tmp_path):  # noqa: F811
    """exec -it --detach-keys: the client returns at once; the process keeps running (its output
    drained) and its exit code is recorded (exec_died) when it ends, as Podman's exec sessions."""
    cid = ctr("run", "-d", "-v", f"{tmp_path}:/out", "busybox", "sleep", "100").stdout.strip()
    t = term("exec", "-it", cid, "sh")
    t.expect(r"/ # ")
    t.send("echo first\r")
    t.expect(r"first\r\n")
    t.send(b"\x10\x11")  # ctrl-p ctrl-q: the default sequence
    assert t.wait() == 0
    assert _exec_exit_codes(ctr) == []  # still running
    # after the detach it runs on until /out/go appears, then floods its pty (drained by nobody
    # reading a terminal) and exits 7
    t2 = term("exec", "-it", "--detach-keys", "ctrl-a,x", cid, "sh", "-c",
              "read line; echo got-$line; while [ ! -e /out/go ]; do sleep 0.05; done; "
              "yes noise | head -c 300000; echo $line > /out/f; exit 7")  # fmt: skip
    t2.send(b"word\r")
    t2.expect(r"got-word")
    t2.send(b"\x01x")
    assert t2.wait() == 0
    time.sleep(0.3)
    assert _exec_exit_codes(ctr) == []  # still running after its client left
    (tmp_path / "go").write_text("")
    assert wait_until(lambda: _exec_exit_codes(ctr) == ["7"], timeout=10)
    assert (tmp_path / "f").read_text() == "word\n"
    assert _running(ctr, cid)
    t3 = term("exec", "-it", "--detach-keys", "", cid, "sh", "-c", "cat -v")  # "": no detaching
    t3.send(b"\x10\x11\r")  # forwarded (the container's tty takes ^Q as XON): echoed, then cat's line
    t3.expect(r"\^P\r\n\^P\r\n")
    t3.send(b"\x04")
    assert t3.wait() == 0
    bad = ctr("exec", "-it", "--detach-keys", "ctrl-1", cid, "true", check=False)
    assert bad.returncode == 125 and "invalid detach keys" in bad.stderr
    gone = term("exec", "-it", "nosuch", "sh")
    gone.expect(r"no container with name or ID")
    assert gone.wait() == 125
