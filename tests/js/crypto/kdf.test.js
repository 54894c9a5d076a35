// META: script=resources/util.js
// PBKDF2 (RFC 6070 and SHA-256 vectors) and HKDF (RFC 5869): deriveBits, deriveKey, errors.

const subtle = crypto.subtle;

function pbkdf2Key(password, usages = ["deriveBits", "deriveKey"]) {
  return subtle.importKey("raw", password, "PBKDF2", false, usages);
}

const RFC6070 = [
  ["password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"],
  ["password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"],
  ["password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"],
  ["passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25,
    "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"],
  ["pass\0word", "sa\0lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"],
];

for (const [password, salt, iterations, length, expected] of RFC6070) {
  promise_test(async () => {
    const key = await pbkdf2Key(utf8(password));
    const bits = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: utf8(salt), iterations }, key, length * 8);
    assert_equals(hex(bits), expected);
  }, `PBKDF2-SHA-1 RFC 6070: ${JSON.stringify(password)}, ${iterations} iterations`);
}

promise_test(async () => {
  const key = await pbkdf2Key(utf8("password"));
  const bits = await subtle.deriveBits({ name: "pbkdf2", hash: { name: "SHA-256" }, salt: utf8("salt"), iterations: 1 }, key, 256);
  assert_equals(hex(bits), "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
  const bits2 = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: utf8("salt"), iterations: 4096 }, key, 256);
  assert_equals(hex(bits2), "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
}, "PBKDF2-SHA-256 known answers");

promise_test(async (t) => {
  const key = await pbkdf2Key(utf8("password"));
  const alg = { name: "PBKDF2", hash: "SHA-256", salt: utf8("salt"), iterations: 10 };
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits(alg, key, 44), "not a multiple of 8");
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits(alg, key, null), "null length");
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits(alg, key), "no length");
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits({ ...alg, iterations: 0 }, key, 128), "0 iterations");
  // Workers' bound: a derivation cannot be stopped once it runs (it is not V8's work).
  await promise_rejects_dom(t, "NotSupportedError", subtle.deriveBits({ ...alg, iterations: 100001 }, key, 128), "over 100,000 iterations");
  assert_equals((await subtle.deriveBits({ ...alg, iterations: 100000 }, key, 128)).byteLength, 16);
  // The work is the iterations times the output's blocks (32 bytes for SHA-256): bounded too.
  assert_equals((await subtle.deriveBits({ ...alg, iterations: 100000 }, key, 8 * 256)).byteLength, 256);
  await promise_rejects_dom(t, "NotSupportedError",
    subtle.deriveBits({ ...alg, iterations: 100000 }, key, 8 * 257), "over 8 blocks of 100,000");
  await promise_rejects_dom(t, "NotSupportedError",
    subtle.deriveBits({ ...alg, iterations: 10000 }, key, 8 * 250000), "a quarter of a megabyte");
  assert_equals((await subtle.deriveBits({ ...alg, iterations: 1 }, key, 8 * 65536)).byteLength, 65536);
  await promise_rejects_dom(t, "NotSupportedError", subtle.deriveBits({ ...alg, hash: "SHA-3" }, key, 128), "bad hash");
  await promise_rejects_dom(t, "NotSupportedError", subtle.deriveBits({ ...alg, hash: "PBKDF2" }, key, 128), "not a digest");
  await promise_rejects_js(t, TypeError, subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", iterations: 1 }, key, 128), "salt is required");
  await promise_rejects_js(t, TypeError, subtle.deriveBits({ ...alg, iterations: -1 }, key, 128), "[EnforceRange] iterations");
  const noBits = await pbkdf2Key(utf8("password"), ["deriveKey"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits(alg, noBits, 128), "no deriveBits usage");
  const hkdf = await subtle.importKey("raw", utf8("password"), "HKDF", false, ["deriveBits"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveBits(alg, hkdf, 128), "an HKDF key");
}, "PBKDF2 deriveBits errors");

promise_test(async (t) => {
  const key = await pbkdf2Key(utf8("hunter2"));
  const alg = { name: "PBKDF2", hash: "SHA-384", salt: utf8("pepper"), iterations: 3 };
  const nothing = await subtle.deriveBits(alg, key, 0);
  assert_true(nothing instanceof ArrayBuffer, "an ArrayBuffer");
  assert_equals(nothing.byteLength, 0, "no bytes for a zero length");
  // The iteration count is still checked first.
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits({ ...alg, iterations: 0 }, key, 0),
    "0 iterations, length 0");
}, "PBKDF2 deriveBits with a zero length gives an empty buffer");

promise_test(async (t) => {
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", utf8("pw"), "PBKDF2", true, ["deriveBits"]), "extractable");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", utf8("pw"), "PBKDF2", false, ["sign"]), "usage");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", utf8("pw"), "PBKDF2", false, []), "no usage");
  await promise_rejects_dom(t, "NotSupportedError", subtle.importKey("jwk", { kty: "oct", k: "cHc" }, "PBKDF2", false, ["deriveBits"]), "jwk");
  await promise_rejects_dom(t, "NotSupportedError", subtle.generateKey("PBKDF2", false, ["deriveBits"]), "no generateKey");
  const key = await pbkdf2Key(utf8("pw"));
  assert_equals(key.extractable, false);
  assert_equals(key.algorithm.name, "PBKDF2");
  assert_array_equals(Object.keys(key.algorithm), ["name"]);
  await promise_rejects_dom(t, "NotSupportedError", subtle.exportKey("raw", key), "never exported");
}, "PBKDF2 keys: import rules");

// -- HKDF (RFC 5869) ----------------------------------------------------------------------

const RFC5869 = [
  { hash: "SHA-256", ikm: repeat(0x0b, 22), salt: fromHex("000102030405060708090a0b0c"),
    info: fromHex("f0f1f2f3f4f5f6f7f8f9"), length: 42,
    okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" },
  { hash: "SHA-256", ikm: repeat(0x0b, 22), salt: new Uint8Array(0), info: new Uint8Array(0), length: 42,
    okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8" },
  { hash: "SHA-1", ikm: repeat(0x0b, 11), salt: fromHex("000102030405060708090a0b0c"),
    info: fromHex("f0f1f2f3f4f5f6f7f8f9"), length: 42,
    okm: "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896" },
];

RFC5869.forEach((v, i) => {
  promise_test(async () => {
    const key = await subtle.importKey("raw", v.ikm, "HKDF", false, ["deriveBits"]);
    const bits = await subtle.deriveBits({ name: "HKDF", hash: v.hash, salt: v.salt, info: v.info }, key, v.length * 8);
    assert_equals(hex(bits), v.okm);
    const empty = await subtle.deriveBits({ name: "HKDF", hash: v.hash, salt: v.salt, info: v.info }, key, 0);
    assert_equals(empty.byteLength, 0, "length 0 derives nothing");
  }, `HKDF RFC 5869 vector ${i + 1} (${v.hash})`);
});

promise_test(async (t) => {
  const key = await subtle.importKey("raw", repeat(1, 16), "HKDF", false, ["deriveBits", "deriveKey"]);
  const alg = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) };
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits(alg, key, null), "null length");
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits(alg, key, 44), "not a multiple of 8");
  await promise_rejects_dom(t, "OperationError", subtle.deriveBits(alg, key, 255 * 256 + 8), "too long");
  await promise_rejects_js(t, TypeError, subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0) }, key, 8), "info is required");
  await promise_rejects_js(t, TypeError, subtle.deriveBits({ name: "HKDF", hash: "SHA-256", info: new Uint8Array(0) }, key, 8), "salt is required");
  await promise_rejects_dom(t, "OperationError", subtle.deriveKey(alg, key, "HKDF", false, ["deriveBits"]), "an HKDF key has no length to derive");
}, "HKDF errors");

promise_test(async () => {
  const v = RFC5869[0];
  const key = await subtle.importKey("raw", v.ikm, "HKDF", false, ["deriveKey"]);
  const alg = { name: "HKDF", hash: v.hash, salt: v.salt, info: v.info };
  for (const [derived, bytes] of [[{ name: "AES-GCM", length: 128 }, 16], [{ name: "AES-CBC", length: 256 }, 32],
    [{ name: "HMAC", hash: "SHA-1" }, 64], [{ name: "HMAC", hash: "SHA-256", length: 80 }, 10]]) {
    const usages = derived.name === "HMAC" ? ["sign"] : ["encrypt"];
    const k = await subtle.deriveKey(alg, key, derived, true, usages);
    assert_equals(k.algorithm.name, derived.name);
    if (bytes <= 42) {
      assert_equals(hex(await subtle.exportKey("raw", k)), v.okm.slice(0, bytes * 2), JSON.stringify(derived));
    } else {
      assert_equals((await subtle.exportKey("raw", k)).byteLength, bytes);
    }
  }
}, "HKDF deriveKey makes AES and HMAC keys from the derived bits");

promise_test(async (t) => {
  const key = await pbkdf2Key(utf8("password"), ["deriveKey"]);
  const alg = { name: "PBKDF2", hash: "SHA-1", salt: utf8("salt"), iterations: 2 };
  const k = await subtle.deriveKey(alg, key, { name: "AES-CTR", length: 128 }, true, ["encrypt", "decrypt"]);
  assert_equals(hex(await subtle.exportKey("raw", k)), "ea6c014dc72d6f8ccd1ed92ace1d41f0");
  const h = await subtle.deriveKey(alg, key, { name: "HMAC", hash: "SHA-1", length: 160 }, true, ["sign"]);
  assert_equals(hex(await subtle.exportKey("raw", h)), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
  await promise_rejects_dom(t, "OperationError", subtle.deriveKey(alg, key, { name: "AES-GCM", length: 100 }, true, ["encrypt"]), "AES length");
  await promise_rejects_js(t, TypeError, subtle.deriveKey(alg, key, { name: "HMAC", hash: "SHA-1", length: 0 }, true, ["sign"]), "HMAC length 0");
  await promise_rejects_dom(t, "SyntaxError", subtle.deriveKey(alg, key, { name: "AES-GCM", length: 128 }, true, []), "no usages");
  await promise_rejects_dom(t, "SyntaxError", subtle.deriveKey(alg, key, { name: "AES-GCM", length: 128 }, true, ["sign"]), "bad usages");
  await promise_rejects_dom(t, "NotSupportedError", subtle.deriveKey(alg, key, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]), "no key length");
  await promise_rejects_dom(t, "NotSupportedError", subtle.deriveKey({ ...alg, hash: "SHA-0" }, key, { name: "AES-GCM", length: 128 }, true, ["encrypt"]), "bad hash");
  const bitsOnly = await pbkdf2Key(utf8("password"), ["deriveBits"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.deriveKey(alg, bitsOnly, { name: "AES-GCM", length: 128 }, true, ["encrypt"]), "no deriveKey usage");
}, "PBKDF2 deriveKey: known answers and errors");
