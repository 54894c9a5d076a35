// node:crypto under nodejs_compat: randomUUID, randomBytes, randomInt, createHash and
// createHmac (md5, sha1, sha224, sha256, sha384, sha512), timingSafeEqual, webcrypto.
// Node's hashes are synchronous and JavaScript cannot call the worker's Python synchronously
// (ops are asynchronous, isolate_worker/ops.py), so the digests are computed here, in
// JavaScript; crypto.subtle.digest remains the fast, native way for large inputs.
"use strict";

const { Buffer } = require("node:buffer");

const webcrypto = globalThis.crypto;
const { apply: ReflectApply } = Reflect;
const getRandomValues = webcrypto.getRandomValues;
const randomUUIDNative = webcrypto.randomUUID;
const Uint8ArrayCtor = Uint8Array;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const taSet = TypedArrayPrototype.set;
const taLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, "length").get;
const isView = ArrayBuffer.isView;

function len(view) {
  return ReflectApply(taLength, view, []);
}

function codedError(Ctor, message, code) {
  const error = new Ctor(message);
  error.code = code;
  return error;
}

// -- the digests, over a whole message -----------------------------------------------------

/** The message padded to whole blocks: 0x80, zeros, the bit length (64 or 128 bits). */
function pad(message, blockSize, littleEndian) {
  const n = len(message);
  const lengthBytes = blockSize === 128 ? 16 : 8;
  const total = Math.ceil((n + 1 + lengthBytes) / blockSize) * blockSize;
  const out = new Uint8ArrayCtor(total);
  ReflectApply(taSet, out, [message]);
  out[n] = 0x80;
  const lo = (n * 8) % 2 ** 32, hi = Math.floor((n * 8) / 2 ** 32);
  const view = new DataView(out.buffer);
  if (littleEndian) {
    view.setUint32(total - 8, lo, true);
    view.setUint32(total - 4, hi, true);
  } else {
    view.setUint32(total - 8, hi);
    view.setUint32(total - 4, lo);
  }
  return view;
}

function words(state, littleEndian, count = state.length) {
  const out = new Uint8ArrayCtor(count * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) view.setUint32(i * 4, state[i], littleEndian);
  return out;
}

const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_K = [];
for (let i = 0; i < 64; i++) MD5_K.push(Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

function md5(message) {
  const view = pad(message, 64, true);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const m = new Array(16);
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(block + i * 4, true);
    let [a, b, c, d] = h;
    for (let i = 0; i < 64; i++) {
      let f, g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const s = MD5_S[(i >> 4) * 4 + (i % 4)];
      const x = (a + f + MD5_K[i] + m[g]) | 0;
      a = d; d = c; c = b;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  }
  return words(h, true);
}

function sha1(message) {
  const view = pad(message, 64, false);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Int32Array(80);
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let [a, b, c, d, e] = h;
    for (let i = 0; i < 80; i++) {
      let f, k;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0; h[4] = (h[4] + e) | 0;
  }
  return words(h, false);
}

const K256 = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

function sha256(message, is224) {
  const view = pad(message, 64, false);
  const h = is224
    ? [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4]
    : [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const w = new Int32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K256[i] + w[i]) | 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  }
  return words(h, false, is224 ? 7 : 8);
}

// SHA-512: 64-bit words as [high, low] pairs of 32-bit integers.
const K512 = [
  "428a2f98d728ae22", "7137449123ef65cd", "b5c0fbcfec4d3b2f", "e9b5dba58189dbbc",
  "3956c25bf348b538", "59f111f1b605d019", "923f82a4af194f9b", "ab1c5ed5da6d8118",
  "d807aa98a3030242", "12835b0145706fbe", "243185be4ee4b28c", "550c7dc3d5ffb4e2",
  "72be5d74f27b896f", "80deb1fe3b1696b1", "9bdc06a725c71235", "c19bf174cf692694",
  "e49b69c19ef14ad2", "efbe4786384f25e3", "0fc19dc68b8cd5b5", "240ca1cc77ac9c65",
  "2de92c6f592b0275", "4a7484aa6ea6e483", "5cb0a9dcbd41fbd4", "76f988da831153b5",
  "983e5152ee66dfab", "a831c66d2db43210", "b00327c898fb213f", "bf597fc7beef0ee4",
  "c6e00bf33da88fc2", "d5a79147930aa725", "06ca6351e003826f", "142929670a0e6e70",
  "27b70a8546d22ffc", "2e1b21385c26c926", "4d2c6dfc5ac42aed", "53380d139d95b3df",
  "650a73548baf63de", "766a0abb3c77b2a8", "81c2c92e47edaee6", "92722c851482353b",
  "a2bfe8a14cf10364", "a81a664bbc423001", "c24b8b70d0f89791", "c76c51a30654be30",
  "d192e819d6ef5218", "d69906245565a910", "f40e35855771202a", "106aa07032bbd1b8",
  "19a4c116b8d2d0c8", "1e376c085141ab53", "2748774cdf8eeb99", "34b0bcb5e19b48a8",
  "391c0cb3c5c95a63", "4ed8aa4ae3418acb", "5b9cca4f7763e373", "682e6ff3d6b2b8a3",
  "748f82ee5defb2fc", "78a5636f43172f60", "84c87814a1f0ab72", "8cc702081a6439ec",
  "90befffa23631e28", "a4506cebde82bde9", "bef9a3f7b2c67915", "c67178f2e372532b",
  "ca273eceea26619c", "d186b8c721c0c207", "eada7dd6cde0eb1e", "f57d4f7fee6ed178",
  "06f067aa72176fba", "0a637dc5a2c898a6", "113f9804bef90dae", "1b710b35131c471b",
  "28db77f523047d84", "32caab7b40c72493", "3c9ebe0a15c9bebc", "431d67c49c100d4c",
  "4cc5d4becb3e42b6", "597f299cfc657e2a", "5fcb6fab3ad6faec", "6c44198c4a475817",
].map((hex) => [parseInt(hex.slice(0, 8), 16) | 0, parseInt(hex.slice(8), 16) | 0]);

const IV512 = ["6a09e667f3bcc908", "bb67ae8584caa73b", "3c6ef372fe94f82b", "a54ff53a5f1d36f1",
  "510e527fade682d1", "9b05688c2b3e6c1f", "1f83d9abfb41bd6b", "5be0cd19137e2179"];
const IV384 = ["cbbb9d5dc1059ed8", "629a292a367cd507", "9159015a3070dd17", "152fecd8f70e5939",
  "67332667ffc00b31", "8eb44a8768581511", "db0c2e0d64f98fa7", "47b5481dbefa4fa4"];

function rotr64(p, n) {
  let [h, l] = p;
  if (n >= 32) { [h, l] = [l, h]; n -= 32; }
  if (n === 0) return [h, l];
  return [(h >>> n) | (l << (32 - n)), (l >>> n) | (h << (32 - n))];
}

function shr64(p, n) {
  return [p[0] >>> n, (p[1] >>> n) | (p[0] << (32 - n))];
}

function xor64(a, b, c) {
  return [a[0] ^ b[0] ^ c[0], a[1] ^ b[1] ^ c[1]];
}

function add64(...pairs) {
  let lo = 0, hi = 0;
  for (const p of pairs) {
    lo += p[1] >>> 0;
    hi += p[0];
  }
  return [(hi + Math.floor(lo / 2 ** 32)) | 0, lo | 0];
}

function sha512(message, is384) {
  const view = pad(message, 128, false);
  const h = (is384 ? IV384 : IV512)
    .map((hex) => [parseInt(hex.slice(0, 8), 16) | 0, parseInt(hex.slice(8), 16) | 0]);
  const w = new Array(80);
  for (let block = 0; block < view.byteLength; block += 128) {
    for (let i = 0; i < 16; i++) {
      w[i] = [view.getInt32(block + i * 8), view.getInt32(block + i * 8 + 4)];
    }
    for (let i = 16; i < 80; i++) {
      const s0 = xor64(rotr64(w[i - 15], 1), rotr64(w[i - 15], 8), shr64(w[i - 15], 7));
      const s1 = xor64(rotr64(w[i - 2], 19), rotr64(w[i - 2], 61), shr64(w[i - 2], 6));
      w[i] = add64(w[i - 16], s0, w[i - 7], s1);
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 80; i++) {
      const S1 = xor64(rotr64(e, 14), rotr64(e, 18), rotr64(e, 41));
      const ch = [(e[0] & f[0]) ^ (~e[0] & g[0]), (e[1] & f[1]) ^ (~e[1] & g[1])];
      const t1 = add64(hh, S1, ch, K512[i], w[i]);
      const S0 = xor64(rotr64(a, 28), rotr64(a, 34), rotr64(a, 39));
      const maj = [(a[0] & b[0]) ^ (a[0] & c[0]) ^ (b[0] & c[0]),
                   (a[1] & b[1]) ^ (a[1] & c[1]) ^ (b[1] & c[1])];
      const t2 = add64(S0, maj);
      hh = g; g = f; f = e; e = add64(d, t1); d = c; c = b; b = a; a = add64(t1, t2);
    }
    const v = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = add64(h[i], v[i]);
  }
  const flat = [];
  for (const [hi, lo] of h.slice(0, is384 ? 6 : 8)) flat.push(hi, lo);
  return words(flat, false);
}

const ALGORITHMS = {
  md5: { digest: md5, block: 64 },
  sha1: { digest: sha1, block: 64 },
  sha224: { digest: (m) => sha256(m, true), block: 64 },
  sha256: { digest: (m) => sha256(m, false), block: 64 },
  sha384: { digest: (m) => sha512(m, true), block: 128 },
  sha512: { digest: (m) => sha512(m, false), block: 128 },
};

function algorithmOf(name) {
  const key = typeof name === "string" ? name.toLowerCase().replace(/^rsa-/, "").replace("-", "") : "";
  const found = Object.hasOwn(ALGORITHMS, key) ? ALGORITHMS[key] : undefined;
  if (found === undefined) {
    throw codedError(Error, `Digest method not supported: ${name} (isoflow's node:crypto ` +
                     `has ${Object.keys(ALGORITHMS).join(", ")})`, "ERR_CRYPTO_INVALID_DIGEST");
  }
  return found;
}

function toBytes(data, encoding, name = "data") {
  if (typeof data === "string") return Buffer.from(data, encoding);
  if (isView(data)) return new Uint8ArrayCtor(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8ArrayCtor(data);
  throw codedError(TypeError, `The "${name}" argument must be of type string or an instance ` +
                   "of Buffer, TypedArray, or DataView.", "ERR_INVALID_ARG_TYPE");
}

function concat(chunks) {
  let total = 0;
  for (const chunk of chunks) total += len(chunk);
  const out = new Uint8ArrayCtor(total);
  let offset = 0;
  for (const chunk of chunks) {
    ReflectApply(taSet, out, [chunk, offset]);
    offset += len(chunk);
  }
  return out;
}

function output(bytes, encoding) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === undefined || encoding === "buffer" ? buf : buf.toString(encoding);
}

/** What Hash and Hmac share: the bytes given to update(), digested at most once. */
class Digest {
  #chunks = [];
  #done = false;

  update(data, inputEncoding) {
    if (this.#done) throw codedError(Error, "Digest already called", "ERR_CRYPTO_HASH_FINALIZED");
    this.#chunks.push(new Uint8ArrayCtor(toBytes(data, inputEncoding)));
    return this;
  }

  /** The bytes updated so far, `before` first; the object is finished after this. */
  finish(before = []) {
    if (this.#done) throw codedError(Error, "Digest already called", "ERR_CRYPTO_HASH_FINALIZED");
    this.#done = true;
    return concat([...before, ...this.#chunks]);
  }

  /** Update `other` with the bytes updated so far. */
  replayInto(other) {
    for (const chunk of this.#chunks) other.update(chunk);
    return other;
  }
}

class Hash extends Digest {
  #algorithm;

  constructor(algorithm) {
    super();
    this.#algorithm = typeof algorithm === "object" ? algorithm : algorithmOf(algorithm);
  }

  digest(encoding) {
    return output(this.#algorithm.digest(this.finish()), encoding);
  }

  copy() {
    return this.replayInto(new Hash(this.#algorithm));
  }
}

class Hmac extends Digest {
  #algorithm;
  #key;

  constructor(algorithm, key) {
    super();
    this.#algorithm = algorithmOf(algorithm);
    if (key !== null && typeof key === "object" && key.type === "secret" &&
        typeof key.export === "function") {
      key = key.export();
    }
    let bytes = toBytes(key, "utf8", "key");
    if (len(bytes) > this.#algorithm.block) bytes = this.#algorithm.digest(bytes);
    this.#key = new Uint8ArrayCtor(this.#algorithm.block);
    ReflectApply(taSet, this.#key, [bytes]);
  }

  digest(encoding) {
    const block = this.#algorithm.block;
    const inner = new Uint8ArrayCtor(block), outer = new Uint8ArrayCtor(block);
    for (let i = 0; i < block; i++) {
      inner[i] = this.#key[i] ^ 0x36;
      outer[i] = this.#key[i] ^ 0x5c;
    }
    const innerHash = this.#algorithm.digest(this.finish([inner]));
    return output(this.#algorithm.digest(concat([outer, innerHash])), encoding);
  }
}

function createHash(algorithm) {
  return new Hash(algorithm);
}

function createHmac(algorithm, key) {
  return new Hmac(algorithm, key);
}

/** crypto.hash(algorithm, data[, outputEncoding = "hex"]) (Node 21.7). */
function hash(algorithm, data, outputEncoding = "hex") {
  return createHash(algorithm).update(data).digest(outputEncoding);
}

function randomFill(bytes) {
  for (let offset = 0; offset < len(bytes); offset += 65536) {
    const end = Math.min(len(bytes), offset + 65536);
    ReflectApply(getRandomValues, webcrypto, [bytes.subarray(offset, end)]);
  }
  return bytes;
}

function randomBytes(size, callback) {
  if (typeof size !== "number" || !(size >= 0) || size > 2 ** 31 - 1) {
    throw codedError(RangeError, `The value of "size" is out of range. Received ${size}`,
                     "ERR_OUT_OF_RANGE");
  }
  const buf = randomFill(Buffer.alloc(Math.floor(size)));
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, buf));
    return undefined;
  }
  return buf;
}

function randomInt(min, max, callback) {
  if (max === undefined || typeof max === "function") {
    callback = max;
    max = min;
    min = 0;
  }
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
    throw codedError(RangeError, `The "max" argument must be greater than "min" ` +
                     `(got min ${min}, max ${max})`, "ERR_OUT_OF_RANGE");
  }
  const range = max - min;
  const limit = 2 ** 48 - (2 ** 48 % range); // no modulo bias
  let x;
  do {
    const b = randomFill(new Uint8ArrayCtor(6));
    x = ((b[0] * 256 + b[1]) * 2 ** 32) + ((b[2] << 24) >>> 0) + (b[3] << 16) + (b[4] << 8) + b[5];
  } while (x >= limit);
  const value = min + (x % range);
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, value));
    return undefined;
  }
  return value;
}

function timingSafeEqual(a, b) {
  const x = toBytes(a, undefined, "buf1"), y = toBytes(b, undefined, "buf2");
  if (len(x) !== len(y)) {
    throw codedError(RangeError, "Input buffers must have the same byte length",
                     "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH");
  }
  let diff = 0;
  for (let i = 0; i < len(x); i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

module.exports = {
  createHash,
  createHmac,
  hash,
  getHashes: () => Object.keys(ALGORITHMS),
  randomBytes,
  randomFillSync: (buf) => {
    randomFill(toBytes(buf));
    return buf;
  },
  randomInt,
  randomUUID: () => ReflectApply(randomUUIDNative, webcrypto, []),
  getRandomValues: (array) => ReflectApply(getRandomValues, webcrypto, [array]),
  timingSafeEqual,
  webcrypto,
  subtle: webcrypto.subtle,
  Hash,
  Hmac,
};
