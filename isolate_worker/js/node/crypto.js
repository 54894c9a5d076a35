// node:crypto under nodejs_compat: createHash, createHmac and hash (md5, sha1, sha224, sha256,
// sha384, sha512), createSecretKey, randomBytes, randomFill(Sync), randomInt, randomUUID,
// timingSafeEqual, getRandomValues, webcrypto. Validation and error codes as Node's
// (lib/internal/crypto/*.js, lib/internal/errors.js).
// Node's hashes are synchronous and JavaScript cannot call the worker's Python synchronously
// (ops are asynchronous, isolate_worker/ops.py), so the digests are computed here, in
// JavaScript; crypto.subtle.digest remains the fast, native way for large inputs.
// Not here: Hash/Hmac as streams (write/end/read, pipe), XOF digests (shake*), sha3, ciphers,
// signatures, key pairs, pbkdf2/scrypt/hkdf, KeyObjects other than secret keys.
"use strict";

const { Buffer } = require("node:buffer");
const { normalizeEncoding: normalizeLabel } = require("node:util")[Symbol.for("isoflow.node.internals")];
const { isAnyArrayBuffer } = require("node:util").types;

const webcrypto = globalThis.crypto;
const { apply: ReflectApply } = Reflect;
const getRandomValues = webcrypto.getRandomValues;
const randomUUIDNative = webcrypto.randomUUID;
const Uint8ArrayCtor = Uint8Array;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const taSet = TypedArrayPrototype.set;
const taLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, "length").get;
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
const isView = ArrayBuffer.isView;
const NumberIsSafeInteger = Number.isSafeInteger;
const NumberIsInteger = Number.isInteger;
const StringCtor = String;
const StringPrototypeToLowerCase = String.prototype.toLowerCase;
const JSONStringify = JSON.stringify;

function len(view) {
  return ReflectApply(taLength, view, []);
}

function codedError(Ctor, message, code) {
  const error = new Ctor(message);
  error.code = code;
  return error;
}

/** Whether a view's buffer is a SharedArrayBuffer (not an ArrayBuffer: no throw for those). */
function isShared(buffer) {
  try {
    ReflectApply(arrayBufferByteLength, buffer, []);
    return false;
  } catch {
    return true;
  }
}

// -- Node's errors (lib/internal/errors.js) -------------------------------------------------

/** How Node's messages name a received value (determineSpecificType). */
function received(value) {
  if (value === null || value === undefined) return `${value}`;
  switch (typeof value) {
    case "bigint": return `type bigint (${value}n)`;
    case "number": return `type number (${Object.is(value, -0) ? "-0" : value})`;
    case "boolean": return `type boolean (${value})`;
    case "symbol": return `type symbol (${StringCtor(value)})`;
    case "function": return `function ${value.name}`;
    case "object":
      if (value.constructor && "name" in value.constructor) {
        return `an instance of ${value.constructor.name}`;
      }
      return Object.getPrototypeOf(value) === null ? "[Object: null prototype] {}" : "{}";
    default: {
      let text = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      text = text.includes("'") ? JSONStringify(text) : `'${text}'`;
      return `type string (${text})`;
    }
  }
}

/** ERR_INVALID_ARG_TYPE; `expected` ends "must be ...": "of type string", "a safe integer". */
function invalidArgType(name, expected, value) {
  const what = name.includes(".") ? "property" : "argument";
  return codedError(TypeError, `The "${name}" ${what} must be ${expected}. ` +
                    `Received ${received(value)}`, "ERR_INVALID_ARG_TYPE");
}

function addNumericalSeparator(text) {
  let out = "";
  let i = text.length;
  const start = text[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${text.slice(i - 3, i)}${out}`;
  return `${text.slice(0, i)}${out}`;
}

function outOfRange(name, range, value) {
  let shown;
  if (NumberIsInteger(value) && Math.abs(value) > 2 ** 32) {
    shown = addNumericalSeparator(StringCtor(value));
  } else if (typeof value === "string") {
    shown = `'${value}'`;
  } else {
    shown = Object.is(value, -0) ? "-0" : StringCtor(value);
  }
  return codedError(RangeError, `The value of "${name}" is out of range. It must be ${range}. ` +
                    `Received ${shown}`, "ERR_OUT_OF_RANGE");
}

function invalidArgValue(name, value, reason = "is invalid") {
  const shown = typeof value === "string" ? `'${value}'` : StringCtor(value);
  return codedError(TypeError, `The argument '${name}' ${reason}. Received ${shown}`,
                    "ERR_INVALID_ARG_VALUE");
}

function validateFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "of type function", value);
}

// -- the digests, over a whole message -----------------------------------------------------

/** The message (the concatenation of `chunks`) padded to whole blocks: 0x80, zeros, the bit
 *  length (64 or 128 bits). */
function pad(chunks, blockSize, littleEndian) {
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += len(chunks[i]);
  const lengthBytes = blockSize === 128 ? 16 : 8;
  const total = Math.ceil((n + 1 + lengthBytes) / blockSize) * blockSize;
  const out = new Uint8ArrayCtor(total);
  for (let i = 0, offset = 0; i < chunks.length; i++) {
    ReflectApply(taSet, out, [chunks[i], offset]);
    offset += len(chunks[i]);
  }
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

function md5(chunks) {
  const view = pad(chunks, 64, true);
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

function sha1(chunks) {
  const view = pad(chunks, 64, false);
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

// As int32 (typed arrays: no doubles in the rounds); the message schedule is scratch space
// (a digest runs to its end without calling out).
const K256_32 = Int32Array.from(K256);
const IV256 = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const IV224 = Int32Array.from([0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939,
  0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4]);
const W256 = new Int32Array(64);

function sha256(chunks, is224) {
  const view = pad(chunks, 64, false);
  const h = new Int32Array(is224 ? IV224 : IV256);
  const w = W256, k = K256_32;
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15], y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + k[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + S0 + maj) | 0;
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
];

const IV512 = ["6a09e667f3bcc908", "bb67ae8584caa73b", "3c6ef372fe94f82b", "a54ff53a5f1d36f1",
  "510e527fade682d1", "9b05688c2b3e6c1f", "1f83d9abfb41bd6b", "5be0cd19137e2179"];
const IV384 = ["cbbb9d5dc1059ed8", "629a292a367cd507", "9159015a3070dd17", "152fecd8f70e5939",
  "67332667ffc00b31", "8eb44a8768581511", "db0c2e0d64f98fa7", "47b5481dbefa4fa4"];

/** High and low 32-bit halves of 64-bit hex constants, as int32. */
function halves(hexes, high) {
  return Int32Array.from(hexes, (hex) => parseInt(high ? hex.slice(0, 8) : hex.slice(8), 16) | 0);
}
const K512H = halves(K512, true), K512L = halves(K512, false);
const IV512H = halves(IV512, true), IV512L = halves(IV512, false);
const IV384H = halves(IV384, true), IV384L = halves(IV384, false);
const W512H = new Int32Array(80), W512L = new Int32Array(80); // scratch, as W256

// Each 64-bit word is a (high, low) pair of int32; a rotation right by n < 32 is
// hi' = hi >>> n | lo << 32 - n, lo' = lo >>> n | hi << 32 - n (n >= 32: the halves swapped);
// a sum adds the low halves as uint32 and carries into the high halves.
function sha512(chunks, is384) {
  const view = pad(chunks, 128, false);
  const hh = new Int32Array(is384 ? IV384H : IV512H), hl = new Int32Array(is384 ? IV384L : IV512L);
  const wh = W512H, wl = W512L;
  for (let block = 0; block < view.byteLength; block += 128) {
    for (let i = 0; i < 16; i++) {
      wh[i] = view.getInt32(block + i * 8);
      wl[i] = view.getInt32(block + i * 8 + 4);
    }
    for (let i = 16; i < 80; i++) {
      let xh = wh[i - 15], xl = wl[i - 15];
      // σ0 = rotr 1 ^ rotr 8 ^ shr 7
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      xh = wh[i - 2]; xl = wl[i - 2];
      // σ1 = rotr 19 ^ rotr 61 ^ shr 6
      const s1h = ((xh >>> 19) | (xl << 13)) ^ ((xl >>> 29) | (xh << 3)) ^ (xh >>> 6);
      const s1l = ((xl >>> 19) | (xh << 13)) ^ ((xh >>> 29) | (xl << 3)) ^ ((xl >>> 6) | (xh << 26));
      const lo = (wl[i - 16] >>> 0) + (s0l >>> 0) + (wl[i - 7] >>> 0) + (s1l >>> 0);
      wh[i] = (wh[i - 16] + s0h + wh[i - 7] + s1h + ((lo / 4294967296) | 0)) | 0;
      wl[i] = lo | 0;
    }
    let ah = hh[0], bh = hh[1], ch = hh[2], dh = hh[3], eh = hh[4], fh = hh[5], gh = hh[6], xh = hh[7];
    let al = hl[0], bl = hl[1], cl = hl[2], dl = hl[3], el = hl[4], fl = hl[5], gl = hl[6], xl = hl[7];
    for (let i = 0; i < 80; i++) {
      // Σ1(e) = rotr 14 ^ rotr 18 ^ rotr 41
      const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
      const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
      const chh = (eh & fh) ^ (~eh & gh), chl = (el & fl) ^ (~el & gl);
      const t1lo = (xl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K512L[i] >>> 0) + (wl[i] >>> 0);
      const t1h = (xh + S1h + chh + K512H[i] + wh[i] + ((t1lo / 4294967296) | 0)) | 0;
      const t1l = t1lo | 0;
      // Σ0(a) = rotr 28 ^ rotr 34 ^ rotr 39
      const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      const majh = (ah & bh) ^ (ah & ch) ^ (bh & ch), majl = (al & bl) ^ (al & cl) ^ (bl & cl);
      const t2lo = (S0l >>> 0) + (majl >>> 0);
      const t2h = (S0h + majh + ((t2lo / 4294967296) | 0)) | 0;
      xh = gh; xl = gl; gh = fh; gl = fl; fh = eh; fl = el;
      const elo = (dl >>> 0) + (t1l >>> 0);
      eh = (dh + t1h + ((elo / 4294967296) | 0)) | 0; el = elo | 0;
      dh = ch; dl = cl; ch = bh; cl = bl; bh = ah; bl = al;
      const alo = (t1l >>> 0) + (t2lo >>> 0);
      ah = (t1h + t2h + ((alo / 4294967296) | 0)) | 0; al = alo | 0;
    }
    const vh = [ah, bh, ch, dh, eh, fh, gh, xh], vl = [al, bl, cl, dl, el, fl, gl, xl];
    for (let i = 0; i < 8; i++) {
      const lo = (hl[i] >>> 0) + (vl[i] >>> 0);
      hh[i] = (hh[i] + vh[i] + ((lo / 4294967296) | 0)) | 0;
      hl[i] = lo | 0;
    }
  }
  const flat = [];
  for (let i = 0; i < (is384 ? 6 : 8); i++) flat.push(hh[i], hl[i]);
  return words(flat, false);
}

const ALGORITHMS = {
  md5: { digest: md5, block: 64, size: 16 },
  sha1: { digest: sha1, block: 64, size: 20 },
  sha224: { digest: (chunks) => sha256(chunks, true), block: 64, size: 28 },
  sha256: { digest: (chunks) => sha256(chunks, false), block: 64, size: 32 },
  sha384: { digest: (chunks) => sha512(chunks, true), block: 128, size: 48 },
  sha512: { digest: (chunks) => sha512(chunks, false), block: 128, size: 64 },
};

// The names a script used, to their algorithm (OpenSSL's names are case-insensitive, with
// "SHA-256" and "RSA-SHA256" aliases): createHash() may run per request.
const known = { __proto__: null };

/** The algorithm named `name` (a string), or undefined. */
function lookupAlgorithm(name) {
  const cached = known[name];
  if (cached !== undefined) return cached;
  const key = ReflectApply(StringPrototypeToLowerCase, name, []).replace(/^rsa-/, "").replace("-", "");
  const found = Object.hasOwn(ALGORITHMS, key) ? ALGORITHMS[key] : undefined;
  if (found !== undefined && name.length < 32) known[name] = found;
  return found;
}

/** Node's names, as encodings are told in update(), digest() and Buffer (else null). */
function normalizeEncoding(encoding) {
  return typeof encoding === "string" ? normalizeLabel(encoding) : null;
}

const DATA_TYPES = "of type string or an instance of Buffer, TypedArray, or DataView";

/** A copy of `data`'s bytes (update() may be given a buffer the caller changes later). */
function bytesOfData(data, encoding) {
  if (typeof data === "string") {
    if (!encoding) return Buffer.from(data);
    const enc = normalizeEncoding(encoding);
    if (enc === "hex" && data.length % 2 !== 0) {
      throw invalidArgValue("encoding", encoding, `is invalid for data of length ${data.length}`);
    }
    return Buffer.from(data, enc === null ? "utf8" : enc); // as Node: unknown is utf8
  }
  if (isView(data)) {
    return new Uint8ArrayCtor(new Uint8ArrayCtor(data.buffer, data.byteOffset, data.byteLength));
  }
  if (isAnyArrayBuffer(data)) return new Uint8ArrayCtor(new Uint8ArrayCtor(data)); // beyond Node
  throw invalidArgType("data", DATA_TYPES, data);
}

/** digest()'s encoding: Node converts a truthy one to a string, and gives a Buffer for
 *  "buffer" and for names it does not know. */
function digestEncoding(encoding) {
  if (!encoding) return null;
  if (encoding === "hex" || encoding === "base64") return encoding;
  return normalizeEncoding(`${encoding}`);
}

function output(bytes, encoding) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === null ? buf : buf.toString(encoding);
}

function finalizedError() {
  return codedError(Error, "Digest already called", "ERR_CRYPTO_HASH_FINALIZED");
}

/** options.outputLength: only the digest's own size, for these fixed-length digests. */
function checkOutputLength(options, algorithm) {
  const length = options !== null && typeof options === "object" ? options.outputLength : undefined;
  if (length === undefined) return;
  if (typeof length !== "number") throw invalidArgType("options.outputLength", "of type number", length);
  if (!NumberIsInteger(length)) throw outOfRange("options.outputLength", "an integer", length);
  if (length < 0 || length > 2 ** 32 - 1) {
    throw outOfRange("options.outputLength", ">= 0 && <= 4294967295", length);
  }
  if (length !== algorithm.size) {
    throw codedError(Error, "Invalid XOF digest length", "ERR_OSSL_EVP_NOT_XOF_OR_INVALID_LENGTH");
  }
}

// Hash and Hmac are functions, as Node's: callable without `new` (deprecated there).
// Their state: the algorithm, the bytes given to update() (hashed at digest()), finalized.
const kState = Symbol("kState");

function Hash(algorithm, options) {
  if (!new.target) return new Hash(algorithm, options);
  if (typeof algorithm !== "string") throw invalidArgType("algorithm", "of type string", algorithm);
  const found = lookupAlgorithm(algorithm);
  if (found === undefined) {
    throw codedError(Error, `Digest method not supported: ${algorithm} (isoflow's node:crypto ` +
                     `has ${Object.keys(ALGORITHMS).join(", ")})`, "ERR_CRYPTO_INVALID_DIGEST");
  }
  checkOutputLength(options, found);
  this[kState] = { algorithm: found, chunks: [], finalized: false };
}

Hash.prototype.update = function update(data, encoding) {
  const state = this[kState];
  if (state.finalized) throw finalizedError();
  state.chunks.push(bytesOfData(data, encoding));
  return this;
};

Hash.prototype.digest = function digest(outputEncoding) {
  const state = this[kState];
  if (state.finalized) throw finalizedError();
  const encoding = digestEncoding(outputEncoding);
  state.finalized = true;
  const chunks = state.chunks;
  state.chunks = null;
  return output(state.algorithm.digest(chunks), encoding);
};

Hash.prototype.copy = function copy(options) {
  const state = this[kState];
  if (state.finalized) throw finalizedError();
  checkOutputLength(options, state.algorithm);
  const other = { __proto__: Hash.prototype };
  other[kState] = { algorithm: state.algorithm, chunks: state.chunks.slice(), finalized: false };
  return other;
};

function Hmac(hmac, key, options) {
  if (!new.target) return new Hmac(hmac, key, options);
  if (typeof hmac !== "string") throw invalidArgType("hmac", "of type string", hmac);
  const encoding = options !== null && typeof options === "object" ? options.encoding : undefined;
  if (encoding !== undefined && typeof encoding !== "string") {
    throw invalidArgType("options.encoding", "of type string", encoding);
  }
  let bytes = secretKeyBytes(key, encoding);
  const found = lookupAlgorithm(hmac);
  if (found === undefined) {
    throw codedError(TypeError, `Invalid digest: ${hmac}`, "ERR_CRYPTO_INVALID_DIGEST");
  }
  // RFC 2104: a key longer than a block is hashed; the pads are the key XOR 0x36 / 0x5c.
  if (len(bytes) > found.block) bytes = found.digest([bytes]);
  const inner = new Uint8ArrayCtor(found.block), outer = new Uint8ArrayCtor(found.block);
  for (let i = 0; i < found.block; i++) {
    const k = i < len(bytes) ? bytes[i] : 0;
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  this[kState] = { algorithm: found, chunks: [inner], outer, finalized: false };
}

Hmac.prototype.update = Hash.prototype.update;

/** The MAC; called again, an empty result, as Node's (a string unless "buffer" is asked). */
Hmac.prototype.digest = function digest(outputEncoding) {
  const state = this[kState];
  if (state.finalized) {
    const empty = Buffer.alloc(0);
    return outputEncoding === "buffer" ? empty : empty.toString(outputEncoding);
  }
  const encoding = digestEncoding(outputEncoding);
  state.finalized = true;
  const algorithm = state.algorithm;
  const innerHash = algorithm.digest(state.chunks);
  state.chunks = null;
  return output(algorithm.digest([state.outer, innerHash]), encoding);
};

function createHash(algorithm, options) {
  return new Hash(algorithm, options);
}

function createHmac(hmac, key, options) {
  return new Hmac(hmac, key, options);
}

/** crypto.hash(algorithm, data[, outputEncoding = "hex"]) (Node 21.7; options object: 24). */
function hash(algorithm, data, options) {
  if (typeof algorithm !== "string") throw invalidArgType("algorithm", "of type string", algorithm);
  if (typeof data !== "string" && !isView(data)) {
    throw invalidArgType("data", DATA_TYPES, data);
  }
  let outputEncoding = options;
  if (options !== null && typeof options === "object") {
    outputEncoding = options.outputEncoding;
    if (outputEncoding !== undefined && typeof outputEncoding !== "string") {
      throw invalidArgType("options.outputEncoding", "of type string", outputEncoding);
    }
  } else if (options !== undefined && typeof options !== "string") {
    throw invalidArgType("outputEncoding", "of type string", options);
  }
  if (outputEncoding === undefined) outputEncoding = "hex";
  const normalized = normalizeEncoding(outputEncoding);
  if (normalized === null && outputEncoding !== "buffer") {
    throw invalidArgValue("outputEncoding", outputEncoding);
  }
  return new Hash(algorithm, options !== null && typeof options === "object" ? options : undefined)
    .update(data).digest(normalized === null ? "buffer" : normalized);
}

// -- secret keys -----------------------------------------------------------------------------

const keyBytesOf = new WeakMap();

/** A KeyObject (only secret keys here): what createSecretKey() returns. */
class KeyObject {
  constructor(type, bytes) {
    if (type !== "secret" || !(bytes instanceof Uint8ArrayCtor)) {
      throw codedError(TypeError, "Illegal constructor", "ERR_ILLEGAL_CONSTRUCTOR");
    }
    keyBytesOf.set(this, bytes);
  }

  get type() {
    return "secret";
  }

  get symmetricKeySize() {
    return len(bytesOfKey(this));
  }

  export(options) {
    const bytes = bytesOfKey(this);
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgType("options", "of type object", options);
    }
    const format = options === undefined ? undefined : options.format;
    if (format === "jwk") return { kty: "oct", k: Buffer.from(bytes).toString("base64url") };
    if (format !== undefined && format !== "buffer") {
      throw invalidArgValue("options.format", format);
    }
    return Buffer.from(bytes);
  }

  equals(otherKeyObject) {
    if (!(otherKeyObject instanceof KeyObject)) {
      throw invalidArgType("otherKeyObject", "an instance of KeyObject", otherKeyObject);
    }
    const a = bytesOfKey(this), b = bytesOfKey(otherKeyObject);
    return len(a) === len(b) && timingSafeEqual(a, b);
  }
}

function bytesOfKey(keyObject) {
  const bytes = keyBytesOf.get(keyObject);
  if (bytes === undefined) throw codedError(TypeError, "Illegal invocation", "ERR_INVALID_THIS");
  return bytes;
}

Object.defineProperty(KeyObject.prototype, Symbol.toStringTag, { value: "KeyObject", configurable: true });

/** The bytes of a key given as Node's prepareSecretKey() takes it (not a CryptoKey here). */
function secretKeyBytes(key, encoding) {
  if (key instanceof KeyObject) return bytesOfKey(key);
  if (typeof key === "string") {
    return Buffer.from(key, encoding === undefined || encoding === "buffer" ? "utf8" : encoding);
  }
  if (isView(key)) return new Uint8ArrayCtor(key.buffer, key.byteOffset, key.byteLength);
  if (isAnyArrayBuffer(key)) return new Uint8ArrayCtor(key);
  throw invalidArgType("key", "of type string or an instance of ArrayBuffer, Buffer, TypedArray, " +
                       "DataView, KeyObject, or CryptoKey", key);
}

function createSecretKey(key, encoding) {
  if (key instanceof KeyObject) {
    throw invalidArgType("key", "of type string or an instance of ArrayBuffer, Buffer, " +
                         "TypedArray, or DataView", key);
  }
  return new KeyObject("secret", new Uint8ArrayCtor(secretKeyBytes(key, encoding))); // a copy
}

// -- random ----------------------------------------------------------------------------------

const kMaxPossibleLength = 2 ** 31 - 1; // min(buffer.kMaxLength, int32 max), as Node

/** `bytes` filled with random bytes (getRandomValues() refuses shared memory: through a copy). */
function fillRandom(bytes) {
  const shared = isShared(bytes.buffer);
  for (let offset = 0; offset < len(bytes); offset += 65536) {
    const end = Math.min(len(bytes), offset + 65536);
    if (shared) {
      const chunk = new Uint8ArrayCtor(end - offset);
      ReflectApply(getRandomValues, webcrypto, [chunk]);
      ReflectApply(taSet, bytes, [chunk, offset]);
    } else {
      ReflectApply(getRandomValues, webcrypto, [bytes.subarray(offset, end)]);
    }
  }
  return bytes;
}

function later(callback, ...args) {
  queueMicrotask(() => ReflectApply(callback, undefined, args));
}

function checkSize(size) {
  if (typeof size !== "number") throw invalidArgType("size", "of type number", size);
  if (!(size >= 0 && size <= kMaxPossibleLength)) {
    throw outOfRange("size", `>= 0 && <= ${kMaxPossibleLength}`, size);
  }
}

function randomBytes(size, callback) {
  checkSize(size);
  if (callback !== undefined) validateFunction(callback, "callback");
  const buf = fillRandom(Buffer.alloc(Math.floor(size)));
  if (callback === undefined) return buf;
  later(callback, null, buf);
  return undefined;
}

/** The bytes of `buf` (a view or an ArrayBuffer) that randomFill(Sync) fills: offset and
 *  size count elements of a typed array, as Node's. */
function fillTarget(buf, offset, size) {
  let bytes;
  if (isView(buf)) bytes = new Uint8ArrayCtor(buf.buffer, buf.byteOffset, buf.byteLength);
  else if (isAnyArrayBuffer(buf)) bytes = new Uint8ArrayCtor(buf);
  else throw invalidArgType("buf", "an instance of ArrayBuffer or ArrayBufferView", buf);
  const elementSize = buf.BYTES_PER_ELEMENT || 1;
  const length = len(bytes);
  if (typeof offset !== "number") throw invalidArgType("offset", "of type number", offset);
  offset *= elementSize;
  const maxLength = Math.min(length, kMaxPossibleLength);
  if (!(offset >= 0 && offset <= maxLength)) throw outOfRange("offset", `>= 0 && <= ${maxLength}`, offset);
  if (size === undefined) {
    size = length - offset;
  } else {
    if (typeof size !== "number") throw invalidArgType("size", "of type number", size);
    size *= elementSize;
    if (!(size >= 0 && size <= kMaxPossibleLength)) {
      throw outOfRange("size", `>= 0 && <= ${kMaxPossibleLength}`, size);
    }
    if (size + offset > length) throw outOfRange("size + offset", `<= ${length}`, size + offset);
  }
  return bytes.subarray(offset >>> 0, (offset >>> 0) + (size >>> 0));
}

function randomFillSync(buf, offset = 0, size = undefined) {
  fillRandom(fillTarget(buf, offset, size));
  return buf;
}

function randomFill(buf, offset, size, callback) {
  if (typeof offset === "function") {
    callback = offset;
    offset = 0;
    size = undefined;
  } else if (typeof size === "function") {
    callback = size;
    size = undefined;
  }
  if (!isView(buf) && !isAnyArrayBuffer(buf)) {
    throw invalidArgType("buf", "an instance of ArrayBuffer or ArrayBufferView", buf);
  }
  validateFunction(callback, "callback");
  fillRandom(fillTarget(buf, offset, size));
  later(callback, null, buf);
}

const RAND_MAX = 0xffff_ffff_ffff; // randomInt's largest range: 48 bits, as Node

function randomInt(min, max, callback) {
  const minNotSpecified = max === undefined || typeof max === "function";
  if (minNotSpecified) {
    callback = max;
    max = min;
    min = 0;
  }
  if (callback !== undefined) validateFunction(callback, "callback");
  if (!NumberIsSafeInteger(min)) throw invalidArgType("min", "a safe integer", min);
  if (!NumberIsSafeInteger(max)) throw invalidArgType("max", "a safe integer", max);
  if (max <= min) {
    throw outOfRange("max", `greater than the value of "min" (${min})`, max);
  }
  const range = max - min;
  if (!(range <= RAND_MAX)) {
    throw outOfRange(minNotSpecified ? "max" : "max - min", `<= ${RAND_MAX}`, range);
  }
  const limit = 2 ** 48 - (2 ** 48 % range); // no modulo bias
  let x;
  do {
    const b = fillRandom(new Uint8ArrayCtor(6));
    x = ((b[0] * 256 + b[1]) * 2 ** 32) + ((b[2] << 24) >>> 0) + (b[3] << 16) + (b[4] << 8) + b[5];
  } while (x >= limit);
  const value = min + (x % range);
  if (callback === undefined) return value;
  later(callback, null, value);
  return undefined;
}

function randomUUID(options) {
  if (options !== undefined) {
    if (options === null || typeof options !== "object") {
      throw invalidArgType("options", "of type object", options);
    }
    const { disableEntropyCache } = options;
    if (disableEntropyCache !== undefined && typeof disableEntropyCache !== "boolean") {
      throw invalidArgType("options.disableEntropyCache", "of type boolean", disableEntropyCache);
    }
  }
  return ReflectApply(randomUUIDNative, webcrypto, []);
}

function timingSafeEqual(buf1, buf2) {
  const bytes = (value, name) => {
    if (isView(value)) return new Uint8ArrayCtor(value.buffer, value.byteOffset, value.byteLength);
    if (isAnyArrayBuffer(value)) return new Uint8ArrayCtor(value);
    throw invalidArgType(name, "an instance of ArrayBuffer, Buffer, TypedArray, or DataView", value);
  };
  const x = bytes(buf1, "buf1"), y = bytes(buf2, "buf2");
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
  getFips: () => 0,
  createSecretKey,
  KeyObject,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  getRandomValues: (array) => ReflectApply(getRandomValues, webcrypto, [array]),
  timingSafeEqual,
  webcrypto,
  subtle: webcrypto.subtle,
  Hash,
  Hmac,
};
// Node's deprecated aliases of randomBytes (DEP0115), not enumerable.
for (const name of ["pseudoRandomBytes", "prng", "rng"]) {
  Object.defineProperty(module.exports, name, {
    value: randomBytes, writable: true, configurable: true, enumerable: false,
  });
}
