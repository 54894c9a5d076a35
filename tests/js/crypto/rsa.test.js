// META: script=resources/util.js
// META: timeout=long
// RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP: a 2048-bit key and signatures/ciphertexts made by
// OpenSSL, round trips, JWK rules, key generation, errors.

const subtle = crypto.subtle;

// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` (PKCS #8) and its public key.
const RSA_PKCS8 = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC0pUTPN93pOLvd
dmXqn6NYzfL4a4dyU1Dm3sqqopde/utiVGV2lKY2vmNL0uveRYBiBg5VnakcUON4
9MRyefNGUQvslck2bGbrQSNo3VWIdxx7CPJwd6P3MCtrCzSdft1vbdK2RbtEnTVh
qVGw87lNVr1dM8xIAJu+mnHVL8IWWPysmcB63cch/GnZH1ya2nQ6fQkRV6ELSenl
1e0w+uYkfYJa4kGytwZDvgB+6bLOHuWfOBb+PwhO+9EyLUENP2SiA/5pLLU30Jxe
uOZh6x6BCxwGdMOfqxKUcy0mJGUuDkDMIp/zeZ5KhJoZif96th6rWaGcs2A05i9F
p3Rz5g0lAgMBAAECggEAFtRuMkwKsQ9Y+r+cWL8NG0uH4ephB0tNRagxb8g1ni1U
XSxyWD6oFPIRxYLmCUS6WWkPhbVzql70qJQygY809hWHDsLNV6HyjdfBHF8gkKsQ
/+GdFiago7xEOHaFk0P1wz/baeq9JIpDtVB7QQRETmhgbTd/IThmdnu5WCp9empV
PNM9kCJRn1g0JpRo+R1Zf940ezYZX7dIHS243QQXl9tNR/ZuECxxHdh6WWdSqZF2
RXFSYXAToiR/IZGQaeBOOZjrihpPncNp7ZHhXMOk+XNynZlUBF8TBBRlrD4m00Fg
/0jyjjG53dqY+cwM8aOCIgHpsDxIgKnWpfmddkCOcQKBgQDexyzJ/4GAqCiij6MH
VmePFGi9ZuJrZftGW+BcwcZwKOHTUggQrefZd7CKzP2ZIJ1OBmTJGppJzVfh7cdF
ABtIdHvOn4oIbKjBU5+jLf8tnedygkbrZ7uqXST6Zu4lMHa3VBSg03ww4cvbDKwn
cM4mviWZ5lKaVGpR77rEw6PeaQKBgQDPlaLLIvNBbshnfiLxpfx3K1+vqFaPpERW
CXZIEfSJ47gVnKKOKJH/feHHqwowDxSk/6+oHmL0AJfbPIavtYYmGj2VrUwEH5TZ
REEm7rea/U5IclTFNB160XbplQMAYjlN8xKHlPBtr01r8MEjS46uRWJHWTh1+t6D
2IFH8rYZXQKBgAzpEglqy0B/fktdc587PKkoD6HaUojS0isTq/70I+HgHKY4fMsq
qOMLcqm4k4HKSBN7f1/AMOzR/6PSOdgf13TtezdQO5mdYnJBvGCii8VC/2S9dAq0
akXHPBte17JECr05HDDt0KasjznUlC189hV8s4UluefDuJ2i/PnmNJrxAoGACi+9
nVpJtZxKGUoHTPRoPzDRsT0Bgmr9L3unYkH/TgTus6DMGU3EXFVBDxtFlLYovTAO
3qEfGfoteYSu11CBFL2U6BNo94rVMxQ2XkK4n9JuVP/HSSYVjEFbJHs7enlXdovH
DQAyDC/eDL3zvFeo2MRu3jFyo9d7s9yb+3vdk8ECgYEAh7w1v2lOJ5vH9+p4DHJ0
KJHSuoa9y8GCK3nDgrNaSPQsf6mOXrFSCc3rkgxHuM+vnjdyVMU/EgN6FlR1KzNJ
WclIS24eawEqSMX2gfN1Ayp96WXuXX6GQnS7beyPP8lPDummFSWSNSsa7NXuef4h
ZIs+mGxyo8huD3oAHKoVOaM=
-----END PRIVATE KEY-----`;
const RSA_SPKI = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtKVEzzfd6Ti73XZl6p+j
WM3y+GuHclNQ5t7KqqKXXv7rYlRldpSmNr5jS9Lr3kWAYgYOVZ2pHFDjePTEcnnz
RlEL7JXJNmxm60EjaN1ViHccewjycHej9zAraws0nX7db23StkW7RJ01YalRsPO5
TVa9XTPMSACbvppx1S/CFlj8rJnAet3HIfxp2R9cmtp0On0JEVehC0np5dXtMPrm
JH2CWuJBsrcGQ74Afumyzh7lnzgW/j8ITvvRMi1BDT9kogP+aSy1N9CcXrjmYese
gQscBnTDn6sSlHMtJiRlLg5AzCKf83meSoSaGYn/erYeq1mhnLNgNOYvRad0c+YN
JQIDAQAB
-----END PUBLIC KEY-----`;
const MESSAGE = utf8("isoflow signs this");
// `openssl dgst -sha256 -sign` (deterministic: PKCS #1 v1.5)
const OPENSSL_PKCS1 = "qzuWyIn2C9GT44LRkdoYhLvvp/CqUwnOilDmYorYqaN1lrgSZhaB+5UzTdc8sEa73MVP+PqPho8Unh2wfYs4WZ9gzUlojXFXxMlHkkjri0gObBvzMIPQeYFPoOUVFHktuHFOd2EQ0Ew+zevi4W7RO7iPb7en39uSUIkvRzisy/SlvJHzqWFP6O4CV49cImUR5nIJ1aXkB67d/B4cubuX5hvzR3xHZK9osjuUSctdq0nKrLJgg7rK5shO50L08vPy0+p1xZuXGel8qPCTfNTsixDBQKkuATejhb9obhZEhBvbzCrbb4GdxGVE84e8FsGZO/b4/dEvp1tx+t8tYnUaXQ==";
// `openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sign`
const OPENSSL_PSS = "V2qCkAWAhpPn6a4BO9Sugzuj6OC9BNeBwu7qj/AboJEhTc97Jg4LhMztaEUqe/Ip5NAswXHnGxpIf99rO649fS1RYTykmMlbq0Wf9xrkE3cKks9+IyClkQiQwlnq5wzCPZoKhG/F4yvXReex2WfC1qMCzmZqR5CzlFgTFRUnlth5stDC/098B+qx3Fucz3Nj1005paZBZTWZlWd9AfsK+wwhKfsU7rUJEZbxC8inGtHaxRzUyDFgH3lxDgLjzI/g9K7dJdhz0RTtZz9mW5QvCzxsnLiJ5izgR6HqSkqf3HQfQyGdZcViTsdr3hN/uoueU8q8v8brNJ5cEFh3r+Npcw==";
// `openssl pkeyutl -encrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256`
const OPENSSL_OAEP = "i6vrv10bk/B6GkRUoiQWtIaYKp8nducsZ+GQOZpfyXLWLgLTnM88IzltOBvIrBV5XEji0nYHQafzrg08maVY5jF3V4IZSarAnSm6Qo3lx+72ZIQ0NYtq8w+n8AF/LNtKK/kRQMj5KflwLqW6W3vRni8cFB8+jnFdCw0w4y4XgAcr8Igfq8ajFsRiTu3fYMSszJEDFJiAqFnNFAgqw/38Eh0/EArJn43ykgTRMMA6kLgWGS4COu/iorU/w1c/jwEUfBqa5wvJ9NPwPZnkLxa8YccilYIIED0ZOq0RuINd3eb32Ur+T+8QMdP1y/kyYxDH6bgZT+YcZugRrTY31Knnig==";

const PKCS1 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const PSS = { name: "RSA-PSS", hash: "SHA-256" };
const OAEP = { name: "RSA-OAEP", hash: "SHA-256" };

promise_test(async () => {
  const priv = await subtle.importKey("pkcs8", pem(RSA_PKCS8), PKCS1, true, ["sign"]);
  const pub = await subtle.importKey("spki", pem(RSA_SPKI), PKCS1, true, ["verify"]);
  assert_equals(pub.algorithm.modulusLength, 2048);
  assert_array_equals(pub.algorithm.publicExponent, [1, 0, 1]);
  assert_equals(pub.algorithm.hash.name, "SHA-256");
  const sig = await subtle.sign("RSASSA-PKCS1-v1_5", priv, MESSAGE);
  assert_equals(hex(sig), hex(fromBase64(OPENSSL_PKCS1)), "the same signature as OpenSSL");
  assert_true(await subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, pub, sig, MESSAGE));
  assert_false(await subtle.verify("RSASSA-PKCS1-v1_5", pub, sig, utf8("other")));
  assert_false(await subtle.verify("RSASSA-PKCS1-v1_5", pub, new Uint8Array(sig).subarray(2), MESSAGE));
  assert_equals(hex(await subtle.exportKey("pkcs8", priv)), hex(pem(RSA_PKCS8)));
  assert_equals(hex(await subtle.exportKey("spki", pub)), hex(pem(RSA_SPKI)));
}, "RSASSA-PKCS1-v1_5: PEM keys reproduce OpenSSL's signature; exports are byte-identical");

promise_test(async () => {
  const priv = await subtle.importKey("pkcs8", pem(RSA_PKCS8), PSS, false, ["sign"]);
  const pub = await subtle.importKey("spki", pem(RSA_SPKI), PSS, false, ["verify"]);
  assert_true(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pub, fromBase64(OPENSSL_PSS), MESSAGE), "OpenSSL's signature");
  assert_false(await subtle.verify({ name: "RSA-PSS", saltLength: 20 }, pub, fromBase64(OPENSSL_PSS), MESSAGE), "wrong salt length");
  const a = await subtle.sign({ name: "RSA-PSS", saltLength: 32 }, priv, MESSAGE);
  const b = await subtle.sign({ name: "RSA-PSS", saltLength: 32 }, priv, MESSAGE);
  assert_not_equals(hex(a), hex(b), "salted signatures differ");
  assert_true(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pub, a, MESSAGE));
  const c = await subtle.sign({ name: "RSA-PSS", saltLength: 0 }, priv, MESSAGE);
  assert_equals(hex(c), hex(await subtle.sign({ name: "RSA-PSS", saltLength: 0 }, priv, MESSAGE)), "no salt: deterministic");
}, "RSA-PSS: verify OpenSSL's signature; salted signatures");

promise_test(async (t) => {
  const priv = await subtle.importKey("pkcs8", pem(RSA_PKCS8), OAEP, false, ["decrypt", "unwrapKey"]);
  const pub = await subtle.importKey("spki", pem(RSA_SPKI), OAEP, false, ["encrypt", "wrapKey"]);
  assert_equals(new TextDecoder().decode(await subtle.decrypt("RSA-OAEP", priv, fromBase64(OPENSSL_OAEP))), "isoflow signs this");
  const ct = await subtle.encrypt({ name: "RSA-OAEP", label: utf8("L") }, pub, MESSAGE);
  assert_equals(ct.byteLength, 256);
  assert_equals(hex(await subtle.decrypt({ name: "RSA-OAEP", label: utf8("L") }, priv, ct)), hex(MESSAGE));
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "RSA-OAEP", label: utf8("M") }, priv, ct), "wrong label");
  const bad = new Uint8Array(ct);
  bad[5] ^= 1;
  await promise_rejects_dom(t, "OperationError", subtle.decrypt("RSA-OAEP", priv, bad), "corrupt");
  await promise_rejects_dom(t, "OperationError", subtle.encrypt("RSA-OAEP", pub, new Uint8Array(191)), "too long for OAEP-SHA-256");
  assert_equals((await subtle.encrypt("RSA-OAEP", pub, new Uint8Array(190))).byteLength, 256, "the longest message fits");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.encrypt("RSA-OAEP", priv, MESSAGE), "encrypt with a private key");
}, "RSA-OAEP: decrypt OpenSSL's ciphertext; labels; errors");

promise_test(async (t) => {
  const priv = await subtle.importKey("pkcs8", pem(RSA_PKCS8), PSS, true, ["sign"]);
  const jwk = await subtle.exportKey("jwk", priv);
  assert_array_equals(Object.keys(jwk), ["alg", "d", "dp", "dq", "e", "ext", "key_ops", "kty", "n", "p", "q", "qi"]);
  assert_equals(jwk.alg, "PS256");
  assert_equals(jwk.e, "AQAB");
  const back = await subtle.importKey("jwk", jwk, PSS, true, ["sign"]);
  assert_equals(hex(await subtle.exportKey("pkcs8", back)), hex(pem(RSA_PKCS8)));
  const { d, p, q, dp, dq, qi, key_ops, ...pubJwk } = jwk;
  const pub = await subtle.importKey("jwk", pubJwk, PSS, true, ["verify"]);
  assert_equals(hex(await subtle.exportKey("spki", pub)), hex(pem(RSA_SPKI)));
  // A private key with a leading zero octet in d is the same key.
  const padded = { ...jwk, d: base64url(new Uint8Array([0, ...fromBase64(jwk.d)])) };
  await subtle.importKey("jwk", padded, PSS, false, ["sign"]);
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, alg: "RS256" }, PSS, true, ["sign"]), "alg of another algorithm");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, alg: "PS384" }, PSS, true, ["sign"]), "alg of another hash");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, p: undefined }, PSS, true, ["sign"]), "p missing but q present");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, kty: "EC" }, PSS, true, ["sign"]), "kty");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { ...jwk, n: undefined }, PSS, true, ["sign"]), "no n");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("jwk", jwk, PSS, true, ["verify"]), "private key with verify");
  const oaepJwk = await subtle.exportKey("jwk", await subtle.importKey("spki", pem(RSA_SPKI), { name: "RSA-OAEP", hash: "SHA-1" }, true, ["encrypt"]));
  assert_equals(oaepJwk.alg, "RSA-OAEP");
}, "RSA JWK export and import");

for (const name of ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"]) {
  promise_test(async () => {
    const usages = name === "RSA-OAEP" ? ["encrypt", "decrypt", "wrapKey", "unwrapKey"] : ["sign", "verify"];
    const pair = await subtle.generateKey({ name, modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-384" }, true, usages);
    assert_equals(pair.publicKey.algorithm.name, name);
    assert_equals(pair.publicKey.algorithm.modulusLength, 1024);
    assert_array_equals(pair.privateKey.algorithm.publicExponent, [1, 0, 1]);
    assert_equals(pair.privateKey.algorithm.hash.name, "SHA-384");
    assert_array_equals(pair.publicKey.usages, name === "RSA-OAEP" ? ["encrypt", "wrapKey"] : ["verify"]);
    assert_array_equals(pair.privateKey.usages, name === "RSA-OAEP" ? ["decrypt", "unwrapKey"] : ["sign"]);
    const spki = await subtle.exportKey("spki", pair.publicKey);
    const pub = await subtle.importKey("spki", spki, { name, hash: "SHA-384" }, true, usages.filter((u) => pair.publicKey.usages.includes(u)));
    if (name === "RSA-OAEP") {
      const ct = await subtle.encrypt(name, pub, MESSAGE);
      assert_equals(hex(await subtle.decrypt(name, pair.privateKey, ct)), hex(MESSAGE));
    } else {
      const params = { name, saltLength: 48 };
      const sig = await subtle.sign(params, pair.privateKey, MESSAGE);
      assert_true(await subtle.verify(params, pub, sig, MESSAGE));
    }
  }, `${name}: generateKey, export spki, import, use`);
}

promise_test(async (t) => {
  const gen = (publicExponent, modulusLength = 1024) => subtle.generateKey(
    { name: "RSA-PSS", modulusLength, publicExponent, hash: "SHA-256" }, true, ["sign"]);
  assert_true(await settlesEarly(gen(new Uint8Array([1]))), "a bad exponent rejects at once");
  await promise_rejects_dom(t, "OperationError", gen(new Uint8Array([1])), "exponent 1");
  await promise_rejects_dom(t, "OperationError", gen(new Uint8Array([1, 0, 0])), "exponent 65536");
  await promise_rejects_dom(t, "OperationError", gen(new Uint8Array([1, 0, 1]), 256), "tiny modulus");
  await promise_rejects_js(t, TypeError, gen([1, 0, 1]), "publicExponent must be a Uint8Array");
  await promise_rejects_js(t, TypeError, subtle.generateKey({ name: "RSA-PSS", publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign"]), "modulusLength is required");
  await promise_rejects_dom(t, "SyntaxError", subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([3]), hash: "SHA-256" }, true, ["verify"]), "a private key without usages");
  const priv = await subtle.importKey("pkcs8", pem(RSA_PKCS8), PSS, false, ["sign"]);
  await promise_rejects_dom(t, "OperationError", subtle.sign({ name: "RSA-PSS", saltLength: 300 }, priv, MESSAGE), "salt too long for the key");
  await promise_rejects_js(t, TypeError, subtle.sign({ name: "RSA-PSS" }, priv, MESSAGE), "saltLength is required");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.sign(PKCS1, priv, MESSAGE), "a PSS key for PKCS #1 v1.5");
  await promise_rejects_dom(t, "DataError", subtle.importKey("spki", pem(RSA_PKCS8), PSS, false, ["verify"]), "pkcs8 as spki");
  await promise_rejects_dom(t, "NotSupportedError", subtle.importKey("raw", pem(RSA_SPKI), PSS, false, ["verify"]), "raw");
  const pub = await subtle.importKey("spki", pem(RSA_SPKI), PSS, true, ["verify"]);
  await promise_rejects_dom(t, "NotSupportedError", subtle.exportKey("raw", pub), "raw export");
}, "RSA errors");
