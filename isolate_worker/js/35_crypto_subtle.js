// Web Cryptography API, part 3: the SubtleCrypto interface (crypto.subtle), plus two
// Cloudflare Workers extras: crypto.subtle.timingSafeEqual() and crypto.DigestStream.
//
// Each method follows the standard's steps: Web IDL conversion of the arguments, then
// algorithm normalization (its errors reject the returned promise at once), then a copy
// of the caller's bytes; the rest runs "in parallel" (after at least one microtask):
// the key/operation checks (InvalidAccessError), then the operation itself, native in
// isolate_worker/crypto_ops.py. Errors the native half raises arrive as the DOMException
// (or TypeError) it names.

const {
  ArrayBufferIsView,
  ArrayPrototypeIncludes,
  ArrayPrototypePush,
  JSONParse,
  JSONStringify,
  ObjectDefineProperty,
  PromisePrototypeThen,
  PromiseReject,
  PromiseWithResolvers,
  StringPrototypeRepeat,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;
const { webidl } = internals;
const C = webidl.converters;
const {
  algorithmIdentifier, bufferSource, callOp, copyBytes, cryptoKey, domError, encodeParams,
  getKeyLength, isArrayBuffer, JsonWebKey, jwkToObject, keyFormat, keySlots, keyUsages,
  makeKey, normalizeAlgorithm, releaseHandle, registry, toArrayBuffer,
} = internals.cryptoKeys;
const { TOKEN } = internals.crypto;

let subtleObject;

/** Run the synchronous steps of a method; an exception becomes a rejected promise. */
function run(steps) {
  try {
    return steps();
  } catch (e) {
    return PromiseReject(e);
  }
}

function checkThis(self, method) {
  const prefix = `Failed to execute '${method}' on 'SubtleCrypto'`;
  if (self !== subtleObject) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
  return prefix;
}

/** The key checks every operation makes: same algorithm, and the usage it needs. */
function checkKey(normalized, key, usage) {
  const slots = keySlots(key);
  if (slots.name !== normalized.name) {
    throw domError(`The key is an ${slots.name} key, not ${normalized.name}.`, "InvalidAccessError");
  }
  if (!ArrayPrototypeIncludes(slots.usageList, usage)) {
    throw domError(`The key does not allow '${usage}'.`, "InvalidAccessError");
  }
  return slots;
}

/** Normalize for `first`; if that fails, for `second` (wrapKey / unwrapKey). */
function normalizeEither(algorithm, first, second) {
  try {
    return normalizeAlgorithm(algorithm, first);
  } catch {
    return normalizeAlgorithm(algorithm, second);
  }
}

function publicExponentValue(bytes) {
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = value * 256 + bytes[i];
    if (value > 0xffffffff) return -1;
  }
  return value;
}

/**
 * The parameter checks of "generate key" that browsers make before returning the promise
 * (the web-platform-tests expect these rejections before any microtask runs).
 */
function checkGenerateParams(n) {
  switch (n.name) {
    case "AES-CTR": case "AES-CBC": case "AES-GCM": case "AES-KW":
      if (n.length !== 128 && n.length !== 192 && n.length !== 256) {
        throw domError("AES key length must be 128, 192 or 256 bits.", "OperationError");
      }
      break;
    case "HMAC":
      if (n.length === 0) throw domError("The HMAC key length must not be zero.", "OperationError");
      break;
    case "RSASSA-PKCS1-v1_5": case "RSA-PSS": case "RSA-OAEP": {
      const e = publicExponentValue(n.publicExponent);
      if (e !== 3 && e !== 65537) {
        throw domError("The RSA public exponent must be 3 or 65537.", "OperationError");
      }
      if (n.modulusLength < 1024 || n.modulusLength > 16384) {
        throw domError("The RSA modulus length must be between 1024 and 16384 bits.",
          "OperationError");
      }
      break;
    }
    case "ECDSA": case "ECDH":
      if (n.namedCurve !== "P-256" && n.namedCurve !== "P-384" && n.namedCurve !== "P-521") {
        throw domError(`Unsupported named curve '${n.namedCurve}'.`, "NotSupportedError");
      }
      break;
    default:
  }
}

/** (BufferSource or JsonWebKey): { bytes } or { jwk }. */
function keyDataArgument(v, prefix) {
  if (ArrayBufferIsView(v) || isArrayBuffer(v)) return { bytes: bufferSource(v, prefix, "Argument 2") };
  return { jwk: JsonWebKey(v, prefix, "Argument 2") };
}

// -- the operations, after the synchronous steps ------------------------------------------

/** encrypt, decrypt and sign: the op of the same name on `data`, an ArrayBuffer. */
async function dataOp(op, normalized, key, data) {
  await undefined;
  const slots = checkKey(normalized, key, op);
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  ArrayPrototypePush(blobs, data);
  const { bytes } = await callOp(`crypto.${op}`, [params, slots.handle], blobs, [key]);
  return toArrayBuffer(bytes);
}

async function verifyOp(normalized, key, signature, data) {
  await undefined;
  const slots = checkKey(normalized, key, "verify");
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  ArrayPrototypePush(blobs, signature);
  ArrayPrototypePush(blobs, data);
  const { value } = await callOp("crypto.verify", [params, slots.handle], blobs, [key]);
  return value;
}

async function digestOp(normalized, data) {
  await undefined;
  const { bytes } = await callOp("crypto.digest", [{ name: normalized.name }], [data]);
  return toArrayBuffer(bytes);
}

function keyResult(value, extractable) {
  if (value.length === 1) return makeKey(value[0], extractable);
  // A CryptoKeyPair dictionary; public keys are always extractable.
  return { privateKey: makeKey(value[1], extractable), publicKey: makeKey(value[0], true) };
}

async function generateOp(normalized, extractable, usages) {
  await undefined;
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  const { value } = await callOp("crypto.generateKey", [params, extractable, usages], blobs);
  return keyResult(value, extractable);
}

/** Import key data ({ bytes } or { jwk }) as a CryptoKey. */
async function importOp(format, normalized, keyData, extractable, usages) {
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  let jwk = null;
  if (format === "jwk") {
    jwk = keyData.jwk;
  } else {
    ArrayPrototypePush(blobs, keyData.bytes);
  }
  const { value } = await callOp("crypto.importKey",
    [format, params, extractable, usages, jwk], blobs);
  return makeKey(value[0], extractable);
}

/** Export `key`: an ArrayBuffer, or a JsonWebKey object for "jwk". */
async function exportOp(format, key) {
  const slots = keySlots(key);
  const { value, bytes } = await callOp("crypto.exportKey",
    [format, slots.handle, slots.usageList, slots.extractable], [], [key]);
  return format === "jwk" ? jwkToObject(value) : toArrayBuffer(bytes);
}

async function deriveBitsRaw(normalized, key, length) {
  const slots = keySlots(key);
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  const peer = normalized.public;
  const peerHandle = peer === undefined ? null : keySlots(peer).handle;
  const keys = peer === undefined ? [key] : [key, peer];
  const { bytes } = await callOp("crypto.deriveBits", [params, slots.handle, length, peerHandle],
    blobs, keys);
  return bytes;
}

async function deriveBitsOp(normalized, key, length) {
  await undefined;
  checkKey(normalized, key, "deriveBits");
  return toArrayBuffer(await deriveBitsRaw(normalized, key, length));
}

async function deriveKeyOp(normalized, key, importAlg, lengthAlg, extractable, usages) {
  await undefined;
  checkKey(normalized, key, "deriveKey");
  const length = getKeyLength(lengthAlg);
  const secret = await deriveBitsRaw(normalized, key, length);
  return await importOp("raw", importAlg, { bytes: secret }, extractable, usages);
}

function jwkBytes(jwk, padTo8) {
  let json = JSONStringify(jwk);
  if (padTo8 && json.length % 8 !== 0) {
    // AES-KW wraps multiples of 8 bytes; JSON ignores trailing whitespace.
    json += StringPrototypeRepeat(" ", 8 - (json.length % 8));
  }
  return internals.encoding.utf8Encode(json);
}

async function wrapOp(format, key, wrappingKey, normalized) {
  await undefined;
  const slots = checkKey(normalized, wrappingKey, "wrapKey");
  const exported = await exportOp(format, key);
  const isKw = normalized.name === "AES-KW";
  const bytes = format === "jwk" ? jwkBytes(exported, isKw) : new Uint8ArrayCtor(exported);
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  ArrayPrototypePush(blobs, bytes);
  const { bytes: out } = await callOp(isKw ? "crypto.wrapKey" : "crypto.encrypt",
    [params, slots.handle], blobs, [wrappingKey]);
  return toArrayBuffer(out);
}

async function unwrapOp(format, wrapped, unwrappingKey, normalized, keyAlg, extractable, usages) {
  await undefined;
  const slots = checkKey(normalized, unwrappingKey, "unwrapKey");
  const isKw = normalized.name === "AES-KW";
  const blobs = [];
  const params = encodeParams(normalized, blobs);
  ArrayPrototypePush(blobs, wrapped);
  const { bytes } = await callOp(isKw ? "crypto.unwrapKey" : "crypto.decrypt",
    [params, slots.handle], blobs, [unwrappingKey]);
  let keyData;
  if (format === "jwk") {
    let parsed;
    try {
      parsed = JSONParse(internals.encoding.utf8Decode(bytes));
    } catch {
      throw domError("The unwrapped key is not valid JSON.", "DataError");
    }
    keyData = { jwk: JsonWebKey(parsed, "Failed to execute 'unwrapKey' on 'SubtleCrypto'",
      "the unwrapped key") };
  } else {
    keyData = { bytes };
  }
  return await importOp(format, keyAlg, keyData, extractable, usages);
}

// -- SubtleCrypto -------------------------------------------------------------------------

/** The steps of encrypt(), decrypt() and sign(algorithm, key, data), which differ only in `op`. */
function dataMethod(self, op, argumentCount, algorithm, key, data) {
  return run(() => {
    const prefix = checkThis(self, op);
    webidl.requiredArguments(argumentCount, 3, prefix);
    algorithm = algorithmIdentifier(algorithm, prefix, "Argument 1");
    key = cryptoKey(key, prefix, "Argument 2");
    data = bufferSource(data, prefix, "Argument 3");
    const normalized = normalizeAlgorithm(algorithm, op);
    return dataOp(op, normalized, key, copyBytes(data));
  });
}

class SubtleCrypto {
  constructor(token = undefined) {
    if (token !== TOKEN) webidl.illegalConstructor();
  }

  encrypt(algorithm, key, data) {
    return dataMethod(this, "encrypt", arguments.length, algorithm, key, data);
  }

  decrypt(algorithm, key, data) {
    return dataMethod(this, "decrypt", arguments.length, algorithm, key, data);
  }

  sign(algorithm, key, data) {
    return dataMethod(this, "sign", arguments.length, algorithm, key, data);
  }

  verify(algorithm, key, signature, data) {
    return run(() => {
      const prefix = checkThis(this, "verify");
      webidl.requiredArguments(arguments.length, 4, prefix);
      algorithm = algorithmIdentifier(algorithm, prefix, "Argument 1");
      key = cryptoKey(key, prefix, "Argument 2");
      signature = bufferSource(signature, prefix, "Argument 3");
      data = bufferSource(data, prefix, "Argument 4");
      const normalized = normalizeAlgorithm(algorithm, "verify");
      return verifyOp(normalized, key, copyBytes(signature), copyBytes(data));
    });
  }

  digest(algorithm, data) {
    return run(() => {
      const prefix = checkThis(this, "digest");
      webidl.requiredArguments(arguments.length, 2, prefix);
      algorithm = algorithmIdentifier(algorithm, prefix, "Argument 1");
      data = bufferSource(data, prefix, "Argument 2");
      const normalized = normalizeAlgorithm(algorithm, "digest");
      return digestOp(normalized, copyBytes(data));
    });
  }

  generateKey(algorithm, extractable, keyUsages_) {
    return run(() => {
      const prefix = checkThis(this, "generateKey");
      webidl.requiredArguments(arguments.length, 3, prefix);
      algorithm = algorithmIdentifier(algorithm, prefix, "Argument 1");
      extractable = C.boolean(extractable);
      const usages = keyUsages(keyUsages_, prefix, "Argument 3");
      const normalized = normalizeAlgorithm(algorithm, "generateKey");
      checkGenerateParams(normalized);
      return generateOp(normalized, extractable, usages);
    });
  }

  deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages_) {
    return run(() => {
      const prefix = checkThis(this, "deriveKey");
      webidl.requiredArguments(arguments.length, 5, prefix);
      algorithm = algorithmIdentifier(algorithm, prefix, "Argument 1");
      baseKey = cryptoKey(baseKey, prefix, "Argument 2");
      derivedKeyType = algorithmIdentifier(derivedKeyType, prefix, "Argument 3");
      extractable = C.boolean(extractable);
      const usages = keyUsages(keyUsages_, prefix, "Argument 5");
      const normalized = normalizeAlgorithm(algorithm, "deriveBits");
      const importAlg = normalizeAlgorithm(derivedKeyType, "importKey");
      const lengthAlg = normalizeAlgorithm(derivedKeyType, "get key length");
      return deriveKeyOp(normalized, baseKey, importAlg, lengthAlg, extractable, usages);
    });
  }

  deriveBits(algorithm, baseKey, length = null) {
    return run(() => {
      const prefix = checkThis(this, "deriveBits");
      webidl.requiredArguments(arguments.length, 2, prefix);
      algorithm = algorithmIdentifier(algorithm, prefix, "Argument 1");
      baseKey = cryptoKey(baseKey, prefix, "Argument 2");
      length = length === null || length === undefined ? null :
        C["unsigned long"](length, prefix, "Argument 3");
      const normalized = normalizeAlgorithm(algorithm, "deriveBits");
      return deriveBitsOp(normalized, baseKey, length);
    });
  }

  importKey(format, keyData, algorithm, extractable, keyUsages_) {
    return run(() => {
      const prefix = checkThis(this, "importKey");
      webidl.requiredArguments(arguments.length, 5, prefix);
      format = keyFormat(format, prefix, "Argument 1");
      const data = keyDataArgument(keyData, prefix);
      algorithm = algorithmIdentifier(algorithm, prefix, "Argument 3");
      extractable = C.boolean(extractable);
      const usages = keyUsages(keyUsages_, prefix, "Argument 5");
      const normalized = normalizeAlgorithm(algorithm, "importKey");
      if (format === "jwk") {
        if (data.jwk === undefined) {
          throw new TypeErrorCtor(`${prefix}: the key data of format 'jwk' must be a JsonWebKey.`);
        }
      } else if (data.bytes === undefined) {
        throw new TypeErrorCtor(`${prefix}: the key data of format '${format}' must be a BufferSource.`);
      } else {
        data.bytes = copyBytes(data.bytes);
      }
      return (async () => {
        await undefined;
        return await importOp(format, normalized, data, extractable, usages);
      })();
    });
  }

  exportKey(format, key) {
    return run(() => {
      const prefix = checkThis(this, "exportKey");
      webidl.requiredArguments(arguments.length, 2, prefix);
      format = keyFormat(format, prefix, "Argument 1");
      key = cryptoKey(key, prefix, "Argument 2");
      return (async () => {
        await undefined;
        return await exportOp(format, key);
      })();
    });
  }

  wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    return run(() => {
      const prefix = checkThis(this, "wrapKey");
      webidl.requiredArguments(arguments.length, 4, prefix);
      format = keyFormat(format, prefix, "Argument 1");
      key = cryptoKey(key, prefix, "Argument 2");
      wrappingKey = cryptoKey(wrappingKey, prefix, "Argument 3");
      wrapAlgorithm = algorithmIdentifier(wrapAlgorithm, prefix, "Argument 4");
      const normalized = normalizeEither(wrapAlgorithm, "wrapKey", "encrypt");
      return wrapOp(format, key, wrappingKey, normalized);
    });
  }

  unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm,
    extractable, keyUsages_) {
    return run(() => {
      const prefix = checkThis(this, "unwrapKey");
      webidl.requiredArguments(arguments.length, 7, prefix);
      format = keyFormat(format, prefix, "Argument 1");
      wrappedKey = bufferSource(wrappedKey, prefix, "Argument 2");
      unwrappingKey = cryptoKey(unwrappingKey, prefix, "Argument 3");
      unwrapAlgorithm = algorithmIdentifier(unwrapAlgorithm, prefix, "Argument 4");
      unwrappedKeyAlgorithm = algorithmIdentifier(unwrappedKeyAlgorithm, prefix, "Argument 5");
      extractable = C.boolean(extractable);
      const usages = keyUsages(keyUsages_, prefix, "Argument 7");
      const normalized = normalizeEither(unwrapAlgorithm, "unwrapKey", "decrypt");
      const keyAlg = normalizeAlgorithm(unwrappedKeyAlgorithm, "importKey");
      return unwrapOp(format, copyBytes(wrappedKey), unwrappingKey, normalized, keyAlg,
        extractable, usages);
    });
  }

  /** Cloudflare extension: constant-time comparison of two equally long buffers. */
  timingSafeEqual(a, b) {
    const prefix = checkThis(this, "timingSafeEqual");
    webidl.requiredArguments(arguments.length, 2, prefix);
    const x = copyBytes(bufferSource(a, prefix, "Argument 1"));
    const y = copyBytes(bufferSource(b, prefix, "Argument 2"));
    if (x.length !== y.length) {
      throw new TypeErrorCtor(`${prefix}: Input buffers must have the same byte length.`);
    }
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }
}

webidl.configureInterface(SubtleCrypto);
subtleObject = new SubtleCrypto(TOKEN);
internals.crypto.subtle = subtleObject;
internals.exposeGlobal("SubtleCrypto", SubtleCrypto);

// -- crypto.DigestStream (Cloudflare extension) -------------------------------------------

const { WritableStream } = internals.streams;

function chunkBytes(chunk) {
  if (typeof chunk === "string") return internals.encoding.utf8Encode(chunk);
  return copyBytes(bufferSource(chunk, "Failed to write to 'DigestStream'", "chunk"));
}

let digestOf;

/**
 * A WritableStream that hashes what is written to it; `digest` resolves to the hash (an
 * ArrayBuffer) when the stream is closed, and rejects if it is aborted.
 */
class DigestStream extends WritableStream {
  #digest;

  static {
    digestOf = (x) => {
      if (x === null || typeof x !== "object" || !(#digest in x)) {
        throw new TypeErrorCtor("Failed to read the 'digest' property from 'DigestStream': Illegal invocation");
      }
      return x.#digest;
    };
  }

  constructor(algorithm) {
    const prefix = "Failed to construct 'DigestStream'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const normalized = normalizeAlgorithm(algorithmIdentifier(algorithm, prefix, "Argument 1"),
      "digest");
    const { promise, resolve, reject } = PromiseWithResolvers();
    PromisePrototypeThen(promise, undefined, () => {}); // an abort is not an unhandled rejection
    let handle = null;
    const opened = () => {
      if (handle === null) {
        handle = PromisePrototypeThen(callOp("crypto.hash.new", [{ name: normalized.name }]),
          ({ value }) => {
            FinalizationRegistryRegister(this, value);
            return value;
          });
      }
      return handle;
    };
    // Async functions that await (rather than return) promises: resolving a promise with
    // another one would call its (patchable) `then`.
    super({
      write: async (chunk) => {
        const bytes = chunkBytes(chunk);
        await callOp("crypto.hash.update", [await opened()], [bytes]);
      },
      close: async () => {
        const { bytes } = await callOp("crypto.hash.final", [await opened()]);
        resolve(toArrayBuffer(bytes));
      },
      abort: (reason) => {
        reject(reason);
        if (handle !== null) PromisePrototypeThen(handle, releaseHandle, () => {});
      },
    });
    this.#digest = promise;
  }

  get digest() {
    return digestOf(this);
  }
}

function FinalizationRegistryRegister(target, handle) {
  primordials.FinalizationRegistryPrototypeRegister(registry, target, handle);
}

webidl.configureInterface(DigestStream);
ObjectDefineProperty(internals.crypto.Crypto.prototype, "DigestStream", {
  value: DigestStream, writable: true, enumerable: false, configurable: true,
});
