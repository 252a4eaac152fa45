"""specgen: ContainerSpec -> config.json, pure (every host fact passed in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podpy.engine.spec import ContainerSpec, Mount, Rlimit, merge_command, merge_env
from podpy.engine.specgen import (
    MASKED_PATHS,
    READONLY_PATHS,
    HostFacts,
    IdMaps,
    cgroups_path,
    exec_process,
    generate,
    id_maps,
    resolve_user,
    subid_ranges,
)
from podpy.errors import InvalidArgument
from podpy.runtime.builtin.capabilities import CAP_NAMES, DEFAULT_CAPS, mask
from podpy.runtime.securejoin import secure_join
from tests.busybox import GROUP, PASSWD

ROOT_HOST = HostFacts(rootless=False, cgroup_v2=False, bounding=frozenset(CAP_NAMES), id_maps=None,
                      hostname="thehost")  # fmt: skip
ROOTLESS_MAPS = IdMaps(((0, 1000, 1), (1, 100000, 65536)), ((0, 1000, 1), (1, 100000, 65536)))
ROOTLESS_HOST = HostFacts(rootless=True, cgroup_v2=False, bounding=frozenset(CAP_NAMES), id_maps=ROOTLESS_MAPS,
                          hostname="thehost", uid=1000, gid=1000)  # fmt: skip
CID = "0123456789abcdef" * 4


def etc(path: str) -> str | None:
    return {"/etc/passwd": PASSWD, "/etc/group": GROUP}.get(path)


def gen(host: HostFacts = ROOT_HOST, **kw) -> dict:  # type: ignore[no-untyped-def]
    kw.setdefault("args", ("sh",))
    return generate(ContainerSpec(**kw), Path("/rootfs"), cid=CID, host=host, read_etc=etc)


def dests(cfg: dict) -> list[str]:
    return [m["destination"] for m in cfg["mounts"]]


def test_defaults_look_like_podman() -> None:
    cfg = gen()
    assert cfg["ociVersion"] == "1.0.2"
    assert cfg["root"] == {"path": "/rootfs", "readonly": False}
    assert cfg["hostname"] == CID[:12]
    proc = cfg["process"]
    assert proc["user"] == {"uid": 0, "gid": 0, "additionalGids": [0]}
    assert proc["cwd"] == "/" and proc["terminal"] is False and proc["noNewPrivileges"] is False
    assert "rlimits" not in proc  # raising rlimits fails without CAP_SYS_RESOURCE
    caps = proc["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"]
    assert set(caps["effective"]) == set(DEFAULT_CAPS)
    assert f"{mask(caps['effective']):016x}" == "00000000800405fb"
    assert "inheritable" not in caps and "ambient" not in caps
    assert dests(cfg) == ["/proc", "/dev", "/dev/pts", "/dev/mqueue", "/dev/shm", "/sys", "/sys/fs/cgroup"]
    devpts = cfg["mounts"][2]["options"]
    assert {"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"} <= set(devpts)
    assert "size=65536k" in cfg["mounts"][4]["options"]
    linux = cfg["linux"]
    assert [n["type"] for n in linux["namespaces"]] == ["pid", "mount", "uts", "ipc", "network"]
    assert linux["sysctl"] == {"net.ipv4.ping_group_range": "0 0"}
    assert linux["maskedPaths"] == list(MASKED_PATHS) and "/proc/kcore" in MASKED_PATHS
    assert linux["readonlyPaths"] == list(READONLY_PATHS) and "/proc/sys" in READONLY_PATHS
    assert linux["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    assert linux["cgroupsPath"] == f"podpy-{CID}"
    assert "uidMappings" not in linux


def test_env_defaults_and_overrides() -> None:
    env = gen(env=("FOO=bar",))["process"]["env"]
    assert env[0].startswith("PATH=/usr/local/sbin:") and "FOO=bar" in env
    assert f"HOSTNAME={CID[:12]}" in env and "HOME=/root" in env
    assert not any(e.startswith("TERM=") for e in env)
    env = gen(env=("PATH=/x", "HOME=/h"), terminal=True, user="www-data")["process"]["env"]
    assert env.count("PATH=/x") == 1 and not any(e.startswith("PATH=/usr") for e in env)
    assert "HOME=/h" in env and "TERM=xterm" in env


def test_users() -> None:
    assert resolve_user("", PASSWD, GROUP).uid == 0
    u = resolve_user("www-data", PASSWD, GROUP)
    assert (u.uid, u.gid, u.home, u.additional_gids) == (33, 33, "/var/www", (33, 100))
    u = resolve_user("33:33", PASSWD, GROUP)
    assert (u.uid, u.gid) == (33, 33)
    u = resolve_user("1234", PASSWD, GROUP)  # unknown numeric uid is fine: gid 0, home /
    assert (u.uid, u.gid, u.home, u.additional_gids) == (1234, 0, "/", (0,))
    u = resolve_user("daemon:users", PASSWD, GROUP)
    assert (u.uid, u.gid) == (1, 100)
    with pytest.raises(InvalidArgument, match="unable to find user nosuch"):
        resolve_user("nosuch", PASSWD, GROUP)
    with pytest.raises(InvalidArgument, match="unable to find group nogrp"):
        resolve_user("root:nogrp", PASSWD, GROUP)
    with pytest.raises(InvalidArgument, match="unable to find user root"):
        resolve_user("root", None, None)  # an image without /etc/passwd


def test_non_root_user_has_no_effective_caps() -> None:
    caps = gen(user="33:33")["process"]["capabilities"]
    assert caps["effective"] == caps["permitted"] == caps["ambient"] == []
    assert set(caps["bounding"]) == set(DEFAULT_CAPS)
    caps = gen(user="33", cap_add=("net_raw",))["process"]["capabilities"]
    assert caps["effective"] == caps["ambient"] == caps["inheritable"] == ["CAP_NET_RAW"]


def test_cap_add_drop_privileged() -> None:
    caps = gen(cap_add=("NET_ADMIN",), cap_drop=("CAP_CHOWN", "kill"))["process"]["capabilities"]
    assert "CAP_NET_ADMIN" in caps["effective"]
    assert "CAP_CHOWN" not in caps["bounding"] and "CAP_KILL" not in caps["permitted"]
    assert gen(cap_drop=("ALL",))["process"]["capabilities"]["bounding"] == []
    with pytest.raises(InvalidArgument, match="unknown capability"):
        gen(cap_add=("CAP_NOPE",))
    bounded = HostFacts(False, False, frozenset(DEFAULT_CAPS) | {"CAP_SYS_ADMIN"}, None, "h")
    cfg = gen(host=bounded, privileged=True)
    assert set(cfg["process"]["capabilities"]["effective"]) == set(DEFAULT_CAPS) | {"CAP_SYS_ADMIN"}
    assert "maskedPaths" not in cfg["linux"] and "readonlyPaths" not in cfg["linux"]
    assert "ro" not in cfg["mounts"][5]["options"]
    assert cfg["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]


def test_network_modes() -> None:
    host = gen(network="host")
    assert "network" not in [n["type"] for n in host["linux"]["namespaces"]]
    assert host["linux"]["sysctl"] == {}  # ping_group_range is per net ns: leave the host's alone
    assert host["hostname"] == "thehost"
    ns = gen(network="ns:/run/netns/x")["linux"]["namespaces"]
    assert {"type": "network", "path": "/run/netns/x"} in ns
    assert gen(network="none")["linux"]["sysctl"]["net.ipv4.ping_group_range"] == "0 0"
    with pytest.raises(InvalidArgument):
        gen(network="bogus")  # bridge is a mode now: a netns pinned by the engine


def test_rootless() -> None:
    cfg = gen(host=ROOTLESS_HOST)
    linux = cfg["linux"]
    assert linux["namespaces"][0] == {"type": "user"}
    assert linux["uidMappings"][1] == {"containerID": 1, "hostID": 100000, "size": 65536}
    assert "cgroupsPath" not in linux and "devices" not in linux["resources"]
    sys = next(m for m in cfg["mounts"] if m["destination"] == "/sys")
    assert sys["type"] == "bind" and "rbind" in sys["options"] and "ro" in sys["options"]
    assert "/sys/fs/cgroup" not in dests(cfg)  # v1: the rbind of /sys already has it
    single = HostFacts(
        True, False, frozenset(CAP_NAMES), IdMaps(((0, 1000, 1),), ((0, 1000, 1),)), "h", 1000, 1000
    )
    cfg = gen(host=single, user="www-data")
    assert "gid=5" not in cfg["mounts"][2]["options"]  # gid 5 is not mapped
    assert cfg["process"]["user"]["additionalGids"] == []  # setgroups is denied with a single map
    assert single.id_maps is not None and single.id_maps.single
    assert cfg["process"]["user"]["additionalGids"] == []  # root's only group is its primary one
    assert gen(host=ROOTLESS_HOST, user="www-data")["process"]["user"]["additionalGids"] == [100]
    keep = gen(host=ROOTLESS_HOST, userns="keep-id")["process"]["user"]
    assert (keep["uid"], keep["gid"]) == (1000, 1000)
    keep_single = HostFacts(True, False, frozenset(CAP_NAMES), IdMaps(((1000, 1000, 1),), ((1000, 1000, 1),)),
                            "h", 1000, 1000)  # fmt: skip
    cfg = gen(host=keep_single, userns="keep-id")
    assert cfg["linux"]["sysctl"]["net.ipv4.ping_group_range"] == "1000 1000"  # gid 0 is not mapped


def test_id_maps_and_subids() -> None:
    text = "alice:100000:65536\n1001:200000:1000\nbob:1:2\n"
    assert subid_ranges(text, "alice", 1000) == [(100000, 65536)]
    assert subid_ranges(text, "carol", 1001) == [(200000, 1000)]
    assert id_maps("", 1000, [(100000, 65536)]) == ((0, 1000, 1), (1, 100000, 65536))
    assert id_maps("", 1000, []) == ((0, 1000, 1),)
    assert id_maps("keep-id", 1000, [(100000, 65536)]) == (
        (0, 100000, 1000), (1000, 1000, 1), (1001, 101000, 64536))  # fmt: skip


def test_mounts_read_only_init_and_user_mounts() -> None:
    cfg = gen(
        read_only=True,
        mounts=(Mount("/data/sub", "bind", "/b", ("rbind",)), Mount("/data", "tmpfs", "tmpfs")),
    )
    assert cfg["root"]["readonly"] is True
    d = dests(cfg)
    assert {"/tmp", "/var/tmp", "/run"} <= set(d)
    assert d.index("/data") < d.index("/data/sub")  # parents first
    shm = gen(mounts=(Mount("/dev/shm", "tmpfs", "tmpfs", ("size=1m",)),))
    assert [m["options"] for m in shm["mounts"] if m["destination"] == "/dev/shm"] == [["size=1m"]]
    with pytest.raises(InvalidArgument, match="--init"):
        gen(init=True)
    cfg = generate(ContainerSpec(args=("sleep", "1"), init=True), Path("/r"), cid=CID, host=ROOT_HOST,
                   read_etc=etc, init_path="/usr/bin/catatonit")  # fmt: skip
    assert cfg["process"]["args"] == ["/run/podpy-init", "--", "sleep", "1"]
    assert {"destination": "/run/podpy-init", "type": "bind", "source": "/usr/bin/catatonit",
            "options": ["bind", "ro", "nosuid", "nodev"]} in cfg["mounts"]  # fmt: skip


def test_misc_fields() -> None:
    cfg = gen(sysctls={"net.core.somaxconn": "1024"}, resources={"pids": {"limit": 10}}, annotations={"a": "b"},
              rlimits=(Rlimit("nofile", 100, 200),), domainname="example.org", umask=0o077)  # fmt: skip
    assert cfg["linux"]["sysctl"] == {"net.ipv4.ping_group_range": "0 0", "net.core.somaxconn": "1024"}
    assert cfg["linux"]["resources"]["pids"] == {"limit": 10}
    assert cfg["annotations"] == {"a": "b"} and cfg["domainname"] == "example.org"
    assert cfg["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
    assert cfg["process"]["user"]["umask"] == 0o077
    v2 = gen(host=HostFacts(False, True, frozenset(CAP_NAMES), None, "h"))
    assert {"type": "cgroup"} in v2["linux"]["namespaces"]
    assert v2["linux"]["cgroupsPath"] == f"/podpy/podpy-{CID}"
    assert cgroups_path("x", False, "/mine/") == "/mine/podpy-x"


def test_merge_helpers() -> None:
    assert merge_command(["/ep"], ["a"]) == ("/ep", "a")
    assert merge_command(["/ep"], ["a"], command=["b"]) == ("/ep", "b")
    assert merge_command(["/ep"], ["a"], entrypoint=["/x"]) == ("/x",)
    assert merge_command(None, ["sh"], entrypoint=[]) == ()
    assert merge_env(["A=1", "B=2"], ["A=3"]) == ("A=3", "B=2")
    with pytest.raises(InvalidArgument):
        ContainerSpec(args=())


def test_secure_join(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "abs").symlink_to("/etc")
    (tmp_path / "rel").symlink_to("../../../etc")
    (tmp_path / "loop").symlink_to("loop")
    assert secure_join(tmp_path, "/abs/passwd") == tmp_path / "etc" / "passwd"
    assert secure_join(tmp_path, "rel/passwd") == tmp_path / "etc" / "passwd"
    assert secure_join(tmp_path, "/../../x/./y") == tmp_path / "x" / "y"
    with pytest.raises(OSError):
        secure_join(tmp_path, "/loop")


def test_exec_process() -> None:
    cfg = gen(env=("A=1",), cwd="/srv", terminal=False)
    proc = exec_process(cfg, ["ls"], env=("B=2",), terminal=True)
    assert proc["args"] == ["ls"] and proc["cwd"] == "/srv" and proc["terminal"] is True
    assert {"A=1", "B=2", "TERM=xterm"} <= set(proc["env"])
    assert proc["capabilities"] == cfg["process"]["capabilities"]
    proc = exec_process(cfg, ["id"], user="www-data", cwd="/tmp", read_etc=etc)
    assert proc["user"]["uid"] == 33 and proc["capabilities"]["effective"] == [] and proc["cwd"] == "/tmp"
    proc = exec_process(cfg, ["id"], privileged=True, bounding=frozenset({"CAP_SYS_ADMIN", "CAP_KILL"}))
    assert proc["capabilities"]["effective"] == ["CAP_KILL", "CAP_SYS_ADMIN"]
