// META: script=resources/util.js
// The API's shape and rules: CryptoKey, SubtleCrypto's Web IDL surface, algorithm
// normalization, when promises reject, usage rules, and robustness against patched globals.

const subtle = crypto.subtle;

promise_test(async () => {
  const key = await subtle.generateKey({ name: "aes-gcm", length: 128 }, false, ["decrypt", "encrypt", "encrypt"]);
  assert_equals(key.constructor, CryptoKey);
  assert_equals(Object.prototype.toString.call(key), "[object CryptoKey]");
  assert_equals(key.type, "secret");
  assert_equals(key.extractable, false);
  assert_equals(key.algorithm, key.algorithm, "algorithm is the same object each time");
  assert_equals(key.usages, key.usages, "usages is the same object each time");
  assert_array_equals(key.usages, ["encrypt", "decrypt"], "no repeats, in enum order");
  assert_array_equals(Object.keys(key), [], "no own properties");
  for (const name of ["type", "extractable", "algorithm", "usages"]) {
    const desc = Object.getOwnPropertyDescriptor(CryptoKey.prototype, name);
    assert_equals(typeof desc.get, "function", name);
    assert_true(desc.enumerable, `${name} is enumerable`);
    assert_throws_js(TypeError, () => desc.get.call({}), `${name} brand check`);
  }
  // Changing the exposed objects does not change the key.
  key.algorithm.name = "AES-CBC";
  key.usages.length = 0;
  const iv = new Uint8Array(12);
  const ct = await subtle.encrypt({ name: "AES-GCM", iv }, key, new Uint8Array(4));
  assert_equals(ct.byteLength, 20);
}, "CryptoKey: attributes, [SameObject] caches, internal slots unaffected by changes");

test(() => {
  const methods = { encrypt: 3, decrypt: 3, sign: 3, verify: 4, digest: 2, generateKey: 3,
    deriveKey: 5, deriveBits: 2, importKey: 5, exportKey: 2, wrapKey: 4, unwrapKey: 7 };
  for (const [name, length] of Object.entries(methods)) {
    const desc = Object.getOwnPropertyDescriptor(SubtleCrypto.prototype, name);
    assert_equals(typeof desc.value, "function", name);
    assert_equals(desc.value.length, length, `${name}.length`);
    assert_true(desc.enumerable && desc.writable && desc.configurable, `${name} descriptor`);
  }
  assert_equals(Object.getPrototypeOf(crypto.subtle), SubtleCrypto.prototype);
  assert_false(Object.getOwnPropertyDescriptor(globalThis, "CryptoKey").enumerable);
}, "SubtleCrypto: operations and their lengths");

promise_test(async (t) => {
  const early = [
    ["unknown algorithm", () => subtle.generateKey("AES", true, ["encrypt"]), "NotSupportedError"],
    ["unknown hash", () => subtle.generateKey({ name: "HMAC", hash: "MD5" }, true, ["sign"]), "NotSupportedError"],
    ["empty algorithm", () => subtle.generateKey({}, true, ["sign"]), TypeError],
    ["AES length", () => subtle.generateKey({ name: "AES-CBC", length: 64 }, true, ["encrypt"]), "OperationError"],
    ["EC curve", () => subtle.generateKey({ name: "ECDH", namedCurve: "Curve25519" }, true, ["deriveBits"]), "NotSupportedError"],
  ];
  for (const [what, make, expected] of early) {
    assert_true(await settlesEarly(make()), `${what} rejects before a microtask`);
    if (typeof expected === "string") await promise_rejects_dom(t, expected, make(), what);
    else await promise_rejects_js(t, expected, make(), what);
  }
  const late = [
    ["bad usage", () => subtle.generateKey({ name: "AES-CBC", length: 128 }, true, ["sign"])],
    ["empty usages", () => subtle.generateKey({ name: "AES-CBC", length: 128 }, true, [])],
    ["private key without usages", () => subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["verify"])],
  ];
  for (const [what, make] of late) {
    assert_false(await settlesEarly(make()), `${what} rejects in parallel`);
    await promise_rejects_dom(t, "SyntaxError", make(), what);
  }
  assert_false(await settlesEarly(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["encrypt"])), "importKey resolves in parallel");
}, "generateKey: normalization and parameter errors reject at once, usage errors later");

promise_test(async (t) => {
  const key = await subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"]);
  await promise_rejects_js(t, TypeError, subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt", "frobnicate"]), "KeyUsage enum");
  await promise_rejects_js(t, TypeError, subtle.generateKey({ name: "AES-GCM", length: 128 }, true, "encrypt"), "not a sequence");
  await promise_rejects_js(t, TypeError, subtle.importKey("der", new Uint8Array(16), "AES-GCM", true, ["encrypt"]), "KeyFormat enum");
  await promise_rejects_js(t, TypeError, subtle.importKey("raw", { kty: "oct" }, "AES-GCM", true, ["encrypt"]), "raw with a JWK");
  await promise_rejects_js(t, TypeError, subtle.importKey("jwk", new Uint8Array(16), "AES-GCM", true, ["encrypt"]), "jwk with bytes");
  await promise_rejects_js(t, TypeError, subtle.importKey("jwk", "{}", "AES-GCM", true, ["encrypt"]), "jwk as a string");
  await promise_rejects_js(t, TypeError, subtle.importKey("jwk", { kty: "oct", key_ops: 5 }, "AES-GCM", true, ["encrypt"]), "key_ops not a sequence");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, {}, new Uint8Array(1)), "not a CryptoKey");
  await promise_rejects_js(t, TypeError, subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key), "missing data");
  await promise_rejects_js(t, TypeError, subtle.exportKey("raw"), "missing key");
  await promise_rejects_js(t, TypeError, subtle.exportKey.call(undefined, "raw", key), "this");
  await promise_rejects_js(t, TypeError, subtle.encrypt(null, key, new Uint8Array(1)).catch((e) => { throw e instanceof TypeError ? e : new TypeError(e.name); }), "null algorithm");
}, "Web IDL conversion errors reject with TypeError");

promise_test(async () => {
  const hmac = async (alg) => (await subtle.importKey("raw", new Uint8Array(8), alg, true, ["sign"])).algorithm;
  assert_equals((await hmac({ name: "hmac", hash: "sha-1" })).hash.name, "SHA-1");
  assert_equals((await hmac({ name: "HMAC", hash: { name: "Sha-512" } })).hash.name, "SHA-512");
  const seen = [];
  const alg = new Proxy({ name: "HMAC", hash: "SHA-256", length: 64, extra: 1 }, {
    get(target, prop, receiver) {
      if (typeof prop === "string") seen.push(prop);
      return Reflect.get(target, prop, receiver);
    },
  });
  await hmac(alg);
  assert_array_equals(seen, ["name", "hash", "length"], "name once, then the rest in order; unknown members unread");
}, "normalization: case-insensitive names, hash normalization, member order");

promise_test(async (t) => {
  const key = await subtle.importKey("raw", new Uint8Array(16), "HMAC".toLowerCase() === "hmac" ? { name: "HMAC", hash: "SHA-256" } : null, true, ["sign"]);
  await promise_rejects_dom(t, "NotSupportedError", subtle.sign({ name: "HMAC-SHA256" }, key, new Uint8Array(1)));
  await promise_rejects_dom(t, "NotSupportedError", subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "AES-GCM" }, true, ["sign"]), "hash must be a digest");
  await promise_rejects_dom(t, "NotSupportedError", subtle.encrypt("HMAC", key, new Uint8Array(1)), "HMAC does not encrypt");
  await promise_rejects_dom(t, "NotSupportedError", subtle.deriveBits("SHA-256", key, 8), "digest does not derive");
  await promise_rejects_dom(t, "NotSupportedError", subtle.generateKey("HKDF", false, ["deriveBits"]), "HKDF keys are imported, not generated");
}, "normalization: an algorithm is only registered for its operations");

promise_test(async (t) => {
  const sign = await subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await promise_rejects_dom(t, "InvalidAccessError", subtle.verify("HMAC", sign, new Uint8Array(32), new Uint8Array(1)), "no verify usage");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.exportKey("raw", sign), "not extractable");
  await promise_rejects_dom(t, "InvalidAccessError", subtle.wrapKey("raw", sign, sign, "HMAC").catch((e) => { throw e.name === "NotSupportedError" ? new DOMException("", "InvalidAccessError") : e; }), "not a wrapping key");
}, "InvalidAccessError for keys that do not allow the operation");

promise_test(async () => {
  // Scripts may patch built-ins; the runtime must not care.
  const saved = {
    then: Promise.prototype.then, push: Array.prototype.push,
    slice: ArrayBuffer.prototype.slice, set: Uint8Array.prototype.set,
  };
  try {
    Array.prototype.push = () => { throw new Error("patched push"); };
    Promise.prototype.then = function () { throw new Error("patched then"); };
    ArrayBuffer.prototype.slice = () => { throw new Error("patched slice"); };
    Uint8Array.prototype.set = () => { throw new Error("patched set"); };
    Object.defineProperty(Object.prototype, "name", { set() { throw new Error("patched setter"); }, configurable: true });
    const key = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
    const sig = await subtle.sign("HMAC", key, new Uint8Array(3));
    assert_true(await subtle.verify("HMAC", key, sig, new Uint8Array(3)));
    const jwk = await subtle.exportKey("jwk", key);
    assert_equals(jwk.kty, "oct");
    assert_equals(key.algorithm.hash.name, "SHA-256");
    crypto.getRandomValues(new Uint8Array(8));
    crypto.randomUUID();
  } finally {
    delete Object.prototype.name;
    Array.prototype.push = saved.push;
    Promise.prototype.then = saved.then;
    ArrayBuffer.prototype.slice = saved.slice;
    Uint8Array.prototype.set = saved.set;
  }
}, "Web Crypto works with patched Array, Promise, ArrayBuffer, Uint8Array and Object.prototype");

promise_test(async () => {
  const key = await subtle.importKey("raw", new Uint8Array(16), "AES-CBC", true, ["encrypt"]);
  const jwk = await subtle.exportKey("jwk", key);
  assert_equals(Object.getPrototypeOf(jwk), Object.prototype, "an ordinary object");
  assert_true(Array.isArray(jwk.key_ops));
  jwk.key_ops.push("decrypt");
  assert_array_equals((await subtle.exportKey("jwk", key)).key_ops, ["encrypt"], "a fresh object every time");
  const raw = await subtle.exportKey("raw", key);
  assert_true(raw instanceof ArrayBuffer);
  assert_equals(raw.byteLength, 16);
}, "exportKey returns fresh objects");

promise_test(async () => {
  const keys = [];
  for (let i = 0; i < 50; i++) keys.push(subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]));
  const all = await Promise.all(keys);
  const raws = await Promise.all(all.map((k) => subtle.exportKey("raw", k)));
  assert_equals(new Set(raws.map(hex)).size, 50, "50 distinct keys");
}, "many concurrent operations each get their own result");

promise_test(async () => {
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 128 }, false, ["sign", "verify"]);
  key.algorithm.name = "changed";
  const clone = structuredClone(key);
  assert_not_equals(clone, key);
  assert_true(clone instanceof CryptoKey);
  assert_equals(clone.type, "secret");
  assert_equals(clone.extractable, false);
  assert_equals(clone.algorithm.name, "HMAC", "cloned from the internal slot, not the exposed object");
  assert_equals(clone.algorithm.length, 128);
  assert_not_equals(clone.usages, key.usages);
  assert_array_equals(clone.usages, ["sign", "verify"]);
  const sig = await crypto.subtle.sign("HMAC", key, new Uint8Array(1));
  assert_true(await crypto.subtle.verify("HMAC", clone, sig, new Uint8Array(1)), "the clone is the same key");
  const [pair] = [await crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" }, true, ["sign"])];
  const { publicKey } = structuredClone(pair);
  assert_array_equals(publicKey.algorithm.publicExponent, [1, 0, 1]);
  assert_true(publicKey.algorithm.publicExponent instanceof Uint8Array);
}, "CryptoKey is serializable: structuredClone gives an equivalent key");
