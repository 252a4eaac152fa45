"""`podpy build` with real step containers: instructions, multi-stage, cache, errors, commit hygiene."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import Podpy

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="builds run real containers as root here")


def make_context(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(text)
    return ctx


def config(podpy: Podpy, ref: str) -> dict:
    return json.loads(podpy("image", "inspect", ref).stdout)[0]["Config"]


def run_out(podpy: Podpy, *args: str) -> str:
    return podpy("run", "--rm", *args).stdout


def test_instructions_config_and_files(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox
LABEL org.test=yes
ENV GREETING=hello PATH=/usr/bin:/bin
ARG WHO=world
RUN echo "$GREETING $WHO" > /msg
COPY a.txt /app/
COPY <<EOF /app/here.txt
doc ${GREETING}
EOF
WORKDIR /app
RUN pwd > /where
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGINT
USER 1000:1000
ENTRYPOINT ["cat"]
CMD ["/msg"]
""", {"a.txt": "A\n"})
    res = podpy("build", "-t", "inst", "--build-arg", "WHO=you", "--label", "extra=1", str(ctx))
    assert "STEP 1/15: FROM busybox" in res.stdout and "COMMIT inst:latest" in res.stdout
    assert "Successfully tagged docker.io/library/inst:latest" in res.stdout
    cfg = config(podpy, "inst")
    assert cfg["Labels"] == {"org.test": "yes", "extra": "1"}
    assert "GREETING=hello" in cfg["Env"]
    assert cfg["WorkingDir"] == "/app" and cfg["User"] == "1000:1000" and cfg["StopSignal"] == "SIGINT"
    assert cfg["Entrypoint"] == ["cat"] and cfg["Cmd"] == ["/msg"]
    assert set(cfg["ExposedPorts"]) == {"8080/tcp", "53/udp"} and set(cfg["Volumes"]) == {"/data"}
    assert run_out(podpy, "inst") == "hello you\n"
    assert run_out(podpy, "inst", "/app/a.txt", "/app/here.txt", "/where") == "A\ndoc hello\n/app\n"
    history = podpy("history", "--no-trunc", "--format", "{{.CreatedBy}}", "inst").stdout.splitlines()
    assert history[0] == 'CMD ["/msg"]' and any(h.startswith("RUN |1 WHO=you /bin/sh -c") for h in history)


def test_multistage_copy_from_target_and_ignore(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox AS builder
COPY src /src
RUN cat /src/* > /built
FROM busybox AS unused
RUN exit 3
FROM busybox
COPY --from=builder /built /out/
RUN echo 'bob:x:1234:1234::/home/bob:/bin/sh' >> /etc/passwd && echo 'bob:x:1234:' >> /etc/group
COPY --chown=bob --chmod=640 src/one /home/bob/one
""", {"src/one": "1\n", "src/two": "2\n", "src/skip.log": "no\n", ".dockerignore": "**/*.log\n"})
    podpy("build", "-t", "multi", str(ctx))
    assert run_out(podpy, "multi", "cat", "/out/built") == "1\n2\n"
    assert run_out(podpy, "multi", "stat", "-c", "%u %g %a", "/home/bob/one") == "1234 1234 640\n"
    podpy("build", "-t", "first", "--target", "builder", str(ctx))
    assert run_out(podpy, "first", "ls", "/src") == "one\ntwo\n"


def test_cache_rebuild_invalidation_and_no_cache(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox
RUN echo one > /one
COPY f.txt /f.txt
RUN cat /f.txt > /g
CMD ["cat", "/g"]
""", {"f.txt": "v1\n", "ignored.txt": "x\n", ".dockerignore": "ignored.txt\n"})
    first = podpy("build", "-q", "-t", "c", str(ctx)).stdout.strip()
    again = podpy("build", "-t", "c", str(ctx)).stdout
    assert again.count("--> Using cache") == 4 and again.strip().endswith(first)
    (ctx / "ignored.txt").write_text("changed\n")
    assert podpy("build", "-q", "-t", "c", str(ctx)).stdout.strip() == first
    (ctx / "f.txt").write_text("v2\n")
    changed = podpy("build", "-t", "c", str(ctx)).stdout
    assert changed.count("--> Using cache") == 1  # RUN echo one; COPY and after run again
    assert run_out(podpy, "c") == "v2\n"
    nocache = podpy("build", "--no-cache", "-t", "c", str(ctx)).stdout
    assert "Using cache" not in nocache


def test_failing_run_leaves_no_tag(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nRUN echo before\nRUN exit 3\n")
    res = podpy("build", "-t", "broken", str(ctx), check=False)
    assert res.returncode == 3
    assert res.stderr.strip() == 'Error: building at STEP "RUN exit 3": while running runtime: exit status 3'
    assert podpy("image", "exists", "broken", check=False).returncode == 1
    assert podpy("ps", "-aq").stdout == ""  # the step containers are gone


@pytest.mark.parametrize("args,message", [
    (["/nonexistent-context"], "no such file or directory"),
    (["-f", "nope", "."], "does not exist"),
])  # fmt: skip
def test_bad_input_is_one_line_125(podpy: Podpy, tmp_path: Path, args: list[str], message: str) -> None:
    res = podpy("build", *args, check=False)
    assert res.returncode == 125 and message in res.stderr and len(res.stderr.splitlines()) == 1


def test_unknown_instruction_and_stdin_dockerfile(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\n")
    res = podpy("build", "-t", "x", "-f", "-", str(ctx), input="FROM busybox\nFOO bar\n", check=False)
    assert res.returncode == 125 and res.stderr == "Error: Dockerfile:2: FOO: unknown instruction: FOO\n"
    assert podpy("image", "exists", "x", check=False).returncode == 1
    podpy("build", "-t", "x", "-f", "-", str(ctx), input="FROM busybox\nENV K=v\n")
    assert "K=v" in config(podpy, "x")["Env"]


def test_add_extracts_archives_copy_does_not(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    import tarfile

    ctx = make_context(tmp_path, "FROM busybox\nADD pack.tar.gz /x/\nCOPY pack.tar.gz /y/\n")
    inner = tmp_path / "inner.txt"
    inner.write_text("inside\n")
    with tarfile.open(ctx / "pack.tar.gz", "w:gz") as tf:
        tf.add(inner, "inner.txt")
    podpy("build", "-t", "arch", str(ctx))
    assert run_out(podpy, "arch", "cat", "/x/inner.txt") == "inside\n"
    assert run_out(podpy, "arch", "ls", "/y") == "pack.tar.gz\n"


def test_commit_leaves_out_runtime_files(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM scratch\nCOPY --from=busybox /bin/busybox /bin/busybox\n"
                                 "RUN [\"/bin/busybox\", \"touch\", \"/made\"]\n")  # fmt: skip
    podpy("build", "-t", "bare", str(ctx))
    podpy("run", "--name", "c1", "busybox", "true")
    podpy("commit", "c1", "committed")
    for ref in ("bare", "committed"):
        out = tmp_path / f"{ref}.tar"
        podpy("save", "-o", str(out), ref)
        names = _layer_names(out)
        assert not names & {"etc/hosts", "etc/hostname", "etc/resolv.conf"}, (ref, names)
    assert "made" in _layer_names(tmp_path / "bare.tar")


def _layer_names(archive: Path) -> set[str]:
    import io
    import tarfile

    names: set[str] = set()
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            data = outer.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                names.update(m.name.rstrip("/") for m in tf.getmembers())
    return names


def test_cache_listing_df_and_builder_prune(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nRUN echo 1 > /1\nENV A=b\n")
    iid = tmp_path / "iid"
    podpy("image", "build", "-q", "--iidfile", str(iid), str(ctx))  # untagged: still listed
    final = iid.read_text()
    assert final.startswith("sha256:")
    listed = podpy("images", "-q", "--no-trunc").stdout.split()
    assert final in listed and len(listed) == 2  # busybox and the result; the step images are hidden
    assert len(podpy("images", "-aq").stdout.split()) == 3
    df = json.loads(podpy("system", "df", "--format", "json").stdout)
    assert any(r["Type"] == "Build Cache" and r["TotalCount"] == 1 for r in df)
    pruned = podpy("builder", "prune", "-f").stdout
    assert "Total reclaimed space" in pruned
    assert len(podpy("images", "-aq").stdout.split()) == 2
    assert "Using cache" not in podpy("build", str(ctx)).stdout


def test_stdin_tar_context_network_none_and_platform(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY f /f\nRUN --network=none ip -o link | wc -l > /n\n"),
                           ("f", b"from tar\n")):  # fmt: skip
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    podpy("build", "-t", "tarctx", "-", input=buf.getvalue())
    assert run_out(podpy, "tarctx", "cat", "/f", "/n") == "from tar\n1\n"  # loopback only
    ctx = make_context(tmp_path, "FROM busybox\n")
    res = podpy("build", "--platform", "linux/s390x", str(ctx), check=False)
    assert res.returncode == 125 and "platform" in res.stderr


def test_run_mounts_cache_bind_tmpfs_secret_and_heredoc(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox
RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count
RUN --mount=type=bind,source=d,target=/mnt cat /mnt/x > /copied
RUN --mount=type=bind,source=d,target=/mnt,rw echo changed > /mnt/x && cat /mnt/x > /changed
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /tmpls
RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /seclen
RUN --mount=type=secret,id=tok,env=TOKEN echo "${#TOKEN}" > /envlen
RUN --mount=type=tmpfs,target=/w/t echo k > /w/keep
RUN <<EOT
echo one > /h
echo two >> /h
EOT
""", {"d/x": "ctx\n"})
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    podpy("build", "-t", "mnt", "--secret", f"id=tok,src={secret}", str(ctx))
    out = run_out(podpy, "mnt", "sh", "-c", "cat /count /copied /changed /tmpls /seclen /envlen /h; "
                                            "ls /cache /mnt /scratch /run/secrets/tok 2>&1 | wc -l")  # fmt: skip
    assert out == "1\nctx\nchanged\nt\n7\n7\none\ntwo\n4\n"  # the mount targets are not in the image
    assert (ctx / "d" / "x").read_text() == "ctx\n"  # rw bind mounts write to a copy
    podpy("save", "-o", str(tmp_path / "mnt.tar"), "mnt")
    names = _layer_names(tmp_path / "mnt.tar")  # no mount point, nor a parent made for one (BuildKit)
    assert not names & {"cache", "mnt", "scratch", "run", "run/secrets", "run/secrets/tok", "w/t"}, names
    assert {"w", "w/keep"} <= names
    podpy("build", "--no-cache", "-t", "mnt", "--secret", f"id=tok,src={secret}", str(ctx))
    assert run_out(podpy, "mnt", "cat", "/count") == "2\n"  # the cache mount outlives the build
    history = podpy("history", "--no-trunc", "--format", "{{.CreatedBy}}", "mnt").stdout
    assert "s3cret" not in history


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    """(directory, base URL) of a loopback HTTP server."""
    import http.server
    import threading
    from functools import partial

    root = tmp_path / "srv"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_tar_context_from_a_url(podpy: Podpy, busybox_image: str, served: tuple[Path, str]) -> None:
    import tarfile

    root, base = served
    src = root / "src"
    src.mkdir()
    (src / "Dockerfile").write_text("FROM busybox\nCOPY f /f\n")
    (src / "f").write_text("from url\n")
    with tarfile.open(root / "ctx.tar.gz", "w:gz") as tf:
        for name in ("Dockerfile", "f"):
            tf.add(src / name, name)
    podpy("build", "-t", "urlctx", f"{base}/ctx.tar.gz")
    assert run_out(podpy, "urlctx", "cat", "/f") == "from url\n"


def test_add_url_with_checksum(podpy: Podpy, busybox_image: str, tmp_path: Path,
                               served: tuple[Path, str]) -> None:  # fmt: skip
    import hashlib

    root, base = served
    (root / "file.txt").write_text("remote\n")
    url = f"{base}/file.txt"
    digest = "sha256:" + hashlib.sha256(b"remote\n").hexdigest()
    ctx = make_context(tmp_path, f"FROM busybox\nADD --checksum={digest} {url} /r/\nADD {url} /r2\n")
    podpy("build", "-t", "url", str(ctx))
    assert run_out(podpy, "url", "stat", "-c", "%a %s", "/r/file.txt", "/r2") == "600 7\n600 7\n"
    (ctx / "Dockerfile").write_text(f"FROM busybox\nADD --checksum=sha256:{'0' * 64} {url} /r/\n")
    res = podpy("build", "-t", "bad", str(ctx), check=False)
    assert res.returncode == 125 and "digest mismatch" in res.stderr
    (ctx / "Dockerfile").write_text(f"FROM busybox\nADD file://{tmp_path}/none.git /src\n")  # local: no network
    res = podpy("build", str(ctx), check=False)
    assert res.returncode == 125 and "none.git" in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_independent_stages_build_at_once(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox AS a
RUN sleep 2; echo a > /a
FROM busybox AS b
RUN sleep 2; echo b > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
""")
    out = podpy("build", "-t", "par", str(ctx)).stdout.splitlines()
    first_id = next(n for n, line in enumerate(out) if line.startswith("-->"))
    assert sum("STEP 2/2: RUN sleep 2" in line for line in out[:first_id]) == 2  # both started before one ended
    assert run_out(podpy, "par", "cat", "/a", "/b") == "a\nb\n"
    (ctx / "Dockerfile").write_text((ctx / "Dockerfile").read_text().replace("echo a", "exit 5; echo a"))
    res = podpy("build", "-t", "par2", str(ctx), check=False)
    assert res.returncode == 5 and "exit status 5" in res.stderr
    assert podpy("image", "exists", "par2", check=False).returncode == 1


def test_build_context_and_no_cache_filter(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "e").write_text("extra\n")
    ctx = make_context(tmp_path, """\
FROM busybox AS s
RUN echo s > /s
FROM busybox
COPY --from=extra e /e
RUN --mount=type=bind,from=extra,target=/x cat /x/e > /e2
COPY --from=s /s /s
""")
    flags = ["--build-context", f"extra={extra}"]
    podpy("build", "-t", "named", *flags, str(ctx))
    assert run_out(podpy, "named", "cat", "/e", "/e2", "/s") == "extra\nextra\ns\n"
    out = podpy("build", "-t", "named", *flags, "--no-cache-filter", "s", str(ctx)).stdout
    assert out.count("Using cache") == 2  # stage s ran again; its COPY --from follows, the rest is cached
    (extra / "e").write_text("changed\n")
    podpy("build", "-t", "named", *flags, str(ctx))
    assert run_out(podpy, "named", "cat", "/e") == "changed\n"
    res = podpy("build", "--build-context", "x=/nonexistent", str(ctx), check=False)
    assert res.returncode == 125 and "not a directory" in res.stderr


def test_format_docker_manifest(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nRUN echo x > /x\n")
    podpy("build", "--format", "docker", "-t", "dfmt", str(ctx))
    doc = json.loads(podpy("image", "inspect", "dfmt").stdout)[0]
    assert doc["ManifestType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert podpy("build", "--format", "tar", str(ctx), check=False).returncode == 125
    podpy("build", "--annotation", "org.example=yes", "-t", "annot", str(ctx))
    img = next(i for i in json.loads((podpy.root / "images" / "images.json").read_text())["images"].values()
               if "docker.io/library/annot:latest" in i["names"])  # fmt: skip
    blob = podpy.root / "blobs" / "sha256" / img["manifest"].removeprefix("sha256:")
    assert json.loads(blob.read_text())["annotations"] == {"org.example": "yes"}


def test_image_prune_removes_the_build_cache(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nRUN echo 1 > /1\nENV A=b\n")
    podpy("build", "-t", "keep", str(ctx))
    podpy("image", "prune", "-f")
    assert len(podpy("images", "-aq").stdout.split()) == 2  # busybox and keep: the step images are gone
    again = podpy("build", "-t", "keep", str(ctx)).stdout
    assert again.count("Using cache") == 1  # only the last step: its image is `keep` itself


@pytest.mark.skipif(not shutil.which("podman"), reason="podman is not installed")
def test_built_image_runs_in_podman(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    import subprocess
    import tempfile

    ctx = make_context(tmp_path, 'FROM busybox\nRUN echo built > /b\nCMD ["cat", "/b"]\n')
    podpy("build", "-t", "interop", str(ctx))
    archive = tmp_path / "i.tar"
    podpy("save", "-o", str(archive), "interop")
    short = Path(tempfile.mkdtemp(prefix="pm-"))  # podman refuses a runroot longer than 50 characters
    store = ["podman", "--root", str(tmp_path / "pm"), "--runroot", str(short), "--storage-driver", "vfs"]
    # podman raises RLIMIT_NOFILE/NPROC past the hard limits by default: that fails without CAP_SYS_RESOURCE
    nofile = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
    try:
        subprocess.run([*store, "load", "-i", str(archive)], check=True, capture_output=True)
        out = subprocess.run([*store, "run", *nofile, "--rm", "--network", "none", "interop"], capture_output=True,
                             text=True)  # fmt: skip
        assert out.returncode == 0 and out.stdout == "built\n", out.stderr
        # and back: an image podman built runs in podpy
        (ctx / "Dockerfile").write_text('FROM localhost/interop\nRUN echo podman > /p\nCMD ["cat", "/b", "/p"]\n')
        subprocess.run([*store, "build", *nofile, "--network", "none", "-t", "localhost/frompodman", str(ctx)],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run([*store, "save", "-o", str(tmp_path / "pm.tar"), "localhost/frompodman"], check=True,
                       capture_output=True)  # fmt: skip
        podpy("load", "-i", str(tmp_path / "pm.tar"))
        assert podpy("run", "--rm", "--network", "none", "localhost/frompodman").stdout == "built\npodman\n"
    finally:
        subprocess.run([*store, "system", "reset", "-f"], capture_output=True)
        shutil.rmtree(short, ignore_errors=True)


def test_pull_policies(podpy: Podpy, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM scratch\nENV A=1\n")
    podpy("build", "--pull", "--no-cache", str(ctx))  # alone: always (nothing to pull for scratch)
    (ctx / "Dockerfile").write_text("FROM not-here-locally\n")
    res = podpy("build", "--pull=never", str(ctx), check=False)
    assert res.returncode == 125 and "not-here-locally" in res.stderr
    assert podpy("build", "--pull=sometimes", str(ctx), check=False).returncode == 125


def test_interrupted_build_leaves_no_step_container(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    ctx = make_context(tmp_path, "FROM busybox AS a\nRUN sleep 60\nFROM busybox\nRUN sleep 60\n"
                                 "COPY --from=a /bin/sh /a\n")  # fmt: skip
    proc = subprocess.Popen(podpy.argv("build", "--no-cache", "-t", "intr", str(ctx)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not podpy("ps", "-aq").stdout.split() and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
        proc.wait()
    assert podpy("ps", "-aq").stdout == ""
    assert podpy("image", "exists", "intr", check=False).returncode == 1


def test_squash_all(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, "FROM busybox\nRUN echo a > /a && rm /etc/group\nCOPY f /f\n", {"f": "f\n"})
    podpy("build", "--squash-all", "-t", "sq", str(ctx))
    doc = json.loads(podpy("image", "inspect", "sq").stdout)[0]
    assert len(doc["RootFS"]["Layers"]) == 1
    assert run_out(podpy, "sq", "sh", "-c", "cat /a /f; test -e /etc/group || echo gone") == "a\nf\ngone\n"


def test_squash_new_layers(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox
RUN mkdir /t && echo a > /t/a && echo b > /b && rm /etc/group && echo old > /root/old
COPY f /f
RUN rm -r /t /b && rm -r /root && mkdir /root && echo new > /root/only
""", {"f": "f\n"})
    podpy("build", "--squash", "-t", "sqn", str(ctx))
    doc = json.loads(podpy("image", "inspect", "sqn").stdout)[0]
    base = json.loads(podpy("image", "inspect", "busybox").stdout)[0]
    assert doc["RootFS"]["Layers"][:-1] == base["RootFS"]["Layers"] and len(doc["RootFS"]["Layers"]) == 2
    out = run_out(podpy, "sqn", "sh", "-c", "cat /f; ls -A /root; test -e /t || test -e /b || test -e /etc/group "
                                            "|| echo gone")  # fmt: skip
    assert out == "f\nonly\ngone\n"


def test_copy_parents_and_symbolic_chmod(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, """\
FROM busybox
COPY --parents x/a.txt y/*.txt /p/
COPY --parents src/./lib/m.txt /q/
COPY --chmod=u+x,g-w,o= x/a.txt /c
COPY --chmod=a=rX x /cd/
""", {"x/a.txt": "a\n", "y/b.txt": "b\n", "y/c.txt": "c\n", "src/lib/m.txt": "m\n"})
    os.chmod(ctx / "x" / "a.txt", 0o664)
    podpy("build", "-t", "par", str(ctx))
    out = run_out(podpy, "par", "sh", "-c", "cat /p/x/a.txt /p/y/b.txt /p/y/c.txt /q/lib/m.txt; "
                                            "stat -c '%a %n' /c /cd /cd/a.txt")  # fmt: skip
    assert out == "a\nb\nc\nm\n740 /c\n755 /cd\n444 /cd/a.txt\n"  # each entry's own mode changed


def test_ssh_agent_forwarding_and_cache_from(podpy: Podpy, busybox_image: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import socket

    ctx = make_context(tmp_path, """\
FROM busybox
RUN --mount=type=ssh stat -c %F "$SSH_AUTH_SOCK" > /kind && echo "$SSH_AUTH_SOCK" > /where
RUN --mount=type=ssh,id=none true
""")
    with socket.socket(socket.AF_UNIX) as agent:
        agent.bind(str(tmp_path / "agent.sock"))
        agent.listen()
        monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "agent.sock"))
        podpy("build", "-t", "sshb", "--ssh", "default", str(ctx))
        (ctx / "Dockerfile").write_text("FROM busybox\nRUN --mount=type=ssh,id=k,required true\n")
        need = podpy("build", "--ssh", "default", str(ctx), check=False)
        assert need.returncode != 0 and "--ssh k" in need.stderr
        monkeypatch.delenv("SSH_AUTH_SOCK")
        bad = podpy("build", "--ssh", "default", str(ctx), check=False)
        assert bad.returncode == 125 and "SSH_AUTH_SOCK" in bad.stderr
    assert run_out(podpy, "sshb", "cat", "/kind", "/where") == "socket\n/run/buildkit/ssh_agent.0\n"
    podpy("save", "-o", str(tmp_path / "s.tar"), "sshb")
    assert not {"run", "run/buildkit"} & _layer_names(tmp_path / "s.tar")
    for args in (["--ssh", f"k={ctx / 'Dockerfile'}"], ["--cache-from", "reg.example/cache:tag"],
                 ["--cache-to", "type=local,dest=/tmp/x"]):  # fmt: skip
        res = podpy("build", *args, str(ctx), check=False)
        assert res.returncode == 125 and res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1, res.stderr


@pytest.mark.skipif(not shutil.which("git"), reason="git is not installed")
def test_git_context_and_add_git(podpy: Podpy, busybox_image: str, tmp_path: Path) -> None:
    import subprocess

    repo = tmp_path / "r.git"
    (repo / "sub").mkdir(parents=True)
    (repo / "Dockerfile").write_text("FROM busybox\nCOPY . /ctx/\n")
    (repo / "sub" / "Dockerfile").write_text("FROM busybox\nCOPY s.txt /s\n")
    (repo / "sub" / "s.txt").write_text("sub\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    url = f"file://{repo}"
    podpy("build", "-t", "gitctx", url)
    assert run_out(podpy, "gitctx", "sh", "-c", "ls -A /ctx; cat /ctx/sub/s.txt") == "Dockerfile\nsub\nsub\n"
    podpy("build", "-t", "gitsub", f"{url}#v1:sub")
    assert run_out(podpy, "gitsub", "cat", "/s") == "sub\n"
    (tmp_path / "c").mkdir()
    ctx = make_context(tmp_path / "c", f"FROM busybox\nADD {url}#main:sub /g/\nADD --keep-git-dir {url} /k/\n")
    podpy("build", "-t", "addgit", str(ctx))
    assert run_out(podpy, "addgit", "sh", "-c", "ls -A /g; test -d /k/.git && echo kept") == "Dockerfile\ns.txt\nkept\n"
    again = podpy("build", "-t", "addgit", str(ctx)).stdout
    assert again.count("Using cache") == 2  # the same commit: the same key
    bad = podpy("build", f"file://{tmp_path}/missing.git", check=False)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: ") and bad.stderr.count("\n") == 1, bad.stderr
