"""`podpy build`'s Podman flags: those that configure every RUN container (the same spec code as
`run`) and those that shape the image (--timestamp, --omit-history, --env, --unsetenv, --from...)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.integration.test_build import config, make_context, run_out

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="builds run real containers as root here")


def results(podpy: Podpy, image: str, names: tuple[str, ...]) -> dict[str, str]:
    """The /res/NAME files a build's RUN wrote, read in one container (no network: quicker)."""
    script = "; ".join(f"echo '=={n}'; cat /res/{n}" for n in names)
    out = podpy("run", "--rm", "--network", "none", image, "sh", "-c", script).stdout
    parts = out.split("==")[1:]
    return {p.partition("\n")[0]: p.partition("\n")[2].strip() for p in parts}


def inspect(podpy: Podpy, ref: str) -> dict:
    return json.loads(podpy("image", "inspect", ref).stdout)[0]


def test_run_container_flags(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "file").write_text("from the host\n")
    ctx = make_context(tmp_path, """\
FROM busybox
RUN mkdir /res && grep myhost /etc/hosts > /res/hosts; grep nameserver /etc/resolv.conf > /res/dns; \
    grep search /etc/resolv.conf > /res/search; ulimit -n > /res/nofile; cat /mnt/h/file > /res/vol; \
    echo "$FOO" > /res/env; df -k /dev/shm | tail -1 > /res/shm; hostname > /res/hostname; \
    touch /tmp/x && (chown 1 /tmp/x 2>/dev/null && echo chown-ok || echo chown-denied) > /res/chown
""")
    podpy("build", "-q", "-t", "runflags", "--add-host", "myhost:10.1.2.3", "--dns", "10.9.9.9",
          "--dns-search", "example.test", "--ulimit", "nofile=1234:1234", "-v", f"{shared}:/mnt/h:ro",
          "--env", "FOO=bar", "--shm-size", "32m", "--uts", "host", "--cap-drop", "CHOWN", str(ctx))
    out = results(podpy, "runflags", ("hosts", "dns", "search", "nofile", "vol", "env", "shm", "hostname", "chown"))
    assert out["hosts"].split() == ["10.1.2.3", "myhost"]
    assert out["dns"] == "nameserver 10.9.9.9"
    assert "example.test" in out["search"]
    assert out["nofile"] == "1234"
    assert out["vol"] == "from the host"
    assert out["env"] == ""  # --env is the image's, not RUN's (as Podman 4.3 without a cached step)
    assert out["shm"].split()[1] == "32768"
    assert out["hostname"] == os.uname().nodename
    assert out["chown"] == "chown-denied"
    assert "FOO=bar" in config(podpy, "runflags")["Env"]
    assert run_out(podpy, "runflags", "sh", "-c", "test -e /mnt/h && echo left || echo gone").strip() == "gone"


def test_memory_limit_and_http_proxy(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nRUN (cat /sys/fs/cgroup/memory.max || "
                                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes) > /mem; echo \"p=$http_proxy\" > /proxy\n")
    env = {**os.environ, "http_proxy": "http://proxy.test:3128"}
    res = podpy.raw("build", "-q", "-t", "mem", "--memory", "64m", str(ctx), env=env)
    assert res.returncode == 0, res.stderr
    assert run_out(podpy, "mem", "cat", "/mem").strip() == str(64 * 1024 * 1024)
    assert run_out(podpy, "mem", "cat", "/proxy").strip() == "p=http://proxy.test:3128"  # --http-proxy: on by default
    res = podpy.raw("build", "-q", "-t", "noproxy", "--no-cache", "--http-proxy=false", str(ctx), env=env)
    assert res.returncode == 0, res.stderr
    assert run_out(podpy, "noproxy", "cat", "/proxy").strip() == "p="
    assert "http_proxy" not in " ".join(config(podpy, "mem").get("Env") or [])  # RUN's only, never the image's


def test_timestamp_gives_reproducible_images(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nCOPY a.txt /a.txt\nRUN echo hi > /hi\nENV X=1\n", {"a.txt": "A\n"})
    first = podpy("build", "-q", "--no-cache", "--timestamp", "0", str(ctx)).stdout.strip()
    second = podpy("build", "-q", "--no-cache", "--timestamp", "0", str(ctx)).stdout.strip()
    assert first == second
    img = inspect(podpy, first)
    assert img["Created"].startswith("1970-01-01T00:00:00")
    stamps = run_out(podpy, first, "stat", "-c", "%Y", "/hi", "/a.txt").split()
    assert stamps == ["0", "0"]
    other = podpy("build", "-q", "--no-cache", "--timestamp", "60", str(ctx)).stdout.strip()
    assert other != first


def test_image_flags(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, 'FROM nothing-here\nENV A=1 B=2 C=3\nRUN echo "$A" > /x\n')
    podpy("build", "-q", "-t", "img", "--from", "busybox", "--unsetenv", "A", "--omit-history",
          "--identity-label", "--env", "C=4", "--env", "D=5", str(ctx))
    img = inspect(podpy, "img")
    env = img["Config"]["Env"]
    assert env == ["B=2", "C=4", "D=5"]  # --unsetenv and --env: the final image's (RUN saw A)
    assert run_out(podpy, "img", "cat", "/x") == "1\n"
    assert img["Config"]["Labels"].get("io.podpy.version")
    assert not img.get("History")
    plain = inspect(podpy, podpy("build", "-q", "--from", "busybox", str(ctx)).stdout.strip())
    assert "io.podpy.version" not in (plain["Config"].get("Labels") or {})
    assert plain.get("History")


def test_context_and_stage_flags(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox AS unused
RUN echo unused-stage-ran
FROM busybox
COPY . /ctx/
""", {"keep.txt": "k", "drop.txt": "d"})
    ignore = tmp_path / "myignore"
    ignore.write_text("drop.txt\n")
    log = tmp_path / "build.log"
    res = podpy("build", "-t", "ctxflags", "--ignorefile", str(ignore), "--stdin", "--logfile", str(log),
                "--skip-unused-stages=false", "-o", f"type=local,dest={tmp_path / 'out'}", str(ctx))
    assert "unused-stage-ran" in log.read_text() and "STEP" in log.read_text()
    assert "STEP" not in res.stdout and res.stdout.strip()  # only the image ID
    assert sorted(p.name for p in (tmp_path / "out" / "ctx").iterdir()) == ["Dockerfile", "keep.txt"]
    assert "unused-stage-ran" not in podpy("build", str(ctx)).stdout


def test_stdin_and_tar_output(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, 'FROM busybox\nRUN read line; echo "got $line" > /stdin\n')
    podpy("build", "-q", "--stdin", "--output", f"type=tar,dest={tmp_path / 'fs.tar'}", str(ctx), input="hello\n")
    import tarfile

    with tarfile.open(tmp_path / "fs.tar") as tf:
        assert tf.extractfile("stdin").read() == b"got hello\n"  # type: ignore[union-attr]


@pytest.mark.parametrize("args, text", [
    (["--sign-by", "ABCD"], "not supported"),
    (["--manifest", "list"], "manifest lists are not supported"),
    (["--arch", "s390x"], "only the host's platform"),
    (["--os", "windows"], "only the host's platform"),
    (["--isolation", "vm"], "--isolation"),
    (["--output", "type=registry"], "--output"),
    (["--jobs", "-1"], "--jobs"),
    (["--platform", "linux/amd64,linux/arm64"], "several platforms"),
    (["--hooks-dir", "HOOKS"], "OCI hooks are not supported"),
])  # fmt: skip
def test_flags_podpy_cannot_honour_fail_clearly(podpy: Podpy, tmp_path: Path, args: list[str], text: str) -> None:
    ctx = make_context(tmp_path, "FROM scratch\nENV A=1\n")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "hook.json").write_text("{}")
    res = podpy("build", *[str(hooks) if a == "HOOKS" else a for a in args], str(ctx), check=False)
    assert res.returncode == 125, res.stderr
    assert res.stderr.startswith("Error: ") and text in res.stderr and "Traceback" not in res.stderr


def test_accepted_flags_without_effect(podpy: Podpy, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM scratch\nENV A=1\n")
    podpy("build", "-q", "--jobs", "2", "--isolation", "chroot", "--compress", "-D", "--disable-content-trust",
          "--retry", "1", "--retry-delay", "1s", "--tls-verify=false", "--rm", "--force-rm",
          "--hooks-dir", str(tmp_path / "no-hooks"), str(ctx))


def test_cpp_os_features_and_logsplit(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    import shutil
    import tarfile

    if shutil.which("cpp") is None:
        pytest.skip("cpp is not installed")
    ctx = make_context(tmp_path, '#include "common.in"\n#ifdef WITH_X\nENV X=yes\n#endif\n',
                       {"common.in": "FROM busybox\nENV COMMON=1\n"})  # fmt: skip
    (ctx / "Dockerfile").rename(ctx / "Containerfile.in")
    log = tmp_path / "log"
    podpy("build", "-t", "cpp", "-f", str(ctx / "Containerfile.in"), "--cpp-flag", "-DWITH_X",
          "--os-feature", "f1", "--os-feature", "f2", "--os-feature", "f1-", "--os-version", "10.1",
          "--logfile", str(log), "--logsplit", str(ctx))  # fmt: skip
    env = config(podpy, "cpp")["Env"]
    assert "COMMON=1" in env and "X=yes" in env
    machine = os.uname().machine
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    assert "STEP" in (tmp_path / f"log_linux_{arch}").read_text() and not log.exists()
    podpy("save", "-o", str(tmp_path / "img.tar"), "cpp")
    with tarfile.open(tmp_path / "img.tar") as tf:
        manifest = json.load(tf.extractfile("manifest.json"))  # type: ignore[arg-type]
        doc = json.load(tf.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    assert doc["os.features"] == ["f2"] and doc["os.version"] == "10.1"
    res = podpy("build", "--logsplit", str(ctx), check=False)
    assert res.returncode == 125 and "--logsplit without --logfile" in res.stderr


@pytest.fixture
def parent_slice():  # type: ignore[no-untyped-def]
    """--cgroup-parent makes the parent in every hierarchy; like Podman, podpy leaves it: the test
    removes it (empty once the step container is gone)."""
    name = "podpy-build-test.slice"
    yield name
    for d in Path("/sys/fs/cgroup").glob(f"*/{name}"):
        try:
            d.rmdir()
        except OSError:
            pass
    try:
        Path("/sys/fs/cgroup", name).rmdir()  # cgroup v2 unified
    except OSError:
        pass


def test_namespace_device_security_and_cpu_flags(podpy: Podpy, busybox_image: str, tmp_path: Path,
                                                 parent_slice: str) -> None:  # fmt: skip
    ctx = make_context(tmp_path, """\
FROM busybox
RUN mkdir /res; readlink /proc/self/ns/pid > /res/pid; readlink /proc/self/ns/ipc > /res/ipc; \
    readlink /proc/self/ns/cgroup > /res/cgroupns; ls -l /dev/mynull > /res/dev; \
    grep NoNewPrivs /proc/self/status > /res/nnp; cat /proc/self/cgroup > /res/cgroup; \
    (grep -q localhost /etc/hosts && echo hosts || echo nohosts) > /res/hosts; \
    (cat /sys/fs/cgroup/cpu.max || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us) \
      > /res/cpu 2>/dev/null; \
    (cat /sys/fs/cgroup/cpuset.cpus || cat /sys/fs/cgroup/cpuset/cpuset.cpus) > /res/cpuset 2>/dev/null; true
""")  # fmt: skip
    podpy("build", "-q", "-t", "nsflags", "--pid", "host", "--ipc", "host", "--cgroupns", "host",
          "--device", "/dev/null:/dev/mynull", "--security-opt", "no-new-privileges", "--no-hosts",
          "--cgroup-parent", parent_slice, "--cpu-quota", "50000", "--cpu-period", "100000",
          "--cpuset-cpus", "0", str(ctx))  # fmt: skip
    res = results(podpy, "nsflags", ("pid", "ipc", "cgroupns", "dev", "nnp", "cgroup", "hosts", "cpu", "cpuset"))
    for ns in ("pid", "ipc", "cgroup"):
        assert res["cgroupns" if ns == "cgroup" else ns] == os.readlink(f"/proc/self/ns/{ns}")
    assert res["dev"].startswith("c") and "1," in res["dev"]  # /dev/null's major 1
    assert res["nnp"].split() == ["NoNewPrivs:", "1"]
    assert parent_slice in res["cgroup"]
    assert res["hosts"] == "nohosts"  # not podpy's /etc/hosts (busybox has none)
    assert res["cpu"].split() == ["50000", "100000"]
    assert res["cpuset"] == "0"
