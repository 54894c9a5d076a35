"""Web Crypto's native half: every cryptographic operation of ``crypto.subtle``, done with
the ``cryptography`` package (OpenSSL) and :mod:`hashlib`, never in JavaScript.

The JavaScript half (``js/35_crypto*.js``) converts arguments, normalizes algorithms and
checks what the standard checks before "in parallel" (Web IDL types, unknown algorithms,
key/operation mismatches, missing key usages); everything that touches key material or
bytes happens here, including the per-algorithm steps of the W3C Web Cryptography API
(usage rules, JWK validation, key data parsing), with the exceptions the standard names:
``SyntaxError`` for bad usages, ``DataError`` for malformed key data, ``InvalidAccessError``
for a key of the wrong type, ``OperationError`` for a failed operation, ``NotSupportedError``
for a format an algorithm does not have.

Keys live here, in the isolate's :class:`~.ops.OpState`, behind integer handles; a
``CryptoKey`` holds its handle and releases it when it is garbage collected.

Wire format of every ``crypto.*`` op: ``args`` is a JSON list whose last item is a meta
object ``{"lens": [n, ...]}``: the op's byte payload is the concatenation of that many
blobs, and ``{"$b": i}`` anywhere in the arguments stands for blob ``i``. Payloads larger
than :data:`CHUNK` travel in pieces (``crypto.upload.*``, meta ``{"upload": handle}``) and
results larger than it come back as ``{"$download": handle, "length": n}`` for JS to read
in pieces (``crypto.download.*``): the bridge's shared buffers are never asked to carry
one oversized message.

The entropy pool behind ``crypto.getRandomValues`` is in :mod:`.entropy`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .ops import OpError, OpResult, OpState, op, run_blocking

CHUNK = 1 << 20  # largest payload or result carried by one op message

# -- errors and small helpers -----------------------------------------------------------------


def _err(name: str, message: str) -> OpError:
    return OpError(name, message)


def data_error(message: str) -> OpError:
    return OpError("DataError", message)


# Workers' own bound: a derivation runs on a thread of the worker, outside V8's CPU clock,
# and cannot be stopped; at 100,000 iterations of SHA-512 it takes ~0.1 s here. Its cost is
# the iterations times the output's blocks (one per hash length): bounded too, and only a
# derivation of at most PBKDF2_INLINE_WORK runs on the loop (a few milliseconds).
PBKDF2_MAX_ITERATIONS = 100_000
PBKDF2_MAX_WORK = PBKDF2_MAX_ITERATIONS * 8
PBKDF2_INLINE_WORK = 10_000


def operation_error(message: str) -> OpError:
    return OpError("OperationError", message)


def access_error(message: str) -> OpError:
    return OpError("InvalidAccessError", message)


def not_supported(message: str) -> OpError:
    return OpError("NotSupportedError", message)


USAGE_ORDER = ("encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey",
               "unwrapKey")


def canonical_usages(usages: Any, allowed: frozenset[str] | None = None) -> list[str]:
    """Usages without repeats, in the KeyUsage enum's order (restricted to ``allowed``)."""
    present = set(usages)
    return [u for u in USAGE_ORDER if u in present and (allowed is None or u in allowed)]


def check_usages(usages: list[str], allowed: frozenset[str]) -> None:
    for usage in usages:
        if usage not in allowed:
            raise _err("SyntaxError", f"Cannot create a key using the specified key usages "
                                      f"('{usage}' is not allowed).")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64u_decode(value: Any, member: str) -> bytes:
    """A JWK member in base64url (padding tolerated); DataError when it is not."""
    if not isinstance(value, str):
        raise data_error(f"The JWK member '{member}' is missing or not a string.")
    raw = value.rstrip("=").encode("ascii", "replace")
    if len(raw) % 4 == 1 or not set(raw) <= _B64U_ALPHABET:
        raise data_error(f"The JWK member '{member}' is not valid base64url.")
    try:
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise data_error(f"The JWK member '{member}' is not valid base64url.") from None


def int_to_bytes(n: int, size: int | None = None) -> bytes:
    if size is None:
        size = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(size, "big")


def jwk_common(jwk: dict[str, Any], kty: str, use: str, usages: list[str],
               extractable: bool) -> None:
    """The checks every JWK import makes: kty, use, key_ops, ext."""
    if jwk.get("kty") != kty:
        raise data_error(f"The JWK 'kty' member must be '{kty}'.")
    if usages and "use" in jwk and jwk["use"] != use:
        raise data_error(f"The JWK 'use' member must be '{use}'.")
    if "key_ops" in jwk:
        ops = jwk["key_ops"]
        if not isinstance(ops, list) or len(set(ops)) != len(ops):
            raise data_error("The JWK 'key_ops' member is invalid (repeated values).")
        missing = [u for u in usages if u not in ops]
        if missing:
            raise data_error(f"The JWK 'key_ops' member does not allow '{missing[0]}'.")
    if jwk.get("ext") is False and extractable:
        raise data_error("The JWK 'ext' member is false but the key would be extractable.")


def truncate_bits(secret: bytes, length: int | None) -> bytes:
    """The first ``length`` bits of ``secret`` (all of it for None); OperationError if short."""
    if length is None:
        return secret
    if length > len(secret) * 8:
        raise operation_error(f"The length ({length} bits) exceeds the {len(secret) * 8} bits "
                              "available.")
    out = bytearray(secret[: (length + 7) // 8])
    if length % 8:
        out[-1] &= (0xFF << (8 - length % 8)) & 0xFF
    return bytes(out)


# -- hashes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HashInfo:
    hashlib_name: str
    cls: type[hashes.HashAlgorithm]
    size: int  # bytes
    block_bits: int


HASHES: dict[str, HashInfo] = {
    "SHA-1": HashInfo("sha1", hashes.SHA1, 20, 512),
    "SHA-256": HashInfo("sha256", hashes.SHA256, 32, 512),
    "SHA-384": HashInfo("sha384", hashes.SHA384, 48, 1024),
    "SHA-512": HashInfo("sha512", hashes.SHA512, 64, 1024),
}


def hash_of(params: dict[str, Any]) -> HashInfo:
    name = (params.get("hash") or {}).get("name")
    info = HASHES.get(name)
    if info is None:
        raise not_supported(f"Unsupported hash: {name!r}")
    return info


# -- keys -------------------------------------------------------------------------------------


@dataclass(eq=False)
class Key:
    """A key's material and the parameters its algorithm keeps (the JS CryptoKey's twin)."""

    type: str  # "secret" | "public" | "private"
    alg: str  # registered algorithm name
    material: Any  # bytes for secret keys, a `cryptography` key object otherwise
    hash: str | None = None
    length: int | None = None  # bits (AES, HMAC)
    curve: str | None = None  # ECDSA/ECDH named curve

    def algorithm(self) -> dict[str, Any]:
        """The key's KeyAlgorithm dictionary, JSON-shaped (bytes as lists of octets)."""
        out: dict[str, Any] = {"name": self.alg}
        if self.alg.startswith("AES-"):
            out["length"] = self.length
        elif self.alg == "HMAC":
            out["hash"] = {"name": self.hash}
            out["length"] = self.length
        elif self.alg in ("ECDSA", "ECDH"):
            out["namedCurve"] = self.curve
        elif self.alg in RSA_ALGS:
            numbers = self.material.public_numbers() if self.type == "public" else \
                self.material.private_numbers().public_numbers
            out["modulusLength"] = self.material.key_size
            out["publicExponent"] = list(int_to_bytes(numbers.e))
            out["hash"] = {"name": self.hash}
        return out


class Algorithm:
    """One registered algorithm: the operations it supports, per the standard."""

    name = ""
    usages: dict[str, frozenset[str]] = {}  # key type -> allowed usages
    exportable = True
    heavy = False  # its operations may take milliseconds each: off the loop (run_blocking)

    @property
    def all_usages(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for allowed in self.usages.values():
            out |= allowed
        return out

    async def generate(self, params: dict[str, Any], usages: list[str]) -> list[Key]:
        raise not_supported(f"{self.name} cannot generate keys")

    def import_key(self, fmt: str, params: dict[str, Any], data: bytes | None,
                   jwk: dict[str, Any] | None, extractable: bool, usages: list[str]) -> Key:
        raise not_supported(f"{self.name} cannot import keys")

    def export_key(self, fmt: str, key: Key, usages: list[str], extractable: bool
                   ) -> tuple[Any, bytes | None]:
        raise not_supported(f"{self.name} keys cannot be exported")

    def sign(self, params: dict[str, Any], key: Key, data: bytes) -> bytes:
        raise not_supported(f"{self.name} cannot sign")

    def verify(self, params: dict[str, Any], key: Key, signature: bytes, data: bytes) -> bool:
        raise not_supported(f"{self.name} cannot verify")

    def encrypt(self, params: dict[str, Any], key: Key, data: bytes) -> bytes:
        raise not_supported(f"{self.name} cannot encrypt")

    def decrypt(self, params: dict[str, Any], key: Key, data: bytes) -> bytes:
        raise not_supported(f"{self.name} cannot decrypt")

    async def derive_bits(self, params: dict[str, Any], key: Key, length: int | None,
                          peer: Key | None) -> bytes:
        raise not_supported(f"{self.name} cannot derive bits")

    def wrap(self, key: Key, data: bytes) -> bytes:
        raise not_supported(f"{self.name} cannot wrap keys")

    def unwrap(self, key: Key, data: bytes) -> bytes:
        raise not_supported(f"{self.name} cannot unwrap keys")


def require_type(key: Key, kind: str, operation: str) -> None:
    if key.type != kind:
        raise access_error(f"The key is a {key.type} key; {operation} needs a {kind} key.")


def require_peer(key: Key, peer: Key | None) -> Key:
    """Key agreement (ECDH, X25519, X448): our private key, and a public key of its algorithm."""
    require_type(key, "private", "deriving bits")
    assert peer is not None
    if peer.type != "public":
        raise access_error("The 'public' member must be a public key.")
    if peer.alg != key.alg:
        raise access_error(f"The public key is an {peer.alg} key, not {key.alg}.")
    return peer


# -- symmetric: AES, HMAC, PBKDF2, HKDF -------------------------------------------------------

_ENC = frozenset({"encrypt", "decrypt", "wrapKey", "unwrapKey"})
_AES_LENGTHS = (128, 192, 256)


class Aes(Algorithm):
    def __init__(self, name: str, usages: frozenset[str]) -> None:
        self.name = name
        self.usages = {"secret": usages}
        self.jwk_suffix = name[4:]  # "CTR", "CBC", "GCM", "KW"

    async def generate(self, params: dict[str, Any], usages: list[str]) -> list[Key]:
        check_usages(usages, self.usages["secret"])
        length = params.get("length")
        if length not in _AES_LENGTHS:
            raise operation_error("AES key length must be 128, 192 or 256 bits.")
        return [Key("secret", self.name, os.urandom(length // 8), length=length)]

    def import_key(self, fmt, params, data, jwk, extractable, usages):
        check_usages(usages, self.usages["secret"])
        if fmt == "raw":
            assert data is not None
            raw = data
            if len(raw) * 8 not in _AES_LENGTHS:
                raise data_error("AES key data must be 128, 192 or 256 bits long.")
        elif fmt == "jwk":
            assert jwk is not None
            if jwk.get("kty") != "oct":
                raise data_error("The JWK 'kty' member must be 'oct'.")
            raw = b64u_decode(jwk.get("k"), "k")
            if len(raw) * 8 not in _AES_LENGTHS:
                raise data_error("AES key data must be 128, 192 or 256 bits long.")
            expected = f"A{len(raw) * 8}{self.jwk_suffix}"
            if "alg" in jwk and jwk["alg"] != expected:
                raise data_error(f"The JWK 'alg' member must be '{expected}'.")
            jwk_common(jwk, "oct", "enc", usages, extractable)
        else:
            raise not_supported(f"{self.name} keys cannot be imported as '{fmt}'.")
        return Key("secret", self.name, bytes(raw), length=len(raw) * 8)

    def export_key(self, fmt, key, usages, extractable):
        if fmt == "raw":
            return None, key.material
        if fmt == "jwk":
            return {"kty": "oct", "k": b64u_encode(key.material),
                    "alg": f"A{key.length}{self.jwk_suffix}", "key_ops": usages,
                    "ext": extractable}, None
        raise not_supported(f"{self.name} keys cannot be exported as '{fmt}'.")


class AesCbc(Aes):
    def __init__(self) -> None:
        super().__init__("AES-CBC", _ENC)

    def _cipher(self, params, key) -> Cipher:
        iv = params["iv"]
        if len(iv) != 16:
            raise operation_error("The AES-CBC iv must be 16 bytes long.")
        return Cipher(algorithms.AES(key.material), modes.CBC(iv))

    def encrypt(self, params, key, data):
        padder = sym_padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        enc = self._cipher(params, key).encryptor()
        return enc.update(padded) + enc.finalize()

    def decrypt(self, params, key, data):
        cipher = self._cipher(params, key)
        if not data or len(data) % 16:
            raise operation_error("The AES-CBC ciphertext length must be a non-zero multiple "
                                  "of 16 bytes.")
        dec = cipher.decryptor()
        padded = dec.update(data) + dec.finalize()
        unpadder = sym_padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise operation_error("The AES-CBC padding is invalid.") from None


class AesCtr(Aes):
    def __init__(self) -> None:
        super().__init__("AES-CTR", _ENC)

    def _crypt(self, params, key, data: bytes) -> bytes:
        counter = params["counter"]
        length = params["length"]
        if len(counter) != 16:
            raise operation_error("The AES-CTR counter must be 16 bytes long.")
        if not 0 < length <= 128:
            raise operation_error("The AES-CTR length must be between 1 and 128 bits.")
        blocks = (len(data) + 15) // 16
        if blocks > 1 << length:
            raise operation_error("The data is too long for the AES-CTR counter length.")
        if not data:
            return b""
        # Only the rightmost `length` bits count, wrapping to zero: OpenSSL's CTR mode
        # increments all 128 bits, so the data is cut where the counter bits wrap.
        block = int.from_bytes(counter, "big")
        mask = (1 << length) - 1
        first = min(blocks, (1 << length) - (block & mask)) * 16
        out = []
        for start, stop, value in ((0, first, block), (first, len(data), block & ~mask)):
            if start < stop:
                enc = Cipher(algorithms.AES(key.material),
                             modes.CTR(value.to_bytes(16, "big"))).encryptor()
                out.append(enc.update(data[start:stop]) + enc.finalize())
        return b"".join(out)

    def encrypt(self, params, key, data):
        return self._crypt(params, key, data)

    def decrypt(self, params, key, data):
        return self._crypt(params, key, data)


_GCM_TAGS = (32, 64, 96, 104, 112, 120, 128)


class AesGcm(Aes):
    def __init__(self) -> None:
        super().__init__("AES-GCM", _ENC)

    def _params(self, params) -> tuple[bytes, bytes | None, int]:
        iv = params["iv"]
        tag_length = params.get("tagLength", 128)
        if tag_length not in _GCM_TAGS:
            raise operation_error("The AES-GCM tagLength must be 32, 64, 96, 104, 112, 120 or "
                                  "128.")
        if not 8 <= len(iv) <= 128:
            # The standard allows any non-empty iv; OpenSSL through `cryptography` takes
            # 8 to 128 bytes (12 is the recommended and usual length).
            raise operation_error("The AES-GCM iv must be between 8 and 128 bytes long.")
        return iv, params.get("additionalData"), tag_length // 8

    def encrypt(self, params, key, data):
        iv, aad, tag_bytes = self._params(params)
        enc = Cipher(algorithms.AES(key.material), modes.GCM(iv)).encryptor()
        if aad:
            enc.authenticate_additional_data(aad)
        out = enc.update(data) + enc.finalize()
        return out + enc.tag[:tag_bytes]

    def decrypt(self, params, key, data):
        iv, aad, tag_bytes = self._params(params)
        if len(data) < tag_bytes:
            raise operation_error("The AES-GCM ciphertext is shorter than its tag.")
        body, tag = data[: len(data) - tag_bytes], data[len(data) - tag_bytes :]
        dec = Cipher(algorithms.AES(key.material),
                     modes.GCM(iv, tag, min_tag_length=tag_bytes)).decryptor()
        if aad:
            dec.authenticate_additional_data(aad)
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag:
            raise operation_error("The AES-GCM authentication tag does not match.") from None


class AesKw(Aes):
    def __init__(self) -> None:
        super().__init__("AES-KW", frozenset({"wrapKey", "unwrapKey"}))

    def wrap(self, key, data):
        if len(data) < 16 or len(data) % 8:
            raise operation_error("AES-KW wraps data of 16 bytes or more, a multiple of 8.")
        return keywrap.aes_key_wrap(key.material, data)

    def unwrap(self, key, data):
        try:
            return keywrap.aes_key_unwrap(key.material, data)
        except (keywrap.InvalidUnwrap, ValueError):
            raise operation_error("AES-KW unwrapping failed (wrong key or corrupt data).") \
                from None


# An HMAC key longer than its hash's block is hashed first (RFC 2104): a longer one adds
# nothing but memory the isolate's limit does not see (the key lives in the worker's Python).
HMAC_MAX_BITS = 1 << 19  # 64 KiB


class Hmac(Algorithm):
    name = "HMAC"
    usages = {"secret": frozenset({"sign", "verify"})}

    async def generate(self, params, usages):
        check_usages(usages, self.usages["secret"])
        info = hash_of(params)
        length = params.get("length", info.block_bits)
        if not length:
            raise operation_error("The HMAC key length must not be zero.")
        if length > HMAC_MAX_BITS:
            raise operation_error(f"The HMAC key length must be at most {HMAC_MAX_BITS} bits.")
        material = truncate_bits(os.urandom((length + 7) // 8), length)
        return [Key("secret", "HMAC", material, hash=params["hash"]["name"], length=length)]

    def import_key(self, fmt, params, data, jwk, extractable, usages):
        check_usages(usages, self.usages["secret"])
        hash_name = params["hash"]["name"]
        hash_of(params)
        if fmt == "raw":
            assert data is not None
            raw = data
        elif fmt == "jwk":
            assert jwk is not None
            if jwk.get("kty") != "oct":
                raise data_error("The JWK 'kty' member must be 'oct'.")
            raw = b64u_decode(jwk.get("k"), "k")
            expected = "HS" + hash_name[4:]
            if "alg" in jwk and jwk["alg"] != expected:
                raise data_error(f"The JWK 'alg' member must be '{expected}'.")
            jwk_common(jwk, "oct", "sig", usages, extractable)
        else:
            raise not_supported(f"HMAC keys cannot be imported as '{fmt}'.")
        length = len(raw) * 8
        if length == 0:
            raise data_error("HMAC key data must not be empty.")
        if length > HMAC_MAX_BITS:
            raise data_error(f"HMAC key data must be at most {HMAC_MAX_BITS // 8} bytes.")
        if "length" in params:
            wanted = params["length"]
            if wanted > length or wanted <= length - 8:
                raise data_error(f"The length {wanted} does not match the {length}-bit key data.")
            length = wanted
        return Key("secret", "HMAC", bytes(raw), hash=hash_name, length=length)

    def export_key(self, fmt, key, usages, extractable):
        if fmt == "raw":
            return None, key.material
        if fmt == "jwk":
            return {"kty": "oct", "k": b64u_encode(key.material), "alg": "HS" + key.hash[4:],
                    "key_ops": usages, "ext": extractable}, None
        raise not_supported(f"HMAC keys cannot be exported as '{fmt}'.")

    def _mac(self, key: Key, data: bytes) -> bytes:
        return hmac.new(key.material, data, HASHES[key.hash].hashlib_name).digest()

    def sign(self, params, key, data):
        return self._mac(key, data)

    def verify(self, params, key, signature, data):
        return hmac.compare_digest(self._mac(key, data), signature)


class Kdf(Algorithm):
    """PBKDF2 and HKDF: raw secrets that are never extractable, used only to derive."""

    exportable = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.usages = {"secret": frozenset({"deriveKey", "deriveBits"})}

    def import_key(self, fmt, params, data, jwk, extractable, usages):
        if fmt != "raw":
            raise not_supported(f"{self.name} keys can only be imported as 'raw'.")
        check_usages(usages, self.usages["secret"])
        if extractable:
            raise _err("SyntaxError", f"{self.name} keys cannot be extractable.")
        assert data is not None
        return Key("secret", self.name, bytes(data))

    async def derive_bits(self, params, key, length, peer):
        info = hash_of(params)
        if self.name == "PBKDF2":
            # https://w3c.github.io/webcrypto/#pbkdf2-operations-derive-bits: a null length,
            # one that is not a multiple of 8 and zero iterations fail; then a zero length
            # derives nothing.
            if length is None or length % 8:
                raise operation_error("PBKDF2 derives a multiple of 8 bits.")
            iterations = params["iterations"]
            if iterations == 0:
                raise operation_error("PBKDF2 needs at least one iteration.")
            if iterations > PBKDF2_MAX_ITERATIONS:  # its thread escapes the CPU limit
                raise not_supported(f"PBKDF2 iteration counts above {PBKDF2_MAX_ITERATIONS} "
                                    f"are not supported (requested {iterations}), as in "
                                    "Workers.")
            if length == 0:
                return b""
            work = iterations * -(-length // 8 // info.size)  # iterations x output blocks
            if work > PBKDF2_MAX_WORK:
                raise not_supported(
                    f"PBKDF2 of {iterations} iterations cannot derive {length} bits: "
                    f"iterations times output blocks ({info.size * 8} bits each) may be at "
                    f"most {PBKDF2_MAX_WORK}.")

            def run() -> bytes:
                return hashlib.pbkdf2_hmac(info.hashlib_name, key.material, params["salt"],
                                           iterations, length // 8)

            if work <= PBKDF2_INLINE_WORK:
                return run()
            return await run_blocking(None, run, heavy=True)
        if length is None or length % 8:
            raise operation_error("HKDF derives a multiple of 8 bits.")
        if length == 0:
            return b""
        if length > 255 * info.size * 8:
            raise operation_error("The HKDF length is too large for the hash.")
        kdf = HKDF(algorithm=info.cls(), length=length // 8, salt=params["salt"],
                   info=params["info"])
        return kdf.derive(key.material)


# -- elliptic curves: ECDSA, ECDH -------------------------------------------------------------

CURVES: dict[str, tuple[type[ec.EllipticCurve], int, str]] = {
    "P-256": (ec.SECP256R1, 32, "ES256"),
    "P-384": (ec.SECP384R1, 48, "ES384"),
    "P-521": (ec.SECP521R1, 66, "ES512"),
}
CURVE_BY_OPENSSL = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

_PUBLIC_DER = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load_public(data: bytes) -> Any:
    try:
        return serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise data_error(f"Invalid SubjectPublicKeyInfo: {e}") from None


def _load_private(data: bytes) -> Any:
    try:
        return serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise data_error(f"Invalid PKCS #8 PrivateKeyInfo: {e}") from None


def _pkcs8(key: Key) -> bytes:
    require_type(key, "private", "exporting as 'pkcs8'")
    return key.material.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def _spki(key: Key) -> bytes:
    require_type(key, "public", "exporting as 'spki'")
    return key.material.public_bytes(*_PUBLIC_DER)


class Ec(Algorithm):
    def __init__(self, name: str) -> None:
        self.name = name
        if name == "ECDSA":
            self.usages = {"public": frozenset({"verify"}), "private": frozenset({"sign"})}
            self.use = "sig"
        else:
            self.usages = {"public": frozenset(),
                           "private": frozenset({"deriveKey", "deriveBits"})}
            self.use = "enc"

    def _curve(self, params, error: Callable[[str], OpError]) -> tuple[str, Any, int, str]:
        name = params.get("namedCurve")
        if name not in CURVES:
            raise error(f"Unsupported named curve: {name!r}")
        cls, size, alg = CURVES[name]
        return name, cls(), size, alg

    async def generate(self, params, usages):
        name, curve, _, _ = self._curve(params, not_supported)
        check_usages(usages, self.all_usages)
        private = ec.generate_private_key(curve)
        return [Key("public", self.name, private.public_key(), curve=name),
                Key("private", self.name, private, curve=name)]

    def _check_curve(self, material: Any, want: str) -> None:
        if not isinstance(material, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
            raise data_error("The key data is not an elliptic curve key.")
        got = CURVE_BY_OPENSSL.get(material.curve.name)
        if got != want:
            raise data_error(f"The key is on curve {got or material.curve.name}, not {want}.")

    def import_key(self, fmt, params, data, jwk, extractable, usages):
        name, curve, size, alg = self._curve(params, data_error)
        if fmt == "spki":
            check_usages(usages, self.usages["public"])
            material = _load_public(data)
            self._check_curve(material, name)
            return Key("public", self.name, material, curve=name)
        if fmt == "pkcs8":
            check_usages(usages, self.usages["private"])
            material = _load_private(data)
            self._check_curve(material, name)
            return Key("private", self.name, material, curve=name)
        if fmt == "raw":
            check_usages(usages, self.usages["public"])
            try:
                material = ec.EllipticCurvePublicKey.from_encoded_point(curve, data)
            except ValueError:
                raise data_error("The raw data is not a point on the curve.") from None
            return Key("public", self.name, material, curve=name)
        if fmt == "jwk":
            assert jwk is not None
            kind = "private" if "d" in jwk else "public"
            check_usages(usages, self.usages[kind])
            jwk_common(jwk, "EC", self.use, usages, extractable)
            if jwk.get("crv") != name:
                raise data_error(f"The JWK 'crv' member must be '{name}'.")
            if self.name == "ECDSA" and "alg" in jwk and jwk["alg"] != alg:
                raise data_error(f"The JWK 'alg' member must be '{alg}'.")
            x, y = b64u_decode(jwk.get("x"), "x"), b64u_decode(jwk.get("y"), "y")
            if len(x) != size or len(y) != size:
                raise data_error(f"The JWK coordinates must be {size} bytes long.")
            try:
                public = ec.EllipticCurvePublicNumbers(
                    int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve).public_key()
            except ValueError:
                raise data_error("The JWK point is not on the curve.") from None
            if kind == "public":
                return Key("public", self.name, public, curve=name)
            d = b64u_decode(jwk["d"], "d")
            if len(d) != size:
                raise data_error(f"The JWK 'd' member must be {size} bytes long.")
            try:
                private = ec.derive_private_key(int.from_bytes(d, "big"), curve)
            except ValueError:
                raise data_error("The JWK private key is out of range.") from None
            if private.public_key().public_numbers() != public.public_numbers():
                raise data_error("The JWK private key does not match its public key.")
            return Key("private", self.name, private, curve=name)
        raise not_supported(f"{self.name} keys cannot be imported as '{fmt}'.")

    def export_key(self, fmt, key, usages, extractable):
        if fmt == "spki":
            return None, _spki(key)
        if fmt == "pkcs8":
            return None, _pkcs8(key)
        if fmt == "raw":
            require_type(key, "public", "exporting as 'raw'")
            return None, key.material.public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        if fmt == "jwk":
            size = CURVES[key.curve][1]
            if key.type == "private":
                numbers = key.material.private_numbers()
                public = numbers.public_numbers
            else:
                numbers, public = None, key.material.public_numbers()
            out: dict[str, Any] = {"kty": "EC", "crv": key.curve,
                                   "x": b64u_encode(int_to_bytes(public.x, size)),
                                   "y": b64u_encode(int_to_bytes(public.y, size))}
            if numbers is not None:
                out["d"] = b64u_encode(int_to_bytes(numbers.private_value, size))
            out["key_ops"] = usages
            out["ext"] = extractable
            return out, None
        raise not_supported(f"{self.name} keys cannot be exported as '{fmt}'.")

    def sign(self, params, key, data):
        require_type(key, "private", "signing")
        info = hash_of(params)
        der = key.material.sign(data, ec.ECDSA(info.cls()))
        r, s = decode_dss_signature(der)
        size = CURVES[key.curve][1]
        return int_to_bytes(r, size) + int_to_bytes(s, size)

    def verify(self, params, key, signature, data):
        require_type(key, "public", "verifying")
        info = hash_of(params)
        size = CURVES[key.curve][1]
        if len(signature) != 2 * size:
            return False
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            key.material.verify(encode_dss_signature(r, s), data, ec.ECDSA(info.cls()))
        except (InvalidSignature, ValueError):
            return False
        return True

    async def derive_bits(self, params, key, length, peer):
        peer = require_peer(key, peer)
        if peer.curve != key.curve:
            raise access_error("The public key is on a different curve.")
        secret = key.material.exchange(ec.ECDH(), peer.material)
        return truncate_bits(secret, length)


# -- Edwards and Montgomery curves: Ed25519, Ed448, X25519, X448 ------------------------------


@dataclass(frozen=True)
class OkpInfo:
    private: Any
    public: Any
    size: int  # raw key size in bytes
    signature: int  # signature size (Ed*), 0 for X*


OKP = {
    "Ed25519": OkpInfo(ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey, 32, 64),
    "Ed448": OkpInfo(ed448.Ed448PrivateKey, ed448.Ed448PublicKey, 57, 114),
    "X25519": OkpInfo(x25519.X25519PrivateKey, x25519.X25519PublicKey, 32, 0),
    "X448": OkpInfo(x448.X448PrivateKey, x448.X448PublicKey, 56, 0),
}

_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
_RAW_PRIVATE = (serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption())

# Small-order points of the Edwards curves, by their y coordinate (the sign of x does not
# change the order). Ed25519 (cofactor 8): the identity (y = 1), the point of order 2
# (y = -1), the two of order 4 (y = 0) and the four of order 8 (y = +-Y8, where
# d*y^4 + 2*y^2 - 1 = 0). Ed448 (cofactor 4): y = 1, y = -1 and y = 0.
_ED25519_P = 2**255 - 19
_ED25519_Y8 = 0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7
_ED448_P = 2**448 - 2**224 - 1
_EDWARDS: dict[str, tuple[int, frozenset[int]]] = {
    "Ed25519": (_ED25519_P, frozenset({0, 1, _ED25519_P - 1, _ED25519_Y8,
                                       _ED25519_P - _ED25519_Y8})),
    "Ed448": (_ED448_P, frozenset({0, 1, _ED448_P - 1})),
}


def edwards_point_rejected(name: str, encoded: bytes) -> bool:
    """Whether an encoded Ed25519 / Ed448 point is invalid (y not below p) or of small order.

    The encoding (RFC 8032 5.1.2 / 5.2.2) is y, little-endian, with the sign of x in the top
    bit of the last byte.
    """
    p, small = _EDWARDS[name]
    y = int.from_bytes(encoded, "little") & ~(1 << (len(encoded) * 8 - 1))
    return y >= p or y in small


class Okp(Algorithm):
    def __init__(self, name: str) -> None:
        self.name = name
        self.info = OKP[name]
        self.signs = name.startswith("Ed")
        if self.signs:
            self.usages = {"public": frozenset({"verify"}), "private": frozenset({"sign"})}
        else:
            self.usages = {"public": frozenset(),
                           "private": frozenset({"deriveKey", "deriveBits"})}

    async def generate(self, params, usages):
        check_usages(usages, self.all_usages)
        private = self.info.private.generate()
        return [Key("public", self.name, private.public_key()),
                Key("private", self.name, private)]

    def _expect(self, material: Any, cls: Any) -> Any:
        if not isinstance(material, cls):
            raise data_error(f"The key data is not an {self.name} key.")
        return material

    def import_key(self, fmt, params, data, jwk, extractable, usages):
        info = self.info
        if fmt == "spki":
            check_usages(usages, self.usages["public"])
            return Key("public", self.name, self._expect(_load_public(data), info.public))
        if fmt == "pkcs8":
            check_usages(usages, self.usages["private"])
            return Key("private", self.name, self._expect(_load_private(data), info.private))
        if fmt == "raw":
            check_usages(usages, self.usages["public"])
            if len(data) != info.size:
                raise data_error(f"A raw {self.name} public key is {info.size} bytes long.")
            try:
                return Key("public", self.name, info.public.from_public_bytes(data))
            except ValueError:
                raise data_error(f"Invalid {self.name} public key.") from None
        if fmt == "jwk":
            assert jwk is not None
            kind = "private" if "d" in jwk else "public"
            check_usages(usages, self.usages[kind])
            jwk_common(jwk, "OKP", "sig" if self.signs else "enc", usages, extractable)
            if jwk.get("crv") != self.name:
                raise data_error(f"The JWK 'crv' member must be '{self.name}'.")
            if self.signs and "alg" in jwk and jwk["alg"] not in (self.name, "EdDSA"):
                raise data_error(f"The JWK 'alg' member must be '{self.name}' or 'EdDSA'.")
            x = b64u_decode(jwk.get("x"), "x")
            if len(x) != info.size:
                raise data_error(f"The JWK 'x' member must be {info.size} bytes long.")
            try:
                public = info.public.from_public_bytes(x)
            except ValueError:
                raise data_error(f"Invalid {self.name} public key.") from None
            if kind == "public":
                return Key("public", self.name, public)
            d = b64u_decode(jwk["d"], "d")
            if len(d) != info.size:
                raise data_error(f"The JWK 'd' member must be {info.size} bytes long.")
            try:
                private = info.private.from_private_bytes(d)
            except ValueError:
                raise data_error(f"Invalid {self.name} private key.") from None
            if private.public_key().public_bytes(*_RAW) != x:
                raise data_error("The JWK private key does not match its public key.")
            return Key("private", self.name, private)
        raise not_supported(f"{self.name} keys cannot be imported as '{fmt}'.")

    def export_key(self, fmt, key, usages, extractable):
        if fmt == "spki":
            return None, _spki(key)
        if fmt == "pkcs8":
            return None, _pkcs8(key)
        if fmt == "raw":
            require_type(key, "public", "exporting as 'raw'")
            return None, key.material.public_bytes(*_RAW)
        if fmt == "jwk":
            public = key.material if key.type == "public" else key.material.public_key()
            out: dict[str, Any] = {"kty": "OKP", "crv": self.name,
                                   "x": b64u_encode(public.public_bytes(*_RAW))}
            if key.type == "private":
                out["d"] = b64u_encode(key.material.private_bytes(*_RAW_PRIVATE))
            if self.signs:
                out["alg"] = self.name
            out["key_ops"] = usages
            out["ext"] = extractable
            return out, None
        raise not_supported(f"{self.name} keys cannot be exported as '{fmt}'.")

    def _no_context(self, params) -> None:
        if params.get("context"):
            raise not_supported("Ed448 contexts are not supported.")

    def sign(self, params, key, data):
        require_type(key, "private", "signing")
        self._no_context(params)
        return key.material.sign(data)

    def verify(self, params, key, signature, data):
        require_type(key, "public", "verifying")
        self._no_context(params)
        if len(signature) != self.info.signature:
            return False
        # https://w3c.github.io/webcrypto/#ed25519-operations-verify (and Ed448): a public
        # key, or a point R (the first half of the signature), that is invalid or of small
        # order makes the signature invalid.
        size = self.info.size
        if edwards_point_rejected(self.name, key.material.public_bytes(*_RAW)) or \
                edwards_point_rejected(self.name, signature[:size]):
            return False
        try:
            key.material.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    async def derive_bits(self, params, key, length, peer):
        peer = require_peer(key, peer)
        try:
            secret = key.material.exchange(peer.material)
        except ValueError:
            raise operation_error("The shared secret is all zeros (a small-order point).") \
                from None
        if not any(secret):
            raise operation_error("The shared secret is all zeros (a small-order point).")
        return truncate_bits(secret, length)


# -- RSA: RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP ------------------------------------------------

RSA_MAX_BITS = 16384  # as generateKey's bound, and OpenSSL's for public-key operations
RSA_PKCS8_MAX = 12 << 10  # a PKCS #8 RSA key of RSA_MAX_BITS is ~9.4 KiB of DER


def _modulus_bits(bits: int) -> None:
    if bits > RSA_MAX_BITS:
        raise _over_max()


def _over_max() -> OpError:
    return not_supported(f"RSA keys over {RSA_MAX_BITS} bits are not supported.")


RSA_ALGS = ("RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP")


class Rsa(Algorithm):
    heavy = True

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "RSA-OAEP":
            self.usages = {"public": frozenset({"encrypt", "wrapKey"}),
                           "private": frozenset({"decrypt", "unwrapKey"})}
            self.use = "enc"
            self.jwk_alg = {"SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256",
                            "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512"}
        else:
            self.usages = {"public": frozenset({"verify"}), "private": frozenset({"sign"})}
            self.use = "sig"
            prefix = "RS" if name == "RSASSA-PKCS1-v1_5" else "PS"
            self.jwk_alg = {h: prefix + h[4:] for h in HASHES}
        self.hash_by_alg = {v: k for k, v in self.jwk_alg.items()}

    async def generate(self, params, usages):
        check_usages(usages, self.all_usages)
        hash_of(params)
        bits = params["modulusLength"]
        exponent = int.from_bytes(params["publicExponent"], "big")
        if exponent not in (3, 65537):
            raise operation_error("The RSA public exponent must be 3 or 65537.")
        if not 1024 <= bits <= RSA_MAX_BITS or bits % 8:
            raise operation_error("The RSA modulus length must be a multiple of 8 between "
                                  f"1024 and {RSA_MAX_BITS}.")
        private = await run_blocking(None, lambda: rsa.generate_private_key(exponent, bits),
                                     heavy=True)
        h = params["hash"]["name"]
        return [Key("public", self.name, private.public_key(), hash=h),
                Key("private", self.name, private, hash=h)]

    def _expect(self, material: Any, cls: Any) -> Any:
        if not isinstance(material, cls):
            raise data_error("The key data is not an RSA key.")
        return material

    def import_key(self, fmt, params, data, jwk, extractable, usages):
        hash_of(params)
        h = params["hash"]["name"]
        if fmt == "spki":
            check_usages(usages, self.usages["public"])
            public = self._expect(_load_public(data), rsa.RSAPublicKey)
            _modulus_bits(public.key_size)
            return Key("public", self.name, public, hash=h)
        if fmt == "pkcs8":
            check_usages(usages, self.usages["private"])
            if data is not None and len(data) > RSA_PKCS8_MAX:  # OpenSSL checks its primes
                raise _over_max()
            private = self._expect(_load_private(data), rsa.RSAPrivateKey)
            _modulus_bits(private.key_size)
            return Key("private", self.name, private, hash=h)
        if fmt != "jwk":
            raise not_supported(f"{self.name} keys cannot be imported as '{fmt}'.")
        assert jwk is not None
        kind = "private" if "d" in jwk else "public"
        check_usages(usages, self.usages[kind])
        jwk_common(jwk, "RSA", self.use, usages, extractable)
        if "alg" in jwk:
            alg_hash = self.hash_by_alg.get(jwk["alg"])
            if alg_hash is None or alg_hash != h:
                raise data_error(f"The JWK 'alg' member must be '{self.jwk_alg[h]}'.")

        def num(member: str) -> int:
            return int.from_bytes(b64u_decode(jwk.get(member), member), "big")

        n, e = num("n"), num("e")
        _modulus_bits(n.bit_length())
        public_numbers = rsa.RSAPublicNumbers(e, n)
        if kind == "public":
            try:
                return Key("public", self.name, public_numbers.public_key(), hash=h)
            except ValueError as err:
                raise data_error(f"Invalid RSA public key: {err}") from None
        if "oth" in jwk:
            raise not_supported("RSA keys with more than two primes are not supported.")
        d = num("d")
        crt = ("p", "q", "dp", "dq", "qi")
        present = [m for m in crt if m in jwk]
        try:
            if len(present) == len(crt):
                p, q, dp, dq, qi = (num(m) for m in crt)
            elif not present:
                p, q = rsa.rsa_recover_prime_factors(n, e, d)
                dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), \
                    rsa.rsa_crt_iqmp(p, q)
            else:
                raise data_error("The JWK has some but not all of p, q, dp, dq, qi.")
            private = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
        except ValueError as err:
            raise data_error(f"Invalid RSA private key: {err}") from None
        return Key("private", self.name, private, hash=h)

    def export_key(self, fmt, key, usages, extractable):
        if fmt == "spki":
            return None, _spki(key)
        if fmt == "pkcs8":
            return None, _pkcs8(key)
        if fmt != "jwk":
            raise not_supported(f"{self.name} keys cannot be exported as '{fmt}'.")
        out: dict[str, Any] = {"kty": "RSA", "alg": self.jwk_alg[key.hash]}
        if key.type == "private":
            pn = key.material.private_numbers()
            public = pn.public_numbers
        else:
            pn, public = None, key.material.public_numbers()
        out["n"] = b64u_encode(int_to_bytes(public.n))
        out["e"] = b64u_encode(int_to_bytes(public.e))
        if pn is not None:
            for member, value in (("d", pn.d), ("p", pn.p), ("q", pn.q), ("dp", pn.dmp1),
                                  ("dq", pn.dmq1), ("qi", pn.iqmp)):
                out[member] = b64u_encode(int_to_bytes(value))
        out["key_ops"] = usages
        out["ext"] = extractable
        return out, None

    def _signature_padding(self, params, info: HashInfo) -> Any:
        if self.name == "RSA-PSS":
            return padding.PSS(mgf=padding.MGF1(info.cls()), salt_length=params["saltLength"])
        return padding.PKCS1v15()

    def sign(self, params, key, data):
        if self.name == "RSA-OAEP":
            return super().sign(params, key, data)
        require_type(key, "private", "signing")
        info = HASHES[key.hash]
        try:
            return key.material.sign(data, self._signature_padding(params, info), info.cls())
        except ValueError as e:
            raise operation_error(f"Signing failed: {e}") from None

    def verify(self, params, key, signature, data):
        if self.name == "RSA-OAEP":
            return super().verify(params, key, signature, data)
        require_type(key, "public", "verifying")
        info = HASHES[key.hash]
        try:
            key.material.verify(signature, data, self._signature_padding(params, info),
                                info.cls())
        except (InvalidSignature, ValueError):
            return False
        return True

    def _oaep(self, params, key: Key) -> Any:
        info = HASHES[key.hash]
        return padding.OAEP(mgf=padding.MGF1(info.cls()), algorithm=info.cls(),
                            label=params.get("label") or None)

    def encrypt(self, params, key, data):
        if self.name != "RSA-OAEP":
            return super().encrypt(params, key, data)
        require_type(key, "public", "encrypting")
        try:
            return key.material.encrypt(data, self._oaep(params, key))
        except ValueError as e:
            raise operation_error(f"RSA-OAEP encryption failed: {e}") from None

    def decrypt(self, params, key, data):
        if self.name != "RSA-OAEP":
            return super().decrypt(params, key, data)
        require_type(key, "private", "decrypting")
        try:
            return key.material.decrypt(data, self._oaep(params, key))
        except ValueError:
            raise operation_error("RSA-OAEP decryption failed.") from None


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        AesCtr(), AesCbc(), AesGcm(), AesKw(), Hmac(), Kdf("PBKDF2"), Kdf("HKDF"),
        Ec("ECDSA"), Ec("ECDH"), Okp("Ed25519"), Okp("Ed448"), Okp("X25519"), Okp("X448"),
        Rsa("RSASSA-PKCS1-v1_5"), Rsa("RSA-PSS"), Rsa("RSA-OAEP"),
    )
}


def algorithm_named(params: Any) -> Algorithm:
    name = params.get("name") if isinstance(params, dict) else None
    algo = ALGORITHMS.get(name)  # type: ignore[arg-type]
    if algo is None:
        raise not_supported(f"Unrecognized algorithm name: {name!r}")
    return algo


# -- the ops ----------------------------------------------------------------------------------

CryptoFunc = Callable[[list[Any], list[bytes], OpState], Awaitable[OpResult]]


class _Upload:
    def __init__(self) -> None:
        self.buf = bytearray()


class _Download:
    def __init__(self, data: bytes) -> None:
        self.data = data


def _resolve(value: Any, blobs: list[bytes]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return blobs[value["$b"]]
        return {k: _resolve(v, blobs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, blobs) for v in value]
    return value


def crypto_op(name: str) -> Callable[[CryptoFunc], CryptoFunc]:
    """Register a crypto op: unpack its blobs and meta, and send big results in pieces."""

    def register(fn: CryptoFunc) -> CryptoFunc:
        async def run(args: list[Any], data: bytes | None, state: OpState) -> OpResult:
            if not args or not isinstance(args[-1], dict):
                raise OpError("TypeError", f"{name}: malformed arguments")
            meta = args[-1]
            if "upload" in meta:
                data = bytes(state.get(meta["upload"], _Upload).buf)
                state.release(meta["upload"])
            blobs: list[bytes] = []
            offset = 0
            payload = data or b""
            for n in meta.get("lens", ()):
                blobs.append(payload[offset : offset + n])
                offset += n
            value, out = await fn(_resolve(args[:-1], blobs), blobs, state)
            if out is not None and len(out) > CHUNK:
                handle = state.add(_Download(out))
                return {"$download": handle, "length": len(out), "value": value}, None
            return value, out

        op(name)(run)
        return fn

    return register


def _key(state: OpState, handle: Any) -> Key:
    return state.get(handle, Key)


def _describe(state: OpState, key: Key, usages: list[str]) -> dict[str, Any]:
    return {"handle": state.add(key), "type": key.type, "algorithm": key.algorithm(),
            "usages": usages}


@crypto_op("crypto.upload.begin")
async def upload_begin(args, blobs, state):
    return state.add(_Upload()), None


@crypto_op("crypto.upload.chunk")
async def upload_chunk(args, blobs, state):
    upload = state.get(args[0], _Upload)
    offset = args[1]
    chunk = blobs[0]
    if len(upload.buf) < offset + len(chunk):
        upload.buf.extend(bytes(offset + len(chunk) - len(upload.buf)))
    upload.buf[offset : offset + len(chunk)] = chunk
    return None, None


@crypto_op("crypto.download.read")
async def download_read(args, blobs, state):
    handle, offset, length = args
    download = state.get(handle, _Download)
    return None, download.data[offset : offset + length]


@crypto_op("crypto.release")
async def release(args, blobs, state):
    """Drop keys (and transfer buffers) whose JS objects are gone."""
    for handle in args[0]:
        state.release(handle)
    return None, None


@crypto_op("crypto.refill")
async def refill(args, blobs, state):
    """Nothing to do: the pump that answers this op refills the entropy pool."""
    return None, None


@crypto_op("crypto.digest")
async def digest(args, blobs, state):
    info = hash_of({"hash": args[0]})
    data = blobs[0]
    return None, await run_blocking(data, lambda: hashlib.new(info.hashlib_name, data).digest())


class _Hasher:
    def __init__(self, info: HashInfo) -> None:
        self.h = hashlib.new(info.hashlib_name)


@crypto_op("crypto.hash.new")
async def hash_new(args, blobs, state):
    return state.add(_Hasher(hash_of({"hash": args[0]}))), None


@crypto_op("crypto.hash.update")
async def hash_update(args, blobs, state):
    hasher = state.get(args[0], _Hasher)
    data = blobs[0]
    await run_blocking(data, lambda: hasher.h.update(data))
    return None, None


@crypto_op("crypto.hash.final")
async def hash_final(args, blobs, state):
    hasher = state.get(args[0], _Hasher)
    state.release(args[0])
    return None, hasher.h.digest()


@crypto_op("crypto.generateKey")
async def generate_key(args, blobs, state):
    params, _extractable, usages = args  # JS sets extractability on the CryptoKeys
    algo = algorithm_named(params)
    keys = await algo.generate(params, usages)
    if len(keys) == 1:
        key_usages = canonical_usages(usages)
        if not key_usages:
            raise _err("SyntaxError", "A secret key needs at least one usage.")
        return [_describe(state, keys[0], key_usages)], None
    public, private = keys
    private_usages = canonical_usages(usages, algo.usages["private"])
    if not private_usages:
        raise _err("SyntaxError", "The private key would have no usages.")
    return [_describe(state, public, canonical_usages(usages, algo.usages["public"])),
            _describe(state, private, private_usages)], None


@crypto_op("crypto.importKey")
async def import_key(args, blobs, state):
    fmt, params, extractable, usages, jwk = args
    algo = algorithm_named(params)
    data = None if fmt == "jwk" else blobs[-1]
    # An RSA private key's import checks its primes, or finds them (a JWK without p and q):
    # seconds at 16,384 bits. Off the loop, as its other heavy work.
    key = await run_blocking(data, lambda: algo.import_key(fmt, params, data, jwk,
                                                           bool(extractable), usages),
                             heavy=algo.heavy)
    key_usages = canonical_usages(usages)
    if key.type != "public" and not key_usages:
        raise _err("SyntaxError", f"A {key.type} key needs at least one usage.")
    return [_describe(state, key, key_usages)], None


@crypto_op("crypto.exportKey")
async def export_key(args, blobs, state):
    fmt, handle, usages, extractable = args
    key = _key(state, handle)
    algo = ALGORITHMS[key.alg]
    if not algo.exportable:
        raise not_supported(f"{key.alg} keys cannot be exported.")
    if not extractable:
        raise access_error("The key is not extractable.")
    return algo.export_key(fmt, key, usages, bool(extractable))


def _apply(method: str) -> CryptoFunc:
    """The op ``[params, key handle]`` + data -> bytes: the key's algorithm's ``method``."""

    async def run(args, blobs, state):
        params, handle = args
        key = _key(state, handle)
        data = blobs[-1]
        algo = ALGORITHMS[key.alg]
        fn = getattr(algo, method)
        return None, await run_blocking(data, lambda: fn(params, key, data), heavy=algo.heavy)

    return run


sign = crypto_op("crypto.sign")(_apply("sign"))
encrypt = crypto_op("crypto.encrypt")(_apply("encrypt"))
decrypt = crypto_op("crypto.decrypt")(_apply("decrypt"))


@crypto_op("crypto.verify")
async def verify(args, blobs, state):
    params, handle = args
    key = _key(state, handle)
    signature, data = blobs[-2], blobs[-1]
    algo = ALGORITHMS[key.alg]
    ok = await run_blocking(data, lambda: algo.verify(params, key, signature, data),
                            heavy=algo.heavy)
    return bool(ok), None


@crypto_op("crypto.wrapKey")
async def wrap_key(args, blobs, state):
    key = _key(state, args[1])
    return None, ALGORITHMS[key.alg].wrap(key, blobs[-1])


@crypto_op("crypto.unwrapKey")
async def unwrap_key(args, blobs, state):
    key = _key(state, args[1])
    return None, ALGORITHMS[key.alg].unwrap(key, blobs[-1])


@crypto_op("crypto.deriveBits")
async def derive_bits(args, blobs, state):
    params, handle, length, peer_handle = args
    key = _key(state, handle)
    peer = _key(state, peer_handle) if peer_handle is not None else None
    return None, await ALGORITHMS[key.alg].derive_bits(params, key, length, peer)
