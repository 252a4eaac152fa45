"""Encrypted layers: JWE parsing and decryption (RFC test vectors, and JWEs made by an independent
encrypter in tests/ocicrypt_encrypt.py), key files, unwrapping a layer's options, the decrypting
stream's checks, and that nothing imports `cryptography` before a layer needs it."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cryptography")

from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

from podpy.engine import layer_decrypt  # noqa: E402
from podpy.errors import CorruptContent, InvalidArgument  # noqa: E402
from podpy.image import encryption, jwe, ocicrypt  # noqa: E402
from podpy.image.manifest import Descriptor  # noqa: E402
from tests import ocicrypt_encrypt as oe  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _int(s: str) -> int:
    return int.from_bytes(jwe.b64url_decode(s), "big")


# RFC 7516 appendix A.1: RSA-OAEP and A256GCM, compact serialization
A1_KEY = {
    "n": "oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUWcJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3Spsk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2asbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMStPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2djYgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw",
    "e": "AQAB",
    "d": "kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5NWV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD93Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghkqDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vlt3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSndVTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ",
    "p": "1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lffNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0",
    "q": "wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBmUDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aXIWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc",
    "dp": "ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KLhMXvo-uz-KUJWDxS5pFQ_M0evdo1dKiRTjVw_x4NyqyXPM5nULPkcpU827rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE",
    "dq": "Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCjywcMlYYg4yoC4YZa9hNVcsjqA3FeiL19rk8g6Qn29Tt0cj8qqyFpz9vNDBUfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis",
    "qi": "VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-ZW1FxU7AlWAyLWybqq6t16VFd7hQd0y6flUK4SlOydB61gwanOsXGOAOv82cHq0E3eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY",
}  # fmt: skip
A1_JWE = (
    "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ."
    "OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg."
    "48V1_ALb6US04U3b."
    "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A."
    "XFBoMYUZodetZdvTiFvSkQ"
)  # fmt: skip
A1_PLAIN = b"The true sign of intelligence is not knowledge but imagination."

# RFC 7520 section 5.4: ECDH-ES+A128KW (P-384) and A128GCM, flattened JSON serialization
C54_KEY = {"x": "YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2",
           "y": "A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP",
           "d": "iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j"}  # fmt: skip
C54_JWE = {
    "protected": "eyJhbGciOiJFQ0RILUVTK0ExMjhLVyIsImtpZCI6InBlcmVncmluLnRvb2tAdHVja2Jvcm91Z2guZXhhbXBsZSIsImVwayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMzg0IiwieCI6InVCbzRrSFB3Nmtiang1bDB4b3dyZF9vWXpCbWF6LUdLRlp1NHhBRkZrYllpV2d1dEVLNml1RURzUTZ3TmROZzMiLCJ5Ijoic3AzcDVTR2haVkMyZmFYdW1JLWU5SlUyTW84S3BvWXJGRHI1eVBOVnRXNFBnRXdaT3lRVEEtSmRhWTh0YjdFMCJ9LCJlbmMiOiJBMTI4R0NNIn0",
    "encrypted_key": "0DJjBXri_kBcC46IkU5_Jk9BqaQeHdv2",
    "iv": "mH-G2zVqgztUtnW_",
    "ciphertext": "tkZuOO9h95OgHJmkkrfLBisku8rGf6nzVxhRM3sVOhXgz5NJ76oID7lpnAi_cPWJRCjSpAaUZ5dOR3Spy7QuEkmKx8-3RCMhSYMzsXaEwDdXta9Mn5B7cCBoJKB0IgEnj_qfo1hIi-uEkUpOZ8aLTZGHfpl05jMwbKkTe2yK3mjF6SBAsgicQDVCkcY9BLluzx1RmC3ORXaM0JaHPB93YcdSDGgpgBWMVrNU1ErkjcMqMoT_wtCex3w03XdLkjXIuEr2hWgeP-nkUZTPU9EoGSPj6fAS-bSz87RCPrxZdj_iVyC6QWcqAu07WNhjzJEPc4jVntRJ6K53NgPQ5p99l3Z408OUqj4ioYezbS6vTPlQ",
    "tag": "WuGzxmcreYjpHGJoa17EBg",
}  # fmt: skip
C54_PLAIN = ("You can trust us to stick with you through thick and thin\u2013to the bitter end. And you can trust us to "
             "keep any secret of yours\u2013closer than you keep it yourself. But you cannot trust us to let you face "
             "trouble alone, and go off without a word. We are your friends, Frodo.").encode()  # fmt: skip


def a1_key() -> rsa.RSAPrivateKey:
    k = {name: _int(v) for name, v in A1_KEY.items()}
    pub = rsa.RSAPublicNumbers(k["e"], k["n"])
    return rsa.RSAPrivateNumbers(k["p"], k["q"], k["d"], k["dp"], k["dq"], k["qi"], pub).private_key()


def c54_key() -> ec.EllipticCurvePrivateKey:
    pub = ec.EllipticCurvePublicNumbers(_int(C54_KEY["x"]), _int(C54_KEY["y"]), ec.SECP384R1())
    return ec.EllipticCurvePrivateNumbers(_int(C54_KEY["d"]), pub).private_key()


# ---------------------------------------------------------------- JWE
def test_rfc7516_a1_rsa_oaep_a256gcm_compact() -> None:
    assert jwe.decrypt(jwe.parse(A1_JWE), a1_key()) == A1_PLAIN


def test_rfc7520_5_4_ecdh_es_a128kw_flattened_general_and_compact() -> None:
    flattened = json.dumps(C54_JWE)
    general = json.dumps({"recipients": [{"encrypted_key": C54_JWE["encrypted_key"]}],
                          **{k: v for k, v in C54_JWE.items() if k != "encrypted_key"}})  # fmt: skip
    compact = ".".join(C54_JWE[k] for k in ("protected", "encrypted_key", "iv", "ciphertext", "tag"))
    for form in (flattened, general, compact):
        assert jwe.decrypt(jwe.parse(form), c54_key()) == C54_PLAIN


def test_go_jose_shapes_one_and_several_recipients() -> None:
    r, e, e384, e521 = oe.rsa_key(), oe.ec_key(), oe.ec_key(ec.SECP384R1()), oe.ec_key(ec.SECP521R1())
    one = oe.jwe_encrypt(b"opts", [r.public_key()])
    assert "encrypted_key" in json.loads(one) and "recipients" not in json.loads(one)
    assert jwe.decrypt(jwe.parse(one), r) == b"opts"
    several = oe.jwe_encrypt(b"opts2", [r.public_key(), e.public_key(), e384.public_key(), e521.public_key()])
    assert len(json.loads(several)["recipients"]) == 4
    for k in (r, e, e384, e521):
        assert jwe.decrypt(jwe.parse(several), k) == b"opts2"


def test_wrong_key_and_tampering_are_refused() -> None:
    r, other, e = oe.rsa_key(), oe.rsa_key(), oe.ec_key()
    token = oe.jwe_encrypt(b"secret", [r.public_key()])
    with pytest.raises(jwe.JWEError, match="does not decrypt"):
        jwe.decrypt(jwe.parse(token), other)
    with pytest.raises(jwe.JWEError, match="needs an EC key"):
        jwe.decrypt(jwe.parse(oe.jwe_encrypt(b"x", [e.public_key()])), r)
    with pytest.raises(jwe.JWEError, match="on secp256r1"):
        jwe.decrypt(jwe.parse(oe.jwe_encrypt(b"x", [e.public_key()])), oe.ec_key(ec.SECP384R1()))
    doc = json.loads(token)
    doc["tag"] = oe.b64u(bytes(16))
    with pytest.raises(jwe.JWEError, match="does not authenticate"):
        jwe.decrypt(jwe.parse(json.dumps(doc)), r)
    doc = json.loads(token)  # a changed protected header changes the AAD
    doc["protected"] = oe.b64u(
        json.dumps({**json.loads(jwe.b64url_decode(doc["protected"])), "x": 1}).encode()
    )
    with pytest.raises(jwe.JWEError, match="does not authenticate"):
        jwe.decrypt(jwe.parse(json.dumps(doc)), r)


@pytest.mark.parametrize("raw, match", [
    ("{", "not valid JSON"), ("[]", "not a JSON object"), ("a.b.c", "neither JSON nor compact"),
    ('{"recipients": []}', "no recipients"), ('{"protected": "e30", "encrypted_key": ""}', "no 'iv'"),
    ('{"protected": "!!", "iv": "", "ciphertext": "", "tag": ""}', "base64url|protected header"),
])  # fmt: skip
def test_malformed_jwes(raw: str, match: str) -> None:
    with pytest.raises(jwe.JWEError, match=match):
        jwe.parse(raw)


def test_unsupported_algorithms_are_named() -> None:
    hdr = oe.b64u(json.dumps({"alg": "RSA1_5", "enc": "A256GCM"}).encode())
    token = jwe.parse(f"{hdr}.AA.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(jwe.JWEError, match="'RSA1_5' is not supported"):
        jwe.decrypt(token, oe.rsa_key())
    hdr = oe.b64u(json.dumps({"alg": "RSA-OAEP", "enc": "A128CBC-HS256"}).encode())
    with pytest.raises(jwe.JWEError, match="'A128CBC-HS256' is not supported"):
        jwe.decrypt(jwe.parse(f"{hdr}.AA.AA.AA.AA"), oe.rsa_key())


# ---------------------------------------------------------------- key files
def test_key_files_and_password_forms(tmp_path: Path) -> None:
    r = oe.rsa_key()
    plain = oe.write_pem(r, tmp_path / "k.pem", traditional=True)
    locked = oe.write_pem(r, tmp_path / "locked.pem", b"s3cret")
    ec_pem = oe.write_pem(oe.ec_key(), tmp_path / "ec.pem")
    (tmp_path / "pw").write_text("s3cret\n")
    for spec in (str(plain), f"{plain}:ignored", f"{locked}:s3cret", f"{locked}:pass=s3cret",
                 f"{locked}:file={tmp_path / 'pw'}", str(ec_pem)):  # fmt: skip
        assert layer_decrypt.load_keys([spec])
    rfd, wfd = os.pipe()
    os.write(wfd, b"s3cret")
    os.close(wfd)
    try:
        assert layer_decrypt.load_keys([f"{locked}:fd={rfd}"])
    finally:
        os.close(rfd)
    (tmp_path / "junk").write_bytes(b"not a key")
    cases = {str(locked): "encrypted: give its password", f"{locked}:nope": "wrong password",
             str(tmp_path / "junk"): "unidentified private key", str(tmp_path / "absent"): "No such file",
             f"{locked}:file=/nonexistent": "No such file", ":pw": "no key file"}  # fmt: skip
    for spec, match in cases.items():
        with pytest.raises(InvalidArgument, match=match):
            layer_decrypt.load_keys([spec])


def test_jwk_key_files(tmp_path: Path) -> None:
    """ocicrypt also takes JWK key files: the RFC's own keys open the RFC's JWEs."""
    (tmp_path / "a1.jwk").write_text(json.dumps({"kty": "RSA", **A1_KEY}))
    minimal = {k: A1_KEY[k] for k in ("n", "e", "d")}  # no CRT parameters: recovered
    (tmp_path / "a1-min.jwk").write_text(json.dumps({"kty": "RSA", **minimal}))
    (tmp_path / "c54.jwk").write_text(json.dumps({"kty": "EC", "crv": "P-384", **C54_KEY}))
    for name, token, plain in (("a1.jwk", A1_JWE, A1_PLAIN), ("a1-min.jwk", A1_JWE, A1_PLAIN),
                               ("c54.jwk", json.dumps(C54_JWE), C54_PLAIN)):  # fmt: skip
        (key,) = layer_decrypt.load_keys([str(tmp_path / name)])
        assert jwe.decrypt(jwe.parse(token), ocicrypt.load_private_key(key)) == plain
    (tmp_path / "pub.jwk").write_text(
        json.dumps({"kty": "EC", "crv": "P-384", "x": C54_KEY["x"], "y": C54_KEY["y"]})
    )
    with pytest.raises(InvalidArgument, match="not a complete private key"):
        layer_decrypt.load_keys([str(tmp_path / "pub.jwk")])


# ---------------------------------------------------------------- layers
def _layer(keys: list, **kw) -> tuple[bytes, oe.EncryptedLayer, Descriptor]:  # type: ignore[no-untyped-def]
    blob = os.urandom(300_000)
    e = oe.encrypt_layer(
        blob, "application/vnd.oci.image.layer.v1.tar+gzip", [k.public_key() for k in keys], **kw
    )
    d = e.descriptor
    return blob, e, Descriptor(d["mediaType"], d["digest"], d["size"], d["annotations"])


def _key(tmp_path: Path, k, name: str) -> encryption.DecryptionKey:  # type: ignore[no-untyped-def]
    return encryption.parse_key(str(oe.write_pem(k, tmp_path / name)))


def _decrypt(src: bytes, lk: ocicrypt.LayerKey, digest: str | None) -> bytes:
    reader = ocicrypt.DecryptingReader(io.BytesIO(src), lk, digest)
    out = bytearray()
    while chunk := reader.read(65536):
        out += chunk
    return bytes(out)


def test_unwrap_and_decrypt_a_layer(tmp_path: Path) -> None:
    r, e = oe.rsa_key(), oe.ec_key()
    blob, enc, desc = _layer([r, e])
    assert encryption.is_encrypted(desc.media_type) and encryption.any_encrypted([desc])
    assert encryption.plain_media_type(desc.media_type) == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert encryption.plain_annotations({**desc.annotations, "keep": "1"}) == {"keep": "1"}  # type: ignore[dict-item]
    for k in (r, e):
        lk = ocicrypt.unwrap(desc, (_key(tmp_path, oe.rsa_key(), "other.pem"), _key(tmp_path, k, "k.pem")))
        assert lk.digest == enc.plain_digest  # the source's digest, as the encrypter gave it
        assert _decrypt(enc.blob, lk, desc.digest) == blob


def test_older_hmac_place_and_one_jwe_per_key(tmp_path: Path) -> None:
    r, e = oe.rsa_key(), oe.ec_key()
    blob, enc, desc = _layer([r, e], hmac_in_cipheroptions=True, jwe_per_key=True)
    assert "," in desc.annotations[encryption.JWE_KEYS]  # type: ignore[index]
    assert _decrypt(enc.blob, ocicrypt.unwrap(desc, (_key(tmp_path, e, "e.pem"),)), desc.digest) == blob


def test_no_key_wrong_key_other_schemes(tmp_path: Path) -> None:
    _, _, desc = _layer([oe.rsa_key()])
    with pytest.raises(
        ocicrypt.DecryptionError, match=f"{desc.digest}: missing private key needed for decryption"
    ):
        ocicrypt.unwrap(desc, ())
    with pytest.raises(ocicrypt.DecryptionError, match="none of the private keys could be used"):
        ocicrypt.unwrap(desc, (_key(tmp_path, oe.rsa_key(), "a.pem"), _key(tmp_path, oe.ec_key(), "b.pem")))
    pgp = Descriptor(
        desc.media_type, desc.digest, desc.size, {"org.opencontainers.image.enc.keys.pgp": "eA=="}
    )
    with pytest.raises(ocicrypt.DecryptionError, match="wrapped with pgp: only JWE"):
        ocicrypt.unwrap(pgp, (_key(tmp_path, oe.rsa_key(), "c.pem"),))
    bad = Descriptor(desc.media_type, desc.digest, desc.size, {encryption.JWE_KEYS: "%%%"})
    with pytest.raises(ocicrypt.DecryptionError, match="malformed JWE annotation"):
        ocicrypt.unwrap(bad, (_key(tmp_path, oe.rsa_key(), "d.pem"),))


def test_the_stream_is_verified_at_its_end(tmp_path: Path) -> None:
    r = oe.rsa_key()
    blob, enc, desc = _layer([r])
    lk = ocicrypt.unwrap(desc, (_key(tmp_path, r, "k.pem"),))
    flipped = bytearray(enc.blob)
    flipped[1000] ^= 1
    with pytest.raises(CorruptContent, match="HMAC does not match"):
        _decrypt(bytes(flipped), lk, None)
    with pytest.raises(CorruptContent, match="digest mismatch"):
        _decrypt(bytes(flipped), lk, desc.digest)
    with pytest.raises(CorruptContent, match="HMAC does not match"):
        _decrypt(enc.blob[:-1], lk, None)
    other = ocicrypt.LayerKey(
        os.urandom(32), lk.nonce, lk.digest, lk.hmac
    )  # a key that unwraps, but not this one's
    with pytest.raises(CorruptContent, match="HMAC does not match"):
        _decrypt(enc.blob, other, desc.digest)


def test_bad_options_are_corrupt_content(tmp_path: Path) -> None:
    r = oe.rsa_key()
    _, _, desc = _layer([r])
    ann = dict(desc.annotations or {})
    ann[encryption.PUBOPTS] = base64.b64encode(b'{"cipher": "AES_128_GCM", "hmac": "AA=="}').decode()
    with pytest.raises(ocicrypt.DecryptionError, match="unsupported cipher type: AES_128_GCM"):
        ocicrypt.unwrap(
            Descriptor(desc.media_type, desc.digest, desc.size, ann), (_key(tmp_path, r, "k.pem"),)
        )
    ann[encryption.PUBOPTS] = "not base64!"
    with pytest.raises(CorruptContent, match="pubopts annotation is not base64 JSON"):
        ocicrypt.unwrap(
            Descriptor(desc.media_type, desc.digest, desc.size, ann), (_key(tmp_path, r, "k.pem"),)
        )


def test_cryptography_is_imported_only_on_the_decryption_path() -> None:
    code = ("import sys, podpy.image.encryption, podpy.engine.pull, podpy.engine.archives, podpy.cli.build; "
            "print('cryptography' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
