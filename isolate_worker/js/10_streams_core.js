// Streams, part 1: what every stream class shares (https://streams.spec.whatwg.org/).
//
//   * private slots: how a public object (a ReadableStream, a reader, ...) finds its internal
//     record without any property a script could reach;
//   * promise helpers matching the spec's vocabulary ("a new promise", "resolve", "upon
//     fulfillment", "set [[PromiseIsHandled]] to true");
//   * callback invocation with Web IDL's rules (a throwing promise-returning callback gives a
//     rejected promise);
//   * queue-with-sizes (§8.1), the queuing strategy classes and their abstract operations
//     (§7), and the ArrayBuffer operations of §8.3 (TransferArrayBuffer, ...).
//
// Layout of the streams files: every algorithm works on *records* - plain internal objects
// whose fields are the spec's internal slots (stream.state, reader.readRequests,
// controller.queueTotalSize, ...). A public object (what scripts see) holds its record in a
// private slot, and a record points back to its public object as `record.object` when it has
// one. The abstract operations of all streams files meet in `internals.streamsImpl`; each
// later file reads what it needs from earlier files at load time and reaches into later files
// at call time only.

const {
  ArrayBuffer: ArrayBufferCtor,
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeGetDetached,
  ArrayBufferPrototypeGetResizable,
  ArrayBufferPrototypeSlice,
  ArrayBufferPrototypeTransfer,
  ArrayPrototypePush,
  DataView: DataViewCtor,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  FunctionPrototypeCall,
  NumberIsNaN,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  Promise: PromiseCtor,
  PromisePrototypeThen,
  PromiseWithResolvers,
  RangeError: RangeErrorCtor,
  ReflectApply,
  SharedArrayBuffer: SharedArrayBufferCtor,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;

/** The streams' shared namespace of abstract operations (private to the runtime). */
const impl = internals.streamsImpl = ObjectCreate(null);

/** The hooks other runtime files use ("other specifications", §9 of the standard). */
internals.streams = ObjectCreate(null);

// ---------------------------------------------------------------------------------------------
// Private slots
// ---------------------------------------------------------------------------------------------

/**
 * A private slot: `attach(object, value)` stores `value` on `object` under a private name,
 * `get(object)` reads it back (undefined when absent, so it doubles as the brand check),
 * `of(object, member)` reads it or throws the TypeError of an illegal invocation of
 * `member` on `interfaceName` (the brand check of that interface's operations), and
 * `publicObject(record, klass)` gives a record its public object.
 * The trick: a base class whose constructor returns its argument lets a derived class
 * install its private field on any object, including one made by ObjectCreate.
 */
function createPrivateSlot(interfaceName = undefined) {
  class Through {
    constructor(object) {
      return object;
    }
  }
  class Slot extends Through {
    #value;
    constructor(object, value) {
      super(object);
      this.#value = value;
    }
    static get(object) {
      if (typeof object !== "object" || object === null || !(#value in object)) return undefined;
      return object.#value;
    }
  }
  const get = Slot.get;
  return {
    attach(object, value) {
      new Slot(object, value); // eslint-disable-line no-new
    },
    get,
    of(object, member) {
      const value = get(object);
      if (value === undefined) throw illegalInvocation(interfaceName, member);
      return value;
    },
    /** `record.object`, made on first use: a `klass` instance (no constructor run) holding `record`. */
    publicObject(record, klass) {
      if (record.object === undefined) {
        const object = createObject(klass);
        new Slot(object, record); // eslint-disable-line no-new
        record.object = object;
      }
      return record.object;
    },
  };
}
impl.createPrivateSlot = createPrivateSlot;

// ---------------------------------------------------------------------------------------------
// Promises
// ---------------------------------------------------------------------------------------------

function noop() {}

/**
 * "A new promise" whose state we can ask (the spec reads [[PromiseState]] in a few places):
 * { promise, resolve, reject, state }.
 */
function newPromise() {
  const { promise, resolve, reject } = PromiseWithResolvers();
  return { promise, resolve, reject, state: "pending" };
}

function resolvePromise(d, value) {
  if (d.state !== "pending") return;
  d.state = "fulfilled";
  d.resolve(value);
}

function rejectPromise(d, reason) {
  if (d.state !== "pending") return;
  d.state = "rejected";
  d.reject(reason);
}

/** A settled deferred: "a promise resolved with undefined" kept in a slot. */
function newResolvedPromise(value) {
  const d = newPromise();
  resolvePromise(d, value);
  return d;
}

function newRejectedPromise(reason) {
  const d = newPromise();
  rejectPromise(d, reason);
  return d;
}

/** Set promise.[[PromiseIsHandled]] to true: no unhandled-rejection report for it. */
function setPromiseIsHandled(promise) {
  PromisePrototypeThen(promise, undefined, noop);
}

/** Web IDL's "a promise resolved with x" (a new promise; thenables are adopted). */
function promiseResolvedWith(value) {
  const d = PromiseWithResolvers();
  if (typeof value === "object" && value !== null &&
      ObjectGetPrototypeOf(value) === primordials.Promise.prototype) {
    // A native promise: adopt its state with the captured `then` (a script's patched
    // Promise.prototype.then is not called), one job later, as resolve(value) would.
    PromisePrototypeThen(resolvedUndefinedPromise, () => {
      try {
        PromisePrototypeThen(value, d.resolve, d.reject);
      } catch {
        d.resolve(value); // not a real promise after all: the standard's way
      }
    });
  } else {
    d.resolve(value);
  }
  return d.promise;
}
const resolvedUndefinedPromise = primordials.PromiseResolve(undefined);

function promiseRejectedWith(reason) {
  const d = PromiseWithResolvers();
  d.reject(reason);
  return d.promise;
}

// Internal algorithms often return "a promise resolved with undefined" that no script ever
// sees (pull and cancel algorithms); they can all share one.
const resolvedUndefined = promiseResolvedWith(undefined);

/**
 * Web IDL's conversion of a callback's return value to Promise<undefined>: undefined and
 * other non-objects need no promise of their own; objects are adopted (their `then` is
 * looked up, as the spec requires).
 */
function promiseFromCallbackResult(value) {
  if (typeof value !== "object" && typeof value !== "function") return resolvedUndefined;
  if (value === null) return resolvedUndefined;
  return promiseResolvedWith(value);
}

/**
 * Call fn(a, b), an algorithm another runtime file gave a hook (§9 "set up"), as a
 * promise-returning algorithm: its result is converted like a callback's, a throw becomes a
 * rejected promise. (Scripts' callbacks are wrapped where their algorithms are built, with
 * their exact argument lists.)
 */
function promiseCall(fn, a, b) {
  try {
    return promiseFromCallbackResult(fn(a, b));
  } catch (e) {
    return promiseRejectedWith(e);
  }
}

/** "Upon fulfillment / rejection of promise" (reacts without consulting `then`). */
function uponPromise(promise, onFulfilled, onRejected) {
  PromisePrototypeThen(promise, onFulfilled, onRejected);
}

function uponFulfillment(promise, onFulfilled) {
  PromisePrototypeThen(promise, onFulfilled);
}

function uponRejection(promise, onRejected) {
  PromisePrototypeThen(promise, undefined, onRejected);
}

/** "The result of reacting to promise with ...": a new promise. */
function transformPromiseWith(promise, onFulfilled, onRejected) {
  return PromisePrototypeThen(promise, onFulfilled, onRejected);
}

/** Wait for every promise in a list; rejects with the first rejection. */
function waitForAll(promises) {
  return primordials.SafePromiseAll(promises);
}

/** Invoke a callback whose IDL return type is `any`: a throw propagates. */
function invokeCallback(fn, thisArg, args) {
  return ReflectApply(fn, thisArg, args);
}

Object.assign(impl, {
  noop,
  newPromise,
  resolvePromise,
  rejectPromise,
  newResolvedPromise,
  newRejectedPromise,
  setPromiseIsHandled,
  promiseResolvedWith,
  promiseRejectedWith,
  resolvedUndefined,
  promiseFromCallbackResult,
  promiseCall,
  uponPromise,
  uponFulfillment,
  uponRejection,
  transformPromiseWith,
  waitForAll,
  invokeCallback,
});

// ---------------------------------------------------------------------------------------------
// A FIFO queue with O(1) shift (arrays left-trim, but not reliably for long queues)
// ---------------------------------------------------------------------------------------------

// Its arrays have a null prototype: a script's index setter on Array.prototype or
// Object.prototype never sees the queued chunks or read requests.
class Queue {
  items = primordials.NullArray();
  head = 0;

  get length() {
    return this.items.length - this.head;
  }

  push(item) {
    ArrayPrototypePush(this.items, item);
  }

  peek() {
    return this.items[this.head];
  }

  at(i) {
    return this.items[this.head + i];
  }

  shift() {
    const items = this.items;
    const item = items[this.head];
    items[this.head] = undefined;
    this.head++;
    if (this.head === items.length) {
      this.items = primordials.NullArray();
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      // Compact: copy the live tail to a fresh array.
      const live = primordials.NullArray();
      for (let i = this.head; i < items.length; i++) ArrayPrototypePush(live, items[i]);
      this.items = live;
      this.head = 0;
    }
    return item;
  }

  /** Remove every item, returning them in order (for "set list to a new empty list"). */
  drain() {
    const out = primordials.NullArray();
    for (let i = this.head; i < this.items.length; i++) ArrayPrototypePush(out, this.items[i]);
    this.items = primordials.NullArray();
    this.head = 0;
    return out;
  }

  /** Keep only the first item ([[ReleaseSteps]] of a byte stream controller). */
  truncateToFirst() {
    const first = this.items[this.head];
    this.items = primordials.NullArray();
    this.items[0] = first;
    this.head = 0;
  }
}
impl.Queue = Queue;

// ---------------------------------------------------------------------------------------------
// Queue-with-sizes (§8.1). A container has `queue` (a Queue of {value, size}) and
// `queueTotalSize`.
// ---------------------------------------------------------------------------------------------

/** IsNonNegativeNumber(v) */
function IsNonNegativeNumber(v) {
  return typeof v === "number" && !NumberIsNaN(v) && v >= 0;
}

/** DequeueValue(container) */
function DequeueValue(container) {
  const pair = container.queue.shift();
  container.queueTotalSize -= pair.size;
  if (container.queueTotalSize < 0) container.queueTotalSize = 0; // rounding errors
  return pair.value;
}

/** EnqueueValueWithSize(container, value, size) */
function EnqueueValueWithSize(container, value, size) {
  if (!IsNonNegativeNumber(size)) {
    throw new RangeErrorCtor("The chunk size must be a finite, non-negative number.");
  }
  if (size === Infinity) {
    throw new RangeErrorCtor("The chunk size must be a finite, non-negative number.");
  }
  container.queue.push({ value, size });
  container.queueTotalSize += size;
}

/** PeekQueueValue(container) */
function PeekQueueValue(container) {
  return container.queue.peek().value;
}

/** ResetQueue(container) */
function ResetQueue(container) {
  container.queue = new Queue();
  container.queueTotalSize = 0;
}

Object.assign(impl, {
  IsNonNegativeNumber,
  DequeueValue,
  EnqueueValueWithSize,
  PeekQueueValue,
  ResetQueue,
});

// ---------------------------------------------------------------------------------------------
// Web IDL converters the streams need
// ---------------------------------------------------------------------------------------------

/** A callback function type: anything callable, else TypeError. */
function callbackConverter(v, prefix, context) {
  if (typeof v !== "function") {
    throw webidl.makeException(TypeErrorCtor, "is not a function.", prefix, context);
  }
  return v;
}

function enforceRangeUnsignedLongLong(v, prefix, context) {
  return converters["unsigned long long"](v, prefix, context, { enforceRange: true });
}

// Dictionaries: webidl.createDictionaryConverter, whose records have no prototype (reading
// or storing a member never reaches a getter or setter a script put on Object.prototype).
const { createDictionaryConverter } = webidl;

/** dictionary QueuingStrategy { unrestricted double highWaterMark; QueuingStrategySize size; } */
const convertQueuingStrategy = createDictionaryConverter("QueuingStrategy", [
  { key: "highWaterMark", converter: converters["unrestricted double"] },
  { key: "size", converter: callbackConverter },
]);

/** dictionary QueuingStrategyInit { required unrestricted double highWaterMark; } */
const convertQueuingStrategyInit = createDictionaryConverter("QueuingStrategyInit", [
  { key: "highWaterMark", converter: converters["unrestricted double"], required: true },
]);

/**
 * The ArrayBufferView IDL type: a typed array or DataView over an ArrayBuffer that is
 * neither shared nor resizable (no [AllowShared] or [AllowResizable] here).
 */
function arrayBufferViewConverter(v, prefix, context) {
  if (!ArrayBufferIsView(v)) {
    throw webidl.makeException(TypeErrorCtor, "is not an ArrayBufferView.", prefix, context);
  }
  const buffer = viewBuffer(v);
  if (isSharedArrayBuffer(buffer)) {
    throw webidl.makeException(TypeErrorCtor, "is backed by a SharedArrayBuffer.", prefix, context);
  }
  if (ArrayBufferPrototypeGetResizable(buffer)) {
    throw webidl.makeException(TypeErrorCtor, "is backed by a resizable ArrayBuffer.", prefix, context);
  }
  return v;
}

Object.assign(impl, {
  createDictionaryConverter,
  callbackConverter,
  enforceRangeUnsignedLongLong,
  convertQueuingStrategy,
  arrayBufferViewConverter,
});

// ---------------------------------------------------------------------------------------------
// Queuing strategies (§7)
// ---------------------------------------------------------------------------------------------

/** ExtractHighWaterMark(strategy, defaultHWM); `strategy` is a converted QueuingStrategy. */
function ExtractHighWaterMark(strategy, defaultHWM) {
  if (strategy.highWaterMark === undefined) return defaultHWM;
  const highWaterMark = strategy.highWaterMark;
  if (NumberIsNaN(highWaterMark) || highWaterMark < 0) {
    throw new RangeErrorCtor("Invalid highWaterMark: it must be a non-negative number.");
  }
  return highWaterMark;
}

function sizeOne() {
  return 1;
}

/** ExtractSizeAlgorithm(strategy) */
function ExtractSizeAlgorithm(strategy) {
  const size = strategy.size;
  if (size === undefined) return sizeOne;
  // Invoke the callback with an undefined this; its result is converted to unrestricted double.
  return (chunk) => converters["unrestricted double"](FunctionPrototypeCall(size, undefined, chunk));
}

Object.assign(impl, { ExtractHighWaterMark, ExtractSizeAlgorithm, sizeOne });

// The size functions are shared by every instance (one per global), with a `this`-free body.
const byteLengthSizeFunction = {
  size(chunk) {
    return chunk.byteLength;
  },
}.size;
const countSizeFunction = {
  size() {
    return 1;
  },
}.size;
// Built-in functions are not constructors and have no `prototype`; method shorthand gives that.

const byteLengthStrategySlot = createPrivateSlot();
const countStrategySlot = createPrivateSlot();

class ByteLengthQueuingStrategy {
  constructor(init) {
    const prefix = "Failed to construct 'ByteLengthQueuingStrategy'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const dict = convertQueuingStrategyInit(init, prefix, "Argument 1");
    byteLengthStrategySlot.attach(this, { highWaterMark: dict.highWaterMark });
  }

  get highWaterMark() {
    const slots = byteLengthStrategySlot.get(this);
    if (slots === undefined) throw new TypeErrorCtor("Illegal invocation");
    return slots.highWaterMark;
  }

  get size() {
    if (byteLengthStrategySlot.get(this) === undefined) throw new TypeErrorCtor("Illegal invocation");
    return byteLengthSizeFunction;
  }
}
webidl.configureInterface(ByteLengthQueuingStrategy);

class CountQueuingStrategy {
  constructor(init) {
    const prefix = "Failed to construct 'CountQueuingStrategy'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const dict = convertQueuingStrategyInit(init, prefix, "Argument 1");
    countStrategySlot.attach(this, { highWaterMark: dict.highWaterMark });
  }

  get highWaterMark() {
    const slots = countStrategySlot.get(this);
    if (slots === undefined) throw new TypeErrorCtor("Illegal invocation");
    return slots.highWaterMark;
  }

  get size() {
    if (countStrategySlot.get(this) === undefined) throw new TypeErrorCtor("Illegal invocation");
    return countSizeFunction;
  }
}
webidl.configureInterface(CountQueuingStrategy);

internals.exposeGlobals({ ByteLengthQueuingStrategy, CountQueuingStrategy });

// ---------------------------------------------------------------------------------------------
// ArrayBuffers and views (§8.3)
// ---------------------------------------------------------------------------------------------

const ArrayBufferPrototype = ArrayBufferCtor.prototype;
const SharedArrayBufferPrototype = SharedArrayBufferCtor.prototype;

/**
 * Whether `buffer` (an ArrayBuffer or SharedArrayBuffer) is shared. The prototype check is a
 * fast path that throws nothing (exceptions are slow); an object whose prototype was changed
 * falls back to the getter brand check.
 */
function isSharedArrayBuffer(buffer) {
  const proto = ObjectGetPrototypeOf(buffer);
  if (proto === ArrayBufferPrototype) return false;
  if (proto === SharedArrayBufferPrototype) return true;
  try {
    primordials.SharedArrayBufferPrototypeGetByteLength(buffer);
    return true;
  } catch {
    return false;
  }
}

/** True for a DataView, false for a typed array (the TypedArray toStringTag getter is safe). */
function isDataView(view) {
  return TypedArrayPrototypeGetSymbolToStringTag(view) === undefined;
}

function viewBuffer(view) {
  return isDataView(view) ? DataViewPrototypeGetBuffer(view) : TypedArrayPrototypeGetBuffer(view);
}

/** IsDetachedBuffer(O) */
function IsDetachedBuffer(buffer) {
  return ArrayBufferPrototypeGetDetached(buffer);
}

/** view.[[ByteLength]], 0 once the buffer is detached (a DataView's getter would throw). */
function viewByteLength(view) {
  if (isDataView(view)) {
    if (IsDetachedBuffer(DataViewPrototypeGetBuffer(view))) return 0;
    return DataViewPrototypeGetByteLength(view);
  }
  return TypedArrayPrototypeGetByteLength(view);
}

function viewByteOffset(view) {
  if (isDataView(view)) {
    if (IsDetachedBuffer(DataViewPrototypeGetBuffer(view))) return 0;
    return DataViewPrototypeGetByteOffset(view);
  }
  return TypedArrayPrototypeGetByteOffset(view);
}

/** The element count of a typed array ([[ArrayLength]]). */
function typedArrayLength(view) {
  return TypedArrayPrototypeGetLength(view);
}

// The typed array constructors table: name -> [constructor, element size].
const typedArrayTable = ObjectCreate(null);
for (const name in primordials.TypedArrayConstructors) {
  const ctor = primordials.TypedArrayConstructors[name];
  typedArrayTable[name] = [ctor, ctor.BYTES_PER_ELEMENT];
}

/** [view constructor, element size] for an ArrayBufferView (DataView: [%DataView%, 1]). */
function viewConstructorAndElementSize(view) {
  const name = TypedArrayPrototypeGetSymbolToStringTag(view);
  if (name === undefined) return [DataViewCtor, 1];
  return typedArrayTable[name];
}

function constructView(ctor, buffer, byteOffset, length) {
  return new ctor(buffer, byteOffset, length);
}

/** TransferArrayBuffer(O): detach O, returning a new ArrayBuffer over the same memory. */
function TransferArrayBuffer(buffer) {
  return ArrayBufferPrototypeTransfer(buffer);
}

/** CanTransferArrayBuffer(O) */
function CanTransferArrayBuffer(buffer) {
  if (IsDetachedBuffer(buffer)) return false;
  // A detach key (WebAssembly.Memory) cannot be observed without trying; such buffers are
  // rejected by TransferArrayBuffer itself.
  return true;
}

/** CloneArrayBuffer(srcBuffer, srcByteOffset, srcLength) */
function CloneArrayBuffer(buffer, byteOffset, byteLength) {
  return ArrayBufferPrototypeSlice(buffer, byteOffset, byteOffset + byteLength);
}

/** CloneAsUint8Array(O) */
function CloneAsUint8Array(view) {
  const buffer = CloneArrayBuffer(viewBuffer(view), viewByteOffset(view), viewByteLength(view));
  return new Uint8ArrayCtor(buffer);
}

/** CanCopyDataBlockBytes(toBuffer, toIndex, fromBuffer, fromIndex, count) */
function CanCopyDataBlockBytes(toBuffer, toIndex, fromBuffer, fromIndex, count) {
  if (toBuffer === fromBuffer) return false;
  if (IsDetachedBuffer(toBuffer)) return false;
  if (IsDetachedBuffer(fromBuffer)) return false;
  if (toIndex + count > ArrayBufferPrototypeGetByteLength(toBuffer)) return false;
  if (fromIndex + count > ArrayBufferPrototypeGetByteLength(fromBuffer)) return false;
  return true;
}

/** CopyDataBlockBytes(to, toIndex, from, fromIndex, count) */
function CopyDataBlockBytes(toBuffer, toIndex, fromBuffer, fromIndex, count) {
  TypedArrayPrototypeSet(
    new Uint8ArrayCtor(toBuffer, toIndex, count),
    new Uint8ArrayCtor(fromBuffer, fromIndex, count),
  );
}

/** StructuredClone(v) (§8.3): HTML's structured clone, from 07_structured_clone.js. */
function StructuredClone(value) {
  return internals.structuredClone.clone(value);
}

function isArrayBuffer(value) {
  if (typeof value !== "object" || value === null) return false;
  if (ObjectGetPrototypeOf(value) === ArrayBufferPrototype) return true;
  try {
    ArrayBufferPrototypeGetByteLength(value);
    return true;
  } catch {
    return false;
  }
}

Object.assign(impl, {
  isSharedArrayBuffer,
  isArrayBuffer,
  isDataView,
  viewBuffer,
  viewByteLength,
  viewByteOffset,
  typedArrayLength,
  viewConstructorAndElementSize,
  constructView,
  IsDetachedBuffer,
  TransferArrayBuffer,
  CanTransferArrayBuffer,
  CloneArrayBuffer,
  CloneAsUint8Array,
  StructuredClone,
  CanCopyDataBlockBytes,
  CopyDataBlockBytes,
  ArrayBufferCtor,
  Uint8ArrayCtor,
});

// ---------------------------------------------------------------------------------------------
// Interface plumbing
// ---------------------------------------------------------------------------------------------

/** A new instance of an interface without running its (possibly illegal) constructor. */
function createObject(klass) {
  return ObjectCreate(klass.prototype);
}

/** The TypeError for a method or getter called on the wrong kind of object. */
function illegalInvocation(interfaceName, member) {
  return new TypeErrorCtor(
    `Failed to execute '${member}' on '${interfaceName}': Illegal invocation`,
  );
}

/** Define `name` as an alias data property (e.g. [Symbol.asyncIterator] = values). */
function defineAlias(target, key, value) {
  ObjectDefineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

Object.assign(impl, { createObject, illegalInvocation, defineAlias, PromiseCtor, SharedArrayBufferCtor });
