// structuredClone() and the HTML standard's structured serialization (§2.7.3 - §2.7.7).
//
// serialize(value, transferList) turns a value into a tree of records, sharing records for
// shared references (so cycles survive); deserialize(records) builds fresh values from it.
// Records are plain objects { type, ... }; primitives are stored as themselves.
// Platform objects become serializable by registering with
// internals.structuredClone.registerSerializable (Blob and File do, in 20_blob.js).
// Exports: internals.structuredClone.

const {
  ArrayBuffer: ArrayBufferCtor,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeGetDetached,
  ArrayBufferPrototypeGetMaxByteLength,
  ArrayBufferPrototypeGetResizable,
  ArrayBufferPrototypeResize,
  ArrayBufferPrototypeSlice,
  ArrayBufferPrototypeTransfer,
  ArrayIsArray,
  ArrayPrototypePush,
  BigIntPrototypeValueOf,
  BooleanPrototypeValueOf,
  DataView: DataViewCtor,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  DatePrototypeGetTime,
  Date: DateCtor,
  Error: ErrorCtor,
  ErrorIsError,
  EvalError: EvalErrorCtor,
  MapPrototypeEntries,
  MapPrototypeGetSize,
  MapPrototypeSet,
  Map: MapCtor,
  NumberPrototypeValueOf,
  Number: NumberCtor,
  Object: ObjectCtor,
  ObjectSetPrototypeOf,
  Boolean: BooleanCtor,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectKeys,
  ObjectPrototypeHasOwnProperty,
  ObjectPrototypeToString,
  RangeError: RangeErrorCtor,
  ReferenceError: ReferenceErrorCtor,
  RegExp: RegExpCtor,
  RegExpPrototypeGetDotAll,
  RegExpPrototypeGetGlobal,
  RegExpPrototypeGetHasIndices,
  RegExpPrototypeGetIgnoreCase,
  RegExpPrototypeGetMultiline,
  RegExpPrototypeGetSticky,
  RegExpPrototypeGetUnicode,
  RegExpPrototypeGetUnicodeSets,
  RegExpPrototypeGetSource,
  SafeMap,
  SetPrototypeAdd,
  SetPrototypeGetSize,
  SetPrototypeValues,
  Set: SetCtor,
  SharedArrayBufferPrototypeGetByteLength,
  StringPrototypeValueOf,
  String: StringCtor,
  SyntaxError: SyntaxErrorCtor,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeEntries,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  URIError: URIErrorCtor,
  WeakMapPrototypeHas,
  WeakSetPrototypeHas,
  WeakRefPrototypeDeref,
  PromisePrototypeThen,
  ArrayBufferIsView,
} = primordials;

const { webidl, DOMException } = internals;

// Typed array constructors by name, captured before user code (Float16Array if V8 has it).
const TYPED_ARRAYS = primordials.TypedArrayConstructors;

const ERROR_PROTOTYPES = {
  __proto__: null,
  Error: ErrorCtor.prototype,
  EvalError: EvalErrorCtor.prototype,
  RangeError: RangeErrorCtor.prototype,
  ReferenceError: ReferenceErrorCtor.prototype,
  SyntaxError: SyntaxErrorCtor.prototype,
  TypeError: TypeErrorCtor.prototype,
  URIError: URIErrorCtor.prototype,
};

function dataCloneError(message) {
  return new DOMException(message, "DataCloneError");
}

// --- Brand checks (internal slots, not prototypes) ----------------------------------------------

function hasSlot(check, value) {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

const isBooleanObject = (v) => hasSlot(BooleanPrototypeValueOf, v);
const isNumberObject = (v) => hasSlot(NumberPrototypeValueOf, v);
const isBigIntObject = (v) => hasSlot(BigIntPrototypeValueOf, v);
const isStringObject = (v) => hasSlot(StringPrototypeValueOf, v);
const isDate = (v) => hasSlot(DatePrototypeGetTime, v);
const isRegExp = (v) => hasSlot(RegExpPrototypeGetSource, v) && v !== RegExpCtor.prototype;
const isArrayBuffer = (v) => hasSlot(ArrayBufferPrototypeGetByteLength, v);
const isSharedArrayBuffer = (v) => hasSlot(SharedArrayBufferPrototypeGetByteLength, v);
const isMap = (v) => hasSlot(MapPrototypeGetSize, v);
const isSet = (v) => hasSlot(SetPrototypeGetSize, v);
const isWeakMap = (v) => hasSlot((x) => WeakMapPrototypeHas(x, {}), v);
const isWeakSet = (v) => hasSlot((x) => WeakSetPrototypeHas(x, {}), v);
const isWeakRef = (v) => hasSlot(WeakRefPrototypeDeref, v);
// Promise.prototype.then on a non-promise throws before doing anything.
const isPromise = (v) => hasSlot((x) => PromisePrototypeThen(x, undefined, undefined), v);

// Registered serializable platform interfaces: { is(v), tag, serialize(v), deserialize(r) }.
const serializables = [];

function findSerializable(value) {
  for (let i = 0; i < serializables.length; i++) {
    if (serializables[i].is(value)) return serializables[i];
  }
  return null;
}

// --- StructuredSerializeInternal -----------------------------------------------------------------

/**
 * HTML StructuredSerializeInternal. `memory` maps values to their records (shared
 * references and cycles); `forStorage` forbids SharedArrayBuffers.
 */
function serializeInternal(value, forStorage, memory) {
  const type = typeof value;
  if (value === null || (type !== "object" && type !== "function")) {
    if (type === "symbol") throw dataCloneError("A Symbol could not be cloned.");
    return value;
  }
  const known = memory.get(value);
  if (known !== undefined) return known;
  if (type === "function") throw dataCloneError(`${describe(value)} could not be cloned.`);
  const record = serializeObject(value, forStorage, memory);
  return record;
}

function describe(value) {
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  try {
    return ObjectPrototypeToString(value);
  } catch {
    return "The object";
  }
}

/** Serialize an object; the record is put in memory before its contents (cycles). */
function serializeObject(value, forStorage, memory) {
  let record;
  if (ArrayIsArray(value)) {
    record = { type: "Array", length: value.length, properties: [] };
    memory.set(value, record);
    serializeProperties(value, record.properties, forStorage, memory);
    return record;
  }
  if (ArrayBufferIsView(value)) {
    record = serializeView(value, forStorage, memory);
    memory.set(value, record);
    return record;
  }
  const platform = findSerializable(value);
  if (platform !== null) {
    record = { type: "Platform", tag: platform.tag, data: platform.serialize(value, forStorage) };
    memory.set(value, record);
    return record;
  }
  record = serializeBuiltin(value, forStorage);
  if (record !== null) {
    memory.set(value, record);
    if (record.type === "Map") serializeMapEntries(value, record, forStorage, memory);
    else if (record.type === "Set") serializeSetValues(value, record, forStorage, memory);
    return record;
  }
  rejectUncloneable(value);
  record = { type: "Object", properties: [] };
  memory.set(value, record);
  serializeProperties(value, record.properties, forStorage, memory);
  return record;
}

// RegExp.prototype's flag getters, in the order of RegExp.prototype.flags. Each reads the
// [[OriginalFlags]] internal slot, where the `flags` getter reads (user-changeable)
// properties of the object.
const REGEXP_FLAGS = [
  ["d", RegExpPrototypeGetHasIndices],
  ["g", RegExpPrototypeGetGlobal],
  ["i", RegExpPrototypeGetIgnoreCase],
  ["m", RegExpPrototypeGetMultiline],
  ["s", RegExpPrototypeGetDotAll],
  ["u", RegExpPrototypeGetUnicode],
  ["v", RegExpPrototypeGetUnicodeSets],
  ["y", RegExpPrototypeGetSticky],
];

/** HTML: a RegExp is serialized with its [[OriginalFlags]], not its `flags` property. */
function regExpOriginalFlags(value) {
  let flags = "";
  for (let i = 0; i < REGEXP_FLAGS.length; i++) {
    const getter = REGEXP_FLAGS[i][1];
    if (getter !== undefined && getter(value)) flags += REGEXP_FLAGS[i][0];
  }
  return flags;
}

/** Records for the ECMAScript built-ins with internal slots, or null for other objects. */
function serializeBuiltin(value, forStorage) {
  if (isDate(value)) return { type: "Date", time: DatePrototypeGetTime(value) };
  if (isRegExp(value)) {
    return {
      type: "RegExp",
      source: RegExpPrototypeGetSource(value),
      flags: regExpOriginalFlags(value),
    };
  }
  if (isArrayBuffer(value)) return serializeArrayBuffer(value);
  if (isSharedArrayBuffer(value)) {
    if (forStorage) throw dataCloneError("A SharedArrayBuffer cannot be stored.");
    return { type: "SharedArrayBuffer", buffer: value };
  }
  if (isMap(value)) return { type: "Map", entries: [] };
  if (isSet(value)) return { type: "Set", values: [] };
  if (isBooleanObject(value)) return { type: "Boolean", value: BooleanPrototypeValueOf(value) };
  if (isNumberObject(value)) return { type: "Number", value: NumberPrototypeValueOf(value) };
  if (isBigIntObject(value)) return { type: "BigInt", value: BigIntPrototypeValueOf(value) };
  if (isStringObject(value)) return { type: "String", value: StringPrototypeValueOf(value) };
  if (internals.domException.isDOMException(value)) {
    const { name, message } = internals.domException.getData(value);
    return { type: "DOMException", name, message, stack: ownStack(value) };
  }
  if (ErrorIsError(value)) return serializeError(value);
  return null;
}

/**
 * HTML: objects that are neither serializable nor ordinary throw a DataCloneError. That is
 * every platform object whose interface is not registered as serializable (URL, Headers,
 * streams, ...: webidl.interfaceOf knows them all), and the built-ins with internal slots
 * that have no serialization.
 */
function rejectUncloneable(value) {
  const platform = webidl.interfaceOf(value);
  if (platform !== null) throw dataCloneError(`${platform} object could not be cloned.`);
  if (isWeakMap(value) || isWeakSet(value) || isWeakRef(value) || isPromise(value) ||
      internals.events.isEventTarget(value) || internals.events.isEvent(value)) {
    throw dataCloneError(`${describe(value)} could not be cloned.`);
  }
}

function serializeArrayBuffer(value) {
  if (ArrayBufferPrototypeGetDetached(value)) {
    throw dataCloneError("A detached ArrayBuffer could not be cloned.");
  }
  const record = { type: "ArrayBuffer", data: ArrayBufferPrototypeSlice(value, 0) };
  if (ArrayBufferPrototypeGetResizable(value)) {
    record.maxByteLength = ArrayBufferPrototypeGetMaxByteLength(value);
  }
  return record;
}

/**
 * Whether a view tracks the length of its resizable ArrayBuffer. JavaScript cannot ask
 * directly, so the buffer is resized by one element and back (contents are kept): a
 * length-tracking view follows, a fixed-length one does not.
 */
function isLengthTracking(view, buffer, byteOffset, byteLength, elementSize, getLength) {
  if (!isArrayBuffer(buffer) || !ArrayBufferPrototypeGetResizable(buffer)) return false;
  const length = ArrayBufferPrototypeGetByteLength(buffer);
  // A length-tracking view always reaches to the last whole element of its buffer.
  if (byteOffset + byteLength + elementSize <= length) return false;
  const before = getLength(view);
  if (length + elementSize <= ArrayBufferPrototypeGetMaxByteLength(buffer)) {
    ArrayBufferPrototypeResize(buffer, length + elementSize);
    const tracking = getLength(view) !== before;
    ArrayBufferPrototypeResize(buffer, length);
    return tracking;
  }
  if (length < elementSize) return false;
  const saved = ArrayBufferPrototypeSlice(buffer, length - elementSize, length);
  ArrayBufferPrototypeResize(buffer, length - elementSize);
  let tracking;
  try {
    tracking = getLength(view) !== before || before === 0;
  } catch {
    tracking = false; // a fixed-length view went out of bounds
  }
  ArrayBufferPrototypeResize(buffer, length);
  new TYPED_ARRAYS.Uint8Array(buffer, length - elementSize).set(new TYPED_ARRAYS.Uint8Array(saved));
  return tracking;
}

function typedArrayLengthChecked(view) {
  TypedArrayPrototypeEntries(view); // throws when out of bounds
  return TypedArrayPrototypeGetLength(view);
}

function serializeView(value, forStorage, memory) {
  const tag = TypedArrayPrototypeGetSymbolToStringTag(value);
  if (tag === undefined) {
    let byteLength;
    try {
      byteLength = DataViewPrototypeGetByteLength(value);
    } catch {
      throw dataCloneError("A DataView that is out of bounds could not be cloned.");
    }
    const buffer = DataViewPrototypeGetBuffer(value);
    const byteOffset = DataViewPrototypeGetByteOffset(value);
    const tracking = isLengthTracking(value, buffer, byteOffset, byteLength, 1,
      DataViewPrototypeGetByteLength);
    return {
      type: "ArrayBufferView",
      constructor: "DataView",
      buffer: serializeInternal(buffer, forStorage, memory),
      byteOffset,
      length: tracking ? undefined : byteLength,
    };
  }
  const buffer = TypedArrayPrototypeGetBuffer(value);
  if (!isSharedArrayBuffer(buffer) && ArrayBufferPrototypeGetDetached(buffer)) {
    throw dataCloneError("A view of a detached ArrayBuffer could not be cloned.");
  }
  try {
    TypedArrayPrototypeEntries(value); // validates: throws when out of bounds
  } catch {
    throw dataCloneError("A typed array that is out of bounds could not be cloned.");
  }
  const byteOffset = TypedArrayPrototypeGetByteOffset(value);
  const length = TypedArrayPrototypeGetLength(value);
  const elementSize = TYPED_ARRAYS[tag].BYTES_PER_ELEMENT;
  const tracking = isLengthTracking(value, buffer, byteOffset, length * elementSize, elementSize,
    typedArrayLengthChecked);
  return {
    type: "ArrayBufferView",
    constructor: tag,
    buffer: serializeInternal(buffer, forStorage, memory),
    byteOffset,
    length: tracking ? undefined : length, // undefined: length-tracking ("auto")
  };
}

function ownStack(value) {
  const desc = ObjectGetOwnPropertyDescriptor(value, "stack");
  if (desc !== undefined && "value" in desc && typeof desc.value === "string") return desc.value;
  if (desc !== undefined && desc.get !== undefined) {
    try {
      const stack = value.stack;
      return typeof stack === "string" ? stack : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** HTML's Error serialization: name (one of the native error names), message, and stack. */
function serializeError(value) {
  let name = value.name;
  if (typeof name !== "string" || ERROR_PROTOTYPES[name] === undefined) name = "Error";
  const desc = ObjectGetOwnPropertyDescriptor(value, "message");
  const message = desc !== undefined && "value" in desc ? `${desc.value}` : undefined;
  return { type: "Error", name, message, stack: ownStack(value) };
}

function serializeMapEntries(value, record, forStorage, memory) {
  // Copy the entries first: serializing one may not change which get serialized.
  const copied = [];
  for (const entry of MapPrototypeEntries(value)) ArrayPrototypePush(copied, entry);
  for (let i = 0; i < copied.length; i++) {
    const key = serializeInternal(copied[i][0], forStorage, memory);
    const val = serializeInternal(copied[i][1], forStorage, memory);
    ArrayPrototypePush(record.entries, key, val);
  }
}

function serializeSetValues(value, record, forStorage, memory) {
  const copied = [];
  for (const v of SetPrototypeValues(value)) ArrayPrototypePush(copied, v);
  for (let i = 0; i < copied.length; i++) {
    ArrayPrototypePush(record.values, serializeInternal(copied[i], forStorage, memory));
  }
}

/** Own enumerable string-keyed properties, read with [[Get]] if still present. */
function serializeProperties(value, out, forStorage, memory) {
  const keys = ObjectKeys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!ObjectPrototypeHasOwnProperty(value, key)) continue;
    ArrayPrototypePush(out, key, serializeInternal(value[key], forStorage, memory));
  }
}

// --- StructuredSerializeWithTransfer -------------------------------------------------------------

/**
 * HTML StructuredSerializeWithTransfer, for ArrayBuffers: the buffers in `transferList` are
 * detached (their memory moves to the records) once the whole value serialized.
 */
function serializeWithTransfer(value, transferList = [], forStorage = false) {
  return serializeTransferring(value, transferList, forStorage).serialized;
}

/**
 * StructuredSerializeWithTransfer: { serialized, transferred }, where `transferred` are
 * the records of the transfer list's values, in its order. ArrayBuffers and registered
 * platform transferables (MessagePort) are detached once the whole value serialized.
 */
function serializeTransferring(value, transferList, forStorage) {
  const memory = new SafeMap();
  const transfers = [];
  const transferred = [];
  for (let i = 0; i < transferList.length; i++) {
    const transferable = transferList[i];
    const platform = isArrayBuffer(transferable) ? null : findTransferable(transferable);
    if (platform === null && !isArrayBuffer(transferable)) {
      if (isSharedArrayBuffer(transferable)) {
        throw dataCloneError("A SharedArrayBuffer cannot be transferred.");
      }
      throw dataCloneError(`${describe(transferable)} is not transferable.`);
    }
    if (memory.has(transferable)) {
      throw dataCloneError(`${describe(transferable)} is listed more than once in the transfer list.`);
    }
    const placeholder = platform === null
      ? { type: "TransferredArrayBuffer", buffer: null }
      : { type: "Transferred", tag: platform.tag, data: null };
    memory.set(transferable, placeholder);
    ArrayPrototypePush(transfers, [transferable, placeholder, platform]);
    ArrayPrototypePush(transferred, placeholder);
  }
  const serialized = serializeInternal(value, forStorage, memory);
  for (let i = 0; i < transfers.length; i++) {
    const transferable = transfers[i][0], platform = transfers[i][2];
    const detached = platform === null
      ? ArrayBufferPrototypeGetDetached(transferable)
      : platform.isDetached(transferable);
    if (detached) throw dataCloneError(`A detached ${describe(transferable)} cannot be transferred.`);
  }
  for (let i = 0; i < transfers.length; i++) {
    const transferable = transfers[i][0], placeholder = transfers[i][1];
    const platform = transfers[i][2];
    if (platform !== null) {
      placeholder.data = platform.transfer(transferable);
      continue;
    }
    try {
      placeholder.buffer = ArrayBufferPrototypeTransfer(transferable);
    } catch {
      throw dataCloneError("The ArrayBuffer cannot be transferred.");
    }
  }
  return { serialized, transferred };
}

// Registered transferable platform interfaces: { tag, is, isDetached, transfer, receive }.
const transferables = [];

function findTransferable(value) {
  if (value === null || typeof value !== "object") return null;
  for (let i = 0; i < transferables.length; i++) {
    if (transferables[i].is(value)) return transferables[i];
  }
  return null;
}

// --- StructuredDeserialize ------------------------------------------------------------------------

function deserializeInternal(record, memory) {
  if (record === null || typeof record !== "object") return record;
  const known = memory.get(record);
  if (known !== undefined) return known;
  let value;
  switch (record.type) {
    case "Boolean":
      value = new BooleanCtor(record.value);
      break;
    case "Number":
      value = new NumberCtor(record.value);
      break;
    case "BigInt":
      value = ObjectCtor(record.value);
      break;
    case "String":
      value = new StringCtor(record.value);
      break;
    case "Date":
      value = new DateCtor(record.time);
      break;
    case "RegExp":
      value = new RegExpCtor(record.source, record.flags);
      break;
    case "ArrayBuffer":
      value = deserializeArrayBuffer(record);
      break;
    case "TransferredArrayBuffer":
      value = record.buffer;
      break;
    case "Transferred":
      value = receiveTransferred(record);
      break;
    case "SharedArrayBuffer":
      value = record.buffer;
      break;
    case "ArrayBufferView":
      value = deserializeView(record, memory);
      break;
    case "Map":
      value = new MapCtor();
      memory.set(record, value);
      for (let i = 0; i < record.entries.length; i += 2) {
        MapPrototypeSet(value, deserializeInternal(record.entries[i], memory),
          deserializeInternal(record.entries[i + 1], memory));
      }
      return value;
    case "Set":
      value = new SetCtor();
      memory.set(record, value);
      for (let i = 0; i < record.values.length; i++) {
        SetPrototypeAdd(value, deserializeInternal(record.values[i], memory));
      }
      return value;
    case "Error":
      value = deserializeError(record);
      break;
    case "DOMException":
      value = new DOMException(record.message, record.name);
      if (record.stack !== undefined) defineHidden(value, "stack", record.stack);
      break;
    case "Platform":
      value = deserializePlatform(record);
      break;
    case "Array":
      value = [];
      value.length = record.length;
      memory.set(record, value);
      deserializeProperties(value, record.properties, memory);
      return value;
    case "Object":
      value = {};
      memory.set(record, value);
      deserializeProperties(value, record.properties, memory);
      return value;
    default:
      throw dataCloneError(`Unknown serialized record type ${record.type}.`);
  }
  memory.set(record, value);
  return value;
}

function deserializeArrayBuffer(record) {
  const data = record.data;
  if (record.maxByteLength === undefined) return ArrayBufferPrototypeSlice(data, 0);
  const length = ArrayBufferPrototypeGetByteLength(data);
  const buffer = new ArrayBufferCtor(length, { maxByteLength: record.maxByteLength });
  new TYPED_ARRAYS.Uint8Array(buffer).set(new TYPED_ARRAYS.Uint8Array(data));
  return buffer;
}

function deserializeView(record, memory) {
  const buffer = deserializeInternal(record.buffer, memory);
  if (record.constructor === "DataView") {
    return new DataViewCtor(buffer, record.byteOffset, record.length);
  }
  const Ctor = TYPED_ARRAYS[record.constructor];
  if (Ctor === undefined) throw dataCloneError(`Unknown typed array ${record.constructor}.`);
  return new Ctor(buffer, record.byteOffset, record.length);
}

function defineHidden(obj, key, value) {
  ObjectDefineProperty(obj, key, { value, writable: true, enumerable: false, configurable: true });
}

function deserializeError(record) {
  // A real Error object (it has [[ErrorData]]) whose prototype is the named error's.
  const error = new ErrorCtor();
  ObjectSetPrototypeOf(error, ERROR_PROTOTYPES[record.name] ?? ERROR_PROTOTYPES.Error);
  if (record.message !== undefined) defineHidden(error, "message", record.message);
  if (record.stack !== undefined) defineHidden(error, "stack", record.stack);
  return error;
}

function receiveTransferred(record) {
  for (let i = 0; i < transferables.length; i++) {
    if (transferables[i].tag === record.tag) return transferables[i].receive(record.data);
  }
  throw dataCloneError(`Cannot receive a transferred ${record.tag}.`);
}

function deserializePlatform(record) {
  for (let i = 0; i < serializables.length; i++) {
    if (serializables[i].tag === record.tag) return serializables[i].deserialize(record.data);
  }
  throw dataCloneError(`Cannot deserialize a ${record.tag}.`);
}

function deserializeProperties(value, properties, memory) {
  for (let i = 0; i < properties.length; i += 2) {
    ObjectDefineProperty(value, properties[i], {
      value: deserializeInternal(properties[i + 1], memory),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}

// --- structuredClone() ------------------------------------------------------------------------------

const convertTransferList = webidl.createSequenceConverter(webidl.converters.object);
const convertOptions = webidl.createDictionaryConverter("StructuredSerializeOptions", [
  { key: "transfer", converter: convertTransferList, defaultValue: [] },
]);

function structuredClone(value, options = undefined) {
  const prefix = "Failed to execute 'structuredClone'";
  webidl.requiredArguments(arguments.length, 1, prefix);
  const { transfer } = convertOptions(options, prefix, "Argument 2");
  const serialized = serializeWithTransfer(value, transfer, false);
  return deserializeInternal(serialized, new SafeMap());
}

internals.structuredClone = {
  /** StructuredSerializeWithTransfer(value, transferList) -> records. */
  serialize: (value, transferList = [], { forStorage = false } = {}) =>
    serializeWithTransfer(value, transferList, forStorage),
  /** StructuredDeserialize(records) -> a new value. */
  deserialize: (serialized) => deserializeInternal(serialized, new SafeMap()),
  /**
   * StructuredSerializeWithTransfer keeping the transfer list's records:
   * { serialized, transferred }, for deserializeWithTransfer.
   */
  serializeWithTransfer: (value, transferList = []) =>
    serializeTransferring(value, transferList, false),
  /**
   * StructuredDeserializeWithTransfer: { value, transferred } where `transferred` are the
   * new values of the transfer list (MessageEvent.ports takes the MessagePorts).
   */
  deserializeWithTransfer({ serialized, transferred }) {
    const memory = new SafeMap();
    const value = deserializeInternal(serialized, memory);
    const values = [];
    for (let i = 0; i < transferred.length; i++) {
      ArrayPrototypePush(values, deserializeInternal(transferred[i], memory));
    }
    return { value, transferred: values };
  },
  /**
   * Make a platform interface transferable: `is(value)`, `isDetached(value)`,
   * `transfer(value)` (detaches it, returns plain data) and `receive(data)` (a new object).
   */
  registerTransferable({ tag, is, isDetached, transfer, receive }) {
    ArrayPrototypePush(transferables, { tag, is, isDetached, transfer, receive });
  },
  /** structuredClone without the IDL layer. */
  clone: (value, transferList = []) =>
    deserializeInternal(serializeWithTransfer(value, transferList, false), new SafeMap()),
  /**
   * Make a platform interface serializable: `is(value)` recognises its instances,
   * `serialize(value, forStorage)` returns plain data, `deserialize(data)` a new instance.
   */
  registerSerializable({ tag, is, serialize, deserialize }) {
    ArrayPrototypePush(serializables, { tag, is, serialize, deserialize });
  },
};

internals.exposeGlobalOperation("structuredClone", structuredClone); // WindowOrWorkerGlobalScope
