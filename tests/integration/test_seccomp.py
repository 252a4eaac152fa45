"""Seccomp as root: Docker's default profile, unconfined, custom profiles, with the built-in runtime and
runc, for run, exec and health-check exec; --security-opt parsing, inspect and info."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

RUNTIMES = [
    "builtin",
    pytest.param("runc", marks=pytest.mark.skipif(not shutil.which("runc"), reason="no runc")),
]
STATUS = "grep Seccomp: /proc/1/status"
DENY_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}  # fmt: skip


def _run(ctr, runtime: str, *args: str, check: bool = True):  # noqa: F811
    return ctr("--runtime", runtime, "run", "--rm", *args, check=check)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_profile_blocks_namespaces(ctr, runtime):  # noqa: F811
    res = _run(
        ctr,
        runtime,
        "busybox",
        "sh",
        "-c",
        f"{STATUS}; unshare -U true; echo rc=$?; mkdir /tmp/d && echo made",
    )
    assert res.stdout.split("\n") == ["Seccomp:\t2", "rc=1", "made", ""]
    assert "Operation not permitted" in res.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_unconfined(ctr, runtime):  # noqa: F811
    res = _run(ctr, runtime, "--security-opt", "seccomp=unconfined", "busybox", "sh", "-c",
               f"{STATUS}; unshare -U true; echo rc=$?")  # fmt: skip
    assert res.stdout == "Seccomp:\t0\nrc=0\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_custom_profile_denies_mkdir(ctr, runtime, tmp_path):  # noqa: F811
    profile = tmp_path / "deny-mkdir.json"
    profile.write_text(json.dumps(DENY_MKDIR))
    res = _run(ctr, runtime, "--security-opt", f"seccomp={profile}", "busybox", "sh", "-c",
               f"{STATUS}; mkdir /tmp/d; echo rc=$?; unshare -U true && echo unshared")  # fmt: skip
    assert res.stdout == "Seccomp:\t2\nrc=1\nunshared\n"
    assert "can't create directory '/tmp/d': Operation not permitted" in res.stderr


def test_capability_conditional_rules(ctr):  # noqa: F811
    """CAP_SYS_ADMIN lets unshare through (Docker's includes.caps); --privileged is unconfined."""
    res = _run(
        ctr,
        "builtin",
        "--cap-add",
        "SYS_ADMIN",
        "busybox",
        "sh",
        "-c",
        f"{STATUS}; unshare -U true; echo rc=$?",
    )
    assert res.stdout == "Seccomp:\t2\nrc=0\n"
    assert _run(ctr, "builtin", "--privileged", "busybox", "sh", "-c", STATUS).stdout == "Seccomp:\t0\n"


def test_no_new_privileges_with_a_filter(ctr):  # noqa: F811
    """With no_new_privs the filter is loaded last, as a non-root user too."""
    res = _run(ctr, "builtin", "--security-opt", "no-new-privileges", "-u", "1000", "busybox", "sh", "-c",
               "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; unshare -U true; echo rc=$?")  # fmt: skip
    assert res.stdout == "NoNewPrivs:\t1\nSeccomp:\t2\nrc=1\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exec_gets_the_container_filter(ctr, runtime, tmp_path):  # noqa: F811
    profile = tmp_path / "deny-mkdir.json"
    profile.write_text(json.dumps(DENY_MKDIR))
    ctr("--runtime", runtime, "run", "-d", "--name", "d", "busybox", "sleep", "100")
    ctr(
        "--runtime",
        runtime,
        "run",
        "-d",
        "--name",
        "u",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "sleep",
        "100",
    )
    ctr(
        "--runtime",
        runtime,
        "run",
        "-d",
        "--name",
        "p",
        "--security-opt",
        f"seccomp={profile}",
        "busybox",
        "sleep",
        "100",
    )
    script = "grep Seccomp: /proc/self/status; unshare -U true; echo rc=$?"
    assert ctr("exec", "d", "sh", "-c", script).stdout == "Seccomp:\t2\nrc=1\n"
    assert ctr("exec", "u", "sh", "-c", script).stdout == "Seccomp:\t0\nrc=0\n"
    assert ctr("exec", "p", "sh", "-c", "mkdir /tmp/x; echo rc=$?").stdout == "rc=1\n"
    assert ctr("exec", "-u", "1000", "d", "sh", "-c", script).stdout == "Seccomp:\t2\nrc=1\n"


def test_health_check_exec_gets_the_filter(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "h", "--health-cmd", "grep -q 'Seccomp:.2' /proc/self/status && ! unshare -U true",
        "--health-interval", "1h", "busybox", "sleep", "100")  # fmt: skip
    assert ctr("healthcheck", "run", "h").returncode == 0


def test_inspect_and_info_show_the_choice(ctr, tmp_path):  # noqa: F811
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(DENY_MKDIR))
    ctr("create", "--name", "a", "busybox")
    ctr(
        "create",
        "--name",
        "b",
        "--security-opt",
        "seccomp:unconfined",
        "--security-opt",
        "no-new-privileges",
        "busybox",
    )
    ctr("create", "--name", "c", "--security-opt", f"seccomp={profile}", "busybox")

    def opts(name: str):  # type: ignore[no-untyped-def]
        return json.loads(ctr("inspect", name).stdout)[0]["HostConfig"]["SecurityOpt"]

    assert opts("a") is None
    assert opts("b") == ["seccomp=unconfined", "no-new-privileges"]
    assert opts("c") == [f"seccomp={profile}"]
    security = json.loads(ctr("info", "--format", "json").stdout)["host"]["security"]
    assert security["seccompEnabled"] is True and security["seccompProfilePath"] == "builtin"


def test_profile_is_read_at_create(ctr, tmp_path):  # noqa: F811
    """Like Docker, the container keeps the profile it was created with."""
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(DENY_MKDIR))
    ctr(
        "create",
        "--name",
        "k",
        "--security-opt",
        f"seccomp={profile}",
        "busybox",
        "sh",
        "-c",
        "mkdir /x; echo rc=$?",
    )
    profile.unlink()
    assert ctr("start", "-a", "k").stdout == "rc=1\n"


@pytest.mark.parametrize(("opt", "message"), [
    ("seccomp=/nonexistent.json", "opening seccomp profile /nonexistent.json: No such file or directory"),
    ("seccomp={BAD}", "not valid JSON"),
    ("seccomp={NOACTION}", "unknown action 'SCMP_ACT_FOO'"),
    ("seccomp={BADOP}", "unknown argument operator 'SCMP_CMP_FOO'"),
    ("apparmor=myprofile", "AppArmor"),
    ("mask=/proc/x", "invalid --security-opt 'mask=/proc/x'"),
])  # fmt: skip
def test_bad_security_opts(ctr, tmp_path, opt, message):  # noqa: F811
    files = {
        "BAD": "{not json",
        "NOACTION": json.dumps({"defaultAction": "SCMP_ACT_FOO"}),
        "BADOP": json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 0, "op": "SCMP_CMP_FOO"}],
                    }
                ],
            }
        ),
    }
    for key, text in files.items():
        (tmp_path / f"{key}.json").write_text(text)
        opt = opt.replace("{" + key + "}", str(tmp_path / f"{key}.json"))
    res = ctr("run", "--rm", "--security-opt", opt, "busybox", "true", check=False)
    assert res.returncode == 125
    assert res.stderr.startswith("Error: ") and message in res.stderr and res.stderr.count("\n") == 1
    assert ctr("ps", "-aq").stdout == ""


def test_label_and_apparmor_no_ops(ctr):  # noqa: F811
    res = _run(ctr, "builtin", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined",
               "busybox", "sh", "-c", STATUS)  # fmt: skip
    assert res.stdout == "Seccomp:\t2\n"


def test_config_json_has_linux_seccomp(ctr):  # noqa: F811
    cid = ctr("create", "busybox").stdout.strip()
    cfg = json.loads((Path(ctr.root) / "containers" / cid / "userdata" / "config.json").read_text())
    sec = cfg["linux"]["seccomp"]
    assert sec["defaultAction"] == "SCMP_ACT_ERRNO" and sec["defaultErrnoRet"] == 1
    if os.uname().machine == "x86_64":
        assert sec["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    names = {
        n
        for s in sec["syscalls"]
        if s["action"] == "SCMP_ACT_ALLOW" and not s.get("args")
        for n in s["names"]
    }
    assert "read" in names and not {"unshare", "mount", "keyctl", "bpf", "setns"} & names
