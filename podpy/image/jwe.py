"""JSON Web Encryption (RFC 7516) decryption, as far as ocicrypt's JWE key wrapping needs it.

ocicrypt wraps a layer's private options with go-jose: one JWE per layer, JSON serialization
(general with several recipients, flattened with one), content encryption A256GCM, the content
key wrapped per recipient with RSA-OAEP (RSA keys) or ECDH-ES+A256KW (EC keys). Accepted here:
the three serializations (compact too); key management RSA-OAEP, RSA-OAEP-256, ECDH-ES and
ECDH-ES+A128KW/A192KW/A256KW on P-256/384/521; content encryption A128GCM/A192GCM/A256GCM;
`"zip": "DEF"`. Imports `cryptography`: reach it through engine/layer_decrypt.crypto().
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

ENC_KEY_BYTES = {"A128GCM": 16, "A192GCM": 24, "A256GCM": 32}
KW_KEY_BYTES = {"ECDH-ES+A128KW": 16, "ECDH-ES+A192KW": 24, "ECDH-ES+A256KW": 32}
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}


class JWEError(Exception):
    """A malformed JWE, or one this key cannot open (the message says which)."""


def b64url_decode(s: str) -> bytes:
    if not isinstance(s, str):
        raise JWEError("a base64url field is not a string")
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        raise JWEError("a field is not valid base64url") from None


@dataclass(frozen=True)
class Recipient:
    header: dict[str, Any]  # protected + shared unprotected + per-recipient header, merged
    encrypted_key: bytes


@dataclass(frozen=True)
class JWE:
    protected_b64: str  # as serialized: the AAD is computed over these exact characters
    recipients: tuple[Recipient, ...]
    iv: bytes
    ciphertext: bytes
    tag: bytes
    aad_b64: str | None = None

    def aad(self) -> bytes:
        return (self.protected_b64 + ("." + self.aad_b64 if self.aad_b64 is not None else "")).encode("ascii")


def parse(raw: bytes | str) -> JWE:
    """A JWE in JSON (general or flattened) or compact serialization."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    if not text.startswith(("{", "[")):
        return _parse_compact(text)
    try:
        doc = json.loads(text)
    except ValueError:
        raise JWEError("not valid JSON") from None
    if not isinstance(doc, dict):
        raise JWEError("not a JSON object")
    protected_b64 = doc.get("protected") or ""
    protected = _header(protected_b64) if protected_b64 else {}
    shared = doc.get("unprotected") or {}
    if "recipients" in doc:
        entries = doc["recipients"]
        if not isinstance(entries, list) or not entries:
            raise JWEError("no recipients")
    else:
        entries = [{"header": doc.get("header") or {}, "encrypted_key": doc.get("encrypted_key", "")}]
    recipients = []
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("header") or {}, dict)
            or not isinstance(shared, dict)
        ):
            raise JWEError("a recipient is malformed")
        header = {**protected, **shared, **(entry.get("header") or {})}
        recipients.append(Recipient(header, b64url_decode(entry.get("encrypted_key") or "")))
    return JWE(protected_b64, tuple(recipients), b64url_decode(_field(doc, "iv")),
               b64url_decode(_field(doc, "ciphertext")), b64url_decode(_field(doc, "tag")), doc.get("aad"))  # fmt: skip


def _field(doc: dict[str, Any], name: str) -> str:
    if name not in doc:
        raise JWEError(f"no {name!r}")
    return doc[name]


def _header(b64: str) -> dict[str, Any]:
    try:
        header = json.loads(b64url_decode(b64))
    except ValueError:
        raise JWEError("the protected header is not JSON") from None
    if not isinstance(header, dict):
        raise JWEError("the protected header is not a JSON object")
    return header


def _parse_compact(text: str) -> JWE:
    parts = text.split(".")
    if len(parts) != 5:
        raise JWEError("neither JSON nor compact serialization")
    header = _header(parts[0])
    recipient = Recipient(header, b64url_decode(parts[1]))
    return JWE(
        parts[0], (recipient,), b64url_decode(parts[2]), b64url_decode(parts[3]), b64url_decode(parts[4])
    )


def private_key_from_jwk(doc: Any) -> Any:
    """An RSA or EC private key from a JWK (RFC 7517/7518) object, as ocicrypt accepts key files."""
    if not isinstance(doc, dict) or doc.get("kty") not in ("RSA", "EC"):
        raise JWEError("not an RSA or EC JWK")
    try:
        num = {k: int.from_bytes(b64url_decode(v), "big") for k, v in doc.items() if k in _JWK_NUMBERS}
        if doc["kty"] == "EC":
            curve = CURVES[doc["crv"]]()
            pub = ec.EllipticCurvePublicNumbers(num["x"], num["y"], curve)
            return ec.EllipticCurvePrivateNumbers(num["d"], pub).private_key()
        n, e, d = num["n"], num["e"], num["d"]
        if all(k in num for k in ("p", "q", "dp", "dq", "qi")):
            p, q, dp, dq, qi = num["p"], num["q"], num["dp"], num["dq"], num["qi"]
        else:  # only n, e, d: the rest follows
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key()
    except (KeyError, ValueError, TypeError):
        raise JWEError("the JWK is not a complete private key") from None


_JWK_NUMBERS = ("n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y")


def decrypt(jwe: JWE, key: Any) -> bytes:
    """The plaintext, with the first recipient entry `key` (a cryptography private key) opens."""
    reasons = []
    for r in jwe.recipients:
        try:
            cek = unwrap_cek(r.header, r.encrypted_key, key)
            return _decrypt_content(jwe, r.header, cek)
        except JWEError as e:
            reasons.append(str(e))
    raise JWEError("; ".join(dict.fromkeys(reasons)) or "no recipient")


def unwrap_cek(header: dict[str, Any], encrypted_key: bytes, key: Any) -> bytes:
    alg, enc = header.get("alg"), header.get("enc")
    if enc not in ENC_KEY_BYTES:
        raise JWEError(f"content encryption {enc!r} is not supported")
    if alg in ("RSA-OAEP", "RSA-OAEP-256"):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise JWEError(f"{alg} needs an RSA key")
        h = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()  # noqa: S303 (RFC 7518: RSA-OAEP is SHA-1)
        try:
            cek = key.decrypt(encrypted_key, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
        except ValueError:
            raise JWEError(f"{alg}: the key does not decrypt the content key") from None
    elif alg == "ECDH-ES" or alg in KW_KEY_BYTES:
        cek = _ecdh_es(header, alg, enc, encrypted_key, key)
    else:
        raise JWEError(f"key management algorithm {alg!r} is not supported")
    if len(cek) != ENC_KEY_BYTES[enc]:
        raise JWEError(f"{alg}: the content key has {len(cek)} bytes, {enc} needs {ENC_KEY_BYTES[enc]}")
    return cek


def _ecdh_es(header: dict[str, Any], alg: str, enc: str, encrypted_key: bytes, key: Any) -> bytes:
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise JWEError(f"{alg} needs an EC key")
    epk = header.get("epk")
    if not isinstance(epk, dict) or epk.get("kty") != "EC" or epk.get("crv") not in CURVES:
        raise JWEError(f"{alg}: the ephemeral public key (epk) is missing or not an EC key on P-256/384/521")
    curve = CURVES[epk["crv"]]()
    if key.curve.name != curve.name:
        raise JWEError(f"{alg}: the key is on {key.curve.name}, the JWE on {curve.name}")
    try:
        x, y = (int.from_bytes(b64url_decode(epk[c]), "big") for c in ("x", "y"))
        peer = ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except (KeyError, ValueError):
        raise JWEError(f"{alg}: the ephemeral public key is not a point of {curve.name}") from None
    z = key.exchange(ec.ECDH(), peer)
    direct = alg == "ECDH-ES"
    size = ENC_KEY_BYTES[enc] if direct else KW_KEY_BYTES[alg]
    other = b"".join(
        _length_prefixed(v)
        for v in ((enc if direct else alg).encode(), _opt_b64(header, "apu"), _opt_b64(header, "apv"))
    ) + struct.pack(">I", size * 8)
    derived = ConcatKDFHash(hashes.SHA256(), size, other).derive(z)
    if direct:
        return derived
    try:
        return aes_key_unwrap(derived, encrypted_key)
    except (InvalidUnwrap, ValueError):
        raise JWEError(f"{alg}: the key does not unwrap the content key") from None


def _opt_b64(header: dict[str, Any], name: str) -> bytes:
    return b64url_decode(header[name]) if header.get(name) else b""


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _decrypt_content(jwe: JWE, header: dict[str, Any], cek: bytes) -> bytes:
    try:
        plain = AESGCM(cek).decrypt(jwe.iv, jwe.ciphertext + jwe.tag, jwe.aad())
    except (InvalidTag, ValueError):
        raise JWEError("the content does not authenticate (wrong key or altered JWE)") from None
    if header.get("zip") == "DEF":
        try:
            return zlib.decompress(plain, -15)
        except zlib.error:
            raise JWEError("the content is not valid DEFLATE data") from None
    if header.get("zip") is not None:
        raise JWEError(f"compression {header['zip']!r} is not supported")
    return plain
