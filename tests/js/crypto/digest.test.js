// META: script=resources/util.js
// crypto.subtle.digest: NIST known answers, name normalization, argument handling, big data.

const subtle = crypto.subtle;
const ABC448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const VECTORS = {
  "SHA-1": {
    "": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    abc: "a9993e364706816aba3e25717850c26c9cd0d89d",
    [ABC448]: "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  },
  "SHA-256": {
    "": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    abc: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    [ABC448]: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  },
  "SHA-384": {
    "": "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
    abc: "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    [ABC448]: "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
  },
  "SHA-512": {
    "": "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    abc: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    [ABC448]: "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
  },
};

for (const [alg, cases] of Object.entries(VECTORS)) {
  promise_test(async () => {
    for (const [msg, expected] of Object.entries(cases)) {
      const out = await subtle.digest(alg, utf8(msg));
      assert_true(out instanceof ArrayBuffer, "an ArrayBuffer");
      assert_equals(hex(out), expected, JSON.stringify(msg));
    }
  }, `${alg}: NIST known answers`);

  promise_test(async () => {
    const expected = cases.abc;
    for (const name of [alg.toLowerCase(), alg.toUpperCase(), alg[0] + alg.slice(1).toLowerCase()]) {
      assert_equals(hex(await subtle.digest(name, utf8("abc"))), expected, name);
      assert_equals(hex(await subtle.digest({ name }, utf8("abc"))), expected, `{name: ${name}}`);
    }
  }, `${alg}: algorithm names are case-insensitive, as a string or {name}`);
}

promise_test(async () => {
  const a = repeat(0x61, 1000000);
  assert_equals(hex(await subtle.digest("SHA-1", a)), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  assert_equals(hex(await subtle.digest("SHA-256", a)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}, "one million 'a' (NIST long message)");

promise_test(async () => {
  // Bigger than one bridge message: uploaded in pieces.
  const data = new Uint8Array(3 * 1048576 + 7);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  assert_equals(hex(await subtle.digest("SHA-256", data)),
    "f578a61853ca2f4272dba551bd868420e22302fbb6d6dfc0cc80da1d2c7b779f");
}, "a 3 MiB message");

promise_test(async () => {
  const bytes = utf8("xxabcxx");
  const expected = VECTORS["SHA-256"].abc;
  assert_equals(hex(await subtle.digest("SHA-256", bytes.subarray(2, 5))), expected, "offset view");
  assert_equals(hex(await subtle.digest("SHA-256", new DataView(bytes.buffer, 2, 3))), expected, "DataView");
  assert_equals(hex(await subtle.digest("SHA-256", utf8("abc").buffer)), expected, "ArrayBuffer");
  assert_equals(hex(await subtle.digest("SHA-256", new Uint16Array(utf8("abcd").buffer, 0, 1))),
    hex(await subtle.digest("SHA-256", utf8("ab"))), "Uint16Array");
}, "any BufferSource is hashed by its bytes");

promise_test(async () => {
  const data = utf8("abc");
  const p = subtle.digest("SHA-256", data);
  data[0] = 0;
  assert_equals(hex(await p), VECTORS["SHA-256"].abc);
}, "the data is copied at call time");

promise_test(async () => {
  const data = utf8("abc");
  const alg = { get name() { data.buffer.transfer(); return "SHA-256"; } };
  assert_equals(hex(await subtle.digest(alg, data)), VECTORS["SHA-256"][""]);
}, "the data is copied after normalization (a buffer detached meanwhile is empty)");

promise_test(async (t) => {
  for (const bad of ["MD5", "SHA-0", "SHA-224", "SHA256", "AES-GCM", "HMAC", "", { name: "SHA" }]) {
    const p = subtle.digest(bad, new Uint8Array(1));
    assert_true(await settlesEarly(p), `${JSON.stringify(bad)} rejects at once`);
    await promise_rejects_dom(t, "NotSupportedError", p, JSON.stringify(bad));
  }
  // Non-ASCII case folding does not apply: "ſ" is not "s".
  await promise_rejects_dom(t, "NotSupportedError", subtle.digest("ſha-256", new Uint8Array(1)));
}, "unknown digests are NotSupportedError");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, subtle.digest({}, new Uint8Array(1)), "no name");
  await promise_rejects_js(t, TypeError, subtle.digest("SHA-256"), "no data");
  await promise_rejects_js(t, TypeError, subtle.digest("SHA-256", "abc"), "a string");
  await promise_rejects_js(t, TypeError, subtle.digest("SHA-256", [1, 2]), "an array");
  await promise_rejects_js(t, TypeError, subtle.digest("SHA-256", new SharedArrayBuffer(4)), "shared");
  await promise_rejects_js(t, TypeError, subtle.digest.call({}, "SHA-256", new Uint8Array(1)), "this");
  await promise_rejects_js(t, TypeError, subtle.digest(Symbol("x"), new Uint8Array(1)), "symbol");
}, "argument errors reject with TypeError (they never throw)");
