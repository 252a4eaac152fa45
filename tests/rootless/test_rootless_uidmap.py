"""Rootless --uidmap/--gidmap (Podman's semantics): the maps name ids of the user's own namespace
(0 = the user, 1..N = its /etc/subuid range); the rootfs is an ID-shifted copy of the image's
layers, cached per (layer, mapping) and removed with the layer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.rootless.conftest import SUBID_START, Rootless


def _subuid(rl: Rootless) -> int:
    if rl.user.kind != "subuid":
        pytest.skip("needs /etc/subuid ranges")
    return SUBID_START["subuid"]


def _shifted(rl: Rootless) -> list[Path]:
    return sorted((rl.store() / "layers").glob("*/diff.*"))


def test_ids_inside_and_files_outside(rl: Rootless) -> None:
    start = _subuid(rl)
    out = rl("run", "--name", "m1", "--uidmap", "0:100:5000", "busybox", "sh", "-c",
             "id -u; id -g; stat -c '%u %g' / /bin/busybox /etc /etc/hosts /etc/hostname /etc/resolv.conf; "
             "head -1 /proc/self/uid_map; "
             "touch /made && mkdir /d && chown 7:8 /d").stdout.split("\n")  # fmt: skip
    assert out[:8] == ["0", "0"] + ["0 0"] * 6
    assert out[8].split() == ["0", str(start + 99), "5000"]
    cid = rl("inspect", "-f", "{{.Id}}", "m1").stdout.strip()
    upper = rl.store() / "containers" / cid / "rw" / "upper"
    st, sd = os.lstat(upper / "made"), os.lstat(upper / "d")
    assert (st.st_uid, st.st_gid) == (start + 99, start + 99)
    assert (sd.st_uid, sd.st_gid) == (start + 99 + 7, start + 99 + 8)
    assert len(_shifted(rl)) == 1
    rl("run", "--rm", "--uidmap", "0:100:5000", "busybox", "true")
    assert len(_shifted(rl)) == 1  # the same mapping reuses the copy


def test_commit_keeps_container_ids_and_copy_goes_with_the_image(rl: Rootless) -> None:
    _subuid(rl)
    rl("run", "--name", "m2", "--uidmap", "0:1:65536", "busybox", "sh", "-c",
       "echo hi > /f && mkdir /g && chown 7:8 /g")  # fmt: skip
    rl("commit", "m2", "mapped-img")
    out = rl("run", "--rm", "mapped-img", "stat", "-c", "%u %g", "/f", "/g").stdout.split("\n")
    assert out[:2] == ["0 0", "7 8"]
    out = rl("run", "--rm", "--uidmap", "0:1:65536", "mapped-img", "sh", "-c", "stat -c '%u %g' /f /g; cat /f")
    assert out.stdout.split("\n")[:3] == ["0 0", "7 8", "hi"]
    before = len(_shifted(rl))
    rl("rm", "-af")
    rl("rmi", "mapped-img")
    assert len(_shifted(rl)) == before - 1  # the committed layer's copy went with it


def test_bad_maps_are_clear_errors(rl: Rootless) -> None:
    for args in (["--uidmap", "0:70000:10"], ["--uidmap", "0:1:1", "--gidmap", "0:65530:100"],
                 ["--subuidname", "nobody"]):  # fmt: skip
        res = rl("run", "--rm", *args, "busybox", "true", check=False)
        assert res.returncode == 125, res.stderr
        assert res.stderr.startswith("Error: ") and "Traceback" not in res.stderr and len(res.stderr.splitlines()) == 1
    assert "outside the user namespace" in rl("create", "--uidmap", "0:70000:10", "busybox", check=False).stderr
    assert rl("build", "--userns-uid-map", "0:1:1", "/nonexistent-podpy", check=False).returncode == 125


def test_published_port_through_pasta(rl: Rootless, tun_open: None) -> None:
    """The network's holder namespace takes the container's composed mappings."""
    _subuid(rl)
    rl("run", "-d", "--name", "m5", "--uidmap", "0:1:65536", "-p", "127.0.0.1:18431:80", "busybox",
       "sh", "-c", "echo mapped > /i && httpd -f -p 80 -h /")  # fmt: skip
    import time
    import urllib.request

    for _ in range(50):
        try:
            with urllib.request.urlopen("http://127.0.0.1:18431/i", timeout=2) as r:
                assert r.read() == b"mapped\n"
                break
        except OSError:
            time.sleep(0.2)
    else:
        raise AssertionError("no answer on the published port")
    assert rl("exec", "m5", "id", "-u").stdout.strip() == "0"


def test_volume_pod_and_identity(rl: Rootless) -> None:
    start = _subuid(rl)
    out = rl("run", "--rm", "--uidmap", "0:1:65536", "-v", "rlmapvol:/data", "busybox", "sh", "-c",
             "stat -c '%u %g' /data; touch /data/x; stat -c '%u %g' /data/x").stdout.split("\n")  # fmt: skip
    assert out[:2] == ["0 0", "0 0"]
    mount = Path(rl("volume", "inspect", "--format", "{{.Mountpoint}}", "rlmapvol").stdout.strip())
    assert os.stat(mount).st_uid == start and os.stat(mount / "x").st_uid == start
    rl("pod", "create", "--name", "rlmappod", "--uidmap", "0:1:65536")
    try:
        out = rl("run", "--rm", "--pod", "rlmappod", "busybox", "sh", "-c",
                 "id -u; stat -c %u /bin/busybox; head -1 /proc/self/uid_map").stdout.split("\n")  # fmt: skip
        assert out[:2] == ["0", "0"] and out[2].split() == ["0", str(start), "65536"]
    finally:
        rl("pod", "rm", "-f", "rlmappod", check=False)
        rl("volume", "rm", "-f", "rlmapvol", check=False)
    before = _shifted(rl)
    out = rl("run", "--rm", "--uidmap", "0:0:65537", "busybox", "sh", "-c", "id -u; stat -c %u /bin/busybox")
    assert out.stdout.split() == ["0", "0"] and _shifted(rl) == before  # the default view: nothing copied


def test_cp_into_and_out_of_a_mapped_container(rl: Rootless) -> None:
    _subuid(rl)
    src = rl.user.home / "cpsrc"
    src.write_text("data\n")
    os.chown(src, rl.user.uid, rl.user.gid)
    rl("create", "--name", "m3", "--uidmap", "0:1:65536", "busybox", "sleep", "60")
    rl("cp", str(src), "m3:/stopped")
    rl("start", "m3")
    rl("cp", str(src), "m3:/running")
    out = rl("exec", "m3", "stat", "-c", "%u %g", "/stopped", "/running", "/bin/busybox").stdout.split("\n")
    assert out[:3] == ["0 0"] * 3
    rl("cp", "m3:/bin/busybox", str(rl.user.home / "bb"))
    assert (rl.user.home / "bb").stat().st_size > 0


def test_export_and_diff_show_container_ids(rl: Rootless) -> None:
    import io
    import tarfile

    _subuid(rl)
    rl("run", "--name", "m4", "--uidmap", "0:1:65536", "busybox", "sh", "-c", "mkdir /g && chown 7:8 /g")
    assert "A /g" in rl("diff", "m4").stdout
    out = subprocess.run(rl.argv("export", "m4"), capture_output=True, timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        owners = {m.name.lstrip("./"): (m.uid, m.gid) for m in tar.getmembers()}
    assert owners["g"] == (7, 8) and owners["bin/busybox"] == (0, 0)
