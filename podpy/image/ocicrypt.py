"""Decrypting an encrypted layer (ocicrypt's scheme): unwrap its options, then stream its plaintext.

A layer descriptor (image/encryption.py names the annotations) carries:
- `...enc.keys.jwe`: comma-separated base64 JWEs (image/jwe.py) whose plaintext is the private
  options, JSON `{"symkey": b64, "cipheroptions": {"nonce": b64}, "digest": "sha256:..."}`: the
  AES key, the CTR nonce, and the digest of the encrypter's source blob (not necessarily the
  plaintext: containers/image names the blob it read, then compresses before encrypting);
- `...enc.pubopts`: base64 JSON `{"cipher": "AES_256_CTR_HMAC_SHA256", "hmac": b64,
  "cipheroptions": {...}}` (the HMAC sits in `cipheroptions.hmac` with older writers).
The cipher: AES-256 in CTR mode with the 16-byte nonce as initial counter block, and HMAC-SHA256
(same key) over the ciphertext, checked at the end of the stream (encrypt-then-MAC), with the
ciphertext's digest. Nothing reaches a caller's EOF unverified: a wrong key or an altered blob
raise CorruptContent at the end. The plaintext (a layer blob, compressed or not) is then checked
by its caller against the image config's diff ID, as any layer.

Imports `cryptography`: reach it through engine/layer_decrypt.crypto().
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, BinaryIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from podpy.errors import CorruptContent, InvalidArgument, PodpyError
from podpy.image import encryption as enc
from podpy.image import jwe

if TYPE_CHECKING:
    from podpy.image.encryption import DecryptionKey
    from podpy.image.manifest import Descriptor

CIPHER = "AES_256_CTR_HMAC_SHA256"
MISSING_KEY = "missing private key needed for decryption"  # ocicrypt's words
NO_KEY_FITS = "no suitable key unwrapper found or none of the private keys could be used for decryption"


class DecryptionError(PodpyError):
    """The layer cannot be decrypted with the keys given (none, or none that fits)."""


@dataclass(frozen=True)
class LayerKey:
    """What decrypting one layer needs: the unwrapped private options and the public ones."""

    symkey: bytes
    nonce: bytes
    digest: str  # the encrypter's source blob (informational: see above)
    hmac: bytes
    cipher: str = CIPHER


def load_private_key(key: DecryptionKey) -> Any:
    """The RSA or EC private key in a PEM or DER file (PKCS#1, SEC1 or PKCS#8, encrypted or not) or
    a JWK, as ocicrypt reads key files."""
    if key.data.lstrip().startswith(b"{"):
        try:
            return jwe.private_key_from_jwk(json.loads(key.data))
        except (ValueError, jwe.JWEError) as e:
            raise InvalidArgument(f"--decryption-key {key.path}: unidentified private key in file {key.path} "
                                  f"({e})") from None  # fmt: skip
    load = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in key.data
        else serialization.load_der_private_key
    )
    try:
        pk = load(key.data, password=key.password)
    except TypeError:
        if key.password is None:  # an encrypted key and no password
            raise InvalidArgument(f"--decryption-key {key.path}: the private key is encrypted: give its "
                                  f"password as FILE:PASSWORD") from None  # fmt: skip
        return load_private_key(replace(key, password=None))  # a password for a plain key: not needed
    except ValueError as e:
        if key.password is not None and "incorrect password" in str(e).lower():
            raise InvalidArgument(
                f"--decryption-key {key.path}: wrong password for the private key"
            ) from None
        raise InvalidArgument(
            f"--decryption-key {key.path}: unidentified private key in file {key.path}"
        ) from None
    except Exception:  # an unsupported algorithm or structure
        raise InvalidArgument(
            f"--decryption-key {key.path}: unidentified private key in file {key.path}"
        ) from None
    if not isinstance(pk, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InvalidArgument(f"--decryption-key {key.path}: only RSA and EC private keys are supported")
    return pk


def unwrap(desc: Descriptor, keys: tuple[DecryptionKey, ...]) -> LayerKey:
    """The layer key of an encrypted layer, from the first JWE one of `keys` opens."""
    ann = desc.annotations or {}
    wrapped = ann.get(enc.JWE_KEYS, "")
    if not wrapped:
        schemes = sorted(k.removeprefix(enc.KEYS_PREFIX) for k in ann if k.startswith(enc.KEYS_PREFIX))
        if schemes:
            raise DecryptionError(f"decrypting layer {desc.digest}: its key is wrapped with {', '.join(schemes)}: "
                                  f"only JWE (RSA or EC private keys) is supported")  # fmt: skip
        raise DecryptionError(f"decrypting layer {desc.digest}: the layer carries no wrapped key")
    if not keys:
        raise DecryptionError(f"decrypting layer {desc.digest}: {MISSING_KEY}")
    loaded = [(k.path, load_private_key(k)) for k in keys]
    reasons: list[str] = []
    for part in wrapped.split(","):
        try:
            token = jwe.parse(base64.b64decode(part.strip(), validate=True))
        except (binascii.Error, ValueError, jwe.JWEError) as e:
            reasons.append(f"malformed JWE annotation: {e}")
            continue
        for path, pk in loaded:
            try:
                return _layer_key(desc, jwe.decrypt(token, pk), _pubopts(desc))
            except jwe.JWEError as e:
                reasons.append(f"{path}: {e}")
    detail = "; ".join(dict.fromkeys(reasons))
    raise DecryptionError(f"decrypting layer {desc.digest}: {NO_KEY_FITS} ({detail})")


def _pubopts(desc: Descriptor) -> dict[str, Any]:
    raw = (desc.annotations or {}).get(enc.PUBOPTS)
    if not raw:
        return {}
    try:
        doc = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise CorruptContent(
            f"layer {desc.digest}: the {enc.PUBOPTS} annotation is not base64 JSON"
        ) from None
    if not isinstance(doc, dict):
        raise CorruptContent(f"layer {desc.digest}: the {enc.PUBOPTS} annotation is not a JSON object")
    return doc


def _layer_key(desc: Descriptor, private_raw: bytes, pub: dict[str, Any]) -> LayerKey:
    try:
        priv = json.loads(private_raw)
        if not isinstance(priv, dict):
            raise ValueError
        popts, copts = priv.get("cipheroptions") or {}, pub.get("cipheroptions") or {}
        symkey = _b64(priv.get("symkey"))
        nonce = _b64(copts.get("nonce") or popts.get("nonce"))
        mac = _b64(pub.get("hmac") or copts.get("hmac") or popts.get("hmac"))
        digest = priv.get("digest")
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise CorruptContent(f"layer {desc.digest}: its decrypted key options are malformed") from None
    cipher = pub.get("cipher") or CIPHER
    if cipher != CIPHER:
        raise DecryptionError(f"decrypting layer {desc.digest}: unsupported cipher type: {cipher}")
    if len(symkey) != 32 or len(nonce) != 16:
        raise CorruptContent(f"layer {desc.digest}: {CIPHER} needs a 32-byte key and a 16-byte nonce")
    if not mac:
        raise CorruptContent(f"layer {desc.digest}: no HMAC in its public options: it cannot be verified")
    return LayerKey(symkey, nonce, digest if isinstance(digest, str) else "", mac, cipher)


def _b64(v: Any) -> bytes:
    if not v:
        return b""
    if not isinstance(v, str):
        raise TypeError
    return base64.b64decode(v, validate=True)


class DecryptingReader:
    """The plaintext of an encrypted blob read from `src`, verified at the end of the stream:
    the ciphertext against `cipher_digest` (when given) and the HMAC."""

    def __init__(
        self, src: BinaryIO, key: LayerKey, cipher_digest: str | None = None, what: str = "layer"
    ) -> None:
        self.src, self.key, self.cipher_digest, self.what = src, key, cipher_digest, what
        self._ctr = Cipher(algorithms.AES(key.symkey), modes.CTR(key.nonce)).decryptor()
        self._mac = hmac.new(key.symkey, digestmod=hashlib.sha256)
        self._cipher_hash = hashlib.sha256()
        self._done = False

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        data = self.src.read(n if n and n > 0 else 1 << 20)
        if not data:
            self._finish()
            return b""
        self._mac.update(data)
        self._cipher_hash.update(data)
        return self._ctr.update(data)

    def _finish(self) -> None:
        self._done = True
        got = "sha256:" + self._cipher_hash.hexdigest()
        if self.cipher_digest and got != self.cipher_digest:
            raise CorruptContent(f"{self.what} {self.cipher_digest}: digest mismatch (got {got})")
        if not hmac.compare_digest(self._mac.digest(), self.key.hmac):
            raise CorruptContent(f"{self.what} {self.cipher_digest or ''}: could not properly decrypt byte "
                                 f"stream: the HMAC does not match (wrong key or altered layer)")  # fmt: skip

    def readable(self) -> bool:
        return True
