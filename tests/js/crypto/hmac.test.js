// META: script=resources/util.js
// HMAC: RFC 4231 / RFC 2202 known answers, generateKey, importKey/exportKey, errors.

const subtle = crypto.subtle;

const RFC4231 = [
  { key: repeat(0x0b, 20), data: utf8("Hi There"), mac: {
    "SHA-256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    "SHA-384": "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
    "SHA-512": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
  } },
  { key: utf8("Jefe"), data: utf8("what do ya want for nothing?"), mac: {
    "SHA-256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "SHA-512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  } },
  { key: repeat(0xaa, 131), data: utf8("Test Using Larger Than Block-Size Key - Hash Key First"), mac: {
    "SHA-256": "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  } },
  // RFC 2202, test case 1
  { key: repeat(0x0b, 20), data: utf8("Hi There"), mac: {
    "SHA-1": "b617318655057264e28bc0b6fb378c8ef146be00",
  } },
];

RFC4231.forEach((vector, i) => {
  for (const [hash, expected] of Object.entries(vector.mac)) {
    promise_test(async () => {
      const key = await subtle.importKey("raw", vector.key, { name: "HMAC", hash }, false,
        ["sign", "verify"]);
      assert_equals(key.algorithm.length, vector.key.length * 8);
      const mac = await subtle.sign("HMAC", key, vector.data);
      assert_equals(hex(mac), expected);
      assert_true(await subtle.verify("HMAC", key, fromHex(expected), vector.data), "verifies");
      const bad = fromHex(expected);
      bad[0] ^= 1;
      assert_false(await subtle.verify("HMAC", key, bad, vector.data), "altered mac");
      assert_false(await subtle.verify("HMAC", key, bad.subarray(1), vector.data), "short mac");
      assert_false(await subtle.verify("HMAC", key, fromHex(expected), utf8("other")), "other data");
    }, `HMAC ${hash}: known answer ${i + 1}`);
  }
});

for (const [hash, block] of [["SHA-1", 512], ["SHA-256", 512], ["SHA-384", 1024], ["SHA-512", 1024]]) {
  promise_test(async () => {
    const key = await subtle.generateKey({ name: "HMAC", hash }, true, ["sign", "verify", "sign"]);
    assert_equals(key.type, "secret");
    assert_equals(key.extractable, true);
    assert_equals(key.algorithm.name, "HMAC");
    assert_equals(key.algorithm.hash.name, hash);
    assert_equals(key.algorithm.length, block, "defaults to the hash's block size");
    assert_array_equals(key.usages, ["sign", "verify"], "no repeats");
    const raw = await subtle.exportKey("raw", key);
    assert_equals(raw.byteLength, block / 8);
    const jwk = await subtle.exportKey("jwk", key);
    assert_equals(jwk.kty, "oct");
    assert_equals(jwk.alg, `HS${hash.slice(4)}`);
    assert_array_equals(jwk.key_ops, ["sign", "verify"]);
    assert_equals(jwk.ext, true);
    assert_equals(base64url(new Uint8Array(raw)), jwk.k);
    const back = await subtle.importKey("jwk", jwk, { name: "HMAC", hash }, true, ["verify"]);
    const mac = await subtle.sign("HMAC", key, utf8("m"));
    assert_true(await subtle.verify("HMAC", back, mac, utf8("m")), "the jwk round trip keeps the key");
  }, `HMAC ${hash}: generateKey, export raw and jwk, import again`);
}

promise_test(async () => {
  const key = await subtle.generateKey({ name: "HMAC", hash: { name: "sha-256" }, length: 160 }, true, ["sign"]);
  assert_equals(key.algorithm.length, 160);
  assert_equals(key.algorithm.hash.name, "SHA-256", "the hash name is normalized");
  assert_equals((await subtle.exportKey("raw", key)).byteLength, 20);
}, "HMAC generateKey with an explicit length");

promise_test(async (t) => {
  const alg = { name: "HMAC", hash: "SHA-256" };
  await promise_rejects_dom(t, "SyntaxError", subtle.generateKey(alg, true, ["encrypt"]));
  await promise_rejects_dom(t, "SyntaxError", subtle.generateKey(alg, true, []));
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", new Uint8Array(16), alg, true, ["sign", "deriveKey"]));
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", new Uint8Array(16), alg, true, []));
  await promise_rejects_dom(t, "DataError", subtle.importKey("raw", new Uint8Array(0), alg, true, ["sign"]));
  await promise_rejects_dom(t, "DataError", subtle.importKey("raw", new Uint8Array(16), { ...alg, length: 129 }, true, ["sign"]));
  await promise_rejects_dom(t, "DataError", subtle.importKey("raw", new Uint8Array(16), { ...alg, length: 120 }, true, ["sign"]));
  await promise_rejects_dom(t, "NotSupportedError", subtle.importKey("spki", new Uint8Array(16), alg, true, ["sign"]));
  await promise_rejects_dom(t, "NotSupportedError", subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "MD5" }, true, ["sign"]));
  await promise_rejects_js(t, TypeError, subtle.importKey("raw", new Uint8Array(16), { name: "HMAC" }, true, ["sign"]), "hash is required");
}, "HMAC usage, key data and format errors");

promise_test(async (t) => {
  const alg = { name: "HMAC", hash: "SHA-256" };
  const k = base64url(new Uint8Array(32).fill(7));
  const ok = await subtle.importKey("jwk", { kty: "oct", k, alg: "HS256", use: "sig", key_ops: ["sign", "verify"], ext: true }, alg, true, ["sign"]);
  assert_equals(ok.algorithm.length, 256);
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k, alg: "HS512" }, alg, true, ["sign"]), "alg");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "RSA", k }, alg, true, ["sign"]), "kty");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct" }, alg, true, ["sign"]), "no k");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k: "***" }, alg, true, ["sign"]), "bad base64url");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k, use: "enc" }, alg, true, ["sign"]), "use");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k, key_ops: ["verify"] }, alg, true, ["sign"]), "key_ops");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k, key_ops: ["sign", "sign"] }, alg, true, ["sign"]), "repeated key_ops");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k, ext: false }, alg, true, ["sign"]), "ext");
  const inert = await subtle.importKey("jwk", { kty: "oct", k, ext: false }, alg, false, ["sign"]);
  assert_equals(inert.extractable, false, "ext: false is fine for a non-extractable key");
}, "HMAC JWK import checks kty, k, alg, use, key_ops and ext");

promise_test(async (t) => {
  const key = await subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "SHA-1" }, true, ["verify"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.sign("HMAC", key, new Uint8Array(1)), "no sign usage");
  const aes = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["encrypt"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.sign("HMAC", aes, new Uint8Array(1)), "not an HMAC key");
  await promise_rejects_dom(t, "NotSupportedError", subtle.sign("AES-GCM", aes, new Uint8Array(1)), "AES does not sign");
}, "HMAC sign needs an HMAC key with the sign usage");

promise_test(async () => {
  const key = await subtle.importKey("raw", utf8("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const data = utf8("what do ya want for nothing?");
  const expected = RFC4231[1].mac["SHA-256"];
  const p = subtle.sign("HMAC", key, data);
  data[0] ^= 0xff;
  assert_equals(hex(await p), expected, "data altered after the call");
  const sig = fromHex(expected);
  data[0] ^= 0xff;
  const v = subtle.verify("HMAC", key, sig, data);
  sig[0] ^= 1;
  assert_true(await v, "signature altered after the call");
}, "HMAC copies its inputs at call time");
