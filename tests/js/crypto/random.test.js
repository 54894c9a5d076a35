// META: internals
// crypto.getRandomValues, crypto.randomUUID and the entropy pool behind them.

const INTEGER_ARRAYS = [Int8Array, Int16Array, Int32Array, BigInt64Array, Uint8Array,
  Uint8ClampedArray, Uint16Array, Uint32Array, BigUint64Array];

for (const Ctor of INTEGER_ARRAYS) {
  test(() => {
    const a = new Ctor(8);
    assert_equals(crypto.getRandomValues(a), a, "returns its argument");
    assert_equals(crypto.getRandomValues(new Ctor(0)).length, 0);
    class Sub extends Ctor {}
    const s = new Sub(16);
    assert_equals(crypto.getRandomValues(s), s, "subclasses are accepted");
  }, `getRandomValues fills ${Ctor.name} and returns it`);

  test(() => {
    const max = 65536 / Ctor.BYTES_PER_ELEMENT;
    crypto.getRandomValues(new Ctor(max));
    let err;
    try {
      crypto.getRandomValues(new Ctor(max + 1));
    } catch (e) {
      err = e;
    }
    assert_true(err instanceof QuotaExceededError, "a QuotaExceededError");
    assert_true(err instanceof DOMException, "which is a DOMException");
    assert_equals(err.constructor, QuotaExceededError);
    assert_equals(err.name, "QuotaExceededError");
    assert_equals(err.code, 22);
    assert_equals(err.quota, null);
    assert_equals(err.requested, null);
  }, `getRandomValues(${Ctor.name}) over 65536 bytes throws QuotaExceededError`);
}

test(() => {
  for (const Ctor of [Float32Array, Float64Array, globalThis.Float16Array].filter(Boolean)) {
    assert_throws_dom("TypeMismatchError", () => crypto.getRandomValues(new Ctor(4)), Ctor.name);
    assert_throws_dom("TypeMismatchError", () => crypto.getRandomValues(new Ctor(100000)),
      `${Ctor.name} too long: the type is checked first`);
  }
  assert_throws_dom("TypeMismatchError", () => crypto.getRandomValues(new DataView(new ArrayBuffer(4))));
}, "getRandomValues rejects float arrays and DataView with TypeMismatchError");

test(() => {
  assert_throws_js(TypeError, () => crypto.getRandomValues());
  assert_throws_js(TypeError, () => crypto.getRandomValues(new ArrayBuffer(8)));
  assert_throws_js(TypeError, () => crypto.getRandomValues([1, 2, 3]));
  assert_throws_js(TypeError, () => crypto.getRandomValues(null));
  assert_throws_js(TypeError, () => crypto.getRandomValues(new Uint8Array(new SharedArrayBuffer(8))));
  assert_throws_js(TypeError, () => crypto.getRandomValues.call({}, new Uint8Array(4)));
  assert_throws_js(TypeError, () => Crypto.prototype.randomUUID.call(undefined));
}, "getRandomValues argument and this errors are TypeErrors");

test(() => {
  const buf = new ArrayBuffer(32);
  const view = new Uint8Array(buf, 8, 8);
  crypto.getRandomValues(view);
  const all = new Uint8Array(buf);
  assert_true(all.subarray(0, 8).every((b) => b === 0), "bytes before the view untouched");
  assert_true(all.subarray(16).every((b) => b === 0), "bytes after the view untouched");
  assert_true(view.some((b) => b !== 0), "the view was filled");
}, "getRandomValues fills exactly the view's bytes");

function chiSquare(bytes) {
  const counts = new Array(256).fill(0);
  for (const b of bytes) counts[b]++;
  const expected = bytes.length / 256;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

test(() => {
  const bytes = crypto.getRandomValues(new Uint8Array(65536));
  // 255 degrees of freedom: mean 255, sd ~22.6; 400 is beyond 6 sd.
  const chi = chiSquare(bytes);
  assert_less_than(chi, 400, "chi-square of the byte distribution");
  assert_greater_than(chi, 150, "not suspiciously uniform either");
  let ones = 0;
  for (const b of bytes) for (let i = 0; i < 8; i++) ones += (b >> i) & 1;
  assert_approx_equals(ones / (bytes.length * 8), 0.5, 0.01, "bit balance");
  const other = crypto.getRandomValues(new Uint8Array(65536));
  let same = 0;
  for (let i = 0; i < bytes.length; i++) same += bytes[i] === other[i];
  assert_less_than(same, 400, "two draws are independent (~256 equal bytes expected)");
}, "getRandomValues output is uniformly distributed");

test(() => {
  const seen = new Set();
  for (let i = 0; i < 2000; i++) {
    const id = crypto.randomUUID();
    assert_true(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
    seen.add(id);
  }
  assert_equals(seen.size, 2000, "all distinct");
}, "randomUUID returns distinct version 4 UUIDs");

test(() => {
  // Every one of the 122 random bits of a UUID takes both values.
  let and = null, or = null;
  for (let i = 0; i < 200; i++) {
    const hex = crypto.randomUUID().replaceAll("-", "");
    const v = BigInt(`0x${hex}`);
    and = and === null ? v : and & v;
    or = or === null ? v : or | v;
  }
  const versionVariant = (0xfn << 76n) | (0xcn << 60n);
  const fixed = (~(and ^ or)) & ((1n << 128n) - 1n);
  assert_equals(fixed, versionVariant, "only the version and variant bits are constant");
}, "randomUUID varies every random bit");

test(() => {
  const { counters } = __internals.crypto;
  const before = counters.drbgBytes;
  // Far more than the pool holds (2 x 32 KiB) with no pump in between: the rest comes
  // from the ChaCha20 DRBG, and is still random.
  const chunks = [];
  for (let i = 0; i < 8; i++) chunks.push(crypto.getRandomValues(new Uint8Array(65536)));
  assert_greater_than(counters.drbgBytes - before, 300000, "the DRBG served the burst");
  for (const c of chunks) assert_less_than(chiSquare(c), 400);
  const ids = new Set();
  for (const c of chunks) ids.add(Array.from(c.subarray(0, 16)).join());
  assert_equals(ids.size, chunks.length, "no two chunks alike");
  const uuids = new Set();
  for (let i = 0; i < 1000; i++) uuids.add(crypto.randomUUID());
  assert_equals(uuids.size, 1000, "randomUUID keeps working while the pool is empty");
}, "a burst that drains the pool falls back to the DRBG and stays random");

promise_test(async (t) => {
  const { counters } = __internals.crypto;
  for (let i = 0; i < 4; i++) crypto.getRandomValues(new Uint8Array(65536));
  // The pool asked Python for a refill: within a few pumps the pool serves again.
  await t.step_wait(() => {
    const before = counters.drbgBytes;
    crypto.getRandomValues(new Uint8Array(1024));
    return counters.drbgBytes === before;
  }, "the pool is refilled", 3000, 5);
}, "the pool is refilled after it was drained");

test(() => {
  // RFC 8439 section 2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1.
  const key = new Uint32Array(8);
  const kb = new Uint8Array(key.buffer);
  for (let i = 0; i < 32; i++) kb[i] = i;
  const out = new Uint8Array(64);
  __internals.crypto.chacha20Block(key, 1, [0x09000000, 0x4a000000, 0], out);
  const hex = Array.from(out, (b) => b.toString(16).padStart(2, "0")).join("");
  assert_equals(hex,
    "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
    "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}, "the DRBG's ChaCha20 block function matches RFC 8439");

test(() => {
  assert_equals(typeof crypto, "object");
  assert_true(crypto instanceof Crypto);
  const desc = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  assert_equals(typeof desc.get, "function", "an accessor");
  assert_equals(desc.set, undefined);
  assert_equals(crypto.subtle, crypto.subtle, "[SameObject]");
  assert_true(crypto.subtle instanceof SubtleCrypto);
  assert_throws_js(TypeError, () => new Crypto());
  assert_throws_js(TypeError, () => new SubtleCrypto());
  assert_throws_js(TypeError, () => new CryptoKey());
  assert_equals(Object.prototype.toString.call(crypto), "[object Crypto]");
  assert_equals(Object.prototype.toString.call(crypto.subtle), "[object SubtleCrypto]");
  assert_true(Object.getOwnPropertyDescriptor(Crypto.prototype, "getRandomValues").enumerable);
  assert_equals(Crypto.prototype.getRandomValues.length, 1);
  assert_equals(Crypto.prototype.randomUUID.length, 0);
}, "Crypto, SubtleCrypto and CryptoKey have their Web IDL shape");

test(() => {
  const e = new QuotaExceededError("m", { quota: 10, requested: 12 });
  assert_equals(e.message, "m");
  assert_equals(e.quota, 10);
  assert_equals(e.requested, 12);
  assert_equals(e.code, 22);
  assert_throws_js(RangeError, () => new QuotaExceededError("m", { quota: -1 }));
  assert_throws_js(RangeError, () => new QuotaExceededError("m", { quota: 10, requested: 5 }));
}, "QuotaExceededError is constructible with quota and requested");
