"""Volumes through `podpy run` (root): the acceptance tests of issue 4 item 1.

Skipped until `run` has -v/--mount/--tmpfs/--volumes-from wired to podpy.engine.mounts.resolve_mounts.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401


def _run_supports(*params: str) -> bool:
    try:
        from podpy.cli import run as run_cli
    except ImportError:
        return False
    have = inspect.signature(run_cli.run).parameters
    return all(p in have for p in params)


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)"),
    pytest.mark.skipif(
        not _run_supports("volume", "mount", "tmpfs", "volumes_from"),
        reason="podpy run has no -v/--mount/--tmpfs/--volumes-from yet",
    ),  # fmt: skip
]


def test_volume_data_persists_across_rm(ctr) -> None:  # noqa: F811
    ctr("run", "--name", "w", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    ctr("rm", "w")
    assert ctr("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f").stdout == "kept\n"
    assert ctr("volume", "ls", "-q").stdout == "data\n"


def test_read_only_bind_refuses_writes(ctr, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "f").write_text("host\n")
    res = ctr(
        "run", "--rm", "-v", f"{tmp_path}:/h:ro", "busybox", "sh", "-c", "cat /h/f; touch /h/x", check=False
    )
    assert res.stdout == "host\n" and res.returncode != 0 and "Read-only file system" in res.stderr
    res = ctr("run", "--rm", "--mount", f"type=bind,src={tmp_path},dst=/h,readonly", "busybox", "touch", "/h/x",
              check=False)  # fmt: skip
    assert "Read-only file system" in res.stderr
    assert not (tmp_path / "x").exists()


def test_volumes_from_sees_the_same_data(ctr) -> None:  # noqa: F811
    ctr("run", "--name", "src", "-v", "shared:/shared", "-v", "/anon", "busybox", "sh", "-c",
        "echo one > /shared/f; echo two > /anon/g")  # fmt: skip
    res = ctr("run", "--rm", "--volumes-from", "src:ro", "busybox", "sh", "-c", "cat /shared/f /anon/g; touch /shared/x",
              check=False)  # fmt: skip
    assert res.stdout == "one\ntwo\n" and "Read-only file system" in res.stderr


def test_tmpfs_is_a_tmpfs(ctr) -> None:  # noqa: F811
    out = ctr("run", "--rm", "--tmpfs", "/t:size=2m", "busybox", "grep", " /t ", "/proc/mounts").stdout
    assert out.split()[2] == "tmpfs" and "size=2048k" in out
    out = ctr(
        "run", "--rm", "--mount", "type=tmpfs,dst=/m,tmpfs-size=1m", "busybox", "grep", " /m ", "/proc/mounts"
    )
    assert out.stdout.split()[2] == "tmpfs"


def test_anonymous_volumes_go_with_rm_v(ctr) -> None:  # noqa: F811
    ctr("run", "--name", "a", "-v", "/anon", "-v", "named:/named", "busybox", "true")
    vols = ctr("volume", "ls", "-q").stdout.split()
    assert len(vols) == 2 and "named" in vols
    res = ctr("volume", "rm", "named", check=False)
    assert res.returncode == 125 and "volume is being used" in res.stderr
    ctr("rm", "-v", "a")
    assert ctr("volume", "ls", "-q").stdout == "named\n"  # named volumes stay


def test_run_rm_removes_anonymous_volumes(ctr) -> None:  # noqa: F811
    ctr("run", "--rm", "-v", "/anon", "busybox", "true")
    assert ctr("volume", "ls", "-q").stdout == ""


def test_copy_up_from_the_image(ctr) -> None:  # noqa: F811
    assert "root:x:0:0" in ctr("run", "--rm", "-v", "etc:/etc", "busybox", "cat", "/etc/passwd").stdout
    mp = json.loads(ctr("volume", "inspect", "etc").stdout)[0]["Mountpoint"]
    assert (Path(mp) / "passwd").is_file()
    ctr("run", "--rm", "-v", "etc2:/etc:nocopy", "busybox", "true")
    mp2 = json.loads(ctr("volume", "inspect", "etc2").stdout)[0]["Mountpoint"]
    assert not (Path(mp2) / "passwd").exists()  # only the mount targets of /etc/hosts & co. appear


def test_inspect_shows_mounts(ctr, tmp_path: Path) -> None:  # noqa: F811
    ctr("create", "--name", "m", "-v", "v:/v:ro", "-v", f"{tmp_path}:/h", "--tmpfs", "/t", "busybox")
    mounts = json.loads(ctr("inspect", "--format", "{{json .Mounts}}", "m").stdout)
    by_dest = {m["Destination"]: m for m in mounts}
    assert by_dest["/v"]["Type"] == "volume" and by_dest["/v"]["Name"] == "v" and by_dest["/v"]["RW"] is False
    assert by_dest["/h"]["Type"] == "bind" and by_dest["/h"]["Source"] == str(tmp_path)
    assert by_dest["/t"]["Type"] == "tmpfs"


@pytest.mark.skipif(not _run_supports("read_only"), reason="podpy run has no --read-only yet")
def test_read_only_root_with_a_writable_volume(ctr) -> None:  # noqa: F811
    res = ctr("run", "--rm", "--read-only", "-v", "w:/w", "busybox", "sh", "-c", "touch /w/ok; touch /x",
              check=False)  # fmt: skip
    assert res.returncode != 0 and "Read-only file system" in res.stderr
    assert ctr("run", "--rm", "--read-only", "busybox", "touch", "/tmp/ok").returncode == 0  # tmpfs /tmp
    mp = json.loads(ctr("volume", "inspect", "w").stdout)[0]["Mountpoint"]
    assert (Path(mp) / "ok").exists()
