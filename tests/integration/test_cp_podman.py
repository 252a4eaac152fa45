"""cp as Podman does it (issue 11): container to container, --archive (chown to the container's user;
=false keeps ids), --overwrite, Podman's messages, and running containers' tmpfs and volume mounts."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def _sh(p: Podpy, name: str, script: str) -> str:
    return p("exec", name, "sh", "-c", script).stdout


def _owned_tree(base: Path) -> Path:
    d = base / "src"
    (d / "sub").mkdir(parents=True)
    (d / "f").write_text("f\n")
    (d / "sub" / "g").write_text("g\n")
    for p in (d, d / "f", d / "sub", d / "sub" / "g"):
        os.chown(p, 1234, 2345)
    return d


def _listing(p: Podpy, name: str, path: str) -> str:
    """`find` with owners, through a throwaway container sharing nothing: use export of `name`."""
    res = p.raw("export", name)
    assert res.returncode == 0, res.stderr
    with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tf:
        rows = [f"{m.name} {m.uid}:{m.gid}" for m in tf if m.name == path or m.name.startswith(path + "/")]
    return "\n".join(sorted(rows))


@pytest.mark.parametrize("running", [False, True], ids=["stopped", "running"])
def test_container_to_container(ctr, tmp_path: Path, running: bool) -> None:  # noqa: F811
    src = _owned_tree(tmp_path)
    ctr("create", "--name", "a", "busybox", "true")
    ctr("cp", "--archive=false", str(src), "a:/src")
    if running:
        ctr("run", "-d", "--name", "b", "--user", "33:44", "busybox", "sleep", "300")
    else:
        ctr("create", "--name", "b", "--user", "33:44", "busybox", "true")
    ctr("cp", "a:/src", "b:/")  # into an existing directory: /src
    ctr("cp", "a:/src/.", "b:/contents")  # a missing destination: created with the content
    ctr("cp", "a:/src/f", "b:/renamed")  # a file to a new name
    ctr("cp", "--archive=false", "a:/src/sub", "b:/kept")
    if running:
        ctr("stop", "-t", "0", "b")
    assert _listing(ctr, "b", "src") == "src 33:44\nsrc/f 33:44\nsrc/sub 33:44\nsrc/sub/g 33:44"
    assert _listing(ctr, "b", "contents") == "contents 33:44\ncontents/f 33:44\ncontents/sub 33:44\ncontents/sub/g 33:44"
    assert _listing(ctr, "b", "renamed") == "renamed 33:44"
    assert _listing(ctr, "b", "kept") == "kept 1234:2345\nkept/g 1234:2345"
    res = ctr("cp", "a:/src", "b:/renamed", check=False)
    assert res.returncode == 125 and res.stderr == "Error: destination must be a directory when copying a directory\n"
    res = ctr("cp", "a:/nope", "b:/", check=False)
    assert res.stderr == 'Error: "/nope" could not be found on container a: no such file or directory\n'
    res = ctr("cp", "a:/src/f", "b:/no/such/x", check=False)
    assert res.stderr == 'Error: "/no/such/x" could not be found on container b: no such file or directory\n'


def test_archive_false_and_short_forms(ctr, tmp_path: Path) -> None:  # noqa: F811
    src = _owned_tree(tmp_path)
    ctr("create", "--name", "c", "--user", "7:8", "busybox", "true")
    ctr("cp", str(src / "f"), "c:/default")
    ctr("cp", "-a", str(src / "f"), "c:/short")
    ctr("cp", "-a=false", str(src / "f"), "c:/shortfalse")
    ctr("cp", "--archive=true", str(src / "f"), "c:/true")
    ctr("cp", "--archive=false", str(src / "f"), "c:/false")
    got = [_listing(ctr, "c", n) for n in ("default", "short", "shortfalse", "true", "false")]
    assert got == ["default 7:8", "short 7:8", "shortfalse 1234:2345", "true 7:8", "false 1234:2345"]


def test_overwrite(ctr, tmp_path: Path) -> None:  # noqa: F811
    ctr("create", "--name", "c", "busybox", "true")
    ctr("cp", "-", "c:/", input=_tar({"t": None, "t/f": b"file\n", "t/d": None, "t/d/x": b"x"}))
    h = tmp_path / "h"
    (h / "f").mkdir(parents=True)  # a directory where the container has a file
    (h / "f" / "inner").write_text("inner\n")
    (h / "d").write_text("now a file\n")  # a file where the container has a directory
    res = ctr("cp", f"{h}/.", "c:/t", check=False)
    assert res.returncode == 125 and "cannot overwrite" in res.stderr
    ctr("cp", "--overwrite", f"{h}/.", "c:/t")
    assert _listing(ctr, "c", "t").split("\n") == ["t 0:0", "t/d 0:0", "t/f 0:0", "t/f/inner 0:0"]
    out = tmp_path / "out"
    (out / "d").mkdir(parents=True)  # and out of the container: the host's directory d meets file d
    res = ctr("cp", "c:/t/.", str(out), check=False)
    assert res.returncode == 125 and "cannot overwrite" in res.stderr
    ctr("cp", "--overwrite", "c:/t/.", str(out))
    assert (out / "d").read_text() == "now a file\n" and (out / "f" / "inner").read_text() == "inner\n"


def test_podman_messages(ctr, tmp_path: Path) -> None:  # noqa: F811
    ctr("create", "--name", "c", "busybox", "true")
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    cases = [
        ((str(tmp_path / "dir"), "c:/etc/passwd"), "destination must be a directory when copying a directory"),
        (("c:/etc", str(tmp_path / "file")), "destination must be a directory when copying a directory"),
        ((str(tmp_path / "file"), "c:/nodir/"), '"/nodir/" could not be found on container c: no such file or directory'),
        (("c:/etc/passwd", f"{tmp_path}/nodir/"),
         f'"{tmp_path}/nodir/" could not be found on the host: no such file or directory'),
        (("c:/etc/passwd", f"{tmp_path}/file/"),
         f'"{tmp_path}/file/" could not be found on the host: stat {tmp_path}/file/: not a directory'),
        ((f"{tmp_path}/missing", "c:/"), f'"{tmp_path}/missing" could not be found on the host: no such file or directory'),
        (("c:/missing", str(tmp_path)), '"/missing" could not be found on container c: no such file or directory'),
        (("-", "c:/etc/passwd"), "destination must be a directory when copying from stdin"),
    ]  # fmt: skip
    for args, msg in cases:
        res = ctr("cp", *args, check=False, input=b"")
        assert res.returncode == 125 and res.stderr == f"Error: {msg}\n", (args, res.stderr)


def test_running_container_tmpfs_and_volume(ctr, tmp_path: Path) -> None:  # noqa: F811
    ctr("run", "-d", "--name", "up", "--tmpfs", "/scratch", "-v", "vol:/data", "busybox", "sleep", "300")
    ctr("create", "--name", "other", "busybox", "true")
    src = _owned_tree(tmp_path)
    ctr("cp", str(src), "up:/scratch/")
    ctr("cp", str(src / "f"), "up:/data/f")
    ctr("cp", "-", "up:/scratch", input=_tar({"fromtar": b"streamed\n"}))
    assert _sh(ctr, "up", "cat /scratch/src/sub/g /data/f /scratch/fromtar; stat -c %u /scratch/src/f") == (
        "g\nf\nstreamed\n0\n"
    )
    mountpoint = ctr("volume", "inspect", "--format", "{{.Mountpoint}}", "vol").stdout.strip()
    assert Path(mountpoint, "f").read_text() == "f\n"  # in the volume, not in the container's layer
    _sh(ctr, "up", "echo made-inside > /scratch/inside")
    ctr("cp", "up:/scratch/inside", str(tmp_path / "back"))
    assert (tmp_path / "back").read_text() == "made-inside\n"
    res = ctr.raw("cp", "up:/scratch/src", "-")
    with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tf:
        assert sorted(tf.getnames()) == ["src", "src/f", "src/sub", "src/sub/g"]
    ctr("cp", "up:/scratch/src", "other:/copied")  # from a tmpfs of a running container to another
    assert _listing(ctr, "other", "copied") == "copied 0:0\ncopied/f 0:0\ncopied/sub 0:0\ncopied/sub/g 0:0"


def _tar(entries: dict[str, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in entries.items():
            ti = tarfile.TarInfo(name)
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
