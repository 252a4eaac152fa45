"""`podpy build` as an ordinary user: RUN in the user namespace, COPY, WORKDIR, the cache."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rootless.conftest import Rootless


@pytest.fixture
def context(rl: Rootless) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="podpy-rl-build-"))
    (d / "Dockerfile").write_text(
        "FROM busybox\nRUN echo ran > /ran\nCOPY f /app/f\nWORKDIR /app\nCMD [\"cat\", \"/ran\", \"f\"]\n"
    )
    (d / "f").write_text("copied\n")
    for p in (d, d / "Dockerfile", d / "f"):
        os.chown(p, rl.user.uid, rl.user.gid)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_build_run_copy_and_cache(rl: Rootless, context: Path) -> None:
    first = rl("build", "-q", "-t", "rlb", str(context)).stdout.strip()
    assert rl("run", "--rm", "rlb").stdout == "ran\ncopied\n"
    again = rl("build", "-t", "rlb", str(context)).stdout
    assert again.count("Using cache") == 4 and again.strip().endswith(first)
    fails = rl("build", "-t", "bad", "-f", "-", str(context), input="FROM busybox\nRUN exit 4\n", check=False)
    assert fails.returncode == 4


def test_build_chown_collapses_like_layer_extraction(rl: Rootless, context: Path) -> None:
    (context / "Dockerfile").write_text("FROM busybox\nCOPY --chown=1234:5 f /f\nUSER 1234\nWORKDIR /w\n")
    rl("build", "-t", "rlc", str(context))  # rootless storage keeps one owner (layer extraction does too)
    assert rl("run", "--rm", "--user", "0", "rlc", "cat", "/f").stdout == "copied\n"


def test_build_chown_maps_into_the_namespace(rl: Rootless, context: Path) -> None:
    """COPY --chown and RUN chown survive commit: the layer carries container ids, and extraction
    sets them again through the user's subordinate ids (also in a 0700 dir the host user cannot read)."""
    if rl.user.kind != "subuid":
        pytest.skip("a single-id namespace has only one owner")
    (context / "Dockerfile").write_text(
        "FROM busybox\nCOPY --chown=1234:5 f /f\n"
        "RUN mkdir -p /d/s && echo x > /d/s/x && chown -R 1000:1000 /d && chmod 700 /d /d/s\n"
        "RUN cp /bin/busybox /su && chmod 4755 /su && chown 7:7 /su && chmod 4755 /su\n"
        "RUN --mount=type=secret,id=tok,uid=1000 --mount=type=cache,target=/c,uid=1000 "
        "stat -c %u /run/secrets/tok /c > /mounts\n"
        "USER 1000:1000\nWORKDIR /home/u/w\nUSER root\n"
    )
    (context / "tok").write_text("s\n")
    rl("build", "-t", "rlc", "--secret", f"id=tok,src={context / 'tok'}", str(context))
    assert rl("run", "--rm", "rlc", "cat", "/mounts").stdout == "1000\n1000\n"
    assert rl("run", "--rm", "rlc", "stat", "-c", "%u:%g", "/home/u", "/home/u/w").stdout == "1000:1000\n" * 2
    out = rl("run", "--rm", "rlc", "stat", "-c", "%u:%g %a %n", "/f", "/d", "/d/s", "/d/s/x", "/su").stdout
    assert out.splitlines() == ["1234:5 644 /f", "1000:1000 700 /d", "1000:1000 700 /d/s",
                                "1000:1000 644 /d/s/x", "7:7 4755 /su"]  # fmt: skip
    rl("save", "-o", str(context / "img.tar"), "rlc")
    assert ("d/s/x", 1000, 1000) in _layer_owners(context / "img.tar")  # container ids, not host ones
    rl("rmi", "rlc")  # layers holding files of subordinate ids are removed too
    rl("builder", "prune", "-f")


def _layer_owners(saved: Path) -> set[tuple[str, int, int]]:
    out = set()
    with tarfile.open(saved) as outer:
        for m in outer.getmembers():
            f = outer.extractfile(m) if m.isreg() else None
            if f is None or not tarfile.is_tarfile(f):
                continue
            f.seek(0)
            with tarfile.open(fileobj=f) as layer:
                out |= {(x.name, x.uid, x.gid) for x in layer.getmembers()}
    return out


def test_build_flags_for_run_and_image(rl: Rootless, context: Path) -> None:
    """build's Podman flags as an ordinary user: RUN's (--add-host, --ulimit, --dns) and the image's
    (--timestamp gives the same image twice, --env, --unsetenv)."""
    (context / "Dockerfile").write_text(
        "FROM busybox\nENV DROP=1\nRUN (grep h1 /etc/hosts; ulimit -n; grep nameserver /etc/resolv.conf) > /res\n"
    )
    flags = ["--add-host", "h1:10.7.7.7", "--ulimit", "nofile=512:512", "--dns", "10.8.8.8", "--timestamp", "0",
             "--env", "KEEP=1", "--unsetenv", "DROP", "--no-cache"]  # fmt: skip
    first = rl("build", "-q", "-t", "rlf", *flags, str(context)).stdout.strip()
    assert rl("build", "-q", *flags, str(context)).stdout.strip() == first
    assert rl("run", "--rm", "rlf", "cat", "/res").stdout.split() == ["10.7.7.7", "h1", "512", "nameserver", "10.8.8.8"]
    env = rl("image", "inspect", "--format", "{{json .Config.Env}}", "rlf").stdout
    assert "KEEP=1" in env and "DROP" not in env
