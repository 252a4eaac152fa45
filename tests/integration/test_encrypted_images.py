"""Encrypted images (ocicrypt, issue 11: `build --decryption-key`): layers encrypted by an
independent encrypter (tests/ocicrypt_encrypt.py) or by buildah when installed, pushed to a
loopback docker-registry or written as an OCI layout. With the key they are decrypted, verified
and stored as plain layers (`run --rm` shows the secret file); without it, with a wrong key or
with an altered blob the command fails with one clear `Error:` line and nothing is stored."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("cryptography")

from podpy.engine.importer import go_arch  # noqa: E402
from tests import ocicrypt_encrypt as oe  # noqa: E402
from tests.integration.registry_fixtures import (  # noqa: E402,F401  (fixtures)
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Seeder,
    open_registry_fixture,
    registry_env_fixture,
    tar_layer,
)

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")]  # fmt: skip

SECRET = b"top secret\n"


def _plain_image(busybox_tar: Path) -> tuple[bytes, bytes, dict[str, bytes]]:
    """(config, manifest, blobs by digest): busybox and a layer with /secret.txt, gzip, OCI."""
    tars = [busybox_tar.read_bytes(), tar_layer({"secret.txt": SECRET})]
    gz = [gzip.compress(t, compresslevel=1, mtime=0) for t in tars]
    config = json.dumps({
        "created": "2024-01-02T03:04:05Z", "architecture": go_arch(), "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [oe.sha(t) for t in tars]},
        "history": [{"created_by": "busybox"}, {"created_by": "secret"}],
    }).encode()  # fmt: skip
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": oe.sha(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": oe.sha(b), "size": len(b)} for b in gz],
    }).encode()  # fmt: skip
    return config, manifest, {oe.sha(b): b for b in gz}


def _push(reg, repo: str, config: bytes, manifest: bytes, blobs: dict[str, bytes]) -> str:  # type: ignore[no-untyped-def]
    s = Seeder(reg)
    for b in [config, *blobs.values()]:
        s.blob(repo, b)
    s.manifest(repo, "v1", manifest, OCI_MANIFEST)
    return f"{reg.host}/{repo}:v1"


def _encrypted(busybox_tar: Path, keys: list, which: list[int] | None = None):  # type: ignore[no-untyped-def]
    config, manifest, blobs = _plain_image(busybox_tar)
    enc_manifest, enc_blobs = oe.encrypt_manifest(manifest, blobs, [k.public_key() for k in keys], which)
    return config, enc_manifest, enc_blobs


def _context(tmp_path: Path, ref: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(f"FROM {ref}\nENV BUILT=1\n")
    return ctx


def _stored_blobs(podpy) -> list[str]:  # type: ignore[no-untyped-def]
    d = podpy.root / "blobs" / "sha256"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def _assert_plain_manifest(podpy, ref: str) -> None:  # type: ignore[no-untyped-def]
    digest = podpy("image", "inspect", "--format", "{{.Digest}}", ref).stdout.strip()
    doc = json.loads((podpy.root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes())
    for layer in doc["layers"]:
        assert layer["mediaType"] == OCI_LAYER_GZIP, layer
        assert not any(k.startswith("org.opencontainers.image.enc.") for k in layer.get("annotations") or {})


def test_build_decrypts_a_pulled_base_with_a_passphrase_protected_rsa_key(
    podpy, open_registry, registry_env, busybox_tar, tmp_path
):
    key = oe.rsa_key()
    pem = oe.write_pem(key, tmp_path / "key.pem", b"pass phrase")
    ref = _push(open_registry, "enc/rsa", *_encrypted(busybox_tar, [key]))
    podpy("build", "-q", "-t", "dec", "--decryption-key", f"{pem}:pass phrase", str(_context(tmp_path, ref)))
    assert podpy("run", "--rm", "dec", "cat", "/secret.txt").stdout.encode() == SECRET
    _assert_plain_manifest(podpy, ref)
    assert podpy("run", "--rm", ref, "cat", "/secret.txt").stdout.encode() == SECRET  # the base is stored too


def test_ec_key_among_several_and_a_partly_encrypted_image(podpy, open_registry, registry_env, busybox_tar, tmp_path):
    ec_key, other = oe.ec_key(), oe.rsa_key()
    ref = _push(open_registry, "enc/ec", *_encrypted(busybox_tar, [other, ec_key], which=[1]))
    wrong = oe.write_pem(oe.rsa_key(), tmp_path / "wrong.pem")
    good = oe.write_pem(ec_key, tmp_path / "ec.pem", traditional=True)
    podpy("build", "-q", "-t", "dec", "--decryption-key", str(wrong), "--decryption-key", str(good),
          str(_context(tmp_path, ref)))  # fmt: skip
    assert podpy("run", "--rm", "dec", "cat", "/secret.txt").stdout.encode() == SECRET


def _error_line(res) -> str:  # type: ignore[no-untyped-def]
    assert res.returncode == 125, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, res.stderr
    return errors[0]


def test_no_key_or_a_wrong_key_is_one_error_and_stores_nothing(
    podpy, open_registry, registry_env, busybox_tar, tmp_path
):
    key = oe.rsa_key()
    ref = _push(open_registry, "enc/nokey", *_encrypted(busybox_tar, [key]))
    ctx = _context(tmp_path, ref)
    for argv in (["build", "-q", str(ctx)], ["pull", ref], ["run", "--rm", ref, "true"]):
        line = _error_line(podpy(*argv, check=False))
        assert line.startswith("Error: decrypting layer sha256:"), line
        assert line.endswith(": missing private key needed for decryption"), line
    wrong = oe.write_pem(oe.rsa_key(), tmp_path / "wrong.pem")
    line = _error_line(podpy("build", "-q", "--decryption-key", str(wrong), str(ctx), check=False))
    assert "none of the private keys could be used for decryption" in line, line
    locked = oe.write_pem(key, tmp_path / "locked.pem", b"pw")
    line = _error_line(podpy("build", "-q", "--decryption-key", str(locked), str(ctx), check=False))
    assert line == f"Error: --decryption-key {locked}: the private key is encrypted: give its password as FILE:PASSWORD"
    line = _error_line(podpy("build", "-q", "--decryption-key", f"{locked}:bad", str(ctx), check=False))
    assert line == f"Error: --decryption-key {locked}: wrong password for the private key"
    assert podpy("images", "-a", "-q").stdout == ""
    assert _stored_blobs(podpy) == []  # not even the config: the keys are unwrapped first


def test_an_altered_layer_fails_its_hmac_and_no_image_is_stored(
    podpy, open_registry, registry_env, busybox_tar, tmp_path
):
    key = oe.rsa_key()
    config, manifest, blobs = _encrypted(busybox_tar, [key], which=[1])
    doc = json.loads(manifest)
    layer = doc["layers"][1]
    flipped = bytearray(blobs.pop(layer["digest"]))
    flipped[5] ^= 0x40
    layer["digest"] = oe.sha(bytes(flipped))  # the registry accepts it: only the HMAC can tell
    blobs[layer["digest"]] = bytes(flipped)
    ref = _push(open_registry, "enc/altered", config, json.dumps(doc).encode(), blobs)
    pem = oe.write_pem(key, tmp_path / "key.pem")
    line = _error_line(podpy("build", "-q", "--decryption-key", str(pem), str(_context(tmp_path, ref)), check=False))
    assert "the HMAC does not match" in line, line
    assert podpy("images", "-a", "-q").stdout == ""
    # a layer that decrypts fine but is not the tar the config names: its plaintext is not kept
    config, manifest, blobs = _plain_image(busybox_tar)
    doc = json.loads(manifest)
    other = gzip.compress(tar_layer({"secret.txt": b"something else\n"}), mtime=0)
    blobs[oe.sha(other)] = other
    doc["layers"][1] = {"mediaType": OCI_LAYER_GZIP, "digest": oe.sha(other), "size": len(other)}
    enc_manifest, enc_blobs = oe.encrypt_manifest(json.dumps(doc).encode(), blobs, [key.public_key()], [1])
    ref = _push(open_registry, "enc/swapped", config, enc_manifest, enc_blobs)
    line = _error_line(podpy("build", "-q", "--decryption-key", str(pem), str(_context(tmp_path, ref)), check=False))
    assert "does not match diff ID" in line and "once decrypted" in line, line
    assert podpy("images", "-a", "-q").stdout == "" and _stored_blobs(podpy) == []


def _oci_layout(d: Path, config: bytes, manifest: bytes, blobs: dict[str, bytes]) -> Path:
    (d / "blobs" / "sha256").mkdir(parents=True)
    for b in [config, manifest, *blobs.values()]:
        (d / "blobs" / "sha256" / oe.sha(b).removeprefix("sha256:")).write_bytes(b)
    (d / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": oe.sha(manifest),
             "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}  # fmt: skip
    (d / "index.json").write_text(json.dumps(index))
    return d


def _engine(podpy):  # type: ignore[no-untyped-def]
    from podpy.config import Options
    from podpy.engine.core import Engine

    return Engine(Options(root=podpy.root, runroot=podpy.runroot))


def test_oci_layouts_with_encrypted_layers_load_only_with_the_key(podpy, busybox_tar, tmp_path):
    from podpy.engine.archives import load_archive
    from podpy.engine.layer_decrypt import load_keys
    from podpy.errors import CorruptContent

    key = oe.ec_key(oe.ec.SECP384R1())
    layout = _oci_layout(tmp_path / "layout", *_encrypted(busybox_tar, [key]))
    for argv in (["load", "-i", str(layout)], ["pull", f"oci:{layout}"]):
        assert _error_line(podpy(*argv, check=False)).endswith(": missing private key needed for decryption")
    assert _stored_blobs(podpy) == []
    keys = load_keys([str(oe.write_pem(key, tmp_path / "ec.pem"))])
    load_archive(_engine(podpy), str(layout), names=["dec:v1"], keys=keys)
    assert podpy("run", "--rm", "dec:v1", "cat", "/secret.txt").stdout.encode() == SECRET
    _assert_plain_manifest(podpy, "dec:v1")
    podpy("rmi", "-a")
    # a layer whose plaintext is not the tar the config names: refused, and its blobs removed again
    config, manifest, blobs = _plain_image(busybox_tar)
    doc = json.loads(manifest)
    other = gzip.compress(tar_layer({"secret.txt": b"something else\n"}), mtime=0)
    blobs[oe.sha(other)] = other
    doc["layers"][1] = {"mediaType": OCI_LAYER_GZIP, "digest": oe.sha(other), "size": len(other)}
    enc_manifest, enc_blobs = oe.encrypt_manifest(json.dumps(doc).encode(), blobs, [key.public_key()], [1])
    before = _stored_blobs(podpy)
    with pytest.raises(CorruptContent, match="does not match diff ID .* once decrypted"):
        load_archive(_engine(podpy), str(_oci_layout(tmp_path / "bad", config, enc_manifest, enc_blobs)), keys=keys)
    assert _stored_blobs(podpy) == before


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("buildah") is None, reason="buildah is not installed (the interop oracle)")
def test_images_encrypted_by_buildah(podpy, open_registry, registry_env, busybox_tar, tmp_path):
    """buildah (containers/image + ocicrypt) encrypts: for RSA and EC keys through a registry
    (decrypted with the EC one), for an RSA key to an OCI layout."""
    from podpy.engine.archives import load_archive
    from podpy.engine.layer_decrypt import load_keys

    layout = _oci_layout(tmp_path / "plain", *_plain_image(busybox_tar))
    b = ["buildah", "--root", str(tmp_path / "b-root"), "--runroot", str(tmp_path / "b-run"),
         "--storage-driver", "vfs"]  # fmt: skip

    def buildah(*args: str) -> None:
        subprocess.run([*b, *args], check=True, capture_output=True, timeout=300)

    buildah("pull", "-q", f"oci:{layout}:v1")
    keys = {"ec": oe.ec_key(), "rsa": oe.rsa_key()}
    pubs = {}
    for name, k in keys.items():
        pubs[name] = tmp_path / f"{name}.pub"
        pubs[name].write_bytes(k.public_key().public_bytes(oe.serialization.Encoding.PEM,
                                                           oe.serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    ref = f"{open_registry.host}/buildah/enc:v1"
    image_id = oe.sha(_plain_image(busybox_tar)[0]).removeprefix("sha256:")
    buildah("push", "--tls-verify=false", "--encryption-key", f"jwe:{pubs['rsa']}", "--encryption-key",
            f"jwe:{pubs['ec']}", image_id, f"docker://{ref}")  # two recipients: go-jose's general JSON
    buildah("push", "--encryption-key", f"jwe:{pubs['rsa']}", image_id, f"oci:{tmp_path / 'rsa'}:v1")
    _, _, raw = Seeder(open_registry).call("GET", "/v2/buildah/enc/manifests/v1", headers={"Accept": OCI_MANIFEST})
    layer = json.loads(raw)["layers"][-1]
    assert layer["mediaType"] == OCI_LAYER_GZIP + "+encrypted"
    jwe_doc = json.loads(base64.b64decode(layer["annotations"]["org.opencontainers.image.enc.keys.jwe"]))
    assert len(jwe_doc["recipients"]) == 2
    # and the other way round: buildah decrypts what the test helper encrypts (the helper is faithful)
    helper_ref = _push(open_registry, "helper/enc", *_encrypted(busybox_tar, [keys["rsa"], keys["ec"]], which=[1]))
    no_key = subprocess.run([*b, "pull", "-q", "--tls-verify=false", f"docker://{helper_ref}"], capture_output=True)
    assert no_key.returncode != 0, no_key.stdout
    for name in ("rsa", "ec"):
        pem = oe.write_pem(keys[name], tmp_path / f"{name}.pem")
        buildah("pull", "-q", "--tls-verify=false", "--decryption-key", str(pem), f"docker://{helper_ref}")
        buildah("rmi", "-f", helper_ref)
    try:
        pem = oe.write_pem(keys["ec"], tmp_path / "ec.pem")
        assert "missing private key" in _error_line(podpy("pull", ref, check=False))
        podpy("build", "-q", "-t", "dec", "--decryption-key", str(pem), str(_context(tmp_path, ref)))
        assert podpy("run", "--rm", "dec", "cat", "/secret.txt").stdout.encode() == SECRET
        rsa_pem = oe.write_pem(keys["rsa"], tmp_path / "rsa.pem")
        load_archive(_engine(podpy), str(tmp_path / "rsa"), names=["dec2:v1"], keys=load_keys([str(rsa_pem)]))
        assert podpy("run", "--rm", "dec2:v1", "cat", "/secret.txt").stdout.encode() == SECRET
    finally:
        subprocess.run([*b, "rmi", "-a", "-f"], capture_output=True, timeout=120)
