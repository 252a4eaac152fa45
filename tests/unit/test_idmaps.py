"""--uidmap, --gidmap, --subuidname, --subgidname: parsing, Podman's defaulting rules, validation,
the OCI bundle they make (root), and the overlay options of the ID-mapped rootfs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from podpy.engine import idmaps
from podpy.engine.spec import ContainerSpec
from podpy.engine.specgen import HostFacts, generate
from podpy.errors import InvalidArgument, PodpyError
from podpy.runtime.builtin import idmap
from podpy.runtime.builtin.capabilities import CAP_NAMES
from tests.busybox import GROUP, PASSWD
from tests.conftest import REPO

ROOT_HOST = HostFacts(
    rootless=False, cgroup_v2=False, bounding=frozenset(CAP_NAMES), id_maps=None, hostname="h"
)
CID = "0123456789abcdef" * 4


def _gen(**kw) -> dict:  # type: ignore[no-untyped-def]
    etc = {"/etc/passwd": PASSWD, "/etc/group": GROUP}.get
    return generate(ContainerSpec(args=("sh",), **kw), Path("/rootfs"), cid=CID, host=ROOT_HOST, read_etc=etc)


def test_parse_and_podman_defaults() -> None:
    assert idmaps.from_flags({"uidmap": ["0:100000:65536"]}) == (((0, 100000, 65536),), ((0, 100000, 65536),))
    # a gid map alone is used for uids too (Podman), and both kinds stay apart when given
    assert idmaps.from_flags({"gidmap": ["0:5:10"]}) == (((0, 5, 10),), ((0, 5, 10),))
    uids, gids = idmaps.from_flags({"uidmap": ["0:100000:10", "10:200000:5"], "gidmap": ["0:300000:1"]})
    assert uids == ((0, 100000, 10), (10, 200000, 5)) and gids == ((0, 300000, 1),)
    assert idmaps.from_flags({"uidmap": ["0:1:1,1:2:1"]})[0] == ((0, 1, 1), (1, 2, 1))  # comma-separated too


@pytest.mark.parametrize("bad", ["foo", "0:1", "0:a:1", "-1:0:1", "0:1:2:3", "0:4294967296:1"])
def test_malformed_maps(bad: str) -> None:
    with pytest.raises(
        InvalidArgument, match=r'UID setting is malformed expected \["uint32:uint32:uint32"\]'
    ):
        idmaps.from_flags({"uidmap": [bad]})


def test_invalid_maps() -> None:
    with pytest.raises(InvalidArgument, match="at least 1"):
        idmaps.from_flags({"uidmap": ["0:100000:0"]})
    with pytest.raises(InvalidArgument, match="conflicts with other mappings"):
        idmaps.from_flags({"uidmap": ["0:100000:10", "5:200000:10"]})  # container side overlaps
    with pytest.raises(InvalidArgument, match="conflicts with other mappings"):
        idmaps.from_flags({"uidmap": ["0:100000:10", "20:100005:10"]})  # host side overlaps
    with pytest.raises(InvalidArgument, match="container ID 0 cannot be mapped to a host ID"):
        idmaps.from_flags({"uidmap": ["1:100000:10"]})
    with pytest.raises(InvalidArgument, match="container ID 0 cannot be mapped to a host ID"):
        idmaps.from_flags({"uidmap": ["0:100000:10"], "gidmap": ["5:100000:10"]})
    with pytest.raises(InvalidArgument, match="mutually exclusive"):
        ContainerSpec(args=("sh",), userns="keep-id", uidmap=((0, 1, 1),))


def test_subuidname(tmp_path: Path) -> None:
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("alice:100000:65536\nbob:300000:1000\nalice:500000:10\n")
    subgid.write_text("alice:200000:65536\n")
    uids, gids = idmaps.from_flags({"subuidname": "alice"}, str(subuid), str(subgid))
    assert uids == ((0, 100000, 65536), (65536, 500000, 10))  # ranges follow each other from 0
    assert gids == ((0, 200000, 65536),)  # --subgidname defaults to the same name
    with pytest.raises(InvalidArgument, match='no subuid ranges found for user "carol"'):
        idmaps.from_flags({"subuidname": "carol"}, str(subuid), str(subgid))
    with pytest.raises(InvalidArgument, match='no subgid ranges found for user "bob"'):
        idmaps.from_flags({"subuidname": "bob"}, str(subuid), str(subgid))


def test_host_and_container_ids() -> None:
    maps = ((0, 100000, 10), (10, 300000, 5))
    assert (
        idmaps.host_id(maps, 0) == 100000
        and idmaps.host_id(maps, 12) == 300002
        and idmaps.host_id(maps, 15) is None
    )
    assert idmaps.container_id(maps, 100009) == 9 and idmaps.container_id(maps, 300004) == 14
    assert idmaps.container_id(maps, 0) is None
    assert idmaps.to_text(maps) == ["0:100000:10", "10:300000:5"]


def test_bundle_of_a_mapped_container() -> None:
    cfg = _gen(uidmap=((0, 100000, 65536),), gidmap=((0, 200000, 65536),))
    linux = cfg["linux"]
    assert linux["namespaces"][0] == {"type": "user"}
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": 200000, "size": 65536}]
    sys_mount = next(m for m in cfg["mounts"] if m["destination"] == "/sys")
    assert sys_mount["type"] == "bind"  # sysfs needs a netns of the user namespace: the host's, bound
    assert "gid=5" in next(m for m in cfg["mounts"] if m["destination"] == "/dev/pts")["options"]
    assert linux["cgroupsPath"]  # root still places it
    plain = _gen()
    assert "uidMappings" not in plain["linux"] and all(
        ns["type"] != "user" for ns in plain["linux"]["namespaces"]
    )
    # tty (gid 5) unmapped: devpts must not ask for it
    small = _gen(uidmap=((0, 100000, 1),), gidmap=((0, 100000, 1),))
    assert "gid=5" not in next(m for m in small["mounts"] if m["destination"] == "/dev/pts")["options"]
    # a pinned (root-made) network namespace: its sysctls are not the mapped root's to write
    pinned = _gen(uidmap=((0, 100000, 65536),), gidmap=((0, 100000, 65536),), network="ns:/run/x")
    assert "net.ipv4.ping_group_range" not in pinned["linux"]["sysctl"]


def test_idmap_wanted_and_overlay_option_split() -> None:
    cfg = {
        "linux": {
            "namespaces": [{"type": "user"}],
            "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
        }
    }
    assert idmap.wanted(cfg) == (os.geteuid() == 0)
    assert not idmap.wanted({"linux": {"namespaces": [{"type": "mount"}]}})
    assert idmap._split(r"lowerdir=/a\:b:/c,upperdir=/u\,x,workdir=/w", ",") == [
        r"lowerdir=/a\:b:/c", r"upperdir=/u\,x", "workdir=/w"]  # fmt: skip
    assert [idmap._unescape(p) for p in idmap._split(r"/a\:b:/c", ":")] == ["/a:b", "/c"]


@pytest.mark.parametrize(("args", "message"), [
    (["--uidmap", "foo"], 'UID setting is malformed expected ["uint32:uint32:uint32"]: ["foo"]'),
    (["--gidmap", "0:1:x"], 'GID setting is malformed'),
    (["--uidmap", "0:100000:10", "--uidmap", "5:200000:10"], "conflicts with other mappings"),
    (["--uidmap", "0:100000:10", "--userns", "host"], "mutually exclusive"),
    (["--subuidname", "no-such-user-podpy"], 'no subuid ranges found for user "no-such-user-podpy"'),
])  # fmt: skip
def test_bad_flags_exit_125(tmp_path: Path, args: list[str], message: str) -> None:
    """Checked before any image is looked at: one Error: line, exit 125 (no image in this store)."""
    if os.geteuid() != 0 and "--userns" not in args:
        message = (
            "not supported rootless" if "conflicts" not in message and "malformed" not in message else message
        )
    argv = [sys.executable, "-m", "podpy", "--root", str(tmp_path / "r"), "--runroot", str(tmp_path / "rr"),
            "create", *args, "busybox-podpy-none", "true"]  # fmt: skip
    res = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert res.returncode == 125, res.stderr
    assert res.stderr.startswith("Error: ") and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert message in res.stderr


def test_idmap_volume_needs_a_mapping() -> None:
    from podpy.engine.spec import Mount

    vol = Mount("/data", "bind", "/srv", ("rbind", "idmap"))
    with pytest.raises(InvalidArgument, match="idmap option of the volume at /data needs a user namespace"):
        _gen(mounts=(vol,))
    cfg = _gen(mounts=(vol,), uidmap=((0, 100000, 65536),), gidmap=((0, 100000, 65536),))
    assert "idmap" in next(m for m in cfg["mounts"] if m["destination"] == "/data")["options"]


@pytest.mark.skipif(os.geteuid() != 0, reason="ID-mapped mounts need root")
def test_a_refused_idmapped_mount_is_a_clear_error(tmp_path: Path) -> None:
    """procfs cannot be ID-mapped: the error says so, no wrong-owner rootfs (and no fd left open)."""
    cfg = {"linux": {"namespaces": [{"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 10}],
                     "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 10}]}}  # fmt: skip
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(PodpyError, match="need an ID-mapped rootfs, which this kernel or filesystem refuses"):
        idmap.prepare(cfg, tmp_path, Path("/proc/sys"), None)
    assert len(os.listdir("/proc/self/fd")) == before
    trees = idmap.prepare(cfg, tmp_path, tmp_path, None)  # a directory of an ordinary filesystem works
    try:
        assert trees.binds == {} and os.fstat(trees.root)
    finally:
        os.close(trees.root)


def test_rootless_compose_through_the_users_namespace() -> None:
    """Rootless: the maps name ids of the user's namespace (0 = the user, 1.. = /etc/subuid)."""
    from podpy.engine.idcompose import SPARE_ID, compose, spare

    outer = ((0, 1000, 1), (1, 100000, 10), (11, 300000, 100))
    assert compose(((0, 1, 5),), outer) == ((0, 100000, 5),)
    assert compose(((0, 0, 3),), outer) == ((0, 1000, 1), (1, 100000, 2))
    assert compose(((5, 8, 6),), outer) == ((5, 100007, 3), (8, 300000, 3))  # split across two ranges
    with pytest.raises(InvalidArgument, match="outside the user namespace"):
        compose(((0, 100, 20),), outer)
    assert spare(((0, 100000, 5),), 1000) == ((0, 100000, 5), (SPARE_ID, 1000, 1))
    assert spare(((0, 1000, 1),), 1000) == ((0, 1000, 1),)
