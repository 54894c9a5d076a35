// META: script=resources/util.js
// META: timeout=long
// wrapKey / unwrapKey with AES-KW, AES-GCM, AES-CBC, AES-CTR and RSA-OAEP, in every format.

const subtle = crypto.subtle;

async function wrappers() {
  const usages = ["wrapKey", "unwrapKey"];
  const oaep = await subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, usages);
  return [
    { name: "AES-KW", wrap: await subtle.generateKey({ name: "AES-KW", length: 256 }, true, usages), params: { name: "AES-KW" } },
    { name: "AES-GCM", wrap: await subtle.generateKey({ name: "AES-GCM", length: 128 }, true, usages), params: { name: "AES-GCM", iv: new Uint8Array(12), additionalData: utf8("ad"), tagLength: 96 } },
    { name: "AES-CBC", wrap: await subtle.generateKey({ name: "AES-CBC", length: 192 }, true, usages), params: { name: "AES-CBC", iv: new Uint8Array(16) } },
    { name: "AES-CTR", wrap: await subtle.generateKey({ name: "AES-CTR", length: 128 }, true, usages), params: { name: "AES-CTR", counter: new Uint8Array(16), length: 64 } },
    { name: "RSA-OAEP", wrap: oaep.publicKey, unwrap: oaep.privateKey, params: { name: "RSA-OAEP", label: utf8("k") } },
  ];
}

let wrapping;
const setup = () => (wrapping ??= wrappers());

promise_test(async (t) => {
  const hmac = await subtle.generateKey({ name: "HMAC", hash: "SHA-384", length: 256 }, true, ["sign", "verify"]);
  const aes = await subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
  const ec = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const data = utf8("payload");
  const mac = await subtle.sign("HMAC", hmac, data);
  for (const w of await setup()) {
    for (const format of ["raw", "jwk"]) {
      const wrapped = await subtle.wrapKey(format, hmac, w.wrap, w.params);
      assert_true(wrapped instanceof ArrayBuffer);
      const back = await subtle.unwrapKey(format, wrapped, w.unwrap ?? w.wrap, w.params, { name: "HMAC", hash: "SHA-384" }, false, ["verify"]);
      assert_equals(back.extractable, false);
      assert_array_equals(back.usages, ["verify"]);
      assert_true(await subtle.verify("HMAC", back, mac, data), `${w.name} ${format}`);
    }
    for (const format of ["raw", "jwk"]) {
      const wrapped = await subtle.wrapKey(format, aes, w.wrap, w.params);
      const back = await subtle.unwrapKey(format, wrapped, w.unwrap ?? w.wrap, w.params, "AES-GCM", true, ["decrypt"]);
      assert_equals(hex(await subtle.exportKey("raw", back)), hex(await subtle.exportKey("raw", aes)), `${w.name} ${format}`);
    }
    if (w.name !== "RSA-OAEP") {
      // (AES-KW wraps multiples of 8 bytes: a P-256 pkcs8 is 138 bytes, its spki 91.)
      for (const format of w.name === "AES-KW" ? ["jwk"] : ["pkcs8", "jwk"]) {
        const wrapped = await subtle.wrapKey(format, ec.privateKey, w.wrap, w.params);
        const back = await subtle.unwrapKey(format, wrapped, w.wrap, w.params, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
        assert_equals(back.type, "private");
        const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, back, data);
        assert_true(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ec.publicKey, sig, data), `${w.name} ${format}`);
      }
    }
    if (w.name === "AES-KW") {
      await promise_rejects_dom(t, "OperationError", subtle.wrapKey("spki", ec.publicKey, w.wrap, w.params), "91 bytes");
      continue;
    }
    const spki = await subtle.wrapKey("spki", ec.publicKey, w.wrap, w.params);
    const pub = await subtle.unwrapKey("spki", spki, w.unwrap ?? w.wrap, w.params, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    assert_equals(hex(await subtle.exportKey("spki", pub)), hex(await subtle.exportKey("spki", ec.publicKey)));
  }
}, "wrapKey/unwrapKey round trips (raw, jwk, pkcs8, spki) with every wrapping algorithm");

promise_test(async () => {
  const kw = await subtle.importKey("raw", new Uint8Array(16), "AES-KW", false, ["wrapKey", "unwrapKey"]);
  const ecdh = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
  // A JWK's JSON is rarely a multiple of 8 bytes: it is padded with spaces for AES-KW.
  const wrapped = await subtle.wrapKey("jwk", ecdh.privateKey, kw, "AES-KW");
  assert_equals(wrapped.byteLength % 8, 0);
  const back = await subtle.unwrapKey("jwk", wrapped, kw, "AES-KW", { name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
  assert_equals(JSON.stringify(await subtle.exportKey("jwk", back)), JSON.stringify(await subtle.exportKey("jwk", ecdh.privateKey)));
}, "AES-KW wraps JWKs of any length");

promise_test(async (t) => {
  const [kw, gcm] = await setup();
  const secret = await subtle.generateKey({ name: "AES-CBC", length: 128 }, false, ["encrypt"]);
  const open = await subtle.generateKey({ name: "AES-CBC", length: 128 }, true, ["encrypt"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.wrapKey("raw", secret, kw.wrap, kw.params), "key not extractable");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.wrapKey("raw", open, kw.wrap, gcm.params), "algorithm mismatch");
  await promise_rejects_dom(t, "NotSupportedError", subtle.wrapKey("raw", open, kw.wrap, "HMAC"), "not a wrapping algorithm");
  const noWrap = await subtle.generateKey({ name: "AES-KW", length: 128 }, true, ["unwrapKey"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.wrapKey("raw", open, noWrap, "AES-KW"), "no wrapKey usage");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.unwrapKey("raw", new Uint8Array(24), await subtle.generateKey({ name: "AES-KW", length: 128 }, true, ["wrapKey"]), "AES-KW", "AES-CBC", true, ["encrypt"]), "no unwrapKey usage");
  await promise_rejects_dom(t, "NotSupportedError", subtle.wrapKey("spki", open, kw.wrap, kw.params), "AES keys have no spki");
  const wrapped = await subtle.wrapKey("raw", open, gcm.wrap, gcm.params);
  await promise_rejects_dom(t, "OperationError", subtle.unwrapKey("raw", new Uint8Array(wrapped).map((b, i) => i === 0 ? b ^ 1 : b), gcm.wrap, gcm.params, "AES-CBC", true, ["encrypt"]), "tampered");
  await promise_rejects_dom(t, "SyntaxError", subtle.unwrapKey("raw", wrapped, gcm.wrap, gcm.params, "AES-CBC", true, []), "no usages for the unwrapped key");
  await promise_rejects_dom(t, "DataError", subtle.unwrapKey("jwk", wrapped, gcm.wrap, gcm.params, "AES-CBC", true, ["encrypt"]), "raw bytes are not a JWK");
  await promise_rejects_dom(t, "NotSupportedError", subtle.unwrapKey("raw", wrapped, gcm.wrap, gcm.params, "SHA-256", true, ["encrypt"]), "unwrapped algorithm cannot import");
}, "wrapKey/unwrapKey errors");
