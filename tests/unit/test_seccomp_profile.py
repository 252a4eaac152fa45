"""Docker's seccomp profile format -> OCI linux.seccomp (includes/excludes, archMap), the default
profile, --security-opt parsing and specgen's choice of profile."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from podpy.engine.container_config import display_security_opts, parse_security_opts
from podpy.engine.spec import ContainerSpec
from podpy.engine.specgen import seccomp_config
from podpy.errors import InvalidArgument
from podpy.runtime.builtin.capabilities import DEFAULT_CAPS
from podpy.runtime.seccomp.default_profile import CLONE_NAMESPACES, default_profile
from podpy.runtime.seccomp.profile import parse, to_oci


def _names(oci: dict) -> set[str]:  # type: ignore[type-arg]
    return {n for s in oci["syscalls"] for n in s["names"]}


def _rules(oci: dict, name: str) -> list[dict]:  # type: ignore[type-arg]
    return [s for s in oci["syscalls"] if name in s["names"]]


def test_includes_and_excludes() -> None:
    doc = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
        {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}},
        {"names": ["b"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}},
        {"names": ["c"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
        {"names": ["d"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
        {"names": ["e"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.10"}},
        {"names": ["f"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
        {"name": "g", "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
    ]}  # fmt: skip
    got = to_oci(doc, ["CAP_SYS_ADMIN"], machine="x86_64", kernel="5.4.0-1-amd64")
    assert _names(got) == {"f", "g"}
    assert got["architectures"] == ["SCMP_ARCH_X86_64"] and got["defaultAction"] == "SCMP_ACT_ERRNO"
    assert _rules(got, "g") == [{"names": ["g"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    got = to_oci(doc, ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"], machine="aarch64", kernel="6.1.0")
    assert _names(got) == {"a", "c", "d", "e", "g"}


def test_arch_map_picks_this_machine() -> None:
    prof = default_profile()
    assert to_oci(prof, [], machine="x86_64")["architectures"] == [
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
    ]
    assert to_oci(prof, [], machine="aarch64")["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert to_oci(prof, [], machine="riscv64")["architectures"] == ["SCMP_ARCH_RISCV64"]
    assert "architectures" not in to_oci({"defaultAction": "SCMP_ACT_ALLOW"}, [], machine="x86_64")
    with pytest.raises(InvalidArgument, match="not supported"):
        to_oci(prof, [], machine="mips64")


def test_default_profile_by_capability_and_arch() -> None:
    plain = to_oci(default_profile(), DEFAULT_CAPS, machine="x86_64", kernel="6.1.0")
    assert plain["defaultAction"] == "SCMP_ACT_ERRNO" and plain["defaultErrnoRet"] == 1
    assert not {"unshare", "setns", "mount", "bpf", "perf_event_open", "keyctl", "kexec_load", "init_module",
                "open_by_handle_at", "reboot"} & _names(plain)  # fmt: skip
    assert {"arch_prctl", "modify_ldt", "chroot", "ptrace"} <= _names(plain)
    assert not {"cacheflush", "s390_runtime_instr"} & _names(plain)
    assert _rules(plain, "clone") == [{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 0, "value": CLONE_NAMESPACES, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}]  # fmt: skip
    assert _rules(plain, "clone3") == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    admin = to_oci(default_profile(), [*DEFAULT_CAPS, "CAP_SYS_ADMIN"], machine="x86_64")
    assert {"unshare", "setns", "mount", "bpf", "clone3"} <= _names(admin)
    assert all(
        not r.get("args") and r["action"] == "SCMP_ACT_ALLOW"
        for r in _rules(admin, "clone") + _rules(admin, "clone3")
    )
    s390 = to_oci(default_profile(), DEFAULT_CAPS, machine="s390x")
    assert [a["index"] for r in _rules(s390, "clone") for a in r["args"]] == [1]  # s390 passes flags second


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ("[]", "missing defaultAction"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{}]}', "both"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]}', "without an action"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "x"}]}', "'name' and"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", '
     '"args": [{"op": "SCMP_CMP_EQ"}]}]}', "needs an index"),
])  # fmt: skip
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse(text, "p.json")


def test_security_opts(tmp_path: Path) -> None:
    assert parse_security_opts([]) == parse_security_opts(["seccomp=builtin"])
    assert parse_security_opts(["no-new-privileges"]).no_new_privileges
    assert parse_security_opts(["no-new-privileges:true"]).no_new_privileges
    assert not parse_security_opts(["no-new-privileges", "no-new-privileges=false"]).no_new_privileges
    assert parse_security_opts(["seccomp=unconfined"]).seccomp == "unconfined"
    assert parse_security_opts(["seccomp:unconfined"]).seccomp == "unconfined"
    parse_security_opts(["label=disable", "label:disable", "apparmor=unconfined"])
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW"}))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert parse_security_opts(["seccomp=p.json"]).seccomp == str(profile)
    finally:
        os.chdir(cwd)
    for bad in ("seccomp", "nosuch=1", "no-new-privileges=maybe", "systempaths=unconfined"):
        with pytest.raises(InvalidArgument, match="invalid --security-opt"):
            parse_security_opts([bad])
    with pytest.raises(InvalidArgument, match="opening seccomp profile"):
        parse_security_opts([f"seccomp={tmp_path / 'missing.json'}"])
    assert display_security_opts(["seccomp:unconfined", "no-new-privileges", "seccomp=p.json"], "/abs/p.json") == [
        "seccomp=unconfined", "no-new-privileges", "seccomp=/abs/p.json"]  # fmt: skip


def test_specgen_choice(tmp_path: Path) -> None:
    spec = ContainerSpec(args=("true",))
    caps = list(DEFAULT_CAPS)
    default = seccomp_config(spec, caps)
    assert default is not None and "read" in _names(default)
    assert seccomp_config(replace(spec, seccomp_profile="unconfined"), caps) is None
    assert seccomp_config(replace(spec, privileged=True), caps) is None  # Docker's rule
    assert seccomp_config(spec, caps, supported=False) is None
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}))  # fmt: skip
    custom = seccomp_config(replace(spec, seccomp_profile=str(profile), privileged=True), caps)
    assert custom == {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
    }
    with pytest.raises(InvalidArgument, match="not enabled in this kernel"):
        seccomp_config(replace(spec, seccomp_profile=str(profile)), caps, supported=False)
