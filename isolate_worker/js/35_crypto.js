// Web Cryptography API, part 1: randomness and the Crypto interface
// (https://w3c.github.io/webcrypto/): crypto.getRandomValues(), crypto.randomUUID(),
// crypto.subtle (35_crypto_subtle.js), and the QuotaExceededError interface of Web IDL.
//
// Entropy without a call into Python
// -----------------------------------
// getRandomValues() is synchronous and JS cannot call Python synchronously, so the entropy
// is already here: a SharedArrayBuffer pool that Python fills with os.urandom
// (crypto_ops.EntropyPool, installed by bridge.py and run before every pump).
//
//   [ flags: Int32 x 2 | ... header ... ][ half 0: HALF bytes ][ half 1: HALF bytes ]
//
// Each half is owned by one side at a time, as its flag says: FULL (1) - JS may read it,
// Python does not touch it; EMPTY (0) - Python may write it, JS does not touch it. JS
// reads a full half front to back and, when it has used it up, zeroes it and flips the
// flag to EMPTY with Atomics.store (so the bytes are never handed out twice). Python only
// writes halves it sees EMPTY: first the bytes, then the flag FULL. V8 runs microtasks and
// timers concurrently with Python, but no byte is ever read by one side while the other
// writes it. When JS empties a half it asks for a pump (a no-op op, "crypto.refill"), so
// Python refills it within one round trip even while the isolate is otherwise idle.
//
// A burst that drains both halves before Python refills them does not fail and never
// falls back to Math.random: the rest comes from a ChaCha20 DRBG (RFC 8439 block
// function) whose key is XORed with 32 fresh pool bytes each time JS takes a newly filled
// half, and which overwrites its key with its own next keystream block after every
// request ("fast key erasure": a later state cannot recompute earlier outputs).
// Exports: internals.crypto (pool, fillRandom, chacha20Block, Crypto, cryptoObject).

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  AtomicsLoad,
  AtomicsStore,
  DataViewPrototypeGetBuffer,
  Int32Array: Int32ArrayCtor,
  MathMin,
  SafeSet,
  SharedArrayBuffer: SharedArrayBufferCtor,
  StringPrototypePadStart,
  Symbol: SymbolCtor,
  NumberPrototypeToString,
  TypedArrayPrototypeFill,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  TypedArrayPrototypeSubarray,
  TypeError: TypeErrorCtor,
  RangeError: RangeErrorCtor,
  Uint32Array: Uint32ArrayCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;
const { webidl, DOMException } = internals;

// -- the entropy pool ---------------------------------------------------------------------

const HEADER = 64;
const HALF = 32 << 10;
const EMPTY = 0, FULL = 1;
const pool = new SharedArrayBufferCtor(HEADER + 2 * HALF);
const flags = new Int32ArrayCtor(pool, 0, 2);
const halves = [
  new Uint8ArrayCtor(pool, HEADER, HALF),
  new Uint8ArrayCtor(pool, HEADER + HALF, HALF),
];

let current = 0; // the half JS reads next
let owned = false; // whether JS holds `current` (it was FULL when JS took it)
let cursor = 0; // next unread byte of `current`
let refillAsked = false;

/** Take a FULL half if there is one; its first 32 bytes reseed the DRBG. */
function acquireHalf() {
  for (let i = 0; i < 2; i++) {
    const h = (current + i) & 1;
    if (AtomicsLoad(flags, h) === FULL) {
      current = h;
      owned = true;
      cursor = 32;
      drbgReseed(halves[h]);
      return true;
    }
  }
  return false;
}

/** Hand the used-up half back to Python and ask for a pump to refill it. */
function releaseHalf() {
  TypedArrayPrototypeFill(halves[current], 0);
  AtomicsStore(flags, current, EMPTY);
  owned = false;
  current ^= 1;
  if (!refillAsked) {
    refillAsked = true;
    const done = () => {
      refillAsked = false;
    };
    primordials.PromisePrototypeThen(internals.host.op("crypto.refill", [{}]), done, done);
  }
}

/** Fill `out` (a Uint8Array) with cryptographically secure random bytes. */
function fillRandom(out) {
  const n = out.length;
  let offset = 0;
  while (offset < n) {
    if (!owned && !acquireHalf()) {
      drbgFill(TypedArrayPrototypeSubarray(out, offset, n));
      return out;
    }
    const half = halves[current];
    const take = MathMin(HALF - cursor, n - offset);
    const src = TypedArrayPrototypeSubarray(half, cursor, cursor + take);
    TypedArrayPrototypeSet(out, src, offset);
    TypedArrayPrototypeFill(src, 0);
    cursor += take;
    offset += take;
    if (cursor === HALF) releaseHalf();
  }
  return out;
}

// -- ChaCha20 DRBG (fallback when the pool is drained) ------------------------------------

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
const chachaState = new Uint32ArrayCtor(16);
const chachaWork = new Uint32ArrayCtor(16);
const drbgKey = new Uint32ArrayCtor(8);
let drbgSeeded = false;

function rotl(v, c) {
  return (v << c) | (v >>> (32 - c));
}

function quarterRound(x, a, b, c, d) {
  x[a] = (x[a] + x[b]) | 0; x[d] = rotl(x[d] ^ x[a], 16);
  x[c] = (x[c] + x[d]) | 0; x[b] = rotl(x[b] ^ x[c], 12);
  x[a] = (x[a] + x[b]) | 0; x[d] = rotl(x[d] ^ x[a], 8);
  x[c] = (x[c] + x[d]) | 0; x[b] = rotl(x[b] ^ x[c], 7);
}

/**
 * The ChaCha20 block function (RFC 8439 section 2.3): 64 keystream bytes for `key`
 * (8 words), block `counter` and `nonce` (3 words), written into `out` at `offset`.
 */
function chacha20Block(key, counter, nonce, out, offset = 0) {
  const s = chachaState;
  const x = chachaWork;
  s[0] = SIGMA[0]; s[1] = SIGMA[1]; s[2] = SIGMA[2]; s[3] = SIGMA[3];
  for (let i = 0; i < 8; i++) s[4 + i] = key[i];
  s[12] = counter;
  s[13] = nonce[0]; s[14] = nonce[1]; s[15] = nonce[2];
  for (let i = 0; i < 16; i++) x[i] = s[i];
  for (let i = 0; i < 10; i++) {
    quarterRound(x, 0, 4, 8, 12); quarterRound(x, 1, 5, 9, 13);
    quarterRound(x, 2, 6, 10, 14); quarterRound(x, 3, 7, 11, 15);
    quarterRound(x, 0, 5, 10, 15); quarterRound(x, 1, 6, 11, 12);
    quarterRound(x, 2, 7, 8, 13); quarterRound(x, 3, 4, 9, 14);
  }
  const limit = MathMin(64, out.length - offset);
  for (let i = 0; i < 16 && i * 4 < limit; i++) {
    const v = (x[i] + s[i]) >>> 0;
    const o = offset + i * 4;
    out[o] = v & 0xff;
    if (i * 4 + 1 < limit) out[o + 1] = (v >>> 8) & 0xff;
    if (i * 4 + 2 < limit) out[o + 2] = (v >>> 16) & 0xff;
    if (i * 4 + 3 < limit) out[o + 3] = v >>> 24;
  }
}

const ZERO_NONCE = [0, 0, 0];
const rekeyBlock = new Uint8ArrayCtor(64);

/** XOR 32 pool bytes into the DRBG key. */
function drbgReseed(bytes) {
  for (let i = 0; i < 8; i++) {
    const o = i * 4;
    drbgKey[i] ^= bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
  }
  drbgSeeded = true;
}

function drbgFill(out) {
  if (!drbgSeeded) {
    // Only a bare isolate that no bridge configured can get here: no entropy exists.
    throw new DOMException("The entropy pool was never filled.", "OperationError");
  }
  let counter = 1;
  for (let offset = 0; offset < out.length; offset += 64) {
    chacha20Block(drbgKey, counter++, ZERO_NONCE, out, offset);
  }
  // Fast key erasure: block 0 of the keystream (never output) becomes the next key.
  chacha20Block(drbgKey, 0, ZERO_NONCE, rekeyBlock, 0);
  for (let i = 0; i < 8; i++) {
    const o = i * 4;
    drbgKey[i] = rekeyBlock[o] | (rekeyBlock[o + 1] << 8) | (rekeyBlock[o + 2] << 16) |
      (rekeyBlock[o + 3] << 24);
  }
  TypedArrayPrototypeFill(rekeyBlock, 0);
  counters.drbgBytes += out.length;
}

const counters = { drbgBytes: 0 };

// -- QuotaExceededError (Web IDL) ---------------------------------------------------------

const optionalDouble = (v, prefix, context) => {
  const x = webidl.converters.double(v, prefix, context);
  if (x < 0) throw new RangeErrorCtor(`${prefix}: ${context} must not be negative.`);
  return x;
};
const optionsConverter = webidl.createDictionaryConverter("QuotaExceededErrorOptions", [
  { key: "quota", converter: optionalDouble },
  { key: "requested", converter: optionalDouble },
]);
let qeeSlots;
class QuotaExceededError extends DOMException {
  #quota = null;
  #requested = null;

  static {
    qeeSlots = (x, member) => {
      if (x === null || typeof x !== "object" || !(#quota in x)) {
        throw new TypeErrorCtor(
          `Failed to read the '${member}' property from 'QuotaExceededError': Illegal invocation`,
        );
      }
      return x;
    };
  }

  constructor(message = undefined, options = undefined) {
    const prefix = "Failed to construct 'QuotaExceededError'";
    const msg = message === undefined ? "" : webidl.converters.DOMString(message, prefix, "Argument 1");
    const dict = optionsConverter(options, prefix, "Argument 2");
    if (dict.quota !== undefined && dict.requested !== undefined && dict.requested < dict.quota) {
      throw new RangeErrorCtor(`${prefix}: requested must not be less than quota.`);
    }
    super(msg, "QuotaExceededError");
    if (dict.quota !== undefined) this.#quota = dict.quota;
    if (dict.requested !== undefined) this.#requested = dict.requested;
  }

  get quota() {
    return qeeSlots(this, "quota").#quota;
  }

  get requested() {
    return qeeSlots(this, "requested").#requested;
  }
}
webidl.configureInterface(QuotaExceededError);
internals.exposeGlobal("QuotaExceededError", QuotaExceededError);

// -- Crypto -------------------------------------------------------------------------------

const INTEGER_ARRAYS = new SafeSet([
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
  "Uint32Array", "BigInt64Array", "BigUint64Array",
]);
const MAX_RANDOM_BYTES = 65536;
const TOKEN = SymbolCtor("isoflow.crypto");
let cryptoObject;

/** Whether a view's buffer is a SharedArrayBuffer (the common case does not throw). */
function isShared(buffer) {
  try {
    ArrayBufferPrototypeGetByteLength(buffer); // throws for a SharedArrayBuffer
    return false;
  } catch {
    return true;
  }
}

function checkCrypto(self, member) {
  if (self !== cryptoObject) {
    throw new TypeErrorCtor(`Failed to execute '${member}' on 'Crypto': Illegal invocation`);
  }
}

const HEX = [];
for (let i = 0; i < 256; i++) HEX[i] = StringPrototypePadStart(NumberPrototypeToString(i, 16), 2, "0");
const uuidBytes = new Uint8ArrayCtor(16);

class Crypto {
  constructor(token = undefined) {
    if (token !== TOKEN) webidl.illegalConstructor();
  }

  get subtle() {
    if (this !== cryptoObject) {
      throw new TypeErrorCtor("Failed to read the 'subtle' property from 'Crypto': Illegal invocation");
    }
    return internals.crypto.subtle;
  }

  getRandomValues(array) {
    checkCrypto(this, "getRandomValues");
    const prefix = "Failed to execute 'getRandomValues' on 'Crypto'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (!ArrayBufferIsView(array)) {
      throw new TypeErrorCtor(`${prefix}: parameter 1 is not of type 'ArrayBufferView'.`);
    }
    const tag = TypedArrayPrototypeGetSymbolToStringTag(array);
    const buffer = tag === undefined ? DataViewPrototypeGetBuffer(array) :
      TypedArrayPrototypeGetBuffer(array);
    if (isShared(buffer)) {
      throw new TypeErrorCtor(`${prefix}: The provided ArrayBufferView value must not be shared.`);
    }
    if (tag === undefined || !INTEGER_ARRAYS.has(tag)) {
      throw new DOMException(
        `${prefix}: The provided ArrayBufferView is of type '${tag ?? "DataView"}', which is not an integer array type.`,
        "TypeMismatchError",
      );
    }
    const byteLength = TypedArrayPrototypeGetByteLength(array);
    if (byteLength > MAX_RANDOM_BYTES) {
      throw new QuotaExceededError(
        `${prefix}: The ArrayBufferView's byte length (${byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES}).`,
      );
    }
    if (byteLength > 0) {
      fillRandom(new Uint8ArrayCtor(buffer, TypedArrayPrototypeGetByteOffset(array), byteLength));
    }
    return array;
  }

  randomUUID() {
    checkCrypto(this, "randomUUID");
    const b = fillRandom(uuidBytes);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    const h = HEX;
    const out = `${h[b[0]]}${h[b[1]]}${h[b[2]]}${h[b[3]]}-${h[b[4]]}${h[b[5]]}-${h[b[6]]}${h[b[7]]}-` +
      `${h[b[8]]}${h[b[9]]}-${h[b[10]]}${h[b[11]]}${h[b[12]]}${h[b[13]]}${h[b[14]]}${h[b[15]]}`;
    TypedArrayPrototypeFill(uuidBytes, 0);
    return out;
  }
}

webidl.configureInterface(Crypto);
cryptoObject = new Crypto(TOKEN);

internals.exposeGlobal("Crypto", Crypto);
// `crypto` is an attribute of the global scope (WindowOrWorkerGlobalScope): an accessor.
// WebCrypto, partial WindowOrWorkerGlobalScope: `[SameObject] readonly attribute Crypto crypto;`
internals.exposeGlobalAttribute("crypto", () => cryptoObject);

internals.crypto = {
  pool,
  poolLayout: { header: HEADER, half: HALF },
  fillRandom,
  chacha20Block,
  counters,
  Crypto,
  cryptoObject,
  TOKEN,
  subtle: undefined, // set by 35_crypto_subtle.js
};
