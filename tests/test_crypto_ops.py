"""The native half of Web Crypto (isolate_worker/crypto_ops.py) on its own: the crypto.* ops
called the way js/35_crypto_*.js calls them, known-answer vectors, the chunked transfer of
big payloads, and the entropy pool's refill protocol."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from typing import Any

import pytest

from isoflow.isolate_worker import crypto_ops
from isoflow.isolate_worker.crypto_ops import CHUNK, Key
from isoflow.isolate_worker.entropy import POOL_HEADER, EntropyPool
from isoflow.isolate_worker.ops import HEAVY_AT_ONCE, REGISTRY, OpError, OpState, run_blocking


def call(state: OpState, name: str, args: list[Any], blobs: list[bytes] = ()) -> tuple[Any, Any]:
    meta = {"lens": [len(b) for b in blobs]}
    data = b"".join(blobs) if blobs else None
    return asyncio.run(REGISTRY[name]([*args, meta], data, state))


def error_name(state: OpState, name: str, args: list[Any], blobs: list[bytes] = ()) -> str:
    with pytest.raises(OpError) as info:
        call(state, name, args, blobs)
    return info.value.name


def sha(name: str) -> dict[str, str]:
    return {"name": name}


def import_raw(state, params, data, usages, extractable=True) -> dict:
    value, _ = call(state, "crypto.importKey", ["raw", params, extractable, usages, None], [data])
    return value[0]


@pytest.fixture
def state() -> OpState:
    return OpState()


# -- digest -----------------------------------------------------------------------------------

@pytest.mark.parametrize("alg,expected", [
    ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("SHA-384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                "8086072ba1e7cc2358baeca134c825a7"),
    ("SHA-512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
])
def test_digest_nist_abc(state, alg, expected):
    _, out = call(state, "crypto.digest", [sha(alg)], [b"abc"])
    assert out.hex() == expected


def test_unknown_hash_is_not_supported(state):
    assert error_name(state, "crypto.digest", [sha("MD5")], [b""]) == "NotSupportedError"


def test_streaming_hash(state):
    h, _ = call(state, "crypto.hash.new", [sha("SHA-256")])
    for piece in (b"a", b"b", b"c"):
        call(state, "crypto.hash.update", [h], [piece])
    _, out = call(state, "crypto.hash.final", [h])
    assert out == hashlib.sha256(b"abc").digest()
    assert h not in state.handles


# -- big payloads travel in pieces ------------------------------------------------------------

def test_upload_then_digest(state):
    data = os.urandom(CHUNK * 2 + 123)
    upload, _ = call(state, "crypto.upload.begin", [])
    # pieces may arrive in any order: each names its offset
    pieces = [(off, data[off : off + CHUNK]) for off in range(0, len(data), CHUNK)]
    for off, piece in reversed(pieces):
        call(state, "crypto.upload.chunk", [upload, off], [piece])
    meta = {"upload": upload, "lens": [len(data)]}
    _, out = asyncio.run(REGISTRY["crypto.digest"]([sha("SHA-256"), meta], None, state))
    assert out == hashlib.sha256(data).digest()
    assert upload not in state.handles


def test_big_result_is_downloaded(state):
    key = import_raw(state, {"name": "AES-CTR"}, bytes(16), ["encrypt"])
    data = os.urandom(CHUNK + 5)
    params = {"name": "AES-CTR", "counter": {"$b": 0}, "length": 64}
    value, out = call(state, "crypto.encrypt", [params, key["handle"]], [bytes(16), data])
    assert out is None and value["length"] == len(data)
    pieces = []
    for off in range(0, value["length"], CHUNK):
        _, piece = call(state, "crypto.download.read",
                        [value["$download"], off, min(CHUNK, len(data) - off)])
        pieces.append(piece)
    ciphertext = b"".join(pieces)
    _, back = call(state, "crypto.decrypt", [params, key["handle"]], [bytes(16), ciphertext])
    assert back is None  # also big
    call(state, "crypto.release", [[value["$download"]]])
    assert value["$download"] not in state.handles


# -- HMAC, RFC 4231 ----------------------------------------------------------------------------

def test_hmac_rfc4231_case_2(state):
    key = import_raw(state, {"name": "HMAC", "hash": sha("SHA-256")}, b"Jefe", ["sign", "verify"])
    assert key["algorithm"] == {"name": "HMAC", "hash": {"name": "SHA-256"}, "length": 32}
    _, mac = call(state, "crypto.sign", [{"name": "HMAC"}, key["handle"]],
                  [b"what do ya want for nothing?"])
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    ok, _ = call(state, "crypto.verify", [{"name": "HMAC"}, key["handle"]],
                 [mac, b"what do ya want for nothing?"])
    assert ok is True
    ok, _ = call(state, "crypto.verify", [{"name": "HMAC"}, key["handle"]], [mac[:-1], b"x"])
    assert ok is False


def test_hmac_import_length_rules(state):
    params = {"name": "HMAC", "hash": sha("SHA-256"), "length": 20}
    # 3 bytes = 24 bits: 17..24 are fine, 16 or less and more than 24 are not
    assert import_raw(state, params, b"abc", ["sign"])["algorithm"]["length"] == 20
    for bad in (16, 25):
        params["length"] = bad
        assert error_name(state, "crypto.importKey",
                          ["raw", params, True, ["sign"], None], [b"abc"]) == "DataError"


def test_hmac_keys_are_at_most_64_kib(state):
    params = {"name": "HMAC", "hash": sha("SHA-256")}
    assert import_raw(state, params, b"k" * 65536, ["sign"])["algorithm"]["length"] == 1 << 19
    assert error_name(state, "crypto.importKey",
                      ["raw", params, True, ["sign"], None], [b"k" * 65537]) == "DataError"
    with pytest.raises(OpError, match="at most 524288 bits"):  # was 256 MiB for 2**31
        call(state, "crypto.generateKey", [{**params, "length": 2**31}, True, ["sign"]])


def test_rsa_operations_run_off_the_loop_a_few_at_a_time():
    # A private-key operation takes milliseconds (8,192 bits: ~30 ms): on the loop, a script
    # calling it in a loop stalled the worker until its heartbeat killed it.
    assert crypto_ops.ALGORITHMS["RSASSA-PKCS1-v1_5"].heavy
    assert not crypto_ops.ALGORITHMS["HMAC"].heavy
    seen: list[tuple[bool, int]] = []
    running = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running
        with lock:
            running += 1
            seen.append((threading.get_ident() != loop_thread, running))
        time.sleep(0.01)
        with lock:
            running -= 1

    async def scenario() -> None:
        nonlocal loop_thread
        loop_thread = threading.get_ident()
        await asyncio.gather(*(run_blocking(None, work, heavy=True) for _ in range(12)))

    loop_thread = 0
    asyncio.run(scenario())
    assert len(seen) == 12 and all(off for off, _ in seen)
    assert max(at_once for _, at_once in seen) <= HEAVY_AT_ONCE


def test_hmac_jwk_round_trip_and_alg_check(state):
    params = {"name": "HMAC", "hash": sha("SHA-384")}
    jwk = {"kty": "oct", "k": "AQID", "alg": "HS384"}
    value, _ = call(state, "crypto.importKey", ["jwk", params, True, ["sign"], jwk])
    out, _ = call(state, "crypto.exportKey", ["jwk", value[0]["handle"], ["sign"], True])
    assert out == {"kty": "oct", "k": "AQID", "alg": "HS384", "key_ops": ["sign"], "ext": True}
    jwk["alg"] = "HS256"
    assert error_name(state, "crypto.importKey", ["jwk", params, True, ["sign"], jwk]) == \
        "DataError"


# -- usages and key types ---------------------------------------------------------------------

def test_bad_usage_is_a_syntax_error(state):
    assert error_name(state, "crypto.importKey",
                      ["raw", {"name": "AES-GCM"}, True, ["sign"], None], [bytes(16)]) == \
        "SyntaxError"


def test_secret_key_needs_a_usage(state):
    assert error_name(state, "crypto.importKey",
                      ["raw", {"name": "AES-GCM"}, True, [], None], [bytes(16)]) == \
        "SyntaxError"


def test_non_extractable_export_is_refused(state):
    key = import_raw(state, {"name": "AES-GCM"}, bytes(16), ["encrypt"], extractable=False)
    assert error_name(state, "crypto.exportKey", ["raw", key["handle"], ["encrypt"], False]) \
        == "InvalidAccessError"


def test_pbkdf2_cannot_be_exported_or_extractable(state):
    assert error_name(state, "crypto.importKey",
                      ["raw", {"name": "PBKDF2"}, True, ["deriveBits"], None], [b"pw"]) == \
        "SyntaxError"
    key = import_raw(state, {"name": "PBKDF2"}, b"pw", ["deriveBits"], extractable=False)
    assert error_name(state, "crypto.exportKey", ["raw", key["handle"], ["deriveBits"], False]) \
        == "NotSupportedError"


def test_usages_are_deduplicated_in_enum_order(state):
    value, _ = call(state, "crypto.generateKey",
                    [{"name": "AES-CBC", "length": 128}, True, ["decrypt", "encrypt", "decrypt"]])
    assert value[0]["usages"] == ["encrypt", "decrypt"]


# -- AES --------------------------------------------------------------------------------------

def test_aes_gcm_nist_test_case_4(state):
    # "The Galois/Counter Mode of Operation (GCM)", McGrew & Viega, test case 4
    key = import_raw(state, {"name": "AES-GCM"},
                     bytes.fromhex("feffe9928665731c6d6a8f9467308308"), ["encrypt", "decrypt"])
    iv = bytes.fromhex("cafebabefacedbaddecaf888")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    pt = bytes.fromhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    params = {"name": "AES-GCM", "iv": {"$b": 0}, "additionalData": {"$b": 1}}
    _, out = call(state, "crypto.encrypt", [params, key["handle"]], [iv, aad, pt])
    assert out.hex() == (
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
        "5bc94fbc3221a5db94fae95ae7121a47")
    _, back = call(state, "crypto.decrypt", [params, key["handle"]], [iv, aad, out])
    assert back == pt
    tampered = out[:-1] + bytes([out[-1] ^ 1])
    assert error_name(state, "crypto.decrypt", [params, key["handle"]], [iv, aad, tampered]) == \
        "OperationError"
    params["tagLength"] = 96
    _, short = call(state, "crypto.encrypt", [params, key["handle"]], [iv, aad, pt])
    assert short == out[:-4]
    _, back = call(state, "crypto.decrypt", [params, key["handle"]], [iv, aad, short])
    assert back == pt


def test_aes_ctr_counter_wraps_in_its_low_bits(state):
    raw = bytes(range(16))
    key = import_raw(state, {"name": "AES-CTR"}, raw, ["encrypt"])
    counter = bytes(15) + b"\xff"
    params = {"name": "AES-CTR", "counter": {"$b": 0}, "length": 8}
    data = bytes(48)
    _, out = call(state, "crypto.encrypt", [params, key["handle"]], [counter, data])
    # keystream blocks: AES(..ff), then AES(..00) (the 8 counter bits wrap), then AES(..01)
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    ecb = Cipher(algorithms.AES(raw), modes.ECB()).encryptor()
    expected = ecb.update(bytes(15) + b"\xff" + bytes(16) + bytes(15) + b"\x01")
    assert out == expected
    # more blocks than the counter bits can count
    params["length"] = 1
    assert error_name(state, "crypto.encrypt", [params, key["handle"]], [counter, data]) == \
        "OperationError"


def test_aes_cbc_padding_and_iv(state):
    key = import_raw(state, {"name": "AES-CBC"}, bytes(32), ["encrypt", "decrypt"])
    params = {"name": "AES-CBC", "iv": {"$b": 0}}
    _, out = call(state, "crypto.encrypt", [params, key["handle"]], [bytes(16), b"x" * 16])
    assert len(out) == 32
    assert error_name(state, "crypto.encrypt", [params, key["handle"]], [bytes(8), b"x"]) == \
        "OperationError"
    assert error_name(state, "crypto.decrypt", [params, key["handle"]], [bytes(16), out[:20]]) \
        == "OperationError"


def test_aes_kw_rfc3394(state):
    kek = import_raw(state, {"name": "AES-KW"}, bytes.fromhex("000102030405060708090A0B0C0D0E0F"),
                     ["wrapKey", "unwrapKey"])
    data = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    _, wrapped = call(state, "crypto.wrapKey", [{"name": "AES-KW"}, kek["handle"]], [data])
    assert wrapped.hex().upper() == "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"
    _, back = call(state, "crypto.unwrapKey", [{"name": "AES-KW"}, kek["handle"]], [wrapped])
    assert back == data
    assert error_name(state, "crypto.unwrapKey", [{"name": "AES-KW"}, kek["handle"]],
                      [bytes(24)]) == "OperationError"


def test_aes_raw_length_is_checked(state):
    assert error_name(state, "crypto.importKey",
                      ["raw", {"name": "AES-CBC"}, True, ["encrypt"], None], [bytes(20)]) == \
        "DataError"


# -- KDFs -------------------------------------------------------------------------------------

def test_pbkdf2_rfc6070(state):
    key = import_raw(state, {"name": "PBKDF2"}, b"password", ["deriveBits"], extractable=False)
    params = {"name": "PBKDF2", "hash": sha("SHA-1"), "salt": {"$b": 0}, "iterations": 4096}
    _, out = call(state, "crypto.deriveBits", [params, key["handle"], 160, None], [b"salt"])
    assert out.hex() == "4b007901b765489abead49d926f721d065a429c1"
    for bad in (None, 100):
        assert error_name(state, "crypto.deriveBits", [params, key["handle"], bad, None],
                          [b"salt"]) == "OperationError"
    # A zero length derives nothing, but only after the iteration count was checked.
    _, empty = call(state, "crypto.deriveBits", [params, key["handle"], 0, None], [b"salt"])
    assert empty == b""
    assert error_name(state, "crypto.deriveBits", [{**params, "iterations": 0}, key["handle"], 0,
                                                   None], [b"salt"]) == "OperationError"


def test_hkdf_rfc5869_case_1(state):
    ikm = bytes([0x0B] * 22)
    key = import_raw(state, {"name": "HKDF"}, ikm, ["deriveBits"], extractable=False)
    params = {"name": "HKDF", "hash": sha("SHA-256"), "salt": {"$b": 0}, "info": {"$b": 1}}
    blobs = [bytes(range(13)), bytes(range(0xF0, 0xFA))]
    _, out = call(state, "crypto.deriveBits", [params, key["handle"], 42 * 8, None], blobs)
    assert out.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")
    _, empty = call(state, "crypto.deriveBits", [params, key["handle"], 0, None], blobs)
    assert empty == b""


# -- EC ---------------------------------------------------------------------------------------

def test_ecdsa_generate_sign_verify_and_exports(state):
    value, _ = call(state, "crypto.generateKey",
                    [{"name": "ECDSA", "namedCurve": "P-384"}, True, ["sign", "verify"]])
    public, private = value
    assert public["usages"] == ["verify"] and private["usages"] == ["sign"]
    params = {"name": "ECDSA", "hash": sha("SHA-384")}
    _, sig = call(state, "crypto.sign", [params, private["handle"]], [b"hello"])
    assert len(sig) == 96
    ok, _ = call(state, "crypto.verify", [params, public["handle"]], [sig, b"hello"])
    assert ok is True
    ok, _ = call(state, "crypto.verify", [params, public["handle"]], [sig, b"hellO"])
    assert ok is False
    assert error_name(state, "crypto.sign", [params, public["handle"]], [b"x"]) == \
        "InvalidAccessError"
    jwk, _ = call(state, "crypto.exportKey", ["jwk", private["handle"], ["sign"], True])
    assert set(jwk) == {"kty", "crv", "x", "y", "d", "key_ops", "ext"}
    back, _ = call(state, "crypto.importKey",
                   ["jwk", {"name": "ECDSA", "namedCurve": "P-384"}, True, ["sign"], jwk])
    _, raw = call(state, "crypto.exportKey", ["raw", public["handle"], [], True])
    assert raw[0] == 4 and len(raw) == 97
    assert error_name(state, "crypto.exportKey", ["raw", private["handle"], [], True]) == \
        "InvalidAccessError"
    jwk["d"] = jwk["x"]  # a private key that does not match its public point
    assert error_name(state, "crypto.importKey",
                      ["jwk", {"name": "ECDSA", "namedCurve": "P-384"}, True, ["sign"], jwk]) \
        == "DataError"
    assert back[0]["type"] == "private"


def test_ecdh_agreement(state):
    alg = {"name": "ECDH", "namedCurve": "P-256"}
    a, _ = call(state, "crypto.generateKey", [alg, True, ["deriveBits"]])
    b, _ = call(state, "crypto.generateKey", [alg, True, ["deriveBits"]])
    assert a[0]["usages"] == []
    _, ab = call(state, "crypto.deriveBits", [{"name": "ECDH"}, a[1]["handle"], None,
                                              b[0]["handle"]])
    _, ba = call(state, "crypto.deriveBits", [{"name": "ECDH"}, b[1]["handle"], 128,
                                              a[0]["handle"]])
    assert len(ab) == 32 and ab[:16] == ba
    assert error_name(state, "crypto.deriveBits", [{"name": "ECDH"}, a[1]["handle"], 512,
                                                   b[0]["handle"]]) == "OperationError"
    assert error_name(state, "crypto.deriveBits", [{"name": "ECDH"}, a[1]["handle"], None,
                                                   b[1]["handle"]]) == "InvalidAccessError"


def test_ec_spki_curve_mismatch(state):
    value, _ = call(state, "crypto.generateKey",
                    [{"name": "ECDSA", "namedCurve": "P-256"}, True, ["sign"]])
    _, spki = call(state, "crypto.exportKey", ["spki", value[0]["handle"], [], True])
    assert error_name(state, "crypto.importKey",
                      ["spki", {"name": "ECDSA", "namedCurve": "P-384"}, True, [], None],
                      [spki]) == "DataError"
    assert error_name(state, "crypto.importKey",
                      ["spki", {"name": "ECDSA", "namedCurve": "P-256"}, True, [], None],
                      [spki[:-1]]) == "DataError"


# -- OKP --------------------------------------------------------------------------------------

def test_ed25519_rfc8032_test_1(state):
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    import base64
    def b64u(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(bytes.fromhex(public)), "d": b64u(secret)}
    value, _ = call(state, "crypto.importKey", ["jwk", {"name": "Ed25519"}, True, ["sign"], jwk])
    _, sig = call(state, "crypto.sign", [{"name": "Ed25519"}, value[0]["handle"]], [b""])
    assert sig.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
        "701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    out, _ = call(state, "crypto.exportKey", ["jwk", value[0]["handle"], ["sign"], True])
    assert out["alg"] == "Ed25519" and out["x"] == jwk["x"]


def test_edwards_small_order_and_invalid_points():
    p = 2**255 - 19
    d = (-121665 * pow(121666, p - 2, p)) % p
    y8 = crypto_ops._ED25519_Y8
    assert (d * pow(y8, 4, p) + 2 * y8 * y8 - 1) % p == 0  # 2 * P has y = 0: order 8

    def enc(y: int, sign: int = 0, size: int = 32) -> bytes:
        return (y | (sign << (size * 8 - 1))).to_bytes(size, "little")

    rejected = crypto_ops.edwards_point_rejected
    for y in (1, p - 1, 0, y8, p - y8):
        assert rejected("Ed25519", enc(y)) and rejected("Ed25519", enc(y, 1))
    assert rejected("Ed25519", enc(p + 1))  # a non-canonical y
    rfc8032 = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert not rejected("Ed25519", rfc8032)
    q = 2**448 - 2**224 - 1
    for y in (1, q - 1, 0):
        assert rejected("Ed448", enc(y, 0, 57)) and rejected("Ed448", enc(y, 1, 57))
    assert rejected("Ed448", enc(q, 0, 57))
    assert not rejected("Ed448", enc(12345, 0, 57))


def test_ed25519_verify_refuses_the_identity_key(state):
    identity = bytes([1]) + bytes(31)
    value, _ = call(state, "crypto.importKey", ["raw", {"name": "Ed25519"}, True, ["verify"], None],
                    [identity])
    ok, _ = call(state, "crypto.verify", [{"name": "Ed25519"}, value[0]["handle"]],
                 [identity + bytes(32), b"any message"])
    assert ok is False


def test_x25519_rfc7748(state):
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b_pub = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import x25519
    pkcs8 = x25519.X25519PrivateKey.from_private_bytes(a).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    priv, _ = call(state, "crypto.importKey",
                   ["pkcs8", {"name": "X25519"}, False, ["deriveBits"], None], [pkcs8])
    pub = import_raw(state, {"name": "X25519"}, b_pub, [])
    _, shared = call(state, "crypto.deriveBits", [{"name": "X25519"}, priv[0]["handle"], None,
                                                  pub["handle"]])
    assert shared.hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    small_order = import_raw(state, {"name": "X25519"}, bytes(32), [])
    assert error_name(state, "crypto.deriveBits", [{"name": "X25519"}, priv[0]["handle"],
                                                   None, small_order["handle"]]) == \
        "OperationError"


# -- RSA --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rsa_pair():
    state = OpState()
    params = {"name": "RSA-PSS", "modulusLength": 1024, "publicExponent": {"$b": 0},
              "hash": sha("SHA-256")}
    value, _ = call(state, "crypto.generateKey", [params, True, ["sign", "verify"]],
                    [b"\x01\x00\x01"])
    return state, value


def test_rsa_pss_sign_verify(rsa_pair):
    state, (public, private) = rsa_pair
    assert public["algorithm"] == {"name": "RSA-PSS", "modulusLength": 1024,
                                   "publicExponent": [1, 0, 1], "hash": {"name": "SHA-256"}}
    params = {"name": "RSA-PSS", "saltLength": 32}
    _, sig = call(state, "crypto.sign", [params, private["handle"]], [b"data"])
    ok, _ = call(state, "crypto.verify", [params, public["handle"]], [sig, b"data"])
    assert ok is True
    params["saltLength"] = 31
    ok, _ = call(state, "crypto.verify", [params, public["handle"]], [sig, b"data"])
    assert ok is False
    params["saltLength"] = 1000
    assert error_name(state, "crypto.sign", [params, private["handle"]], [b"data"]) == \
        "OperationError"


def test_rsa_jwk_round_trip_and_prime_recovery(rsa_pair):
    state, (_, private) = rsa_pair
    jwk, _ = call(state, "crypto.exportKey", ["jwk", private["handle"], ["sign"], True])
    assert jwk["alg"] == "PS256"
    minimal = {k: jwk[k] for k in ("kty", "n", "e", "d")}  # no CRT members: recovered
    params = {"name": "RSA-PSS", "hash": sha("SHA-256")}
    value, _ = call(state, "crypto.importKey", ["jwk", params, True, ["sign"], minimal])
    again, _ = call(state, "crypto.exportKey", ["jwk", value[0]["handle"], ["sign"], True])
    assert {again[k] for k in ("p", "q")} == {jwk[k] for k in ("p", "q")}
    partial = dict(minimal, p=jwk["p"])
    assert error_name(state, "crypto.importKey", ["jwk", params, True, ["sign"], partial]) == \
        "DataError"
    wrong_alg = dict(jwk, alg="PS384")
    assert error_name(state, "crypto.importKey", ["jwk", params, True, ["sign"], wrong_alg]) \
        == "DataError"


def test_rsa_keys_over_16384_bits_are_refused_at_import_before_any_work(state, monkeypatch):
    # A 24,000-bit JWK without p and q had its primes recovered on the worker's loop
    # (cubic: 7 s at 16,384 bits), outside the CPU limit: the heartbeat killed the worker.
    big = crypto_ops.b64u_encode(((1 << 24000) - 1).to_bytes(3000, "big"))
    params = {"name": "RSA-PSS", "hash": sha("SHA-256")}
    jwk = {"kty": "RSA", "n": big, "e": "AQAB", "d": big}
    loops: list[bool] = []
    monkeypatch.setattr(crypto_ops.rsa, "rsa_recover_prime_factors",
                        lambda *a: loops.append(True))
    assert error_name(state, "crypto.importKey", ["jwk", params, True, ["sign"], jwk]) == \
        "NotSupportedError"
    public = {"kty": "RSA", "n": big, "e": "AQAB"}
    assert error_name(state, "crypto.importKey", ["jwk", params, True, ["verify"], public]) == \
        "NotSupportedError"
    assert error_name(state, "crypto.importKey", ["pkcs8", params, True, ["sign"], None],
                      [bytes(13 << 10)]) == "NotSupportedError"
    assert loops == []


def test_rsa_import_runs_off_the_loop(state, monkeypatch):
    threads: list[int] = []
    real = crypto_ops.Rsa.import_key

    def import_key(self, *args):
        threads.append(threading.get_ident())
        return real(self, *args)

    monkeypatch.setattr(crypto_ops.Rsa, "import_key", import_key)
    n = ((1 << 2047) + 1).to_bytes(256, "big")
    public = {"kty": "RSA", "n": crypto_ops.b64u_encode(n), "e": "AQAB"}
    params = {"name": "RSA-PSS", "hash": sha("SHA-256")}
    call(state, "crypto.importKey", ["jwk", params, True, ["verify"], public])
    assert threads and threads[0] != threading.get_ident()


def test_rsa_generate_rejects_bad_exponent(state):
    params = {"name": "RSA-OAEP", "modulusLength": 1024, "publicExponent": {"$b": 0},
              "hash": sha("SHA-1")}
    assert error_name(state, "crypto.generateKey", [params, True, ["decrypt"]], [b"\x01"]) == \
        "OperationError"


# -- key handles ------------------------------------------------------------------------------

def test_release_drops_keys(state):
    key = import_raw(state, {"name": "AES-GCM"}, bytes(16), ["encrypt"])
    assert isinstance(state.handles[key["handle"]], Key)
    call(state, "crypto.release", [[key["handle"]]])
    assert state.handles == {}
    assert error_name(state, "crypto.exportKey", ["raw", key["handle"], ["encrypt"], True]) == \
        "TypeError"


# -- the entropy pool -------------------------------------------------------------------------

def test_entropy_pool_fills_only_empty_halves():
    half = 1024
    raw = bytearray(POOL_HEADER + 2 * half)
    pool = EntropyPool(memoryview(raw))
    flags = memoryview(raw)[:8].cast("i")
    assert list(flags) == [1, 1] and pool.refills == 2
    first = bytes(raw[POOL_HEADER : POOL_HEADER + half])
    second = bytes(raw[POOL_HEADER + half :])
    assert first != second and any(first)
    pool.refill()  # both full: nothing is written
    assert bytes(raw[POOL_HEADER : POOL_HEADER + half]) == first and pool.refills == 2
    # JS used up half 1 (zeroed it, flagged it empty): only that half is rewritten
    raw[POOL_HEADER + half :] = bytes(half)
    flags[1] = 0
    pool.refill()
    assert list(flags) == [1, 1] and pool.refills == 3
    assert bytes(raw[POOL_HEADER : POOL_HEADER + half]) == first
    assert any(raw[POOL_HEADER + half :])


def test_crypto_ops_are_registered():
    names = {n for n in REGISTRY if n.startswith("crypto.")}
    assert {"crypto.digest", "crypto.sign", "crypto.verify", "crypto.encrypt", "crypto.decrypt",
            "crypto.importKey", "crypto.exportKey", "crypto.generateKey", "crypto.deriveBits",
            "crypto.release", "crypto.refill"} <= names
    assert crypto_ops.ALGORITHMS.keys() >= {"AES-GCM", "HMAC", "ECDSA", "RSA-OAEP", "Ed25519"}


# -- in a real isolate: keys are released when their CryptoKey is collected ------------------

def test_collected_keys_are_released(tmp_path):
    import time

    from tests.js.conftest import JsFileSession

    path = tmp_path / "release.test.js"
    path.write_text("// nothing: the test drives the isolate directly\n")
    session = JsFileSession(path)

    def keys() -> int:
        return sum(isinstance(v, Key) for v in session.ops.state.handles.values())

    def wait(cond, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.01)

    try:
        session.eval("""
            globalThis.ready = false;
            (async () => {
              for (let i = 0; i < 100; i++) {
                await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"]);
              }
              globalThis.kept = await crypto.subtle.generateKey(
                { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
              globalThis.ready = true;
            })();
            0""")
        wait(lambda: session.eval("ready") is True)
        assert keys() == 102
        session._call(lambda: session.bridge.v8._ctx.low_memory_notification())
        wait(lambda: keys() == 2)  # only the pair still referenced from JS remains
        # a structured clone shares the key: it lives until the last CryptoKey is collected
        session.eval("globalThis.clone = structuredClone(kept.privateKey); kept = null; 0")
        session._call(lambda: session.bridge.v8._ctx.low_memory_notification())
        wait(lambda: keys() == 1)
        time.sleep(0.1)
        assert keys() == 1
        session.eval("globalThis.clone = null; 0")
        session._call(lambda: session.bridge.v8._ctx.low_memory_notification())
        wait(lambda: keys() == 0)
    finally:
        session.close()


# -- end to end: a worker process answering with Web Crypto -----------------------------------

def test_worker_uses_web_crypto(serve):
    import json
    import urllib.request

    server = serve(
        """
        export default {
          async fetch(request) {
            const data = new Uint8Array(await request.arrayBuffer());
            const key = await crypto.subtle.generateKey(
              { name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
            const alg = { name: "ECDSA", hash: "SHA-256" };
            const sig = await crypto.subtle.sign(alg, key.privateKey, data);
            const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
            return Response.json({
              digest: hex(await crypto.subtle.digest("SHA-256", data)),
              verified: await crypto.subtle.verify(alg, key.publicKey, sig, data),
              uuid: crypto.randomUUID(),
              random: hex(crypto.getRandomValues(new Uint8Array(16))),
            });
          },
        };
        """,
        workers=1,
    )
    body = os.urandom(100_000)
    answers = []
    for _ in range(2):
        req = urllib.request.Request(server.url("/"), data=body, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            answers.append(json.loads(r.read()))
    for a in answers:
        assert a["digest"] == hashlib.sha256(body).hexdigest()
        assert a["verified"] is True
        assert len(a["uuid"]) == 36 and a["uuid"][14] == "4"
    assert answers[0]["uuid"] != answers[1]["uuid"]
    assert answers[0]["random"] != answers[1]["random"]
