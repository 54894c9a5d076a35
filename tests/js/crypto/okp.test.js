// META: script=resources/util.js
// Ed25519 and X25519 (and Ed448/X448): RFC 8032 / RFC 7748 known answers, an OpenSSL key,
// every import/export format, JWK member rules, errors.

const subtle = crypto.subtle;

const RFC8032 = [
  { secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", message: "",
    signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
  { secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", message: "72",
    signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
];

RFC8032.forEach((v, i) => {
  promise_test(async () => {
    const jwk = { kty: "OKP", crv: "Ed25519", x: base64url(fromHex(v.public)), d: base64url(fromHex(v.secret)) };
    const priv = await subtle.importKey("jwk", jwk, "Ed25519", true, ["sign"]);
    const pub = await subtle.importKey("raw", fromHex(v.public), { name: "ed25519" }, true, ["verify"]);
    assert_equals(pub.algorithm.name, "Ed25519");
    const sig = await subtle.sign("Ed25519", priv, fromHex(v.message));
    assert_equals(hex(sig), v.signature);
    assert_true(await subtle.verify("Ed25519", pub, sig, fromHex(v.message)));
    assert_false(await subtle.verify("Ed25519", pub, sig, utf8("x")));
    assert_false(await subtle.verify("Ed25519", pub, new Uint8Array(sig).subarray(1), fromHex(v.message)), "short");
    const exported = await subtle.exportKey("jwk", priv);
    assert_array_equals(Object.keys(exported), ["alg", "crv", "d", "ext", "key_ops", "kty", "x"]);
    assert_equals(exported.alg, "Ed25519");
    assert_equals(exported.d, jwk.d);
    assert_equals(hex(await subtle.exportKey("raw", pub)), v.public);
  }, `Ed25519: RFC 8032 test ${i + 1}`);
});

const ED_PKCS8 = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDASZGN4iyDt7HubwAOFfX2usc/knergR5TlNyeHgE8m
-----END PRIVATE KEY-----`;
const ED_SPKI = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA+2UCMDamPXdphM7Ghh4QQnwoX10HVKharN27qcUXH4Q=
-----END PUBLIC KEY-----`;
// `openssl pkeyutl -sign -rawin` of "isoflow signs this"
const ED_OPENSSL_SIG = "Is1hm4UMNH1SvrEqW72Q6Iy+lHTwoeCO/bw2liqqGTXYjn3MjZXKKpG4DEf2iPlhwYdfR1Np44ZcV8+oo/WtAA==";

promise_test(async () => {
  const priv = await subtle.importKey("pkcs8", pem(ED_PKCS8), "Ed25519", true, ["sign"]);
  const pub = await subtle.importKey("spki", pem(ED_SPKI), "Ed25519", true, ["verify"]);
  const msg = utf8("isoflow signs this");
  assert_equals(hex(await subtle.sign("Ed25519", priv, msg)), hex(fromBase64(ED_OPENSSL_SIG)));
  assert_true(await subtle.verify("Ed25519", pub, fromBase64(ED_OPENSSL_SIG), msg));
  assert_equals(hex(await subtle.exportKey("pkcs8", priv)), hex(pem(ED_PKCS8)));
  assert_equals(hex(await subtle.exportKey("spki", pub)), hex(pem(ED_SPKI)));
}, "Ed25519: an OpenSSL key and signature");

promise_test(async (t) => {
  const pair = await subtle.generateKey("Ed25519", false, ["sign", "verify"]);
  assert_array_equals(pair.publicKey.usages, ["verify"]);
  assert_array_equals(Object.keys(pair.publicKey.algorithm), ["name"]);
  const jwk = await subtle.exportKey("jwk", pair.publicKey);
  assert_array_equals(Object.keys(jwk), ["alg", "crv", "ext", "key_ops", "kty", "x"]);
  for (const alg of ["Ed25519", "EdDSA"]) {
    await subtle.importKey("jwk", { ...jwk, alg }, "Ed25519", true, ["verify"]);
  }
  for (const alg of ["ed25519", "ES256"]) {
    await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, alg }, "Ed25519", true, ["verify"]), alg);
  }
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, crv: "X25519" }, "Ed25519", true, ["verify"]), "crv");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, kty: "EC" }, "Ed25519", true, ["verify"]), "kty");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, use: "enc" }, "Ed25519", true, ["verify"]), "use");
  await promise_rejects_dom(t, "DataError", subtle.importKey("raw", new Uint8Array(31), "Ed25519", true, ["verify"]), "31 bytes");
  await promise_rejects_dom(t, "DataError", subtle.importKey("pkcs8", pem(ED_PKCS8).subarray(0, 40), "Ed25519", true, ["sign"]), "truncated pkcs8");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", new Uint8Array(32), "Ed25519", true, ["sign"]), "public key with sign");
  await promise_rejects_dom(t, "SyntaxError", subtle.generateKey("Ed25519", true, ["verify"]), "private key without usages");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.sign("Ed25519", pair.publicKey, new Uint8Array(1)), "sign with the public key");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.exportKey("raw", pair.privateKey), "not extractable");
  const other = await subtle.generateKey("Ed25519", true, ["sign"]);
  const otherJwk = await subtle.exportKey("jwk", other.privateKey);
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...otherJwk, x: jwk.x, key_ops: undefined }, "Ed25519", true, ["sign"]), "x does not match d");
}, "Ed25519: generateKey and JWK/raw/pkcs8 import errors");

promise_test(async () => {
  // RFC 7748 section 6.1
  const alice = { secret: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    public: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" };
  const bob = { secret: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    public: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f" };
  const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  const priv = (v) => subtle.importKey("jwk", { kty: "OKP", crv: "X25519", x: base64url(fromHex(v.public)), d: base64url(fromHex(v.secret)) }, "X25519", true, ["deriveBits"]);
  const pub = (v) => subtle.importKey("raw", fromHex(v.public), "X25519", true, []);
  assert_equals(hex(await subtle.deriveBits({ name: "X25519", public: await pub(bob) }, await priv(alice), 256)), shared);
  assert_equals(hex(await subtle.deriveBits({ name: "X25519", public: await pub(alice) }, await priv(bob), null)), shared);
  const jwk = await subtle.exportKey("jwk", await priv(alice));
  assert_array_equals(Object.keys(jwk), ["crv", "d", "ext", "key_ops", "kty", "x"], "no alg for X25519");
  // alg is ignored on import
  await subtle.importKey("jwk", { ...jwk, alg: "whatever" }, "X25519", true, ["deriveBits"]);
}, "X25519: RFC 7748 known answer");

promise_test(async (t) => {
  const a = await subtle.generateKey("X25519", true, ["deriveKey", "deriveBits"]);
  const b = await subtle.generateKey({ name: "x25519" }, true, ["deriveBits"]);
  assert_array_equals(a.publicKey.usages, []);
  const key = await subtle.deriveKey({ name: "X25519", public: b.publicKey }, a.privateKey, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
  const bits = await subtle.deriveBits({ name: "X25519", public: a.publicKey }, b.privateKey, 256);
  assert_equals(hex(await subtle.exportKey("raw", key)), hex(bits));
  const zero = await subtle.importKey("raw", new Uint8Array(32), "X25519", true, []);
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits({ name: "X25519", public: zero }, a.privateKey, 256), "small-order point");
  const ed = await subtle.generateKey("Ed25519", true, ["sign"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits({ name: "X25519", public: ed.publicKey }, a.privateKey, 256), "an Ed25519 key");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", new Uint8Array(32), "X25519", true, ["deriveBits"]), "public key with a usage");
}, "X25519: generateKey, deriveKey, errors");

promise_test(async () => {
  const ed = await subtle.generateKey("Ed448", true, ["sign", "verify"]);
  const sig = await subtle.sign("Ed448", ed.privateKey, utf8("m"));
  assert_equals(sig.byteLength, 114);
  assert_true(await subtle.verify("Ed448", ed.publicKey, sig, utf8("m")));
  assert_equals((await subtle.exportKey("raw", ed.publicKey)).byteLength, 57);
  const x = await subtle.generateKey("X448", true, ["deriveBits"]);
  const y = await subtle.generateKey("X448", true, ["deriveBits"]);
  const xy = await subtle.deriveBits({ name: "X448", public: y.publicKey }, x.privateKey, null);
  assert_equals(xy.byteLength, 56);
  assert_equals(hex(xy), hex(await subtle.deriveBits({ name: "X448", public: x.publicKey }, y.privateKey, null)));
}, "Ed448 and X448 work too");

// A signature forged with the Ed25519 identity point: for the identity public key, R = identity
// and S = 0 satisfy the verification equation for any message, and with a real key whose
// secret scalar is known, R = identity and S = k * a do as well. Both are refused.
const IDENTITY = "01" + "00".repeat(31);
const SMALL_R_KEY = "a4d2e7226cb2370e24b8c6ec7b79c654aff8c576f0c3cba02bc586ddfd48206c";
const SMALL_R_SIG = IDENTITY + "c78150539312630fb2fe09b9051982a50ecbb2ac1f2aa9cce6f73ad90528520c";

promise_test(async () => {
  const identity = await subtle.importKey("raw", fromHex(IDENTITY), "Ed25519", false, ["verify"]);
  const forged = fromHex(IDENTITY + "00".repeat(32));
  assert_false(await subtle.verify("Ed25519", identity, forged, utf8("pay Mallory")), "identity key");
  const key = await subtle.importKey("raw", fromHex(SMALL_R_KEY), "Ed25519", false, ["verify"]);
  assert_false(await subtle.verify("Ed25519", key, fromHex(SMALL_R_SIG), utf8("small order R")),
    "R is the identity");
  // A key of order 2 (y = -1) with R = identity, S = 0 passes the equation whenever k is
  // even, as it is for this message.
  const order2 = await subtle.importKey("raw", fromHex("ec" + "ff".repeat(30) + "7f"), "Ed25519", false, ["verify"]);
  assert_false(await subtle.verify("Ed25519", order2, forged, utf8("m1")), "key of order 2");
}, "Ed25519: verify returns false for small-order public keys and R points");

promise_test(async () => {
  // Ed448 identity: y = 1, x = 0 (57 bytes); R = identity and S = 0 would satisfy the equation.
  const identity = "01" + "00".repeat(56);
  const key = await subtle.importKey("raw", fromHex(identity), "Ed448", false, ["verify"]);
  assert_false(await subtle.verify("Ed448", key, fromHex(identity + "00".repeat(57)), utf8("m")));
}, "Ed448: verify returns false for a small-order public key");
