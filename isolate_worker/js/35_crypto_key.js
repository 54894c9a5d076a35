// Web Cryptography API, part 2: the CryptoKey interface, algorithm normalization
// (https://w3c.github.io/webcrypto/#algorithm-normalization-normalize-an-algorithm) with the
// algorithm dictionaries it converts to, and the channel to the native operations.
//
// Keys live in Python (isolate_worker/crypto_ops.py) behind integer handles: a CryptoKey
// holds its handle, its type, extractability, algorithm and usages. When a CryptoKey is
// garbage collected, a FinalizationRegistry sends the handle back ("crypto.release"), so
// the key material is dropped; while an operation is under way, the keys it uses are
// pinned so that they cannot be collected (and released) before Python has used them.
// Exports: internals.cryptoKeys.

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeGetDetached,
  ArrayBufferPrototypeSlice,
  ArrayPrototypeIncludes,
  ArrayPrototypePush,
  ArrayPrototypeSort,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  FinalizationRegistry: FinalizationRegistryCtor,
  FinalizationRegistryPrototypeRegister,
  MathMin,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectHasOwn,
  ObjectKeys,
  PromisePrototypeThen,
  PromiseResolve,
  SafeMap,
  SafePromiseAll,
  StringFromCharCode,
  StringPrototypeCharCodeAt,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  TypedArrayPrototypeSlice,
  TypedArrayPrototypeSubarray,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;
const { webidl, DOMException } = internals;
const C = webidl.converters;
const { TOKEN } = internals.crypto;

function domError(message, name) {
  return new DOMException(message, name);
}

/** CreateDataProperty: never runs a setter a script put on Object.prototype. */
function setOwn(object, key, value) {
  ObjectDefineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

function copyArray(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) setOwn(out, i, list[i]);
  return out;
}

// -- bytes --------------------------------------------------------------------------------

function isArrayBuffer(v) {
  try {
    ArrayBufferPrototypeGetByteLength(v); // throws for anything else, SharedArrayBuffer too
    return true;
  } catch {
    return false;
  }
}

/** Web IDL BufferSource (not shared): the value itself, or a TypeError. */
function bufferSource(v, prefix, context) {
  if (ArrayBufferIsView(v)) {
    const buffer = TypedArrayPrototypeGetSymbolToStringTag(v) === undefined ?
      DataViewPrototypeGetBuffer(v) : TypedArrayPrototypeGetBuffer(v);
    if (isArrayBuffer(buffer)) return v; // not a SharedArrayBuffer
  } else if (isArrayBuffer(v)) {
    return v;
  }
  throw webidl.makeException(
    TypeErrorCtor, "is not of type '(ArrayBuffer or ArrayBufferView)'.", prefix, context,
  );
}

/** "Get a copy of the bytes held by the buffer source": a fresh Uint8Array (empty if detached). */
function copyBytes(v) {
  if (ArrayBufferIsView(v)) {
    let buffer, offset, length;
    if (TypedArrayPrototypeGetSymbolToStringTag(v) === undefined) {
      buffer = DataViewPrototypeGetBuffer(v);
      if (ArrayBufferPrototypeGetDetached(buffer)) return new Uint8ArrayCtor(0);
      offset = DataViewPrototypeGetByteOffset(v);
      length = DataViewPrototypeGetByteLength(v);
    } else {
      buffer = TypedArrayPrototypeGetBuffer(v);
      if (ArrayBufferPrototypeGetDetached(buffer)) return new Uint8ArrayCtor(0);
      offset = TypedArrayPrototypeGetByteOffset(v);
      length = TypedArrayPrototypeGetByteLength(v);
    }
    return TypedArrayPrototypeSlice(new Uint8ArrayCtor(buffer, offset, length));
  }
  if (ArrayBufferPrototypeGetDetached(v)) return new Uint8ArrayCtor(0);
  return new Uint8ArrayCtor(ArrayBufferPrototypeSlice(v));
}

const bufferSourceCopy = (v, prefix, context) => copyBytes(bufferSource(v, prefix, context));

/** The ArrayBuffer of a Uint8Array returned by an op (a fresh, exactly sized buffer). */
function toArrayBuffer(bytes) {
  if (bytes === null) return new Uint8ArrayCtor(0).buffer;
  const buffer = TypedArrayPrototypeGetBuffer(bytes);
  if (TypedArrayPrototypeGetByteOffset(bytes) === 0 &&
      ArrayBufferPrototypeGetByteLength(buffer) === TypedArrayPrototypeGetByteLength(bytes)) {
    return buffer;
  }
  return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(bytes));
}

function isUint8Array(v) {
  return ArrayBufferIsView(v) && TypedArrayPrototypeGetSymbolToStringTag(v) === "Uint8Array";
}

// -- the channel to crypto_ops.py ---------------------------------------------------------

const CHUNK = 1 << 20; // crypto_ops.CHUNK: the largest payload one op message carries
const pins = new SafeMap(); // CryptoKey -> number of operations using it

function pin(key) {
  pins.set(key, (pins.get(key) ?? 0) + 1);
}

function unpin(key) {
  const n = pins.get(key);
  if (n === 1) pins.delete(key);
  else pins.set(key, n - 1);
}

const hostOp = (name, args, bytes = null) => internals.host.op(name, args, bytes);

function concat(blobs, total) {
  if (blobs.length === 1) return blobs[0];
  const out = new Uint8ArrayCtor(total);
  let offset = 0;
  for (let i = 0; i < blobs.length; i++) {
    TypedArrayPrototypeSet(out, blobs[i], offset);
    offset += blobs[i].length;
  }
  return out;
}

/**
 * Run crypto op `name` with JSON arguments `args` and byte strings `blobs` (the op finds
 * them by index: see crypto_ops.py). `keys` are pinned until the op has finished.
 * Resolves to { value, bytes }.
 */
async function callOp(name, args, blobs = [], keys = []) {
  for (let i = 0; i < keys.length; i++) pin(keys[i]);
  try {
    const lens = [];
    let total = 0;
    for (let i = 0; i < blobs.length; i++) {
      ArrayPrototypePush(lens, blobs[i].length);
      total += blobs[i].length;
    }
    const meta = { __proto__: null, lens };
    let payload = null;
    if (total > CHUNK) {
      // Too big for one message: upload in pieces first.
      const { value: upload } = await hostOp("crypto.upload.begin", [{}]);
      const pending = [];
      let offset = 0;
      for (let i = 0; i < blobs.length; i++) {
        const blob = blobs[i];
        for (let start = 0; start < blob.length; start += CHUNK) {
          const piece = TypedArrayPrototypeSubarray(blob, start, MathMin(blob.length, start + CHUNK));
          ArrayPrototypePush(pending, hostOp("crypto.upload.chunk",
            [upload, offset + start, { lens: [piece.length] }], piece));
        }
        offset += blob.length;
      }
      try {
        await SafePromiseAll(pending);
      } catch (e) {
        releaseHandle(upload);
        throw e;
      }
      meta.upload = upload;
    } else if (blobs.length > 0) {
      payload = concat(blobs, total);
    }
    ArrayPrototypePush(args, meta);
    const result = await hostOp(name, args, payload);
    const value = result.value;
    if (value !== null && typeof value === "object" && ObjectHasOwn(value, "$download")) {
      return { value: value.value, bytes: await download(value.$download, value.length) };
    }
    return result;
  } finally {
    for (let i = 0; i < keys.length; i++) unpin(keys[i]);
  }
}

async function download(handle, length) {
  const out = new Uint8ArrayCtor(length);
  const pending = [];
  for (let start = 0; start < length; start += CHUNK) {
    const n = MathMin(CHUNK, length - start);
    ArrayPrototypePush(pending, PromisePrototypeThen(
      hostOp("crypto.download.read", [handle, start, n, {}]),
      ({ bytes }) => TypedArrayPrototypeSet(out, bytes, start),
    ));
  }
  try {
    await SafePromiseAll(pending);
  } finally {
    releaseHandle(handle);
  }
  return out;
}

// Handles of collected keys (and other native objects), sent back in batches.
let releaseQueue = [];
let releaseScheduled = false;

function flushReleases() {
  releaseScheduled = false;
  const handles = releaseQueue;
  releaseQueue = [];
  const ignore = () => {};
  PromisePrototypeThen(hostOp("crypto.release", [handles, {}]), ignore, ignore);
}

function releaseHandle(handle) {
  ArrayPrototypePush(releaseQueue, handle);
  if (!releaseScheduled) {
    releaseScheduled = true;
    PromisePrototypeThen(PromiseResolve(undefined), flushReleases);
  }
}

// A handle may be shared by several CryptoKeys (structuredClone makes a second CryptoKey for
// the same key): it is released when the last of them is collected.
const handleRefs = new SafeMap();

function retainHandle(handle) {
  handleRefs.set(handle, (handleRefs.get(handle) ?? 0) + 1);
}

function onCollected(handle) {
  const n = handleRefs.get(handle);
  if (n !== undefined && n > 1) {
    handleRefs.set(handle, n - 1);
    return;
  }
  handleRefs.delete(handle);
  releaseHandle(handle);
}

const registry = new FinalizationRegistryCtor(onCollected);

// -- CryptoKey ----------------------------------------------------------------------------

let keySlots;

/** Build the exposed KeyAlgorithm object (members in Web IDL order) from the op's JSON. */
function keyAlgorithmObject(desc) {
  const out = {};
  setOwn(out, "name", desc.name);
  if (desc.modulusLength !== undefined) {
    setOwn(out, "modulusLength", desc.modulusLength);
    setOwn(out, "publicExponent", new Uint8ArrayCtor(desc.publicExponent));
  }
  if (desc.namedCurve !== undefined) setOwn(out, "namedCurve", desc.namedCurve);
  if (desc.hash !== undefined) {
    const hash = {};
    setOwn(hash, "name", desc.hash.name);
    setOwn(out, "hash", hash);
  }
  if (desc.length !== undefined) setOwn(out, "length", desc.length);
  return out;
}

class CryptoKey {
  #slots;

  static {
    keySlots = (x) => (x !== null && typeof x === "object" && #slots in x ? x.#slots : undefined);
  }

  constructor(token = undefined, slots = undefined) {
    if (token !== TOKEN) webidl.illegalConstructor();
    this.#slots = slots;
  }

  get type() {
    return getSlots(this, "type").type;
  }

  get extractable() {
    return getSlots(this, "extractable").extractable;
  }

  get algorithm() {
    return getSlots(this, "algorithm").algorithm;
  }

  get usages() {
    return getSlots(this, "usages").usages;
  }
}

function getSlots(self, member) {
  const slots = keySlots(self);
  if (slots === undefined) {
    throw new TypeErrorCtor(`Failed to read the '${member}' property from 'CryptoKey': Illegal invocation`);
  }
  return slots;
}

webidl.configureInterface(CryptoKey);
internals.exposeGlobal("CryptoKey", CryptoKey);

/**
 * A CryptoKey for native key `handle`. `algorithmDesc` is the KeyAlgorithm as the op
 * returned it (JSON; kept private as the [[algorithm]] slot), `usageList` its usages.
 */
function createKey(handle, type, extractable, algorithmDesc, usageList) {
  const slots = ObjectFreeze({
    __proto__: null,
    handle,
    type,
    extractable: !!extractable,
    name: algorithmDesc.name,
    hash: algorithmDesc.hash === undefined ? undefined : algorithmDesc.hash.name,
    algorithmDesc,
    usageList: ObjectFreeze(copyArray(usageList)),
    algorithm: keyAlgorithmObject(algorithmDesc), // [[algorithm_cached]]
    usages: copyArray(usageList), // [[usages_cached]]
  });
  const key = new CryptoKey(TOKEN, slots);
  retainHandle(handle);
  FinalizationRegistryPrototypeRegister(registry, key, handle);
  return key;
}

/** A CryptoKey for the key descriptor an op returned ({ handle, type, algorithm, usages }). */
function makeKey(desc, extractable) {
  return createKey(desc.handle, desc.type, extractable, desc.algorithm, desc.usages);
}

// CryptoKey is [Serializable]: structuredClone() gives a new CryptoKey for the same key.
// The key material stays in this isolate, so it cannot be serialized for storage.
internals.structuredClone.registerSerializable({
  tag: "CryptoKey",
  is: (value) => keySlots(value) !== undefined,
  serialize(value, forStorage) {
    if (forStorage) throw domError("A CryptoKey cannot be stored.", "DataCloneError");
    const s = keySlots(value);
    return { handle: s.handle, type: s.type, extractable: s.extractable,
      algorithm: s.algorithmDesc, usages: copyArray(s.usageList) };
  },
  deserialize: (d) => createKey(d.handle, d.type, d.extractable, d.algorithm, d.usages),
});

const cryptoKey = webidl.createInterfaceConverter("CryptoKey", (v) => keySlots(v) !== undefined);

// -- Web IDL types of the API ------------------------------------------------------------

const KEY_USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey",
  "unwrapKey"];
const keyFormat = webidl.createEnumConverter("KeyFormat", ["raw", "spki", "pkcs8", "jwk"]);
const keyUsages = webidl.createSequenceConverter(
  webidl.createEnumConverter("KeyUsage", KEY_USAGES));

/** (object or DOMString): AlgorithmIdentifier and HashAlgorithmIdentifier. */
function algorithmIdentifier(v, prefix, context) {
  return webidl.type(v) === "Object" ? v : C.DOMString(v, prefix, context);
}

const enforce = (name) => (v, prefix, context) => C[name](v, prefix, context, { enforceRange: true });

function bigInteger(v, prefix, context) {
  if (!isUint8Array(v)) {
    throw webidl.makeException(TypeErrorCtor, "is not of type 'Uint8Array'.", prefix, context);
  }
  return copyBytes(bufferSource(v, prefix, context));
}

/**
 * A dictionary converter whose inherited members are read first, then its own in
 * lexicographic order (Web IDL); the result has no prototype.
 */
function dictionary(name, members, parent = null) {
  const own = ArrayPrototypeSort([...members], (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return (v, prefix, context) => {
    const t = webidl.type(v);
    if (t !== "Undefined" && t !== "Null" && t !== "Object") {
      throw webidl.makeException(
        TypeErrorCtor, `can not be converted to '${name}' because it is not an object.`, prefix,
        context,
      );
    }
    const result = parent === null ? { __proto__: null } : parent(v, prefix, context);
    for (let i = 0; i < own.length; i++) {
      const { key, converter, required } = own[i];
      const raw = t === "Object" ? v[key] : undefined;
      if (raw !== undefined) {
        result[key] = converter(raw, prefix, `'${key}' of '${name}'`);
      } else if (required) {
        throw webidl.makeException(
          TypeErrorCtor, `can not be converted to '${name}' because '${key}' is required.`,
          prefix, context,
        );
      }
    }
    return result;
  };
}

const Algorithm = dictionary("Algorithm", [{ key: "name", converter: C.DOMString, required: true }]);
// The algorithm dictionaries below are read after `name` was (normalization step 2); like
// browsers, the name is not read a second time (its getter may have side effects).
const AlgorithmRest = dictionary("Algorithm", []);
const hashMember = { key: "hash", converter: algorithmIdentifier, required: true };
const RsaKeyGenParams = dictionary("RsaKeyGenParams", [
  { key: "modulusLength", converter: enforce("unsigned long"), required: true },
  { key: "publicExponent", converter: bigInteger, required: true },
], AlgorithmRest);

const DICTIONARIES = {
  __proto__: null,
  RsaHashedKeyGenParams: dictionary("RsaHashedKeyGenParams", [hashMember], RsaKeyGenParams),
  RsaHashedImportParams: dictionary("RsaHashedImportParams", [hashMember], AlgorithmRest),
  RsaPssParams: dictionary("RsaPssParams", [
    { key: "saltLength", converter: enforce("unsigned long"), required: true },
  ], AlgorithmRest),
  RsaOaepParams: dictionary("RsaOaepParams", [{ key: "label", converter: bufferSourceCopy }],
    AlgorithmRest),
  EcdsaParams: dictionary("EcdsaParams", [hashMember], AlgorithmRest),
  EcKeyGenParams: dictionary("EcKeyGenParams", [
    { key: "namedCurve", converter: C.DOMString, required: true },
  ], AlgorithmRest),
  EcKeyImportParams: dictionary("EcKeyImportParams", [
    { key: "namedCurve", converter: C.DOMString, required: true },
  ], AlgorithmRest),
  EcdhKeyDeriveParams: dictionary("EcdhKeyDeriveParams", [
    { key: "public", converter: cryptoKey, required: true },
  ], AlgorithmRest),
  AesCtrParams: dictionary("AesCtrParams", [
    { key: "counter", converter: bufferSourceCopy, required: true },
    { key: "length", converter: enforce("octet"), required: true },
  ], AlgorithmRest),
  AesCbcParams: dictionary("AesCbcParams", [
    { key: "iv", converter: bufferSourceCopy, required: true },
  ], AlgorithmRest),
  AesGcmParams: dictionary("AesGcmParams", [
    { key: "iv", converter: bufferSourceCopy, required: true },
    { key: "additionalData", converter: bufferSourceCopy },
    { key: "tagLength", converter: enforce("octet") },
  ], AlgorithmRest),
  AesKeyGenParams: dictionary("AesKeyGenParams", [
    { key: "length", converter: enforce("unsigned short"), required: true },
  ], AlgorithmRest),
  AesDerivedKeyParams: dictionary("AesDerivedKeyParams", [
    { key: "length", converter: enforce("unsigned short"), required: true },
  ], AlgorithmRest),
  HmacImportParams: dictionary("HmacImportParams", [
    hashMember, { key: "length", converter: enforce("unsigned long") },
  ], AlgorithmRest),
  HmacKeyGenParams: dictionary("HmacKeyGenParams", [
    hashMember, { key: "length", converter: enforce("unsigned long") },
  ], AlgorithmRest),
  HkdfParams: dictionary("HkdfParams", [
    hashMember,
    { key: "salt", converter: bufferSourceCopy, required: true },
    { key: "info", converter: bufferSourceCopy, required: true },
  ], AlgorithmRest),
  Pbkdf2Params: dictionary("Pbkdf2Params", [
    hashMember,
    { key: "salt", converter: bufferSourceCopy, required: true },
    { key: "iterations", converter: enforce("unsigned long"), required: true },
  ], AlgorithmRest),
  Ed448Params: dictionary("Ed448Params", [{ key: "context", converter: bufferSourceCopy }],
    AlgorithmRest),
};

const RsaOtherPrimesInfo = dictionary("RsaOtherPrimesInfo", [
  { key: "r", converter: C.DOMString },
  { key: "d", converter: C.DOMString },
  { key: "t", converter: C.DOMString },
]);
const jwkMembers = [];
for (const key of ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi",
  "k"]) {
  ArrayPrototypePush(jwkMembers, { key, converter: C.DOMString });
}
ArrayPrototypePush(jwkMembers,
  { key: "key_ops", converter: webidl.createSequenceConverter(C.DOMString) },
  { key: "ext", converter: C.boolean },
  { key: "oth", converter: webidl.createSequenceConverter(RsaOtherPrimesInfo) });
const JsonWebKey = dictionary("JsonWebKey", jwkMembers);

/** A JsonWebKey dictionary from the op's JSON as an ordinary object (members sorted). */
function jwkToObject(jwk) {
  const out = {};
  const keys = ArrayPrototypeSort(ObjectKeys(jwk));
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    setOwn(out, k, k === "key_ops" ? copyArray(jwk[k]) : jwk[k]);
  }
  return out;
}

// -- algorithm normalization --------------------------------------------------------------

const RSA_GEN = "RsaHashedKeyGenParams", RSA_IMPORT = "RsaHashedImportParams";
const AES_NAMES = ["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW"];

/** The registered algorithms of each operation and the dictionary each one takes. */
const SUPPORTED = {
  __proto__: null,
  digest: { "SHA-1": null, "SHA-256": null, "SHA-384": null, "SHA-512": null },
  generateKey: {
    "RSASSA-PKCS1-v1_5": RSA_GEN, "RSA-PSS": RSA_GEN, "RSA-OAEP": RSA_GEN,
    "ECDSA": "EcKeyGenParams", "ECDH": "EcKeyGenParams",
    "AES-CTR": "AesKeyGenParams", "AES-CBC": "AesKeyGenParams", "AES-GCM": "AesKeyGenParams",
    "AES-KW": "AesKeyGenParams", "HMAC": "HmacKeyGenParams",
    "Ed25519": null, "Ed448": null, "X25519": null, "X448": null,
  },
  importKey: {
    "RSASSA-PKCS1-v1_5": RSA_IMPORT, "RSA-PSS": RSA_IMPORT, "RSA-OAEP": RSA_IMPORT,
    "ECDSA": "EcKeyImportParams", "ECDH": "EcKeyImportParams", "HMAC": "HmacImportParams",
    "AES-CTR": null, "AES-CBC": null, "AES-GCM": null, "AES-KW": null,
    "PBKDF2": null, "HKDF": null, "Ed25519": null, "Ed448": null, "X25519": null, "X448": null,
  },
  sign: {
    "RSASSA-PKCS1-v1_5": null, "RSA-PSS": "RsaPssParams", "ECDSA": "EcdsaParams", "HMAC": null,
    "Ed25519": null, "Ed448": "Ed448Params",
  },
  encrypt: {
    "RSA-OAEP": "RsaOaepParams", "AES-CTR": "AesCtrParams", "AES-CBC": "AesCbcParams",
    "AES-GCM": "AesGcmParams",
  },
  deriveBits: {
    "ECDH": "EcdhKeyDeriveParams", "X25519": "EcdhKeyDeriveParams",
    "X448": "EcdhKeyDeriveParams", "HKDF": "HkdfParams", "PBKDF2": "Pbkdf2Params",
  },
  wrapKey: { "AES-KW": null },
  "get key length": {
    "AES-CTR": "AesDerivedKeyParams", "AES-CBC": "AesDerivedKeyParams",
    "AES-GCM": "AesDerivedKeyParams", "AES-KW": "AesDerivedKeyParams",
    "HMAC": "HmacImportParams", "HKDF": null, "PBKDF2": null,
  },
};
SUPPORTED.verify = SUPPORTED.sign;
SUPPORTED.decrypt = SUPPORTED.encrypt;
SUPPORTED.unwrapKey = SUPPORTED.wrapKey;

function asciiUpper(s) {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    out += c >= 0x61 && c <= 0x7a ? StringFromCharCode(c - 32) : s[i];
  }
  return out;
}

const UPPER = { __proto__: null }; // operation -> { ASCII-uppercased name -> registered name }
for (const op of ObjectKeys(SUPPORTED)) {
  const table = { __proto__: null };
  for (const name of ObjectKeys(SUPPORTED[op])) table[asciiUpper(name)] = name;
  UPPER[op] = table;
}

/**
 * "Normalize an algorithm" for operation `op`: a dictionary (no prototype) whose `name` is
 * the registered name, BufferSource members copied, `hash` normalized for "digest".
 * Throws a TypeError (Web IDL conversion) or a NotSupportedError DOMException.
 */
function normalizeAlgorithm(alg, op) {
  if (webidl.type(alg) !== "Object") {
    return normalizeAlgorithm({ name: C.DOMString(alg) }, op);
  }
  const initial = Algorithm(alg, "Failed to normalize algorithm", "");
  const name = UPPER[op][asciiUpper(initial.name)];
  if (name === undefined) {
    throw domError(`Unrecognized algorithm name '${initial.name}' for ${op}.`, "NotSupportedError");
  }
  const desiredType = SUPPORTED[op][name];
  if (desiredType === null) return { __proto__: null, name };
  const normalized = DICTIONARIES[desiredType](alg, "Failed to normalize algorithm", desiredType);
  normalized.name = name;
  if (normalized.hash !== undefined) normalized.hash = normalizeAlgorithm(normalized.hash, "digest");
  return normalized;
}

/** The normalized parameters as op arguments: bytes become blobs, keys are left out. */
function encodeParams(normalized, blobs) {
  const out = { __proto__: null };
  const keys = ObjectKeys(normalized);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = normalized[k];
    if (isUint8Array(v)) {
      out[k] = { $b: blobs.length };
      ArrayPrototypePush(blobs, v);
    } else if (k === "hash") {
      out[k] = { name: v.name };
    } else if (k !== "public") {
      out[k] = v;
    }
  }
  return out;
}

const HASH_BLOCK_BITS = { __proto__: null, "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024,
  "SHA-512": 1024 };

/** The "get key length" operation of the algorithm of a derived key. */
function getKeyLength(normalized) {
  const name = normalized.name;
  if (ArrayPrototypeIncludes(AES_NAMES, name)) {
    const length = normalized.length;
    if (length !== 128 && length !== 192 && length !== 256) {
      throw domError("AES key length must be 128, 192 or 256 bits.", "OperationError");
    }
    return length;
  }
  if (name === "HMAC") {
    if (normalized.length === undefined) return HASH_BLOCK_BITS[normalized.hash.name];
    if (normalized.length !== 0) return normalized.length;
    throw new TypeErrorCtor("The HMAC key length must not be zero.");
  }
  return null; // HKDF, PBKDF2
}

internals.cryptoKeys = {
  CryptoKey,
  keySlots,
  makeKey,
  createKey,
  cryptoKey,
  keyFormat,
  keyUsages,
  algorithmIdentifier,
  bufferSource,
  copyBytes,
  toArrayBuffer,
  isArrayBuffer,
  isUint8Array,
  JsonWebKey,
  jwkToObject,
  normalizeAlgorithm,
  encodeParams,
  getKeyLength,
  callOp,
  releaseHandle,
  registry,
  domError,
  setOwn,
  copyArray,
  pins,
};
