"""--uidmap & co. as root: a user namespace over an ID-mapped rootfs (built-in runtime and runc),
exec, volumes, commit, build --userns-uid-map, and pods whose members inherit the mapping."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.integration.containers_fixtures import ctr, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

MAP = ("--uidmap", "0:100000:65536", "--gidmap", "0:200000:65536", "--network", "none")
SHOW = "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g / /bin/busybox /etc/passwd"


def _mapped_processes() -> list[str]:
    """Processes in a user namespace mapping host id 100000 (containers, or a leaked userns child)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            text = Path(f"/proc/{pid}/uid_map").read_text()
        except OSError:
            continue
        if any(line.split()[1:2] == ["100000"] for line in text.splitlines()):
            found.append(pid)
    return found


def _mounts_under(p: Podpy) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [m for m in points if m.startswith((str(p.root), str(p.runroot)))]


@pytest.fixture
def mctr(ctr):  # type: ignore[no-untyped-def]  # noqa: F811
    """ctr, and afterwards: no mounts under the store and no process left in a mapped namespace."""
    yield ctr
    ctr("rm", "-af", check=False)
    assert _mounts_under(ctr) == []
    assert wait_until(lambda: _mapped_processes() == [], 5), _mapped_processes()  # a dying init: give it time


def _upper(p: Podpy, cid: str) -> Path:
    return p.root / "containers" / cid / "rw" / "upper"


def test_run_in_a_mapped_user_namespace(mctr) -> None:  # type: ignore[no-untyped-def]
    script = f"{SHOW}; touch /new; mkdir /dir; chown 7:8 /dir; stat -c %u:%g /new /dir"
    res = mctr("run", "--name", "m", *MAP, "busybox", "sh", "-c", script)
    lines = res.stdout.split()
    assert lines[:2] == ["0", "0"]  # root inside
    assert lines[2:8] == ["0", "100000", "65536", "0", "200000", "65536"]
    assert lines[8:] == ["0:0"] * 4 + ["7:8"]  # the image's files (and the root dir) are root's inside
    cid = mctr("inspect", "--format", "{{.Id}}", "m").stdout.strip()
    st_new, st_dir = os.stat(_upper(mctr, cid) / "new"), os.stat(_upper(mctr, cid) / "dir")
    assert (st_new.st_uid, st_new.st_gid) == (100000, 200000)  # on the host: the mapped ids
    assert (st_dir.st_uid, st_dir.st_gid) == (100007, 200008)
    doc = json.loads(mctr("inspect", "m").stdout)[0]["HostConfig"]
    assert doc["UsernsMode"] == "private"
    assert doc["IDMappings"] == {"UidMap": ["0:100000:65536"], "GidMap": ["0:200000:65536"]}
    mctr("create", "--name", "plain", "--network", "none", "busybox")
    assert "IDMappings" not in json.loads(mctr("inspect", "plain").stdout)[0]["HostConfig"]


def test_exec_volume_and_default_network(mctr, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_text("hi\n")
    mctr(
        "run",
        "-d",
        "--name",
        "d",
        "--uidmap",
        "0:100000:65536",
        "-v",
        f"{data}:/data",
        "busybox",
        "sleep",
        "60",
    )
    res = mctr("exec", "d", "sh", "-c", "id -u; cat /proc/self/uid_map; cat /data/f; stat -c %u /data/f")
    assert res.stdout.split() == ["0", "0", "100000", "65536", "hi", "65534"]  # host root's file: nobody
    assert mctr("exec", "-u", "5", "d", "id", "-u").stdout.strip() == "5"
    mctr("cp", str(data / "f"), "d:/copied")  # cp gives the container's root, as for any container
    assert mctr("exec", "d", "stat", "-c", "%u:%g", "/copied").stdout.strip() == "0:0"
    res = mctr("run", "--rm", "--uidmap", "0:100000:65536", "--pid", "host", "--ipc", "host", "busybox",
               "sh", "-c", "cat /proc/self/uid_map; test -d /proc/1")  # fmt: skip
    assert res.stdout.split() == ["0", "100000", "65536"]  # proc and mqueue bound from the host
    mctr("rm", "-f", "-t", "0", "d")


def test_commit_keeps_the_container_ids(mctr) -> None:  # type: ignore[no-untyped-def]
    mctr(
        "run", "--name", "c", *MAP, "busybox", "sh", "-c", "mkdir /made && touch /made/f && chown 7:8 /made/f"
    )
    mctr("commit", "c", "committed")
    res = mctr("run", "--rm", "--network", "none", "committed", "stat", "-c", "%u:%g", "/made", "/made/f")
    assert res.stdout.split() == ["0:0", "7:8"]


def test_subuidname_and_gidmap_alone(mctr) -> None:  # type: ignore[no-untyped-def]
    res = mctr("run", "--rm", "--network", "none", "--gidmap", "0:300000:70000", "busybox", "cat",
               "/proc/self/uid_map", "/proc/self/gid_map")  # fmt: skip
    assert res.stdout.split() == ["0", "300000", "70000"] * 2  # Podman: one kind's map serves both
    bad = mctr("run", "--rm", "--subuidname", "podpy-no-such-user", "busybox", "true", check=False)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: no subuid ranges found")


def test_vfs_rootfs(podpy_vfs: Podpy, busybox_tar: Path) -> None:
    p = podpy_vfs
    p("import", "--change", 'CMD ["/bin/sh"]', str(busybox_tar), "busybox:latest")
    res = p("run", "--rm", *MAP, "busybox", "sh", "-c", "id -u; stat -c %u:%g / /bin/busybox; touch /n")
    assert res.stdout.split() == ["0", "0:0", "0:0"]
    assert _mounts_under(p) == [] and wait_until(lambda: _mapped_processes() == [], 5)


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_runc_uses_the_same_bundle(mctr) -> None:  # type: ignore[no-untyped-def]
    res = mctr("--runtime", "runc", "run", "--name", "r", *MAP, "busybox", "sh", "-c", f"{SHOW}; touch /new")
    lines = res.stdout.split()
    assert lines[:8] == ["0", "0", "0", "100000", "65536", "0", "200000", "65536"]
    assert lines[8:] == ["0:0"] * 3
    cid = mctr("inspect", "--format", "{{.Id}}", "r").stdout.strip()
    assert os.stat(_upper(mctr, cid) / "new").st_uid == 100000
    mctr("rm", "r")


def test_pod_members_inherit_the_mapping(mctr) -> None:  # type: ignore[no-untyped-def]
    mctr("pod", "create", "--name", "p", "--uidmap", "0:100000:65536")
    res = mctr(
        "run", "--rm", "--pod", "p", "busybox", "sh", "-c", "cat /proc/self/uid_map; stat -c %u:%g /etc"
    )
    assert res.stdout.split() == ["0", "100000", "65536", "0:0"]
    mctr("run", "-d", "--name", "pm", "--pod", "p", "busybox", "sleep", "60")
    assert mctr("exec", "pm", "readlink", "/proc/self/ns/user").stdout == \
        mctr("run", "--rm", "--pod", "p", "busybox", "readlink", "/proc/self/ns/user").stdout  # fmt: skip
    own = mctr("run", "--rm", "--pod", "p", "--uidmap", "0:300000:10", "busybox", "true", check=False)
    assert own.returncode == 125 and "cannot specify a new uid/gid map" in own.stderr
    mctr("pod", "rm", "-f", "-t", "0", "p")


def test_build_with_userns_uid_map(mctr, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Containerfile").write_text(
        "FROM busybox\n"
        "RUN cat /proc/self/uid_map && mkdir /made && touch /made/f && chown 7:8 /made/f\n"
        "COPY Containerfile /copied\n"
    )
    res = mctr(
        "build", "-t", "mapped", "--network", "none", "--userns-uid-map", "0:100000:65536", str(tmp_path)
    )
    assert "0     100000      65536" in res.stdout
    got = mctr(
        "run", "--rm", "--network", "none", "mapped", "stat", "-c", "%u:%g", "/made", "/made/f", "/copied"
    )
    assert got.stdout.split() == ["0:0", "7:8", "0:0"]  # the layers keep the container's ids
    bad = mctr("build", "--userns-uid-map", "0:1", str(tmp_path), check=False)
    assert bad.returncode == 125 and "malformed" in bad.stderr


def test_idmap_volume_option(mctr, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """-v SRC:DST:idmap (Podman's): the host's owners appear as they are; a plain bind shows nobody."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_text("x")
    os.chown(data / "f", 1234, 1235)
    script = "stat -c %u:%g /data/f /plain/f; touch /data/new; touch /ro/x 2>/dev/null || echo ro"
    res = mctr("run", "--rm", *MAP, "-v", f"{data}:/data:idmap", "-v", f"{data}:/plain",
               "-v", f"{data}:/ro:idmap,ro", "busybox", "sh", "-c", script)  # fmt: skip
    assert res.stdout.split() == ["1234:1235", "65534:65534", "ro"]
    st = os.stat(data / "new")
    assert (st.st_uid, st.st_gid) == (0, 0)  # written through the mapping: container root is host root here
    bad = mctr("run", "--rm", "-v", f"{data}:/data:idmap", "busybox", "true", check=False)
    assert bad.returncode == 125 and "needs a user namespace" in bad.stderr


def test_new_volume_and_etc_files_belong_to_the_mapped_root(mctr) -> None:  # type: ignore[no-untyped-def]
    """As Podman chowns them: a volume the container is the first to use, and /etc/hosts & co."""
    script = "stat -c %u:%g /etc/hosts /etc/hostname /etc/resolv.conf /etc /etc/passwd; touch /etc/new"
    res = mctr("run", "--rm", *MAP, "-v", "fresh:/etc", "busybox", "sh", "-c", script)
    assert res.stdout.split() == ["0:0"] * 5
    mount = Path(mctr("volume", "inspect", "--format", "{{.Mountpoint}}", "fresh").stdout.strip())
    st = os.stat(mount / "new")
    assert (st.st_uid, st.st_gid) == (100000, 200000)
    mctr("volume", "rm", "fresh")
