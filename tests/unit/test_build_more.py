"""build's extra flags without containers: platform names, refusals, request fields, --logsplit's
file name, --output values, --runtime-flag."""

from __future__ import annotations

import pytest

from podpy.build.output import parse_output
from podpy.cli import build_more, common
from podpy.errors import InvalidArgument
from podpy.registry.platforms import host


def test_os_arch_variant_name_one_platform() -> None:
    h = host()
    assert build_more.platform(None, {}) is None
    assert build_more.platform("linux/arm64", {}) == "linux/arm64"
    assert build_more.platform(None, {"arch": "arm64"}) == "linux/arm64"
    assert build_more.platform(None, {"os": "linux"}) == str(h)
    with pytest.raises(InvalidArgument, match="several platforms"):
        build_more.platform("linux/amd64,linux/arm64", {})
    with pytest.raises(InvalidArgument, match="cannot be combined"):
        build_more.platform("linux/amd64", {"os": "linux"})


@pytest.mark.parametrize("kw, text", [
    ({"sign_by": "ABC"}, "signing images is not supported"),
    ({"manifest": "m"}, "manifest lists are not supported"),
    ({"isolation": "vm"}, "--isolation"),
    ({"jobs": -2}, "--jobs"),
    ({"timestamp": -1}, "--timestamp"),
    ({"logsplit": True}, "--logsplit without --logfile"),
    ({"output": "type=image"}, "type must be local or tar"),
])  # fmt: skip
def test_refusals(kw: dict, text: str) -> None:
    with pytest.raises(InvalidArgument, match=text):
        build_more.check(kw)


def test_accepted_values() -> None:
    for iso in ("oci", "chroot", "rootless", "OCI"):
        build_more.check({"isolation": iso, "jobs": 0, "timestamp": 0})


def test_request_fields_and_step_options() -> None:
    fields = build_more.request_fields({"cap_add": ["NET_ADMIN"], "volume": ["/a:/b"], "memory": "64m",
                                        "dns": ["1.1.1.1"], "ulimit": ["nofile=5:5"], "http_proxy": False,
                                        "skip_unused_stages": False, "env": ["A=1"], "timestamp": 5})  # fmt: skip
    step = fields["step"]
    assert step["cap_add"] == ["NET_ADMIN"] and step["volumes"] == ["/a:/b"]
    assert step["resources"]["memory"] == "64m" and step["net"]["dns"] == ["1.1.1.1"]
    assert step["more"]["ulimit"] == ["nofile=5:5"] and step["more"]["http_proxy"] is False
    assert fields["skip_unused_stages"] is False and fields["env"] == ["A=1"] and fields["timestamp"] == 5
    assert fields["registry"] is None
    assert build_more.request_fields({"retry": 2, "retry_delay": "500ms"})["registry"].retry_delay == 0.5


def test_logsplit_file_name() -> None:
    assert build_more.logfile_path({"logfile": "/l"}, None) == "/l"
    assert build_more.logfile_path({"logfile": "/l", "logsplit": True}, "linux/arm64") == "/l_linux_arm64"
    assert build_more.logfile_path({"logfile": "/l", "logsplit": True}, None) == f"/l_linux_{host().arch}"


def test_output_values() -> None:
    assert parse_output("out") == ("local", "out")
    assert parse_output("type=tar,dest=/x.tar") == ("tar", "/x.tar")
    assert parse_output("type=local, dest=d") == ("local", "d")
    for bad in ("-", "type=tar", "type=tar,dest=-", "type=tar,dest"):
        with pytest.raises(InvalidArgument):
            parse_output(bad)


def test_runtime_flags_join_the_global_ones() -> None:
    common.configure(runtime_flags=["debug"])
    build_more.check({"runtime_flag": ["log-format=json"]})
    assert common._options is not None and common._options.runtime_flags == ("debug", "log-format=json")
    common.configure()


def test_tls_verify_alone_means_true() -> None:
    from podpy.cli.build import normalize_args

    assert normalize_args(["build", "--tls-verify", "-t", "x", "."]) == ["build", "--tls-verify=true", "-t", "x", "."]
    assert normalize_args(["build", "--tls-verify=false", "."]) == ["build", "--tls-verify=false", "."]
