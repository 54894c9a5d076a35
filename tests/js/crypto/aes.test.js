// META: script=resources/util.js
// AES-GCM, AES-CBC, AES-CTR and AES-KW: known answers (GCM paper, NIST SP 800-38A,
// RFC 3394), round trips, key import/export, and the errors the standard names.

const subtle = crypto.subtle;
const NIST_KEY = fromHex("2b7e151628aed2a6abf7158809cf4f3c");
const NIST_PLAIN = fromHex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51" +
  "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710");

async function aesKey(name, raw, usages = ["encrypt", "decrypt"], extractable = false) {
  return subtle.importKey("raw", raw, name, extractable, usages);
}

// -- AES-GCM ------------------------------------------------------------------------------

const GCM = [
  { name: "test case 1 (empty)", key: "00000000000000000000000000000000", iv: "000000000000000000000000",
    pt: "", ct: "", tag: "58e2fccefa7e3061367f1d57a4e7455a" },
  { name: "test case 2", key: "00000000000000000000000000000000", iv: "000000000000000000000000",
    pt: "00000000000000000000000000000000", ct: "0388dace60b6a392f328c2b971b2fe78",
    tag: "ab6e47d42cec13bdf53a67b21257bddf" },
  { name: "test case 4 (additional data)", key: "feffe9928665731c6d6a8f9467308308",
    iv: "cafebabefacedbaddecaf888", aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    pt: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    ct: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
    tag: "5bc94fbc3221a5db94fae95ae7121a47" },
  { name: "test case 16 (AES-256)", key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    iv: "cafebabefacedbaddecaf888", aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    pt: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    ct: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    tag: "76fc6ece0f4e1768cddf8853bb2d551b" },
];

for (const v of GCM) {
  promise_test(async () => {
    const key = await aesKey("AES-GCM", fromHex(v.key));
    const params = { name: "AES-GCM", iv: fromHex(v.iv) };
    if (v.aad) params.additionalData = fromHex(v.aad);
    const out = await subtle.encrypt(params, key, fromHex(v.pt));
    assert_equals(hex(out), v.ct + v.tag);
    assert_equals(hex(await subtle.decrypt(params, key, out)), v.pt);
    for (const tagLength of [32, 64, 96, 104, 112, 120]) {
      const short = await subtle.encrypt({ ...params, tagLength }, key, fromHex(v.pt));
      assert_equals(hex(short), v.ct + v.tag.slice(0, tagLength / 4), `tagLength ${tagLength}`);
      assert_equals(hex(await subtle.decrypt({ ...params, tagLength }, key, short)), v.pt);
    }
  }, `AES-GCM ${v.name}`);
}

promise_test(async (t) => {
  const key = await aesKey("AES-GCM", new Uint8Array(16));
  const iv = new Uint8Array(12);
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv }, key, utf8("secret")));
  const flipped = ct.slice();
  flipped[0] ^= 1;
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-GCM", iv }, key, flipped), "ciphertext");
  const badTag = ct.slice();
  badTag[badTag.length - 1] ^= 1;
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-GCM", iv }, key, badTag), "tag");
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8("x") }, key, ct), "additional data");
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12).fill(1) }, key, ct), "iv");
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-GCM", iv }, key, ct.subarray(0, 15)), "shorter than the tag");
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-GCM", iv, tagLength: 100 }, key, ct), "tagLength 100");
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(0) }, key, ct), "empty iv");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-GCM", iv, tagLength: 256 }, key, ct), "tagLength out of octet range");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-GCM" }, key, ct), "iv is required");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-GCM", iv: [1, 2] }, key, ct), "iv is a BufferSource");
}, "AES-GCM: authentication failures and bad parameters");

// -- AES-CBC and AES-CTR (NIST SP 800-38A) -------------------------------------------------

promise_test(async () => {
  const key = await aesKey("AES-CBC", NIST_KEY);
  const iv = fromHex("000102030405060708090a0b0c0d0e0f");
  const out = await subtle.encrypt({ name: "AES-CBC", iv }, key, NIST_PLAIN);
  assert_equals(out.byteLength, 80, "64 bytes plus a block of PKCS #7 padding");
  assert_equals(hex(out).slice(0, 128), "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
  assert_equals(hex(await subtle.decrypt({ name: "AES-CBC", iv }, key, out)), hex(NIST_PLAIN));
  const small = await subtle.encrypt({ name: "AES-CBC", iv }, key, utf8("hi"));
  assert_equals(small.byteLength, 16);
  assert_equals(new TextDecoder().decode(await subtle.decrypt({ name: "AES-CBC", iv }, key, small)), "hi");
}, "AES-CBC: NIST SP 800-38A F.2.1 with PKCS #7 padding");

promise_test(async (t) => {
  const key = await aesKey("AES-CBC", NIST_KEY);
  const iv = new Uint8Array(16);
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-CBC", iv }, key, utf8("0123456789")));
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(15) }, key, ct), "iv of 15 bytes");
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-CBC", iv }, key, ct.subarray(0, 8)), "not whole blocks");
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-CBC", iv }, key, new Uint8Array(0)), "empty");
  // A wrong iv changes only the first block, so the padding survives; a wrong last block does not.
  const corrupt = ct.slice();
  corrupt[0] ^= 0x55;
  await promise_rejects_dom(t, "OperationError", subtle.decrypt({ name: "AES-CBC", iv: corrupt.subarray(0, 16) }, key, ct.subarray(0, 16).map((b, i) => i === 15 ? b ^ 0x1f : b)), "bad padding");
}, "AES-CBC: iv, length and padding errors");

promise_test(async () => {
  const key = await aesKey("AES-CTR", NIST_KEY);
  const counter = fromHex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const expected = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff" +
    "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee";
  for (const length of [64, 128]) {
    const out = await subtle.encrypt({ name: "AES-CTR", counter, length }, key, NIST_PLAIN);
    assert_equals(hex(out), expected, `length ${length}`);
    assert_equals(hex(await subtle.decrypt({ name: "AES-CTR", counter, length }, key, out)), hex(NIST_PLAIN));
  }
  const partial = await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, key, NIST_PLAIN.subarray(0, 5));
  assert_equals(hex(partial), expected.slice(0, 10), "no padding");
}, "AES-CTR: NIST SP 800-38A F.5.1");

promise_test(async (t) => {
  const key = await aesKey("AES-CTR", NIST_KEY);
  // Only the rightmost `length` bits count: ..ff wraps to ..00, the rest of the block stays.
  const counter = fromHex("00000000000000000000000000000aff");
  const wrapped = await subtle.encrypt({ name: "AES-CTR", counter, length: 8 }, key, new Uint8Array(32));
  const first = await subtle.encrypt({ name: "AES-CTR", counter, length: 8 }, key, new Uint8Array(16));
  const second = await subtle.encrypt({ name: "AES-CTR", counter: fromHex("00000000000000000000000000000a00"), length: 8 }, key, new Uint8Array(16));
  assert_equals(hex(wrapped), hex(first) + hex(second));
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-CTR", counter, length: 1 }, key, new Uint8Array(48)), "more blocks than the counter can count");
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-CTR", counter, length: 0 }, key, new Uint8Array(1)), "length 0");
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-CTR", counter, length: 129 }, key, new Uint8Array(1)), "length 129");
  await promise_rejects_dom(t, "OperationError", subtle.encrypt({ name: "AES-CTR", counter: new Uint8Array(8), length: 64 }, key, new Uint8Array(1)), "short counter");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-CTR", counter, length: 300 }, key, new Uint8Array(1)), "[EnforceRange] octet");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-CTR", counter }, key, new Uint8Array(1)), "length is required");
}, "AES-CTR: counter wrap-around and parameter errors");

// -- AES-KW (RFC 3394) --------------------------------------------------------------------

const KW = [
  { kek: "000102030405060708090A0B0C0D0E0F", data: "00112233445566778899AABBCCDDEEFF",
    out: "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5" },
  { kek: "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
    data: "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
    out: "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21" },
];

for (const [i, v] of KW.entries()) {
  promise_test(async () => {
    const kek = await aesKey("AES-KW", fromHex(v.kek), ["wrapKey", "unwrapKey"]);
    const key = await subtle.importKey("raw", fromHex(v.data), "AES-GCM", true, ["encrypt"]);
    const wrapped = await subtle.wrapKey("raw", key, kek, "AES-KW");
    assert_equals(hex(wrapped), v.out.toLowerCase());
    const back = await subtle.unwrapKey("raw", wrapped, kek, { name: "AES-KW" }, "AES-GCM", true, ["encrypt"]);
    assert_equals(hex(await subtle.exportKey("raw", back)), v.data.toLowerCase());
  }, `AES-KW: RFC 3394 vector ${i + 1} through wrapKey/unwrapKey`);
}

promise_test(async (t) => {
  const kek = await aesKey("AES-KW", new Uint8Array(16), ["wrapKey", "unwrapKey"]);
  await promise_rejects_dom(t, "NotSupportedError", subtle.encrypt("AES-KW", kek, new Uint8Array(16)), "no encrypt operation");
  await promise_rejects_dom(t, "OperationError", subtle.unwrapKey("raw", new Uint8Array(24), kek, "AES-KW", "AES-GCM", true, ["encrypt"]), "integrity check");
  await promise_rejects_dom(t, "SyntaxError", subtle.importKey("raw", new Uint8Array(16), "AES-KW", true, ["encrypt"]), "KW keys only wrap");
}, "AES-KW: errors");

// -- keys ---------------------------------------------------------------------------------

for (const name of ["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW"]) {
  promise_test(async () => {
    const usages = name === "AES-KW" ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
    for (const length of [128, 192, 256]) {
      const key = await subtle.generateKey({ name: name.toLowerCase(), length }, true, usages);
      assert_equals(key.type, "secret");
      assert_equals(key.algorithm.name, name);
      assert_equals(key.algorithm.length, length);
      assert_array_equals(key.usages, usages);
      const raw = new Uint8Array(await subtle.exportKey("raw", key));
      assert_equals(raw.length, length / 8);
      const jwk = await subtle.exportKey("jwk", key);
      assert_equals(jwk.alg, `A${length}${name.slice(4)}`);
      assert_equals(jwk.k, base64url(raw));
      assert_array_equals(Object.keys(jwk), ["alg", "ext", "k", "key_ops", "kty"]);
      for (const [format, data] of [["raw", raw], ["jwk", jwk]]) {
        const back = await subtle.importKey(format, data, name, true, usages);
        assert_equals(back.algorithm.length, length);
        assert_equals(hex(await subtle.exportKey("raw", back)), hex(raw), format);
      }
    }
  }, `${name}: generateKey and export/import round trips (raw, jwk)`);
}

promise_test(async (t) => {
  await promise_rejects_dom(t, "DataError", subtle.importKey("raw", new Uint8Array(20), "AES-GCM", true, ["encrypt"]), "20 bytes");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k: base64url(new Uint8Array(16)), alg: "A256GCM" }, "AES-GCM", true, ["encrypt"]), "alg");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k: base64url(new Uint8Array(16)), alg: "A128CBC" }, "AES-GCM", true, ["encrypt"]), "alg of another mode");
  await promise_rejects_dom(t, "DataError", subtle.importKey("jwk", { kty: "oct", k: base64url(new Uint8Array(16)), use: "sig" }, "AES-GCM", true, ["encrypt"]), "use");
  await promise_rejects_dom(t, "NotSupportedError", subtle.importKey("pkcs8", new Uint8Array(16), "AES-GCM", true, ["encrypt"]), "pkcs8");
  const key = await aesKey("AES-GCM", new Uint8Array(16), ["encrypt"], true);
  await promise_rejects_dom(t, "NotSupportedError", subtle.exportKey("spki", key), "spki");
  const hidden = await aesKey("AES-GCM", new Uint8Array(16), ["encrypt"], false);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.exportKey("raw", hidden), "not extractable");
}, "AES key import and export errors");

promise_test(async (t) => {
  const gcm = await aesKey("AES-GCM", new Uint8Array(16), ["encrypt"]);
  const iv = new Uint8Array(16);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.decrypt({ name: "AES-GCM", iv }, gcm, new Uint8Array(32)), "no decrypt usage");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.encrypt({ name: "AES-CBC", iv }, gcm, new Uint8Array(16)), "algorithm mismatch");
}, "AES: the key must match the algorithm and allow the operation");

promise_test(async () => {
  const key = await aesKey("AES-GCM", new Uint8Array(16));
  const iv = new Uint8Array(12);
  const plain = utf8("attack at dawn");
  const expected = hex(await subtle.encrypt({ name: "AES-GCM", iv }, key, plain));
  const altered = plain.slice();
  altered[0] ^= 0xff;
  // The name getter runs during normalization, before the data is copied.
  const alg = { iv, get name() { altered[0] = plain[0]; return "AES-GCM"; } };
  assert_equals(hex(await subtle.encrypt(alg, key, altered)), expected, "altered during the call");
  const p = subtle.encrypt({ name: "AES-GCM", iv }, key, plain);
  plain[0] ^= 0xff;
  assert_equals(hex(await p), expected, "altered after the call");
  const doomed = utf8("attack at dawn");
  const empty = await subtle.encrypt({ iv, get name() { doomed.buffer.transfer(); return "AES-GCM"; } }, key, doomed);
  assert_equals(empty.byteLength, 16, "a buffer detached during the call encrypts as empty");
}, "AES: plaintext is copied after algorithm normalization");

promise_test(async () => {
  const key = await aesKey("AES-GCM", crypto.getRandomValues(new Uint8Array(32)));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new Uint8Array(2.5 * 1048576);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const ct = await subtle.encrypt({ name: "AES-GCM", iv }, key, data);
  assert_equals(ct.byteLength, data.length + 16);
  const pt = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv }, key, ct));
  assert_equals(hex(await subtle.digest("SHA-256", pt)), hex(await subtle.digest("SHA-256", data)));
}, "AES-GCM round trip of 2.5 MiB (chunked transfer both ways)");
