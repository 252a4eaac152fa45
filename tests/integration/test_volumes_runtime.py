"""Resolved mounts run through the built-in runtime (root): what a container sees of its volumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.config import Options
from podpy.engine import Engine
from podpy.engine.mount_resolution import ResolvedMounts, requests_from_points, resolve, resolve_mounts
from tests.integration import runtime_fixtures as rf
from tests.integration.runtime_fixtures import Harness

harness = rf.harness
rootfs = rf.rootfs

pytestmark = rf.needs_root


@pytest.fixture
def eng(tmp_path: Path) -> Engine:
    return Engine(Options(root=tmp_path / "store", runroot=tmp_path / "run", storage_driver="vfs"))


def sh(h: Harness, res: ResolvedMounts, script: str) -> rf.Result:
    return h.run("sh", "-c", script, mounts=tuple(res.mounts))


def mount_line(h: Harness, res: ResolvedMounts, target: str) -> list[str]:
    out = sh(h, res, f"grep ' {target} ' /proc/mounts").out
    assert out, f"{target} is not a mount point"
    return out.split()


def test_named_volume_data_survives_the_container(harness: Harness, eng: Engine) -> None:
    res = resolve_mounts(eng, ["data:/data"])
    assert sh(harness, res, "echo kept > /data/f").code == 0
    assert (eng.volumes.mountpoint("data") / "f").read_text() == "kept\n"
    assert sh(harness, resolve_mounts(eng, ["data:/elsewhere"]), "cat /elsewhere/f").out == "kept\n"


def test_read_only_bind_refuses_writes(harness: Harness, eng: Engine, tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "f").write_text("host\n")
    res = resolve_mounts(eng, [f"{host}:/h:ro"])
    r = sh(harness, res, "cat /h/f; touch /h/new")
    assert r.out == "host\n" and r.code != 0 and "Read-only file system" in r.err
    assert "ro" in mount_line(harness, res, "/h")[3].split(",")
    r = sh(harness, resolve_mounts(eng, mount_flags=[f"type=bind,src={host},dst=/h,readonly"]), "touch /h/x")
    assert "Read-only file system" in r.err
    assert sh(harness, resolve_mounts(eng, [f"{host}:/h"]), "touch /h/rw").code == 0
    assert (host / "rw").exists() and not (host / "new").exists()


def test_read_only_volume(harness: Harness, eng: Engine) -> None:
    r = sh(harness, resolve_mounts(eng, ["v:/v:ro"]), "touch /v/x")
    assert r.code != 0 and "Read-only file system" in r.err


def test_tmpfs_is_a_tmpfs_with_options(harness: Harness, eng: Engine) -> None:
    res = resolve_mounts(
        eng, tmpfs_flags=["/t1:size=2m,mode=1770"], mount_flags=["type=tmpfs,dst=/t2,tmpfs-size=1m"]
    )
    dev, _, kind, opts, *_ = mount_line(harness, res, "/t1")
    assert kind == "tmpfs"
    assert {"rw", "nosuid", "nodev", "noexec", "size=2048k", "mode=1770"} <= set(opts.split(","))
    assert "size=1024k" in mount_line(harness, res, "/t2")[3]
    assert sh(harness, res, "echo x > /t1/f && cat /t1/f").out == "x\n"


def test_volume_with_tmpfs_driver_options(harness: Harness, eng: Engine) -> None:
    eng.volumes.create("mem", options={"type": "tmpfs", "device": "tmpfs", "o": "size=3m"})
    res = resolve_mounts(eng, ["mem:/mem"])
    line = mount_line(harness, res, "/mem")
    assert line[2] == "tmpfs" and "size=3072k" in line[3]


def test_volume_option_bind_to_a_host_directory(harness: Harness, eng: Engine, tmp_path: Path) -> None:
    host = tmp_path / "dev"
    host.mkdir()
    eng.volumes.create("hostdir", options={"type": "none", "device": str(host), "o": "bind"})
    assert sh(harness, resolve_mounts(eng, ["hostdir:/x"]), "echo hi > /x/f").code == 0
    assert (host / "f").read_text() == "hi\n"


def test_nested_mounts_parent_first(harness: Harness, eng: Engine) -> None:
    res = resolve_mounts(eng, ["inner:/a/b", "outer:/a"])
    assert [m.destination for m in res.mounts] == ["/a", "/a/b"]
    assert sh(harness, res, "echo i > /a/b/f && echo o > /a/g").code == 0
    assert (eng.volumes.mountpoint("inner") / "f").exists()
    assert (eng.volumes.mountpoint("outer") / "g").exists()


def test_volumes_from_sees_the_same_data(harness: Harness, eng: Engine, tmp_path: Path) -> None:
    host = tmp_path / "h"
    host.mkdir()
    first = resolve_mounts(eng, ["shared:/data", f"{host}:/h", "/anon"], tmpfs_flags=["/t"])
    assert sh(harness, first, "echo 1 > /data/f; echo 2 > /h/f; echo 3 > /anon/f").code == 0
    second = resolve(requests_from_points(first.points, "ro"), eng.volumes)
    assert second.anonymous == [] and sorted(second.volumes) == sorted(first.volumes)
    r = sh(
        harness,
        second,
        "cat /data/f /h/f /anon/f; touch /data/x; grep -q ' /t ' /proc/mounts || echo no-tmpfs",
    )
    assert r.out == "1\n2\n3\nno-tmpfs\n" and "Read-only file system" in r.err


def test_anonymous_volumes_from_image_and_their_removal(harness: Harness, eng: Engine) -> None:
    res = resolve_mounts(eng, image_volumes=["/var/lib/app", "/cache"])
    assert len(res.anonymous) == 2 and res.volumes == res.anonymous
    assert sh(harness, res, "touch /var/lib/app/x /cache/y").code == 0
    assert eng.volumes.remove_anonymous(res.anonymous) == res.anonymous
    assert eng.volumes.list() == []
