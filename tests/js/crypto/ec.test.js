// META: script=resources/util.js
// ECDSA and ECDH on P-256, P-384, P-521: keys made elsewhere (OpenSSL PEM files), RFC 5903
// known answers, import/export round trips in every format, and errors.

const subtle = crypto.subtle;

// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, and
// `openssl dgst -sha256 -sign` of MESSAGE (DER, shown here as r || s).
const EC_PKCS8 = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9LLptPQYUmoh3hcE
rjz4cYXONApuaIhNOjv4Pu7l+D6hRANCAATm8g4z0CKgZ/mJ4kagPKguaDA5bj6W
yvlndoKqkD9diP8nPG8p+w9q2Auwj4FYoYkpA8WxfhxOe197tcAs7Zfc
-----END PRIVATE KEY-----`;
const EC_SPKI = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE5vIOM9AioGf5ieJGoDyoLmgwOW4+
lsr5Z3aCqpA/XYj/JzxvKfsPatgLsI+BWKGJKQPFsX4cTntfe7XALO2X3A==
-----END PUBLIC KEY-----`;
const MESSAGE = utf8("isoflow signs this");
const OPENSSL_SIG = "7bf6d04039784267922c8e0419b2d739e7ea69738f2740bdb9ca780ec0831a49" +
  "b3d7051f147acf5607827d15624bab170e18cc5240dd3aa3fa59f826495fda55";

const ECDSA_256 = { name: "ECDSA", namedCurve: "P-256" };
const SHA256 = { name: "ECDSA", hash: "SHA-256" };

promise_test(async () => {
  const pub = await subtle.importKey("spki", pem(EC_SPKI), ECDSA_256, true, ["verify"]);
  assert_true(await subtle.verify(SHA256, pub, fromHex(OPENSSL_SIG), MESSAGE), "OpenSSL's signature");
  const priv = await subtle.importKey("pkcs8", pem(EC_PKCS8), ECDSA_256, false, ["sign"]);
  const sig = await subtle.sign(SHA256, priv, MESSAGE);
  assert_equals(sig.byteLength, 64, "r || s, 32 bytes each");
  assert_true(await subtle.verify(SHA256, pub, sig, MESSAGE), "ours, with the PEM public key");
  assert_not_equals(hex(sig), hex(await subtle.sign(SHA256, priv, MESSAGE)), "randomized");
  assert_false(await subtle.verify(SHA256, pub, sig, utf8("isoflow signs that")), "other message");
  assert_false(await subtle.verify({ name: "ECDSA", hash: "SHA-384" }, pub, sig, MESSAGE), "other hash");
  assert_false(await subtle.verify(SHA256, pub, new Uint8Array(sig).subarray(1), MESSAGE), "short signature");
  assert_false(await subtle.verify(SHA256, pub, new Uint8Array(64), MESSAGE), "zero signature");
}, "ECDSA P-256: verify OpenSSL's signature, sign and verify with keys from PEM files");

promise_test(async () => {
  const priv = await subtle.importKey("pkcs8", pem(EC_PKCS8), ECDSA_256, true, ["sign"]);
  assert_equals(hex(await subtle.exportKey("pkcs8", priv)), hex(pem(EC_PKCS8)), "pkcs8");
  const pub = await subtle.importKey("spki", pem(EC_SPKI), ECDSA_256, true, []);
  assert_equals(hex(await subtle.exportKey("spki", pub)), hex(pem(EC_SPKI)), "spki");
  const raw = await subtle.exportKey("raw", pub);
  assert_equals(hex(raw), hex(pem(EC_SPKI).subarray(26)), "raw is the uncompressed point");
  const jwk = await subtle.exportKey("jwk", priv);
  assert_array_equals(Object.keys(jwk), ["crv", "d", "ext", "key_ops", "kty", "x", "y"]);
  assert_equals(jwk.kty, "EC");
  assert_equals(jwk.crv, "P-256");
  assert_equals(jwk.x, base64url(new Uint8Array(raw).subarray(1, 33)));
  assert_equals(jwk.y, base64url(new Uint8Array(raw).subarray(33)));
  const fromJwk = await subtle.importKey("jwk", jwk, ECDSA_256, true, ["sign"]);
  assert_equals(hex(await subtle.exportKey("pkcs8", fromJwk)), hex(pem(EC_PKCS8)), "jwk -> pkcs8");
  const fromRaw = await subtle.importKey("raw", raw, ECDSA_256, true, ["verify"]);
  assert_equals(hex(await subtle.exportKey("spki", fromRaw)), hex(pem(EC_SPKI)), "raw -> spki");
  const { d, key_ops, ...publicJwk } = jwk;
  const pubFromJwk = await subtle.importKey("jwk", publicJwk, ECDSA_256, true, ["verify"]);
  assert_equals(pubFromJwk.type, "public");
  assert_true(await subtle.verify(SHA256, pubFromJwk, fromHex(OPENSSL_SIG), MESSAGE));
}, "ECDSA P-256: pkcs8, spki, raw and jwk round trips give back the same bytes");

for (const [curve, size, hash] of [["P-256", 32, "SHA-256"], ["P-384", 48, "SHA-384"], ["P-521", 66, "SHA-512"]]) {
  promise_test(async () => {
    const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: curve }, false, ["sign", "verify"]);
    assert_equals(pair.publicKey.type, "public");
    assert_equals(pair.privateKey.type, "private");
    assert_equals(pair.publicKey.extractable, true, "public keys are always extractable");
    assert_equals(pair.privateKey.extractable, false);
    assert_array_equals(pair.publicKey.usages, ["verify"]);
    assert_array_equals(pair.privateKey.usages, ["sign"]);
    assert_equals(pair.privateKey.algorithm.namedCurve, curve);
    const sig = await subtle.sign({ name: "ECDSA", hash }, pair.privateKey, MESSAGE);
    assert_equals(sig.byteLength, 2 * size);
    assert_true(await subtle.verify({ name: "ECDSA", hash }, pair.publicKey, sig, MESSAGE));
    const jwk = await subtle.exportKey("jwk", pair.publicKey);
    assert_equals(fromBase64(jwk.x).length, size);
    const raw = await subtle.exportKey("raw", pair.publicKey);
    assert_equals(raw.byteLength, 1 + 2 * size);
    // compressed points are accepted too
    const bytes = new Uint8Array(raw);
    const compressed = new Uint8Array(1 + size);
    compressed[0] = 2 + (bytes[bytes.length - 1] & 1);
    compressed.set(bytes.subarray(1, 1 + size), 1);
    const again = await subtle.importKey("raw", compressed, { name: "ECDSA", namedCurve: curve }, true, ["verify"]);
    assert_equals(hex(await subtle.exportKey("raw", again)), hex(raw));
  }, `ECDSA ${curve}: generateKey, sign, verify, export`);
}

promise_test(async (t) => {
  const pub = await subtle.importKey("spki", pem(EC_SPKI), ECDSA_256, true, ["verify"]);
  const priv = await subtle.importKey("pkcs8", pem(EC_PKCS8), ECDSA_256, true, ["sign"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.sign(SHA256, pub, MESSAGE), "sign with a public key");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.verify(SHA256, priv, new Uint8Array(64), MESSAGE), "verify with a private key");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.exportKey("spki", priv), "spki of a private key");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.exportKey("raw", priv), "raw of a private key");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.exportKey("pkcs8", pub), "pkcs8 of a public key");
  await promise_rejects_js(t, TypeError, subtle.sign("ECDSA", priv, MESSAGE), "hash is required");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("spki", pem(EC_SPKI), ECDSA_256, true, ["sign"]), "public key with sign");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("pkcs8", pem(EC_PKCS8), ECDSA_256, true, ["verify"]), "private key with verify");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("pkcs8", pem(EC_PKCS8), ECDSA_256, true, []), "private key without usages");
  await promise_rejects_dom(t, "DataError", subtle.importKey("spki", pem(EC_SPKI), { name: "ECDSA", namedCurve: "P-384" }, true, []), "curve mismatch");
  await promise_rejects_dom(t, "DataError", subtle.importKey("spki", pem(EC_SPKI).subarray(0, 60), ECDSA_256, true, []), "truncated");
  await promise_rejects_dom(t, "DataError", subtle.importKey("pkcs8", pem(EC_SPKI), ECDSA_256, true, ["sign"]), "spki as pkcs8");
  await promise_rejects_dom(t, "DataError", subtle.importKey("raw", new Uint8Array(65).fill(4), ECDSA_256, true, []), "not on the curve");
  await promise_rejects_dom(t, "NotSupportedError", subtle.generateKey({ name: "ECDSA", namedCurve: "P-512" }, true, ["sign"]), "unknown curve");
  await promise_rejects_js(t, TypeError, subtle.generateKey({ name: "ECDSA" }, true, ["sign"]), "namedCurve is required");
}, "ECDSA: key type, usage, format and data errors");

promise_test(async (t) => {
  const jwk = await subtle.exportKey("jwk", await subtle.importKey("pkcs8", pem(EC_PKCS8), ECDSA_256, true, ["sign"]));
  const base = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d };
  const ok = await subtle.importKey("jwk", { ...base, alg: "ES256", use: "sig" }, ECDSA_256, false, ["sign"]);
  assert_equals(ok.type, "private");
  const cases = {
    "kty": { ...base, kty: "OKP" },
    "crv": { ...base, crv: "P-384" },
    "alg": { ...base, alg: "ES384" },
    "use": { ...base, use: "enc" },
    "ext": { ...base, ext: false },
    "key_ops": { ...base, key_ops: ["verify"] },
    "missing y": { ...base, y: undefined },
    "short x": { ...base, x: jwk.x.slice(0, 20) },
    "mismatched d": { ...base, d: base64url(new Uint8Array(32).fill(1)) },
  };
  for (const [what, data] of Object.entries(cases)) {
    await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", data, ECDSA_256, true, ["sign"]), what);
  }
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("jwk", base, ECDSA_256, true, ["verify"]), "usage");
}, "ECDSA JWK import checks");

// -- ECDH ---------------------------------------------------------------------------------

// RFC 5903 section 8.1 (256-bit random ECP group).
const RFC5903 = {
  i: "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
  gix: "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180",
  giy: "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
  grx: "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63",
  gry: "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
  girx: "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE",
};
const ECDH_256 = { name: "ECDH", namedCurve: "P-256" };

promise_test(async () => {
  const b = (h) => base64url(fromHex(h));
  const mine = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: b(RFC5903.gix), y: b(RFC5903.giy), d: b(RFC5903.i) },
    ECDH_256, false, ["deriveBits"]);
  const theirs = await subtle.importKey("raw", fromHex("04" + RFC5903.grx + RFC5903.gry), ECDH_256, false, []);
  assert_array_equals(theirs.usages, []);
  const shared = await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, 256);
  assert_equals(hex(shared), RFC5903.girx.toLowerCase());
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, null)), RFC5903.girx.toLowerCase(), "null: all bits");
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: theirs }, mine)), RFC5903.girx.toLowerCase(), "omitted: all bits");
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, 12)), "d680", "12 bits: the rest zeroed");
  assert_equals((await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, 0)).byteLength, 0);
}, "ECDH P-256: RFC 5903 known answer");

for (const curve of ["P-256", "P-384", "P-521"]) {
  promise_test(async () => {
    const alg = { name: "ECDH", namedCurve: curve };
    const a = await subtle.generateKey(alg, true, ["deriveBits", "deriveKey"]);
    const b = await subtle.generateKey(alg, true, ["deriveBits"]);
    assert_array_equals(a.publicKey.usages, [], "public ECDH keys have no usages");
    assert_array_equals(a.privateKey.usages, ["deriveKey", "deriveBits"]);
    const ab = await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, null);
    const ba = await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, null);
    assert_equals(hex(ab), hex(ba));
    const key = await subtle.deriveKey({ name: "ECDH", public: b.publicKey }, a.privateKey,
      { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    assert_equals(hex(await subtle.exportKey("raw", key)), hex(ab).slice(0, 32));
  }, `ECDH ${curve}: both sides agree, deriveKey takes the leading bits`);
}

promise_test(async (t) => {
  const a = await subtle.generateKey(ECDH_256, true, ["deriveBits"]);
  const other = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
  const ecdsa = await subtle.generateKey(ECDSA_256, true, ["sign"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits({ name: "ECDH", public: a.privateKey }, a.privateKey, 128), "public is private");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits({ name: "ECDH", public: other.publicKey }, a.privateKey, 128), "other curve");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits({ name: "ECDH", public: ecdsa.publicKey }, a.privateKey, 128), "an ECDSA key");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits({ name: "ECDH", public: a.publicKey }, ecdsa.privateKey, 128), "base key is ECDSA");
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits({ name: "ECDH", public: a.publicKey }, a.privateKey, 264), "longer than the secret");
  await promise_rejects_js(t, TypeError, subtle.deriveBits({ name: "ECDH", public: {} }, a.privateKey, 128), "public is not a CryptoKey");
  await promise_rejects_js(t, TypeError, subtle.deriveBits({ name: "ECDH" }, a.privateKey, 128), "public is required");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", await subtle.exportKey("raw", a.publicKey), ECDH_256, true, ["deriveBits"]), "public ECDH keys take no usages");
  await promise_rejects_dom(t, "SyntaxError", subtle.generateKey(ECDH_256, true, ["sign"]), "bad usage");
  await promise_rejects_dom(t, "SyntaxError", subtle.generateKey(ECDH_256, true, []), "no usage");
}, "ECDH errors");
