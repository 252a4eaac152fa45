"""The pure parsers of engine.create_more (the rarer run/create flags)."""

from __future__ import annotations

import pytest

from podpy.engine import create_more as cm
from podpy.engine import create_setup as cs
from podpy.engine.spec import ContainerSpec, Rlimit
from podpy.errors import InvalidArgument


def test_sysctls_namespaced_only() -> None:
    assert cm.parse_sysctls(["net.ipv4.ip_forward=1,kernel.shmmax=5"], "private", "", "") == {
        "net.ipv4.ip_forward": "1", "kernel.shmmax": "5"}  # fmt: skip
    for bad, net, ipc in (("vm.swappiness=1", "private", ""), ("net.core.x=1", "host", ""),
                          ("fs.mqueue.msg_max=1", "private", "host"), ("kernel.sem", "private", "")):  # fmt: skip
        with pytest.raises(InvalidArgument):
            cm.parse_sysctls([bad], net, ipc, "")


def test_device_rules() -> None:
    assert cm.parse_device_rule("c 42:* rwm") == {"allow": True, "type": "c", "access": "rwm", "major": 42}
    assert cm.parse_device_rule("a *:* r") == {"allow": True, "type": "a", "access": "r"}
    for bad in ("c 42 rwm", "x 1:2 r", "c 1:2 q", "c a:2 r"):
        with pytest.raises(InvalidArgument):
            cm.parse_device_rule(bad)


def test_umask_and_ulimits() -> None:
    assert cm.parse_umask("077") == 0o77
    with pytest.raises(InvalidArgument):
        cm.parse_umask("999")
    merged = cm.merge_ulimits((Rlimit("nofile", 10, 20), Rlimit("nproc", 5, 5)), ["nofile=3:4"])
    assert Rlimit("nofile", 3, 4) in merged and Rlimit("nproc", 5, 5) in merged


def test_env_layers_and_image_env() -> None:
    host = {"http_proxy": "p", "HOME": "/root"}
    assert cm.env_layers({}, host) == ["http_proxy=p"]
    assert cm.env_layers({"http_proxy": False}, host) == []
    assert sorted(cm.env_layers({"env_host": True}, host)) == ["HOME=/root", "http_proxy=p"]
    assert cm.image_env({"unsetenv": ["A"]}, ["A=1", "B=2"]) == ["B=2"]
    assert cm.image_env({"unsetenv_all": True}, ["A=1"]) == []
    assert cm.image_env({"env_merge": ["PATH=${PATH}:/x"]}, ["PATH=/bin"]) == ["PATH=/bin:/x"]


def test_platform() -> None:
    os_, arch = cs.host_platform()
    cs.check_platform({"platform": f"{os_}/{arch}"})
    with pytest.raises(InvalidArgument):
        cs.check_platform({"platform": "linux/s390x" if arch != "s390x" else "linux/amd64"})
    with pytest.raises(InvalidArgument):
        cs.check_platform({"platform": "linux/amd64", "arch": "amd64"})


def test_passwd_text() -> None:
    base = "root:x:0:0:root:/root:/bin/sh\n"
    spec = ContainerSpec(args=("x",), user="1234:5", cwd="/w")
    assert cs.passwd_text(spec, lambda p: base) == base + "1234:*:1234:5:container user:/w:/bin/sh\n"
    assert cs.passwd_text(ContainerSpec(args=("x",), user="0"), lambda p: base) is None
    custom = ContainerSpec(args=("x",), user="7", passwd_entry="$USERNAME:$UID:$NAME")
    assert cs.passwd_text(custom, lambda p: None) == "7:7:container user\n"


def test_zone_file_refuses_escapes() -> None:
    for bad in ("../../etc/passwd", "/etc/passwd", "No/Such_Zone"):
        with pytest.raises(InvalidArgument):
            cm.zone_file(bad)


def test_exec_stub_report_fd_is_patched() -> None:
    from podpy.runtime.builtin import execstub

    base, moved = execstub.image("x86_64"), execstub.image("x86_64", report_fd=5)
    assert base is not None and moved is not None and len(base) == len(moved)
    assert base.count(b"\xbf\x03\x00\x00\x00") == 2 and moved.count(b"\xbf\x05\x00\x00\x00") == 2
