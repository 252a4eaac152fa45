"""`load` keeps an uncompressed layer once (its tree + a tar-split), and `save`/`push` rebuild the exact tar.

Root only: rootless stores keep the blob (their trees hold files of other ids).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from tests.conftest import Podpy, _cleanup_store
from tests.integration.registry_fixtures import open_registry_fixture, registry_env_fixture  # noqa: F401
from tests.integration.test_archives import assert_one_error, config_for, docker_archive, sha

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="tar-splits are kept by root stores only"),
]

MB = 1 << 20


def layer_tar(entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]], pad: int = 0) -> bytes:
    """A tar in exactly this order; `pad` extra zero blocks after the end (some tools write them)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            if isinstance(e, tuple):
                tf.addfile(e[0], io.BytesIO(e[1]))
            else:
                tf.addfile(e)
    return buf.getvalue() + b"\0" * (512 * pad)


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **kw: object):  # type: ignore[no-untyped-def]
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mtime = 1700000000
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        return (ti, data)
    return ti


def base_layer() -> bytes:
    files = [entry(f"data/f{i:03d}", data=os.urandom(i * 997 % 70000)) for i in range(60)]
    return layer_tar([
        entry("bin", tarfile.DIRTYPE), entry("data", tarfile.DIRTYPE, mode=0o700),
        entry("bin/big", data=os.urandom(3 * MB + 17)),
        *files,
        entry("bin/empty"),
        entry("bin/hard", tarfile.LNKTYPE, linkname="bin/big"),
        entry("bin/sym", tarfile.SYMTYPE, linkname="/data/f001"),
        entry("deep/" + "/".join(["n" * 90] * 4) + "/long", data=b"a long name: a pax header"),
        entry("xattr", data=b"x", pax_headers={"SCHILY.xattr.user.test": "v"}),
        entry("sym-dir", tarfile.SYMTYPE, linkname="data"),
        entry("sym-dir/through", data=b"written through a symlink"),
    ], pad=4)  # fmt: skip


def upper_layer() -> bytes:
    return layer_tar([
        entry("data/.wh.f002"), entry("data/.wh..wh..opq"), entry("data/new", data=os.urandom(200_000)),
        entry("bin/big", data=b"replaced in the upper layer"),
    ])  # fmt: skip


def store_bytes(root: Path) -> int:
    """Disk blocks used under `root` (hard links counted once), as du does."""
    seen, total = set(), 0
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def saved_layers(archive: Path) -> dict[str, bytes]:
    """diff ID -> the layer tar's bytes, from a docker-archive."""
    with tarfile.open(archive) as tf:
        manifest = json.loads(tf.extractfile("manifest.json").read())  # type: ignore[union-attr]
        out = {}
        for path in manifest[0]["Layers"]:
            data = tf.extractfile(path).read()  # type: ignore[union-attr]
            out[sha(data)] = data
        return out


@pytest.fixture(params=["overlay", "vfs"])
def podpy(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Both drivers: overlay keeps one layer's files per tree, vfs a full snapshot."""
    return request.getfixturevalue("podpy_vfs" if request.param == "vfs" else "podpy")


@pytest.fixture
def loaded(podpy, tmp_path: Path):  # type: ignore[no-untyped-def]
    layers = [base_layer(), upper_layer()]
    src = tmp_path / "in.tar"
    src.write_bytes(docker_archive([(config_for(layers), layers, ["once:v1"])]))
    podpy("load", "-q", "-i", str(src))
    return layers


def test_load_stores_each_layer_once_and_save_rebuilds_it(podpy, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = sum(len(x) for x in loaded)
    used, trees = store_bytes(podpy.root), store_bytes(podpy.root / "layers")
    assert used - trees < 0.1 * data, f"{used - trees} bytes beside the layer trees: the blobs kept too?"
    if "vfs" not in podpy.extra:  # (vfs trees are snapshots: each holds its parents' files too)
        assert used < 1.3 * data, f"store holds {used} bytes for {data} bytes of layers: blob and tree both?"
    for layer in loaded:
        assert not (podpy.root / "blobs" / "sha256" / sha(layer)[7:]).exists()
        assert (podpy.root / "blobs" / "tar-split" / sha(layer)[7:]).is_file()
    out = tmp_path / "out.tar"
    podpy("save", "-o", str(out), "once:v1")
    got = saved_layers(out)
    assert got == {sha(x): x for x in loaded}  # byte for byte: same digests, same trailing padding
    sizes = json.loads(podpy("image", "inspect", "--format", "{{json .RootFS.Layers}}", "once:v1").stdout)
    assert sizes == [sha(x) for x in loaded]


def test_oci_save_and_reload_keep_the_digests(podpy, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "oci.tar"
    podpy("save", "--format", "oci-archive", "-o", str(out), "once:v1")
    with tarfile.open(out) as tf:
        for layer in loaded:
            assert tf.extractfile(f"blobs/sha256/{sha(layer)[7:]}").read() == layer  # type: ignore[union-attr]
    podpy("rmi", "once:v1")
    assert not list((podpy.root / "blobs" / "tar-split").iterdir())
    podpy("load", "-q", "-i", str(out))  # an uncompressed OCI layer is kept once too
    assert (podpy.root / "blobs" / "tar-split" / sha(loaded[0])[7:]).is_file()
    again = tmp_path / "again.tar"
    podpy("save", "-o", str(again), "once:v1")
    assert saved_layers(again) == {sha(x): x for x in loaded}


def test_an_altered_tree_fails_save_clearly(podpy, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    diff = podpy.root / "layers" / sha(loaded[0])[7:] / "diff"
    victim = diff / "data" / "f010"
    victim.write_bytes(b"\0" * victim.stat().st_size)  # same size, other bytes: only the digest tells
    out = tmp_path / "out.tar"
    assert_one_error(podpy("save", "-o", str(out), "once:v1", check=False), "changed since it was stored")
    assert not out.exists()
    victim.unlink()
    victim.symlink_to("/etc/passwd")  # never followed out of the tree
    res = podpy("save", "-o", str(out), "once:v1", check=False)
    assert_one_error(res, "changed since it was stored")
    assert "root:" not in res.stderr


def test_a_tar_that_overwrites_its_own_file_keeps_the_blob(podpy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    layer = layer_tar([entry("f", data=b"first"), entry("f", data=b"second, the one on disk")])
    src = tmp_path / "in.tar"
    src.write_bytes(docker_archive([(config_for([layer]), [layer], ["dup:v1"])]))
    podpy("load", "-q", "-i", str(src))
    assert (podpy.root / "blobs" / "sha256" / sha(layer)[7:]).is_file()
    out = tmp_path / "out.tar"
    podpy("save", "-o", str(out), "dup:v1")
    assert saved_layers(out) == {sha(layer): layer}


def test_rmi_of_the_image_holding_the_tree_keeps_a_blob_others_use(podpy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shared = base_layer()
    first = layer_tar([entry("a", data=b"a")])
    src1, src2 = tmp_path / "one.tar", tmp_path / "two.tar"
    src1.write_bytes(docker_archive([(config_for([shared]), [shared], ["one:v1"])]))
    src2.write_bytes(docker_archive([(config_for([first, shared]), [first, shared], ["two:v1"])]))
    podpy("load", "-q", "-i", str(src1))  # the tree and the tar-split: under one:v1's chain
    podpy("load", "-q", "-i", str(src2))  # the same blob on another parent: extracted from the rebuilt tar
    podpy("rmi", "one:v1")  # its layer goes: the blob two:v1 uses becomes a file first
    assert (podpy.root / "blobs" / "sha256" / sha(shared)[7:]).is_file()
    out = tmp_path / "out.tar"
    podpy("save", "-o", str(out), "two:v1")
    assert saved_layers(out) == {sha(first): first, sha(shared): shared}


def test_a_corrupt_layer_leaves_nothing_behind(podpy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good, bad = base_layer(), upper_layer()
    cfg = config_for([good, bad])
    bad = bad[:-1024] + b"x" * 1024  # the diff ID no longer matches
    src = tmp_path / "in.tar"
    src.write_bytes(docker_archive([(cfg, [good, bad], ["bad:v1"])]))
    assert_one_error(podpy("load", "-q", "-i", str(src), check=False), "does not match diff ID")
    assert podpy("images", "-q").stdout.strip() == ""
    layers = podpy.root / "layers"
    assert not [p for p in layers.iterdir() if not p.name.startswith(".")] if layers.exists() else True
    splits = podpy.root / "blobs" / "tar-split"
    assert not (splits.exists() and list(splits.iterdir()))


def test_push_of_a_loaded_image_rebuilds_its_layers(podpy, loaded, open_registry, registry_env, tmp_path: Path):  # type: ignore[no-untyped-def]
    dest = f"{open_registry.host}/once/loaded:v1"
    podpy("push", "-q", "once:v1", dest)
    other = Podpy(tmp_path / "root2", tmp_path / "run2", ["--storage-driver", "vfs"])
    try:
        other("pull", "-q", dest)
        out = tmp_path / "pulled.tar"
        other("save", "-o", str(out), dest)
        assert saved_layers(out) == {sha(x): x for x in loaded}  # the same diff IDs, the same bytes
    finally:
        _cleanup_store(other)
    diff = podpy.root / "layers" / sha(loaded[0])[7:] / "diff"
    (diff / "bin" / "big").write_bytes(b"\0" * (diff / "bin" / "big").stat().st_size)
    res = podpy("push", "-q", "--compression-format", "zstd", "once:v1", f"{open_registry.host}/once/tampered:v1",
                check=False)  # fmt: skip
    assert_one_error(res, "changed since it was stored")
