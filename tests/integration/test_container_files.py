"""cp, diff, export, commit (issue 4 item 3): Docker's cp rules, tar streams, symlink attacks in both
directions (also while the container races), volumes seen by cp, and commit → run."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.integration.containers_fixtures import PtyProc, ctr, scrub  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")


def _sh(p: Podpy, name: str, script: str) -> str:
    return p("exec", name, "sh", "-c", script).stdout


def _container(p: Podpy, name: str, running: bool, cmd: str = "true") -> None:
    """A running container (sleeping) or a created one that has never run."""
    if running:
        p("run", "-d", "--name", name, "busybox", "sleep", "300")
    else:
        p("create", "--name", name, "busybox", "sh", "-c", cmd)


def _tar(entries: dict[str, bytes | None]) -> bytes:
    """A tar archive: bytes → a file, None → a directory."""
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


def _tree(base: Path) -> Path:
    """host: base/d/{sub/f, top, link -> sub/f}"""
    d = base / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_text("deep\n")
    (d / "top").write_text("top\n")
    (d / "link").symlink_to("sub/f")
    return d


# ---- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_cp_round_trip_files_and_directories(ctr, tmp_path: Path, running: bool) -> None:  # noqa: F811
    _container(ctr, "c", running, "cat /tmp/d/sub/f /tmp/f")
    d = _tree(tmp_path)
    (tmp_path / "f").write_bytes(b"one\x00two\n" * 1000)
    ctr("cp", str(d), "c:/tmp")
    ctr("cp", str(tmp_path / "f"), "c:/tmp/f")
    out = tmp_path / "out"
    out.mkdir()
    ctr("cp", "c:/tmp/d", str(out))
    ctr("cp", "c:/tmp/f", str(out / "f2"))
    assert (out / "d" / "sub" / "f").read_text() == "deep\n" and (out / "d" / "top").read_text() == "top\n"
    assert os.readlink(out / "d" / "link") == "sub/f"
    assert (out / "f2").read_bytes() == (tmp_path / "f").read_bytes()
    if running:
        assert _sh(ctr, "c", "cat /tmp/d/sub/f; readlink /tmp/d/link; stat -c %u:%g /tmp/f") == "deep\nsub/f\n0:0\n"
    else:
        res = ctr("start", "-a", "c")
        assert res.stdout.startswith("deep\none")


def test_cp_rules_for_trailing_slash_and_dot(ctr, tmp_path: Path) -> None:  # noqa: F811
    _container(ctr, "c", True)
    d = _tree(tmp_path)
    ctr("cp", str(d), "c:/new")  # missing DEST: created with the directory's content
    ctr("cp", f"{d}/.", "c:/tmp")  # /. into an existing directory: the content only
    ctr("cp", f"{d}/", "c:/root")  # a trailing slash on SRC still copies the directory itself
    ctr("cp", str(d / "top"), "c:/etc/hostname")  # an existing file is overwritten
    ctr("cp", str(d / "top"), "c:/home/")  # an existing directory receives basename(SRC)
    listing = _sh(ctr, "c", "ls /new /tmp /root/d; cat /etc/hostname /home/top")
    assert listing == "/new:\nlink\nsub\ntop\n\n/root/d:\nlink\nsub\ntop\n\n/tmp:\nlink\nsub\ntop\ntop\ntop\n"
    res = ctr("cp", str(d / "top"), "c:/nodir/", check=False)  # a file into a missing DIR/: error
    assert res.stderr == 'Error: "/nodir/" could not be found on container c: no such file or directory\n'
    res = ctr("cp", str(d), "c:/etc/passwd", check=False)  # a directory onto a file: error
    assert res.returncode == 125 and res.stderr == "Error: destination must be a directory when copying a directory\n"
    res = ctr("cp", str(d / "top"), "c:/missing/deeper/x", check=False)
    assert res.stderr == 'Error: "/missing/deeper/x" could not be found on container c: no such file or directory\n'
    # and out of the container
    out = tmp_path / "out"
    out.mkdir()
    ctr("cp", "c:/new", str(out))  # into an existing directory: out/new
    ctr("cp", "c:/new/.", str(out))  # the content only: out/{link,sub,top}
    ctr("cp", "c:/new", str(out / "fresh"))  # missing: out/fresh with the content
    assert sorted(os.listdir(out)) == ["fresh", "link", "new", "sub", "top"]
    assert sorted(os.listdir(out / "fresh")) == ["link", "sub", "top"]
    res = ctr("cp", "c:/etc/passwd/", str(out), check=False)
    assert res.returncode == 125 and '"/etc/passwd/" could not be found on container c' in res.stderr
    res = ctr("cp", "c:/etc/passwd", str(tmp_path / "nowhere" / "x"), check=False)
    assert res.returncode == 125 and "could not be found on the host: no such file or directory" in res.stderr


def test_cp_tar_streams(ctr, tmp_path: Path) -> None:  # noqa: F811
    _container(ctr, "c", True)
    res = ctr.raw("cp", "c:/etc", "-")
    assert res.returncode == 0, res.stderr
    with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tf:
        names = tf.getnames()
        passwd = tf.extractfile("etc/passwd").read()  # type: ignore[union-attr]
    assert names[0] == "etc" and "etc/group" in names and passwd.startswith(b"root:x:0:0")
    res = ctr.raw("cp", "-", "c:/tmp", input=_tar({"x": None, "x/y.txt": b"from a tar\n", "z": b"z"}))
    assert res.returncode == 0, res.stderr
    assert _sh(ctr, "c", "cat /tmp/x/y.txt /tmp/z") == "from a tar\nz"
    res = ctr.raw("cp", "-", "c:/etc/passwd", input=_tar({"a": b"a"}))
    assert res.returncode == 125 and b"destination must be a directory when copying from stdin" in res.stderr
    res = ctr.raw("cp", "-", "c:/tmp", input=_tar({"../../../../escape": b"x"}))
    assert res.returncode == 125 and b"climbs out" in res.stderr


def test_cp_archive_and_follow_link(ctr, tmp_path: Path) -> None:  # noqa: F811
    _container(ctr, "c", True)
    f = tmp_path / "owned"
    f.write_text("x")
    os.chown(f, 1234, 5678)
    ctr("cp", str(f), "c:/tmp/plain")  # Podman: --archive (the default) chowns to the container's user
    ctr("cp", "-a", str(f), "c:/tmp/a")
    ctr("cp", "--archive=false", str(f), "c:/tmp/kept")  # and --archive=false keeps the source's ids
    assert _sh(ctr, "c", "stat -c %u:%g /tmp/plain /tmp/a /tmp/kept") == "0:0\n0:0\n1234:5678\n"
    _sh(ctr, "c", "echo data > /tmp/g; chown 42:43 /tmp/g; chmod 4755 /tmp/g; ln -s /tmp/g /tmp/lnk")
    ctr("cp", "c:/tmp/g", str(tmp_path / "g"))
    ctr("cp", "-a", "c:/tmp/g", str(tmp_path / "ga"))
    st, sta = os.stat(tmp_path / "g"), os.stat(tmp_path / "ga")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o755)  # ours, setuid dropped
    assert (sta.st_uid, sta.st_gid, sta.st_mode & 0o7777) == (0, 0, 0o755)  # out of a container: always ours
    ctr("cp", "c:/tmp/lnk", str(tmp_path / "l1"))
    ctr("cp", "-L", "c:/tmp/lnk", str(tmp_path / "l2"))
    assert os.readlink(tmp_path / "l1") == "/tmp/g" and (tmp_path / "l2").read_text() == "data\n"


# ---- symlinks may not reach the host ------------------------------------------------------------


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_cp_symlink_attacks_stay_inside(ctr, tmp_path: Path, running: bool) -> None:  # noqa: F811
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "s").write_text("SECRET\n")
    links = f"ln -s / /evil; ln -s ../../.. /evil2; ln -s {secret} /evil3; mkdir /d; ln -s ../../../../../.. /d/up"
    ctr("run", "--name", "setup", "busybox", "sh", "-c", links)
    ctr("commit", "setup", "evil:latest")
    if running:
        ctr("run", "-d", "--name", "c", "evil", "sleep", "300")
    else:
        ctr("create", "--name", "c", "evil", "true")
    out = tmp_path / "out"
    out.mkdir()
    for src in (f"/evil{secret}/s", f"/evil2{secret}/s", "/evil3/s", f"/d/up{secret}/s"):
        res = ctr("cp", f"c:{src}", str(out / "x"), check=False)
        assert res.stderr == f'Error: "{src}" could not be found on container c: no such file or directory\n'
    assert ctr("cp", "-L", "c:/evil3", str(out / "y"), check=False).returncode == 125
    ctr("cp", "c:/evil/etc/passwd", str(out / "h"))  # the container's, not the host's (committed images
    assert (out / "h").read_text() != Path("/etc/passwd").read_text()  # no longer carry /etc/hostname)
    ctr("cp", "-L", "c:/evil2", str(out / "root"))
    assert (out / "root" / "bin" / "busybox").is_file() and not (out / "root" / "tmp" / tmp_path.name).exists()
    assert not list(out.glob("x*")) and not (out / "y").exists()
    pwn = tmp_path / f"pwn-{tmp_path.name}"  # a name nothing else in the host's /tmp has
    pwn.write_text("PWN\n")
    for dest in (f"/evil{secret}/", f"/evil2{secret}/p", "/evil3/", "/evil3/p", f"/d/up{secret}/p"):
        assert ctr("cp", str(pwn), f"c:{dest}", check=False).returncode == 125
    ctr.raw("cp", "-", "c:/", input=_tar({f"evil{secret}/t": b"x", "evil3/t": b"x"}))
    ctr("cp", str(pwn), "c:/evil/tmp/")  # lands in the container's /tmp
    assert os.listdir(secret) == ["s"] and not Path("/tmp", pwn.name).exists()
    ctr("cp", f"c:/tmp/{pwn.name}", str(out / "back"))
    assert (out / "back").read_text() == "PWN\n"


def test_cp_races_with_a_container_swapping_symlinks(ctr, tmp_path: Path) -> None:  # noqa: F811
    """/data flips between a real directory and a symlink to a host path while cp runs."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "f").write_text("SECRET\n")
    swap = (f"mkdir /data; echo inside > /data/f; while :; do mv /data /data.real; ln -s {secret} /data; "
            "rm /data; mv /data.real /data; done")  # fmt: skip
    ctr("run", "-d", "--name", "c", "busybox", "sh", "-c", swap)
    pwn = tmp_path / "pwn"
    pwn.write_text("PWN\n")
    start = time.monotonic()
    reads = 0
    # 3 s of racing; on a loaded machine keep going (up to 30 s) until one read has succeeded
    while (elapsed := time.monotonic() - start) < 3 or (reads == 0 and elapsed < 30):
        res = ctr("cp", "c:/data/f", str(tmp_path / "got"), check=False)
        if res.returncode == 0:
            assert (tmp_path / "got").read_text() in ("inside\n", "PWN\n")  # never the host's SECRET
            reads += 1
        ctr("cp", str(pwn), "c:/data/", check=False)
        ctr("cp", str(pwn), "c:/data/f", check=False)
        assert sorted(os.listdir(secret)) == ["f"] and (secret / "f").read_text() == "SECRET\n"
    assert reads > 0


# ---- volumes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_cp_sees_volumes(ctr, tmp_path: Path, running: bool) -> None:  # noqa: F811
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "r").write_text("read only\n")
    args = ["--read-only", "-v", "vol:/data", "-v", f"{ro}:/ro:ro", "busybox"]
    if running:
        ctr("run", "-d", "--name", "c", *args, "sleep", "300")
    else:
        ctr("create", "--name", "c", *args, "true")
    f = tmp_path / "f"
    f.write_text("into the volume\n")
    ctr("cp", str(f), "c:/data/")
    ctr("cp", "c:/ro/r", str(tmp_path / "r"))
    assert (tmp_path / "r").read_text() == "read only\n"
    for dest in ("c:/ro/", "c:/etc/"):  # a read-only volume, the --read-only rootfs
        res = ctr("cp", str(f), dest, check=False)
        assert res.returncode == 125 and "read-only" in res.stderr and not (ro / "f").exists()
    res = ctr("run", "--rm", "-v", "vol:/v", "busybox", "cat", "/v/f")
    assert res.stdout == "into the volume\n"


# ---- diff, export, commit -----------------------------------------------------------------------


def test_diff_lists_changes_like_docker(ctr) -> None:  # noqa: F811
    ctr("run", "--name", "c", "busybox", "sh", "-c", "touch /home/logs.txt; rm /etc/group; mkdir -p /var/x")
    lines = ctr("diff", "c").stdout.splitlines()
    assert lines == ["C /etc", "D /etc/group", "C /home", "A /home/logs.txt", "C /var", "A /var/x"]
    doc = json.loads(ctr("container", "diff", "--format", "json", "c").stdout)
    assert doc == {"changed": ["/etc", "/home", "/var"], "added": ["/home/logs.txt", "/var/x"],
                   "deleted": ["/etc/group"]}  # fmt: skip
    res = ctr("diff", "nope", check=False)
    assert res.returncode == 125 and res.stderr.count("\n") == 1 and "no such container" in res.stderr
    assert ctr("diff", "-l").stdout.splitlines() == lines
    for args in (["diff"], ["diff", "-l", "c"]):
        res = ctr(*args, check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1


def test_export_is_the_merged_filesystem(ctr, tmp_path: Path) -> None:  # noqa: F811
    ctr("run", "--name", "c", "busybox", "sh", "-c", "echo hi > /home/logs.txt; rm /etc/group")
    out = tmp_path / "out"
    out.mkdir()
    ctr("export", "-o", str(out / "c.tar"), "c")
    with tarfile.open(out / "c.tar") as tf:
        names = set(tf.getnames())
        assert tf.extractfile("home/logs.txt").read() == b"hi\n"  # type: ignore[union-attr]
    assert {"bin/busybox", "etc/passwd", "home/logs.txt"} <= names and "etc/group" not in names
    assert os.listdir(out) == ["c.tar"]  # no temp file left
    res = ctr.raw("container", "export", "c")
    assert res.returncode == 0 and res.stdout == (out / "c.tar").read_bytes()
    pty = PtyProc(ctr.argv("export", "c"), cwd=tmp_path)
    try:
        pty.expect("refusing to export to a terminal")
        assert pty.wait() == 125
    finally:
        pty.close()


def test_commit_then_run_sees_the_change(ctr) -> None:  # noqa: F811
    ctr("run", "-d", "--name", "c", "-e", "A=1", "busybox", "sh", "-c", "echo v > /home/x; rm /etc/group; sleep 300")
    time.sleep(0.3)
    res = ctr("commit", "-c", "ENV FOO=bar", "-c", 'CMD ["cat", "/home/x"]', "-m", "a message", "-a", "me",
              "c", "snap:v1")  # fmt: skip
    image_id = res.stdout.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    out = ctr("run", "--rm", "snap:v1", "sh", "-c", 'cat /home/x; echo $FOO $A; test -e /etc/group || echo gone')
    assert out.stdout == "v\nbar 1\ngone\n"
    assert ctr("run", "--rm", "snap:v1").stdout == "v\n"
    doc = json.loads(ctr("image", "inspect", "snap:v1").stdout)[0]
    assert doc["History"][-1]["comment"] == "a message" and doc["History"][-1]["author"] == "me"
    assert len(doc["RootFS"]["Layers"]) == 2
    anon = ctr("container", "commit", "-p", "c").stdout.strip()
    assert anon.startswith("sha256:") and anon != image_id


def test_commit_squash_format_iidfile_volumes(ctr, tmp_path: Path) -> None:  # noqa: F811
    ctr("run", "--name", "c", "-v", "/data", "busybox", "sh", "-c", "echo v > /home/x; rm /etc/group")
    iid = tmp_path / "iid"
    image_id = ctr("commit", "-s", "-f", "docker", "--iidfile", str(iid), "--include-volumes", "c", "sq").stdout
    assert iid.read_text() == image_id.strip()
    doc = json.loads(ctr("image", "inspect", "sq").stdout)[0]
    assert len(doc["RootFS"]["Layers"]) == 1 and doc["Config"]["Volumes"] == {"/data": {}}
    assert doc["ManifestType"] == "application/vnd.docker.distribution.manifest.v2+json"
    out = ctr("run", "--rm", "sq", "sh", "-c", "cat /home/x; test -e /etc/group || echo gone; ls /bin/ls")
    assert out.stdout == "v\ngone\n/bin/ls\n"
    plain = json.loads(ctr("image", "inspect", ctr("commit", "c").stdout.strip()).stdout)[0]
    assert "Volumes" not in plain["Config"] or not plain["Config"]["Volumes"]
    res = ctr("commit", "-f", "bogus", "c", check=False)
    assert res.returncode == 125 and 'unrecognized image type "bogus"' in res.stderr


def test_errors_are_one_line(ctr, tmp_path: Path) -> None:  # noqa: F811
    for args, msg in [
        (("cp", "nope:/x", str(tmp_path)), "no such container"),
        (("cp", str(tmp_path), "nope:/x"), "no such container"),
        (("cp", str(tmp_path), str(tmp_path)), "must specify at least one container source"),
        (("export", "nope"), "no such container"),
        (("commit", "nope"), "no such container"),
    ]:
        res = ctr(*args, check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1, res.stderr
        assert msg in res.stderr
    _container(ctr, "c", False)
    res = ctr("cp", "c:/x", str(tmp_path), check=False)
    assert res.stderr == 'Error: "/x" could not be found on container c: no such file or directory\n'
    res = ctr("cp", str(tmp_path / "missing"), "c:/", check=False)
    assert res.returncode == 125 and "no such file or directory" in res.stderr


# ---- the vfs driver -----------------------------------------------------------------------------


@pytest.fixture
def vfs(podpy_vfs: Podpy, busybox_tar: Path):  # type: ignore[no-untyped-def]
    podpy_vfs("import", "--change", 'CMD ["/bin/sh"]', str(busybox_tar), "busybox:latest")
    yield podpy_vfs
    scrub(podpy_vfs, [])


def test_vfs_cp_diff_export_commit(vfs, tmp_path: Path) -> None:
    vfs("run", "--name", "c", "busybox", "sh", "-c", "touch /home/logs.txt; rm /etc/group")
    assert vfs("diff", "c").stdout.splitlines() == ["C /etc", "D /etc/group", "C /home", "A /home/logs.txt"]
    d = _tree(tmp_path)
    vfs("cp", str(d), "c:/tmp/")
    vfs("cp", "c:/tmp/d/sub/f", str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "deep\n"
    res = vfs.raw("export", "c")
    with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tf:
        names = set(tf.getnames())
    assert {"home/logs.txt", "tmp/d/sub/f"} <= names and "etc/group" not in names
    vfs("commit", "c", "snap")
    assert vfs("run", "--rm", "snap", "cat", "/tmp/d/top").stdout == "top\n"
