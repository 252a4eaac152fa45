"""Test helper: encrypt image layers the way ocicrypt (containers/image, buildah, skopeo) does, to
make encrypted images for podpy to decrypt. Written from the scheme, independent of podpy's code:

- the layer blob is encrypted with AES-256-CTR (random 32-byte key, 16-byte nonce), and
  HMAC-SHA256 with the same key is taken over the ciphertext;
- the private options `{"symkey", "digest" (of the plain blob), "cipheroptions": {"nonce"}}` are
  JSON, wrapped in a JWE (go-jose's shape: A256GCM content, RSA-OAEP or ECDH-ES+A256KW per
  recipient, flattened JSON with one recipient, general JSON with several), base64'd into the
  `org.opencontainers.image.enc.keys.jwe` annotation (several JWEs: comma-separated);
- the public options `{"cipher", "hmac", "cipheroptions"}`, base64'd, into `...enc.pubopts`;
- the media type gets `+encrypted`.

Needs the `cryptography` package (tests skip without it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_wrap


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- keys
def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


def write_pem(key: Any, path: Path, password: bytes | None = None, traditional: bool = False) -> Path:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, enc))
    return path


# ---------------------------------------------------------------- JWE (encrypt side)
def _wrap_for(pub: Any, cek: bytes) -> tuple[dict[str, Any], bytes]:
    """(per-recipient header, encrypted key) as go-jose makes them for ocicrypt."""
    if isinstance(pub, rsa.RSAPublicKey):
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        return {"alg": "RSA-OAEP"}, pub.encrypt(cek, oaep)
    eph = ec.generate_private_key(pub.curve)
    z = eph.exchange(ec.ECDH(), pub)
    alg = "ECDH-ES+A256KW"
    other = struct.pack(">I", len(alg)) + alg.encode() + struct.pack(">I", 0) + struct.pack(">I", 0)
    kek = ConcatKDFHash(hashes.SHA256(), 32, other + struct.pack(">I", 256)).derive(z)
    nums = eph.public_key().public_numbers()
    size = (pub.curve.key_size + 7) // 8
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
    epk = {
        "kty": "EC",
        "crv": crv,
        "x": b64u(nums.x.to_bytes(size, "big")),
        "y": b64u(nums.y.to_bytes(size, "big")),
    }
    return {"alg": alg, "epk": epk}, aes_key_wrap(kek, cek)


def jwe_encrypt(plaintext: bytes, public_keys: list[Any]) -> bytes:
    """A JWE in JSON serialization for every public key (go-jose's FullSerialize shape)."""
    cek, iv = os.urandom(32), os.urandom(12)
    wrapped = [_wrap_for(k, cek) for k in public_keys]
    protected: dict[str, Any] = {"enc": "A256GCM"}
    if len(wrapped) == 1:  # go-jose moves the one recipient's header into the protected one
        protected.update(wrapped[0][0])
    protected_b64 = b64u(json.dumps(protected).encode())
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected_b64.encode())
    doc: dict[str, Any] = {"protected": protected_b64}
    if len(wrapped) == 1:
        doc["encrypted_key"] = b64u(wrapped[0][1])
    else:
        doc["recipients"] = [{"header": h, "encrypted_key": b64u(k)} for h, k in wrapped]
    doc.update(iv=b64u(iv), ciphertext=b64u(sealed[:-16]), tag=b64u(sealed[-16:]))
    return json.dumps(doc).encode()


# ---------------------------------------------------------------- layers
@dataclass
class EncryptedLayer:
    blob: bytes
    descriptor: dict[str, Any]  # mediaType, digest, size, annotations
    plain_digest: str


def encrypt_layer(blob: bytes, media_type: str, public_keys: list[Any], *, hmac_in_cipheroptions: bool = False,
                  jwe_per_key: bool = False) -> EncryptedLayer:  # fmt: skip
    """Encrypt a layer blob for `public_keys`. `hmac_in_cipheroptions`: the HMAC where older
    ocicrypt releases put it; `jwe_per_key`: one JWE per key, comma-separated (as a recipient
    added later)."""
    key, nonce = os.urandom(32), os.urandom(16)
    enc = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    cipher = enc.update(blob) + enc.finalize()
    mac = hmac.new(key, cipher, hashlib.sha256).digest()
    private = {"symkey": b64(key), "digest": sha(blob), "cipheroptions": {"nonce": b64(nonce)},
               "previouslayersdigest": ""}  # fmt: skip
    raw = json.dumps(private).encode()
    jwes = [jwe_encrypt(raw, [k]) for k in public_keys] if jwe_per_key else [jwe_encrypt(raw, public_keys)]
    pub: dict[str, Any] = {"cipher": "AES_256_CTR_HMAC_SHA256", "hmac": b64(mac), "cipheroptions": {}}
    if hmac_in_cipheroptions:
        pub = {"cipher": "AES_256_CTR_HMAC_SHA256", "hmac": None, "cipheroptions": {"hmac": b64(mac)}}
    annotations = {
        "org.opencontainers.image.enc.keys.jwe": ",".join(b64(j) for j in jwes),
        "org.opencontainers.image.enc.pubopts": b64(json.dumps(pub).encode()),
    }
    desc = {"mediaType": media_type + "+encrypted", "digest": sha(cipher), "size": len(cipher),
            "annotations": annotations}  # fmt: skip
    return EncryptedLayer(cipher, desc, sha(blob))


def encrypt_manifest(manifest: bytes, blobs: dict[str, bytes], public_keys: list[Any],
                     which: list[int] | None = None) -> tuple[bytes, dict[str, bytes]]:  # fmt: skip
    """An OCI manifest with its layers (all, or the indexes in `which`) encrypted; returns the new
    manifest and the new blobs by digest."""
    doc = json.loads(manifest)
    out: dict[str, bytes] = {}
    for i, layer in enumerate(doc["layers"]):
        if which is not None and i not in which:
            out[layer["digest"]] = blobs[layer["digest"]]
            continue
        e = encrypt_layer(blobs[layer["digest"]], layer["mediaType"], public_keys)
        doc["layers"][i] = e.descriptor
        out[e.descriptor["digest"]] = e.blob
    return json.dumps(doc).encode(), out
