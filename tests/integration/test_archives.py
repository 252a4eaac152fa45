"""save/load through the real CLI: docker-archive and oci-archive, handcrafted archives, errors, kill -9."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import os
import pty
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


# ---------------------------------------------------------------- helpers: building archives by hand


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of(entries: dict[str, bytes | tuple[str, str]]) -> bytes:
    """A tar with regular files (bytes) and links (("sym"|"hard", target)), in the given order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, body in entries.items():
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if isinstance(body, tuple):
                ti.type = tarfile.SYMTYPE if body[0] == "sym" else tarfile.LNKTYPE
                ti.linkname = body[1]
                tf.addfile(ti)
            else:
                ti.size = len(body)
                tf.addfile(ti, io.BytesIO(body))
    return buf.getvalue()


def config_for(layers: list[bytes], cmd: str = "sh", **extra: object) -> bytes:
    """An image config whose diff_ids are the sha256 of the uncompressed layer tars."""
    doc = {
        "created": "2024-01-02T03:04:05Z", "architecture": "amd64", "os": "linux",
        "config": {"Cmd": [cmd], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(x) for x in layers]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        **extra,
    }  # fmt: skip
    return json.dumps(doc).encode()


def docker_archive(images: list[tuple[bytes, list[bytes], list[str]]]) -> bytes:
    """What `docker save` (< 25) writes: v1-style layer dirs (not named after diff IDs), a
    `<config hex>.json`, manifest.json and repositories. A layer seen before is a symlink, as Docker does."""
    entries: dict[str, bytes | tuple[str, str]] = {}
    manifest, repos = [], {}
    seen: dict[str, str] = {}
    for config, layers, tags in images:
        paths, parent = [], ""
        for layer in layers:  # v1 IDs differ per image (Docker derives them from the config too)
            v1 = hashlib.sha256((sha(config) + parent + sha(layer)).encode()).hexdigest()
            entries[f"{v1}/VERSION"] = b"1.0"
            v1_json = {"id": v1, "parent": parent} if parent else {"id": v1}
            entries[f"{v1}/json"] = json.dumps(v1_json).encode()
            if sha(layer) in seen:
                entries[f"{v1}/layer.tar"] = ("sym", f"../{seen[sha(layer)]}/layer.tar")
            else:
                entries[f"{v1}/layer.tar"] = layer
                seen[sha(layer)] = v1
            paths.append(f"{v1}/layer.tar")
            parent = v1
        cfg_name = hashlib.sha256(config).hexdigest() + ".json"
        entries[cfg_name] = config
        manifest.append({"Config": cfg_name, "RepoTags": tags, "Layers": paths})
        for t in tags:
            repo, tag = t.rsplit(":", 1)
            repos.setdefault(repo, {})[tag] = parent
    entries["manifest.json"] = json.dumps(manifest).encode()
    entries["repositories"] = json.dumps(repos).encode()
    return tar_of(entries)


def oci_archive(config: bytes, blobs: list[tuple[str, bytes]], annotations: list[dict[str, str]],
                drop: str | None = None) -> tuple[bytes, str]:  # fmt: skip
    """An OCI layout tar for one image; `blobs` are (media type, layer bytes as stored).

    Returns the tar and the manifest digest."""
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": m, "digest": sha(b), "size": len(b)} for m, b in blobs],
    }).encode()  # fmt: skip
    desc = {"mediaType": OCI_MANIFEST, "digest": sha(manifest), "size": len(manifest)}
    index = {"schemaVersion": 2, "manifests": [dict(desc, annotations=a) if a else desc for a in annotations]}
    entries: dict[str, bytes | tuple[str, str]] = {}
    for body in [b for _, b in blobs] + [config, manifest]:
        entries["blobs/sha256/" + sha(body)[7:]] = body
    if drop:
        del entries["blobs/sha256/" + drop[7:]]
    entries["index.json"] = json.dumps(index).encode()
    entries["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    return tar_of(entries), sha(manifest)


def inspect(podpy, ref: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(podpy("image", "inspect", ref).stdout)[0]


def image_ids(podpy) -> list[str]:  # type: ignore[no-untyped-def]
    return podpy("images", "-q", "--no-trunc").stdout.split()


def assert_one_error(res, needle: str) -> None:  # type: ignore[no-untyped-def]
    assert res.returncode == 125, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert needle in lines[0], lines[0]


def store_is_empty(podpy) -> None:  # type: ignore[no-untyped-def]
    assert image_ids(podpy) == []
    blobs = podpy.root / "blobs" / "sha256"
    assert not blobs.exists() or not any(blobs.iterdir()), list(blobs.iterdir())
    ingest = podpy.root / "ingest"
    assert not ingest.exists() or not any(ingest.iterdir())


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_round_trip_keeps_id_names_and_config(podpy, busybox_image, tmp_path, fmt):
    podpy("tag", "busybox", "example.com/team/tool:2.0")
    before = inspect(podpy, "busybox")
    out = tmp_path / "img.tar"
    podpy("save", "--format", fmt, "-o", str(out), "busybox", "example.com/team/tool:2.0")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".img.tar")]  # no temp file left
    podpy("rmi", "-f", "busybox")
    assert image_ids(podpy) == []
    res = podpy("load", "-i", str(out))
    assert res.stdout.strip() == "Loaded image: busybox:latest, example.com/team/tool:2.0"
    with open(out, "rb") as f:  # a regular file on stdin is read in place, like -i
        assert subprocess.run(podpy.argv("load"), stdin=f, capture_output=True).returncode == 0
    after = inspect(podpy, "busybox")
    assert after["Id"] == before["Id"] == busybox_image
    assert sorted(after["RepoTags"]) == sorted(before["RepoTags"])
    for key in ("Config", "RootFS", "Created", "History", "Architecture", "Os", "Size"):
        assert after[key] == before[key], key


def test_docker_archive_layout(podpy, busybox_image):
    """save to stdout: exactly Docker's layout, layers uncompressed, config byte for byte."""
    res = podpy.raw("save", "busybox")
    assert res.returncode == 0, res.stderr
    tf = tarfile.open(fileobj=io.BytesIO(res.stdout))
    names = tf.getnames()
    manifest = json.loads(tf.extractfile("manifest.json").read())
    assert manifest == [{"Config": busybox_image[7:] + ".json", "RepoTags": ["busybox:latest"],
                         "Layers": [manifest[0]["Layers"][0]]}]  # fmt: skip
    layer_path = manifest[0]["Layers"][0]
    layer = tf.extractfile(layer_path).read()
    config = tf.extractfile(busybox_image[7:] + ".json").read()
    assert sha(config) == busybox_image
    assert json.loads(config)["rootfs"]["diff_ids"] == [sha(layer)]
    assert layer_path == sha(layer)[7:] + "/layer.tar"
    assert "bin/busybox" in tarfile.open(fileobj=io.BytesIO(layer)).getnames()
    d = layer_path.split("/")[0]
    assert tf.extractfile(f"{d}/VERSION").read() == b"1.0"
    assert json.loads(tf.extractfile(f"{d}/json").read())["id"] == d
    assert json.loads(tf.extractfile("repositories").read()) == {"busybox": {"latest": d}}
    assert set(names) == {"manifest.json", "repositories", f"{busybox_image[7:]}.json", d,
                          f"{d}/VERSION", f"{d}/json", f"{d}/layer.tar"}  # fmt: skip


def test_oci_archive_layout(podpy, busybox_image):
    res = podpy.raw("save", "--format", "oci-archive", "busybox", busybox_image)
    assert res.returncode == 0, res.stderr
    tf = tarfile.open(fileobj=io.BytesIO(res.stdout))
    assert json.loads(tf.extractfile("oci-layout").read()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(tf.extractfile("index.json").read())
    (desc,) = index["manifests"]  # the ID names the same image: one entry, with its name
    assert desc["annotations"] == {
        "org.opencontainers.image.ref.name": "latest",
        "io.containerd.image.name": "docker.io/library/busybox:latest",
    }
    for m in tf.getmembers():  # every blob is named by its digest
        if m.isfile() and m.name.startswith("blobs/sha256/"):
            assert sha(tf.extractfile(m).read())[7:] == m.name.rsplit("/", 1)[1]
    manifest = json.loads(tf.extractfile("blobs/sha256/" + desc["digest"][7:]).read())
    assert manifest["config"]["digest"] == busybox_image


def test_saved_by_id_loads_untagged(podpy, busybox_image, tmp_path):
    for fmt in ("docker-archive", "oci-archive"):
        out = tmp_path / f"{fmt}.tar"
        podpy("save", "--format", fmt, "-o", str(out), busybox_image[7:19])
        podpy("rmi", "-f", "busybox")
        assert podpy("load", "-i", str(out)).stdout.strip() == f"Loaded image: {busybox_image}"
        assert inspect(podpy, busybox_image)["RepoTags"] == []
        podpy("tag", busybox_image, "busybox")


def test_import_platform_flags(podpy, busybox_tar):
    podpy("image", "import", "--os", "freebsd", "--arch", "arm64", "--variant", "v8", str(busybox_tar), "plat:1")
    doc = inspect(podpy, "plat:1")
    assert (doc["Os"], doc["Architecture"], doc.get("Variant")) == ("freebsd", "arm64", "v8")
    plain = inspect(podpy, podpy("import", str(busybox_tar)).stdout.strip())
    assert plain["Os"] == "linux" and not plain.get("Variant")


def test_several_images_share_a_layer_written_once(podpy, busybox_tar, tmp_path):
    """Two imports of the same tar: two images (different configs) on one layer."""
    a = podpy("import", "-c", 'CMD ["a"]', str(busybox_tar), "one:1").stdout.strip()
    b = podpy("import", "-c", 'CMD ["b"]', str(busybox_tar), "two:2").stdout.strip()
    podpy("tag", "one:1", "one:latest")
    assert a != b
    for fmt in ("docker-archive", "oci-archive"):
        data = podpy.raw("save", "--format", fmt, "one:1", "two:2", "one:latest").stdout
        tf = tarfile.open(fileobj=io.BytesIO(data))
        files = [m.name for m in tf.getmembers() if m.isfile()]
        if fmt == "docker-archive":
            assert len([n for n in files if n.endswith("/layer.tar")]) == 1
            tags = [e["RepoTags"] for e in json.loads(tf.extractfile("manifest.json").read())]
            assert tags == [["one:1", "one:latest"], ["two:2"]]
        else:
            assert len([n for n in files if n.startswith("blobs/")]) == 5  # 2 manifests, 2 configs, 1 layer
        podpy("rmi", "-f", "one:1", "two:2")
        assert image_ids(podpy) == []
        out = podpy("load", input=data).stdout.splitlines()
        assert out == ["Loaded image: one:1, one:latest", "Loaded image: two:2"]
        assert inspect(podpy, "one")["Id"] == a and inspect(podpy, "two:2")["Id"] == b


@pytest.mark.parametrize("codec", ["gzip", "xz", "zstd"])
def test_compressed_archive_loads(podpy, busybox_image, tmp_path, codec):
    data = podpy.raw("save", "busybox").stdout
    if codec == "gzip":
        packed = gzip.compress(data, 6)
    elif codec == "xz":
        packed = lzma.compress(data)
    else:
        zstandard = pytest.importorskip("zstandard")
        packed = zstandard.ZstdCompressor().compress(data)
    podpy("rmi", "busybox")
    (tmp_path / "a.tar.x").write_bytes(packed)
    assert podpy("load", "-i", str(tmp_path / "a.tar.x")).stdout.strip() == "Loaded image: busybox:latest"
    podpy("rmi", "busybox")
    assert podpy("load", input=packed).stdout.strip() == "Loaded image: busybox:latest"
    assert inspect(podpy, "busybox")["Id"] == busybox_image
    assert not any((podpy.root / "ingest").iterdir())  # the spool is gone


# ---------------------------------------------------------------- archives written by other tools


def test_handcrafted_docker_archive_loads(podpy, busybox_tar):
    base = busybox_tar.read_bytes()
    app = tar_of({"app/hello.txt": b"hi\n", "etc/.wh.group": b""})
    cfg1 = config_for([base, app], cmd="/app/run")
    cfg2 = config_for([base], cmd="sh")  # a second image on the same base layer (a symlink in the tar)
    data = docker_archive([(cfg1, [base, app], ["myapp:1.0", "registry.local:5000/team/app:prod"]),
                           (cfg2, [base], ["base:latest"])])  # fmt: skip
    out = podpy("load", input=data).stdout.splitlines()
    assert out == ["Loaded image: myapp:1.0, registry.local:5000/team/app:prod", "Loaded image: base:latest"]
    doc = inspect(podpy, "registry.local:5000/team/app:prod")
    assert doc["Id"] == sha(cfg1)
    assert doc["Config"]["Cmd"] == ["/app/run"]
    assert doc["RootFS"]["Layers"] == [sha(base), sha(app)]
    assert inspect(podpy, "base")["Id"] == sha(cfg2)
    podpy("load", input=data)  # loading again is idempotent
    assert sorted(image_ids(podpy)) == sorted({sha(cfg1), sha(cfg2)})


def test_docker25_archive_with_compressed_blobs(podpy, busybox_tar):
    """Docker 25+: manifest.json points into blobs/sha256 (next to index.json); layers may be gzip."""
    base = busybox_tar.read_bytes()
    gz = gzip.compress(base, 6)
    cfg = config_for([base])
    tar, _ = oci_archive(cfg, [(OCI_LAYER_GZIP, gz)], [{"org.opencontainers.image.ref.name": "ignored"}])
    entries = {m.name: tarfile.open(fileobj=io.BytesIO(tar)).extractfile(m).read()
               for m in tarfile.open(fileobj=io.BytesIO(tar)).getmembers() if m.isfile()}  # fmt: skip
    entries["manifest.json"] = json.dumps([{"Config": "blobs/sha256/" + sha(cfg)[7:], "RepoTags": ["new:25"],
                                            "Layers": ["blobs/sha256/" + sha(gz)[7:]]}]).encode()  # fmt: skip
    entries = {"./" + k: v for k, v in entries.items()}  # tars made with `tar -C dir .` look like this
    assert podpy("load", input=tar_of(entries)).stdout.strip() == "Loaded image: new:25"
    assert inspect(podpy, "new:25")["Id"] == sha(cfg)


def test_handcrafted_oci_layout_loads(podpy, busybox_tar):
    base = busybox_tar.read_bytes()
    gz = gzip.compress(base, 6)
    cfg = config_for([base])
    tar, manifest_digest = oci_archive(cfg, [(OCI_LAYER_GZIP, gz)], [
        {"org.opencontainers.image.ref.name": "1.0", "io.containerd.image.name": "example.com/app:1.0"},
        {"org.opencontainers.image.ref.name": "localhost/other:2"},  # some tools put a full name here
    ])  # fmt: skip
    out = podpy("load", input=tar).stdout.strip()
    assert out == "Loaded image: example.com/app:1.0, localhost/other:2"
    doc = inspect(podpy, "example.com/app:1.0")
    assert doc["Id"] == sha(cfg) and doc["RootFS"]["Layers"] == [sha(base)]
    assert inspect(podpy, "localhost/other:2")["Id"] == sha(cfg)
    # the compressed blob and the manifest are kept as they were: saving gives the same digests back
    saved = podpy.raw("save", "--format", "oci-archive", "example.com/app:1.0").stdout
    again = tarfile.open(fileobj=io.BytesIO(saved))
    assert json.loads(again.extractfile("index.json").read())["manifests"][0]["digest"] == manifest_digest
    assert again.extractfile("blobs/sha256/" + sha(gz)[7:]).read() == gz
    # docker-archive wants layers uncompressed: the stored gzip blob is decompressed on the way out
    docker = tarfile.open(fileobj=io.BytesIO(podpy.raw("save", "example.com/app:1.0").stdout))
    assert docker.extractfile(sha(base)[7:] + "/layer.tar").read() == base


def test_oci_multi_platform_index_picks_this_platform(podpy, busybox_tar):
    """index.json -> nested image index -> one manifest per platform; only ours needs its blobs."""
    base = busybox_tar.read_bytes()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    ours, theirs = config_for([base], architecture=arch), config_for([b"elsewhere"], architecture="s390x")
    tar, ours_manifest = oci_archive(ours, [("application/vnd.oci.image.layer.v1.tar", base)], [None])
    entries = {m.name: tarfile.open(fileobj=io.BytesIO(tar)).extractfile(m).read()
               for m in tarfile.open(fileobj=io.BytesIO(tar)).getmembers() if m.isfile()}  # fmt: skip
    other = {"mediaType": OCI_MANIFEST, "digest": sha(b"absent"), "size": 6,
             "platform": {"os": "linux", "architecture": "s390x"}}  # fmt: skip
    mine = {"mediaType": OCI_MANIFEST, "digest": ours_manifest,
            "size": len(entries["blobs/sha256/" + ours_manifest[7:]]),
            "platform": {"os": "linux", "architecture": arch}}  # fmt: skip
    nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": [other, mine]}).encode()  # fmt: skip
    entries["blobs/sha256/" + sha(nested)[7:]] = nested
    entries["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(nested), "size": len(nested),
        "annotations": {"io.containerd.image.name": "docker.io/library/multi:1"}}]}).encode()  # fmt: skip
    assert podpy("load", input=tar_of(entries)).stdout.strip() == "Loaded image: multi:1"
    assert inspect(podpy, "multi:1")["Id"] == sha(ours) != sha(theirs)


def test_oci_bare_tag_without_name_loads_untagged(podpy, busybox_tar):
    base = busybox_tar.read_bytes()
    cfg = config_for([base])
    tar, _ = oci_archive(cfg, [("application/vnd.oci.image.layer.v1.tar", base)],
                         [{"org.opencontainers.image.ref.name": "latest"}])  # fmt: skip
    assert podpy("load", input=tar).stdout.strip() == f"Loaded image: {sha(cfg)}"
    assert inspect(podpy, sha(cfg))["RepoTags"] == []


# ---------------------------------------------------------------- refusals


def test_corrupt_docker_layer_is_refused_and_nothing_stored(podpy, busybox_tar):
    base = busybox_tar.read_bytes()
    good = tar_of({"a.txt": b"good"})
    bad = tar_of({"a.txt": b"evil"})
    cfg = config_for([base, good])
    data = docker_archive([(cfg, [base, bad], ["x:1"])])
    assert_one_error(podpy("load", input=data, check=False), "does not match diff ID")
    store_is_empty(podpy)  # the good base layer ingested first was removed again


def test_corrupt_oci_layer_is_refused_and_nothing_stored(podpy, busybox_tar):
    base = busybox_tar.read_bytes()
    cfg = config_for([base])
    wrong = gzip.compress(base + b"\0" * 1024, 6)  # a valid blob whose content is not the diff ID
    tar, _ = oci_archive(cfg, [(OCI_LAYER_GZIP, wrong)], [{"io.containerd.image.name": "x:1"}])
    assert_one_error(podpy("load", input=tar, check=False), "does not match diff ID")
    store_is_empty(podpy)


def test_load_errors_are_one_clear_line(podpy, busybox_tar, tmp_path):
    cfg = config_for([b"x"])
    missing, _ = oci_archive(cfg, [("application/vnd.oci.image.layer.v1.tar", b"x")], [None], drop=sha(b"x"))
    cases = [
        (os.urandom(4096), "not a tar archive"),
        (b"", "not a tar archive"),
        (tar_of({"hello.txt": b"hi"}), "neither manifest.json"),
        (tar_of({"manifest.json": b"{nope"}), "manifest.json is not valid JSON"),
        (tar_of({"manifest.json": b'[{"Config": "c.json", "Layers": []}]'}), "'c.json'"),
        (missing, f"blob {sha(b'x')} is missing"),
        (gzip.compress(b"not a tar at all" * 100), "not a tar archive"),
        (gzip.compress(b"truncated gzip stream" * 100)[:50], "Error"),
    ]
    for data, needle in cases:
        assert_one_error(podpy("load", input=data, check=False), needle)
    assert_one_error(podpy("load", "-i", str(tmp_path / "nope.tar"), check=False), "nope.tar")
    store_is_empty(podpy)


def test_save_errors(podpy, busybox_image, tmp_path):
    out = tmp_path / "o.tar"
    res = podpy("save", "-o", str(out), "busybox", "nosuch", check=False)
    assert_one_error(res, "nosuch: image not known")
    assert_one_error(podpy("save", "--format", "tarball", "-o", str(out), "busybox", check=False), "tarball")
    # a blob gone from the store: the save fails and leaves neither the archive nor its temp file
    layer = inspect(podpy, "busybox")["RootFS"]["Layers"][0]
    (podpy.root / "blobs" / "sha256" / layer[7:]).unlink()
    assert podpy("save", "-o", str(out), "busybox", check=False).returncode == 125
    assert list(tmp_path.glob("*o.tar*")) == []


def test_save_refuses_a_terminal(podpy, busybox_image):
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(podpy.argv("save", "busybox"), stdout=slave, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 125
    assert b"refusing to save to terminal" in proc.stderr and b"Traceback" not in proc.stderr


# ---------------------------------------------------------------- interruption


def _big_archive(tmp_path: Path, stage: str) -> tuple[Path, bytes]:
    """ingest: an oci-archive with a gzip layer (its blob is copied into the store before extraction);
    extract: a docker-archive, whose uncompressed layer is extracted straight from the archive."""
    layer = tar_of({"big.bin": os.urandom(50 << 20), "small.txt": b"x"})
    cfg = config_for([layer], cmd="big")
    path = tmp_path / "big.tar"
    if stage == "ingest":
        gz = gzip.compress(layer, 1)
        path.write_bytes(oci_archive(cfg, [(OCI_LAYER_GZIP, gz)], [{"org.opencontainers.image.ref.name": "big:1"}])[0])
    else:
        path.write_bytes(docker_archive([(cfg, [layer], ["big:1"])]))
    return path, cfg


def _busy(root: Path, stage: str) -> bool:
    """The load is at `stage`: a partial blob in ingest/, or an extraction (.tmp-*) under layers/."""
    if stage == "ingest":
        d, started = root / "ingest", lambda name: name[:1].isdigit()
    else:
        d, started = root / "layers", lambda name: name.startswith(".tmp")
    return d.exists() and any(started(p.name) for p in d.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["ingest", "extract"])
def test_kill_9_during_load_leaves_a_usable_store(podpy, tmp_path, stage):
    path, cfg = _big_archive(tmp_path, stage)
    argv = podpy.argv("load", "-i", str(path))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and not _busy(podpy.root, stage) and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "the load finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    res = podpy("images")
    assert "Traceback" not in res.stderr and res.stderr == ""
    assert image_ids(podpy) in ([], [sha(cfg)])
    assert podpy("load", "-i", str(path)).stdout.strip() in ("Loaded image: big:1", "Loaded image: localhost/big:1")
    assert inspect(podpy, "big:1")["Id"] == sha(cfg)
    assert not [p for p in (podpy.root / "ingest").iterdir()]  # partial writes of the killed load collected


# ---------------------------------------------------------------- interoperability (only where podman is)


@pytest.mark.skipif(shutil.which("podman") is None or os.geteuid() != 0, reason="needs podman, as root")
@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_interop(podpy, busybox_tar, tmp_path, fmt):
    short = Path(tempfile.mkdtemp(prefix="pm-"))  # podman refuses a runroot longer than 50 characters
    base = ["podman", "--root", str(tmp_path / "pm-root"), "--runroot", str(short),
            "--storage-driver", "vfs"]  # fmt: skip

    def podman(*args: str) -> str:
        res = subprocess.run([*base, *args], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return res.stdout

    try:
        podman("import", str(busybox_tar), "localhost/frompodman:1")
        theirs = podman("image", "inspect", "--format", "{{.Id}}", "localhost/frompodman:1").strip()
        podman("save", "--format", fmt, "-o", str(tmp_path / "pm.tar"), "localhost/frompodman:1")
        podpy("load", "-i", str(tmp_path / "pm.tar"))
        assert inspect(podpy, "localhost/frompodman:1")["Id"].removeprefix("sha256:") == theirs

        mine = podpy("import", str(busybox_tar), "localhost/frompodpy:2").stdout.strip()
        podpy("save", "--format", fmt, "-o", str(tmp_path / "pp.tar"), "localhost/frompodpy:2")
        podman("load", "-i", str(tmp_path / "pp.tar"))
        got = podman("image", "inspect", "--format", "{{.Id}}", "localhost/frompodpy:2").strip()
        assert got == mine.removeprefix("sha256:")
    finally:
        subprocess.run([*base, "system", "reset", "-f"], capture_output=True, timeout=120)
        shutil.rmtree(short, ignore_errors=True)
