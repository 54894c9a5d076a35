// node:stream under nodejs_compat: Stream (legacy), Readable, Writable, Duplex, Transform,
// PassThrough, pipeline, finished, compose, addAbortSignal, the web stream adapters
// (Readable.toWeb/fromWeb, ...), the Readable operators (map, filter, toArray, ...) and
// stream.promises, with Node's documented semantics (nodejs.org/api/stream.html): the
// highWaterMark and its backpressure (write() false, then 'drain'), object mode, and the
// order of the destroy / 'error' / 'close' events. Built on node:events and node:buffer.
"use strict";

const EventEmitter = require("node:events");
const { Buffer } = require("node:buffer");
const { StringDecoder } = require("node:string_decoder");
const util = require("node:util");
const {
  codedError, invalidArgType: invalidArgTypeUtil, invalidArgValue: invalidArgValueUtil,
  outOfRange: outOfRangeUtil, withCode,
} = util[Symbol.for("isoflow.node.internals")];

const { apply: ReflectApply, ownKeys: ReflectOwnKeys } = Reflect;
const ObjectDefineProperty = Object.defineProperty;
const ObjectDefineProperties = Object.defineProperties;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectSetPrototypeOf = Object.setPrototypeOf;
const ObjectKeys = Object.keys;
const NumberIsInteger = Number.isInteger;
const NumberIsNaN = Number.isNaN;
const NumberParseInt = Number.parseInt;
const MathFloor = Math.floor;
const ArrayIsArray = Array.isArray;
const FunctionPrototypeSymbolHasInstance = Function.prototype[Symbol.hasInstance];
const PromiseCtor = Promise;
const PromiseResolve = Promise.resolve.bind(Promise);
const PromiseReject = Promise.reject.bind(Promise);
const PromisePrototypeThen = Promise.prototype.then;
const PromiseAll = Promise.all.bind(Promise);
const PromiseRace = Promise.race.bind(Promise);
const SymbolAsyncIterator = Symbol.asyncIterator;
const SymbolIterator = Symbol.iterator;
const SymbolDispose = Symbol.dispose ?? Symbol.for("nodejs.dispose");
const SymbolAsyncDispose = Symbol.asyncDispose ?? Symbol.for("nodejs.asyncDispose");
const queue = queueMicrotask;
const BufferFrom = Buffer.from;
const BufferConcat = Buffer.concat;
const BufferIsBuffer = Buffer.isBuffer;
const BufferIsEncoding = Buffer.isEncoding;
const BufferToString = Buffer.prototype.toString;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const taSubarray = TypedArrayPrototype.subarray;
const EE = EventEmitter.prototype;
const EEremoveListener = EE.removeListener;
const EEremoveAllListeners = EE.removeAllListeners;
const AbortControllerCtor = AbortController;
const AbortSignalCtor = AbortSignal;
const ReadableStreamCtor = ReadableStream;
const WritableStreamCtor = WritableStream;
const CountQueuingStrategyCtor = CountQueuingStrategy;
const ByteLengthQueuingStrategyCtor = ByteLengthQueuingStrategy;
const BlobCtor = typeof Blob === "function" ? Blob : null;
const AbortError = (() => {
  // node:events has the class; it shares it with events.once's rejections
  class AbortError extends Error {
    constructor(message = "The operation was aborted", options = undefined) {
      if (options !== undefined && (options === null || typeof options !== "object")) {
        throw invalidArgType("options", "Object", options);
      }
      super(message, options);
      this.code = "ABORT_ERR";
      this.name = "AbortError";
    }
  }
  return AbortError;
})();

function nop() {}

// -- the tick queue ----------------------------------------------------------------------------

const processNextTick = require("node:process").nextTick;

/** fn(...args) on the next tick: process.nextTick's queue, in order with the script's ticks. */
function nextTick(fn, ...args) {
  processNextTick(fn, ...args);
}

// -- errors (lib/internal/errors.js) -----------------------------------------------------------

const E = (Base, code, message) => withCode(codedError(Base, code, message));
const invalidArgType = (...args) => withCode(invalidArgTypeUtil(...args));
const invalidArgValue = (...args) => withCode(invalidArgValueUtil(...args));
const outOfRange = (...args) => withCode(outOfRangeUtil(...args));
function validateFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "Function", value);
}
const errPushAfterEof = () => E(Error, "ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF");
const errUnshiftAfterEnd = () => E(Error, "ERR_STREAM_UNSHIFT_AFTER_END_EVENT",
                                   "stream.unshift() after end event");
const errNotImplemented = (name) => E(Error, "ERR_METHOD_NOT_IMPLEMENTED",
                                      `The ${name} method is not implemented`);
const errWriteAfterEnd = () => E(Error, "ERR_STREAM_WRITE_AFTER_END", "write after end");
const errDestroyed = (name) => E(Error, "ERR_STREAM_DESTROYED",
                                 `Cannot call ${name} after a stream was destroyed`);
const errNullValues = () => E(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
const errMultipleCallback = () => E(Error, "ERR_MULTIPLE_CALLBACK", "Callback called multiple times");
const errAlreadyFinished = (name) => E(Error, "ERR_STREAM_ALREADY_FINISHED",
                                       `Cannot call ${name} after a stream was finished`);
const errPrematureClose = () => E(Error, "ERR_STREAM_PREMATURE_CLOSE", "Premature close");
const errMissingArgs = (name) => E(TypeError, "ERR_MISSING_ARGS", `The "${name}" argument must be specified`);
const errUnknownEncoding = (enc) => E(TypeError, "ERR_UNKNOWN_ENCODING",
                                     `Unknown encoding: ${typeof enc === "string" ? enc : util.inspect(enc)}`);
const errIllegalConstructor = () => E(TypeError, "ERR_ILLEGAL_CONSTRUCTOR", "Illegal constructor");
function errInvalidReturnValue(input, name, value) {
  let type;
  if (value && value.constructor && value.constructor.name) {
    type = `instance of ${value.constructor.name}`;
  } else {
    type = `type ${typeof value}`;
  }
  return E(TypeError, "ERR_INVALID_RETURN_VALUE",
           `Expected ${input} to be returned from the "${name}" function but got ${type}.`);
}

/** Node's aggregateTwoErrors: the inner error, or both in an AggregateError. */
function aggregateTwoErrors(inner, outer) {
  if (inner && outer && inner !== outer) {
    if (ArrayIsArray(outer.errors)) {
      outer.errors.push(inner);
      return outer;
    }
    const err = new AggregateError([outer, inner], outer.message);
    err.code = outer.code;
    return err;
  }
  return inner || outer;
}

// -- validators ----------------------------------------------------------------------------------

function validateObject(value, name) {
  if (value === null || typeof value !== "object" || ArrayIsArray(value)) {
    throw invalidArgType(name, "Object", value);
  }
}

function validateBoolean(value, name) {
  if (typeof value !== "boolean") throw invalidArgType(name, "boolean", value);
}

function validateInteger(value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if (!NumberIsInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

function isAbortSignal(value) {
  return value instanceof AbortSignalCtor ||
    (value !== null && typeof value === "object" && "aborted" in value &&
     typeof value.addEventListener === "function");
}

function validateAbortSignal(signal, name) {
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw invalidArgType(name, "AbortSignal", signal);
  }
}

/** events.addAbortListener: `listener` once the signal aborts; a disposable that removes it. */
function addAbortListener(signal, listener) {
  let removed = false;
  if (signal.aborted) {
    queue(() => { if (!removed) listener(); });
  } else {
    signal.addEventListener("abort", listener, { once: true });
  }
  const dispose = () => {
    removed = true;
    signal.removeEventListener("abort", listener);
  };
  return { [SymbolDispose]: dispose, dispose };
}

function once(callback) {
  let called = false;
  return function (...args) {
    if (called) return;
    called = true;
    return ReflectApply(callback, this, args);
  };
}

function isUint8Array(value) {
  return ArrayBuffer.isView(value) && ReflectApply(typedArrayTag, value, []) === "Uint8Array";
}

function uint8ArrayToBuffer(chunk) {
  return BufferFrom(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

// -- what a stream is (lib/internal/streams/utils.js) -------------------------------------------

const kIsDestroyed = Symbol.for("nodejs.stream.destroyed");
const kStdio = Symbol.for("isoflow.node.stdio"); // process.stdout/stderr (process.js)

function isReadableNodeStream(obj, strict = false) {
  return !!(obj && typeof obj.pipe === "function" && typeof obj.on === "function" &&
    (!strict || (typeof obj.pause === "function" && typeof obj.resume === "function")) &&
    (!obj._writableState || (obj._readableState && obj._readableState.readable !== false)) &&
    (!obj._writableState || obj._readableState));
}

function isWritableNodeStream(obj) {
  return !!(obj && typeof obj.write === "function" && typeof obj.on === "function" &&
    (!obj._readableState || (obj._writableState && obj._writableState.writable !== false)));
}

function isDuplexNodeStream(obj) {
  return !!(obj && typeof obj.pipe === "function" && obj._readableState &&
    typeof obj.on === "function" && typeof obj.write === "function");
}

function isNodeStream(obj) {
  return !!(obj && (obj._readableState || obj._writableState ||
    (typeof obj.write === "function" && typeof obj.on === "function") ||
    (typeof obj.pipe === "function" && typeof obj.on === "function")));
}

function isReadableStream(obj) {
  return !!(obj && !isNodeStream(obj) && typeof obj.pipeThrough === "function" &&
    typeof obj.getReader === "function" && typeof obj.cancel === "function");
}

function isWritableStream(obj) {
  return !!(obj && !isNodeStream(obj) && typeof obj.getWriter === "function" &&
    typeof obj.abort === "function");
}

function isTransformStream(obj) {
  return !!(obj && !isNodeStream(obj) && typeof obj.readable === "object" &&
    typeof obj.writable === "object");
}

function isWebStream(obj) {
  return isReadableStream(obj) || isWritableStream(obj) || isTransformStream(obj);
}

function isIterable(obj, isAsync) {
  if (obj === null || obj === undefined) return false;
  if (isAsync === true) return typeof obj[SymbolAsyncIterator] === "function";
  if (isAsync === false) return typeof obj[SymbolIterator] === "function";
  return typeof obj[SymbolAsyncIterator] === "function" || typeof obj[SymbolIterator] === "function";
}

function isDestroyed(stream) {
  if (!isNodeStream(stream)) return null;
  const state = stream._writableState || stream._readableState;
  return !!(stream.destroyed || stream[kIsDestroyed] || (state && state.destroyed));
}

function isWritableEnded(stream) {
  if (!isWritableNodeStream(stream)) return null;
  if (stream.writableEnded === true) return true;
  const wState = stream._writableState;
  if (wState && wState.errored) return false;
  if (typeof (wState && wState.ended) !== "boolean") return null;
  return wState.ended;
}

function isWritableFinished(stream, strict) {
  if (!isWritableNodeStream(stream)) return null;
  if (stream.writableFinished === true) return true;
  const wState = stream._writableState;
  if (wState && wState.errored) return false;
  if (typeof (wState && wState.finished) !== "boolean") return null;
  return !!(wState.finished || (strict === false && wState.ended === true && wState.length === 0));
}

function isReadableFinished(stream, strict) {
  if (!isReadableNodeStream(stream)) return null;
  const rState = stream._readableState;
  if (rState && rState.errored) return false;
  if (typeof (rState && rState.endEmitted) !== "boolean") return null;
  return !!(rState.endEmitted || (strict === false && rState.ended === true && rState.length === 0));
}

function isReadable(stream) {
  if (typeof (stream && stream.readable) !== "boolean") return null;
  if (isDestroyed(stream)) return false;
  return isReadableNodeStream(stream) && stream.readable && !isReadableFinished(stream);
}

function isWritable(stream) {
  if (typeof (stream && stream.writable) !== "boolean") return null;
  if (isDestroyed(stream)) return false;
  return isWritableNodeStream(stream) && stream.writable && !isWritableEnded(stream);
}

function isFinished(stream, opts) {
  if (!isNodeStream(stream)) return null;
  if (isDestroyed(stream)) return true;
  if ((!opts || opts.readable !== false) && isReadable(stream)) return false;
  if ((!opts || opts.writable !== false) && isWritable(stream)) return false;
  return true;
}

function isWritableErrored(stream) {
  if (!isNodeStream(stream)) return null;
  if (stream.writableErrored) return stream.writableErrored;
  return (stream._writableState && stream._writableState.errored) ?? null;
}

function isReadableErrored(stream) {
  if (!isNodeStream(stream)) return null;
  if (stream.readableErrored) return stream.readableErrored;
  return (stream._readableState && stream._readableState.errored) ?? null;
}

function isClosed(stream) {
  if (!isNodeStream(stream)) return null;
  if (typeof stream.closed === "boolean") return stream.closed;
  const wState = stream._writableState;
  const rState = stream._readableState;
  if (typeof (wState && wState.closed) === "boolean" || typeof (rState && rState.closed) === "boolean") {
    return (wState && wState.closed) || (rState && rState.closed);
  }
  return null;
}

function isRequest(stream) {
  return !!(stream && stream.setHeader && typeof stream.abort === "function");
}

function willEmitClose(stream) {
  if (!isNodeStream(stream)) return null;
  const state = stream._writableState || stream._readableState;
  return !!(state && state.autoDestroy && state.emitClose && state.closed === false);
}

function isDisturbed(stream) {
  return !!(stream && (stream.readableDidRead || stream.readableAborted));
}

function isErrored(stream) {
  return !!(stream && (stream.readableErrored ?? stream.writableErrored ??
    (stream._readableState && stream._readableState.errorEmitted) ??
    (stream._writableState && stream._writableState.errorEmitted) ??
    (stream._readableState && stream._readableState.errored) ??
    (stream._writableState && stream._writableState.errored)));
}

// -- destroy (lib/internal/streams/destroy.js) -------------------------------------------------

const kDestroy = Symbol("kDestroy");
const kConstruct = Symbol("kConstruct");

function checkError(err, w, r) {
  if (err) {
    err.stack; // eslint-disable-line no-unused-expressions -- the stack as of now
    if (w && !w.errored) w.errored = err;
    if (r && !r.errored) r.errored = err;
  }
}

/** stream.destroy([err][, cb]) of Readable (Writable adds the buffered writes' callbacks). */
function destroy(err, cb) {
  const r = this._readableState;
  const w = this._writableState;
  const s = w || r;
  if ((w && w.destroyed) || (r && r.destroyed)) {
    if (typeof cb === "function") cb();
    return this;
  }
  checkError(err, w, r);
  if (w) w.destroyed = true;
  if (r) r.destroyed = true;
  if (!s.constructed) {
    this.once(kDestroy, function (er) {
      callDestroy(this, aggregateTwoErrors(er, err), cb);
    });
  } else {
    callDestroy(this, err, cb);
  }
  return this;
}

function callDestroy(self, err, cb) {
  let called = false;
  function onDestroy(err) {
    if (called) return;
    called = true;
    const r = self._readableState;
    const w = self._writableState;
    checkError(err, w, r);
    if (w) w.closed = true;
    if (r) r.closed = true;
    if (typeof cb === "function") cb(err);
    if (err) nextTick(emitErrorCloseNT, self, err);
    else nextTick(emitCloseNT, self);
  }
  try {
    self._destroy(err || null, onDestroy);
  } catch (err) {
    onDestroy(err);
  }
}

function emitErrorCloseNT(self, err) {
  emitErrorNT(self, err);
  emitCloseNT(self);
}

function emitCloseNT(self) {
  const r = self._readableState;
  const w = self._writableState;
  if (w) w.closeEmitted = true;
  if (r) r.closeEmitted = true;
  if ((w && w.emitClose) || (r && r.emitClose)) self.emit("close");
}

function emitErrorNT(self, err) {
  const r = self._readableState;
  const w = self._writableState;
  if ((w && w.errorEmitted) || (r && r.errorEmitted)) return;
  if (w) w.errorEmitted = true;
  if (r) r.errorEmitted = true;
  self.emit("error", err);
}

function undestroy() {
  const r = this._readableState;
  const w = this._writableState;
  if (r) {
    r.constructed = true;
    r.closed = false;
    r.closeEmitted = false;
    r.destroyed = false;
    r.errored = null;
    r.errorEmitted = false;
    r.reading = false;
    r.ended = r.readable === false;
    r.endEmitted = r.readable === false;
  }
  if (w) {
    w.constructed = true;
    w.destroyed = false;
    w.closed = false;
    w.closeEmitted = false;
    w.errored = null;
    w.errorEmitted = false;
    w.finalCalled = false;
    w.prefinished = false;
    w.ended = w.writable === false;
    w.ending = w.writable === false;
    w.finished = w.writable === false;
  }
}

/** An error of the stream's own: destroy it (autoDestroy) or else only emit 'error'. */
function errorOrDestroy(stream, err, sync) {
  const r = stream._readableState;
  const w = stream._writableState;
  if ((w && w.destroyed) || (r && r.destroyed)) return;
  if ((r && r.autoDestroy) || (w && w.autoDestroy)) {
    stream.destroy(err);
  } else if (err) {
    err.stack; // eslint-disable-line no-unused-expressions
    if (w && !w.errored) w.errored = err;
    if (r && !r.errored) r.errored = err;
    if (sync) nextTick(emitErrorNT, stream, err);
    else emitErrorNT(stream, err);
  }
}

/** Runs stream._construct(cb) on the next tick; `cb` once it is done. */
function construct(stream, cb) {
  if (typeof stream._construct !== "function") return;
  const r = stream._readableState;
  const w = stream._writableState;
  if (r) r.constructed = false;
  if (w) w.constructed = false;
  stream.once(kConstruct, cb);
  if (stream.listenerCount(kConstruct) > 1) return; // Duplex
  nextTick(constructNT, stream);
}

function constructNT(stream) {
  let called = false;
  function onConstruct(err) {
    if (called) {
      errorOrDestroy(stream, err ?? errMultipleCallback());
      return;
    }
    called = true;
    const r = stream._readableState;
    const w = stream._writableState;
    const s = w || r;
    if (r) r.constructed = true;
    if (w) w.constructed = true;
    if (s.destroyed) stream.emit(kDestroy, err);
    else if (err) errorOrDestroy(stream, err, true);
    else nextTick(() => stream.emit(kConstruct));
  }
  try {
    stream._construct((err) => { nextTick(onConstruct, err); });
  } catch (err) {
    nextTick(onConstruct, err);
  }
}

/** Destroys any stream-like thing (pipeline's and the async iterator's way). */
function destroyer(stream, err) {
  if (!stream || isDestroyed(stream)) return;
  if (!err && !isFinished(stream)) err = new AbortError();
  if (isRequest(stream)) stream.abort();
  else if (isRequest(stream.req)) stream.req.abort();
  else if (typeof stream.destroy === "function") stream.destroy(err);
  else if (typeof stream.close === "function") stream.close();
  else if (err) nextTick((s, e) => s.emit("error", e), stream, err);
  else nextTick((s) => s.emit("close"), stream);
  if (!stream.destroyed) stream[kIsDestroyed] = true;
}

// -- the legacy Stream (lib/internal/streams/legacy.js) -----------------------------------------

function Stream(opts) {
  EventEmitter.call(this, opts);
}
ObjectSetPrototypeOf(Stream.prototype, EventEmitter.prototype);
ObjectSetPrototypeOf(Stream, EventEmitter);

/** The old pipe: data to dest.write, pausing while it returns false. */
Stream.prototype.pipe = function pipe(dest, options) {
  const source = this;
  function ondata(chunk) {
    if (dest.writable && dest.write(chunk) === false && source.pause) source.pause();
  }
  source.on("data", ondata);
  function ondrain() {
    if (source.readable && source.resume) source.resume();
  }
  dest.on("drain", ondrain);
  if (!dest._isStdio && (!options || options.end !== false)) {
    source.on("end", onend);
    source.on("close", onclose);
  }
  let didOnEnd = false;
  function onend() {
    if (didOnEnd) return;
    didOnEnd = true;
    dest.end();
  }
  function onclose() {
    if (didOnEnd) return;
    didOnEnd = true;
    if (typeof dest.destroy === "function") dest.destroy();
  }
  function onerror(er) {
    cleanup();
    if (EventEmitter.listenerCount(this, "error") === 0) this.emit("error", er);
  }
  prependListener(source, "error", onerror);
  prependListener(dest, "error", onerror);
  function cleanup() {
    source.removeListener("data", ondata);
    dest.removeListener("drain", ondrain);
    source.removeListener("end", onend);
    source.removeListener("close", onclose);
    source.removeListener("error", onerror);
    dest.removeListener("error", onerror);
    source.removeListener("end", cleanup);
    source.removeListener("close", cleanup);
    dest.removeListener("close", cleanup);
  }
  source.on("end", cleanup);
  source.on("close", cleanup);
  dest.on("close", cleanup);
  dest.emit("pipe", source);
  return dest;
};

function prependListener(emitter, event, fn) {
  if (typeof emitter.prependListener === "function") return emitter.prependListener(event, fn);
  // an old emitter: put fn first by hand
  if (!emitter._events || !emitter._events[event]) emitter.on(event, fn);
  else if (ArrayIsArray(emitter._events[event])) emitter._events[event].unshift(fn);
  else emitter._events[event] = [fn, emitter._events[event]];
}

// -- highWaterMark (lib/internal/streams/state.js) ----------------------------------------------

let defaultHighWaterMarkBytes = 64 * 1024;
let defaultHighWaterMarkObjectMode = 16;

function getDefaultHighWaterMark(objectMode) {
  return objectMode ? defaultHighWaterMarkObjectMode : defaultHighWaterMarkBytes;
}

function setDefaultHighWaterMark(objectMode, value) {
  validateInteger(value, "value", 0);
  if (objectMode) defaultHighWaterMarkObjectMode = value;
  else defaultHighWaterMarkBytes = value;
}

function getHighWaterMark(state, options, duplexKey, isDuplex) {
  const hwm = options.highWaterMark !== undefined && options.highWaterMark !== null
    ? options.highWaterMark : isDuplex ? options[duplexKey] : null;
  if (hwm !== undefined && hwm !== null) {
    if (!NumberIsInteger(hwm) || hwm < 0) {
      const name = isDuplex ? `options.${duplexKey}` : "options.highWaterMark";
      throw invalidArgValue(name, hwm);
    }
    return MathFloor(hwm);
  }
  return getDefaultHighWaterMark(state.objectMode);
}

// -- Readable (lib/internal/streams/readable.js) ------------------------------------------------

const kPaused = Symbol("kPaused");

function ReadableState(options, stream, isDuplex) {
  if (typeof isDuplex !== "boolean") isDuplex = stream instanceof Duplex;
  this.objectMode = !!(options && options.objectMode);
  if (isDuplex) this.objectMode = this.objectMode || !!(options && options.readableObjectMode);
  this.highWaterMark = options
    ? getHighWaterMark(this, options, "readableHighWaterMark", isDuplex)
    : getDefaultHighWaterMark(false);
  this.buffer = [];
  this.bufferIndex = 0;
  this.length = 0;
  this.pipes = [];
  this.flowing = null;
  this.ended = false;
  this.endEmitted = false;
  this.reading = false;
  this.constructed = true;
  // push() from within _read() is synchronous: 'readable' waits for the next tick
  this.sync = true;
  this.needReadable = false;
  this.emittedReadable = false;
  this.readableListening = false;
  this.resumeScheduled = false;
  this[kPaused] = null;
  this.errorEmitted = false;
  this.emitClose = !options || options.emitClose !== false;
  this.autoDestroy = !options || options.autoDestroy !== false;
  this.destroyed = false;
  this.errored = null;
  this.closed = false;
  this.closeEmitted = false;
  this.defaultEncoding = (options && options.defaultEncoding) || "utf8";
  this.awaitDrainWriters = null;
  this.multiAwaitDrain = false;
  this.readingMore = false;
  this.dataEmitted = false;
  this.decoder = null;
  this.encoding = null;
  if (options && options.encoding) {
    this.decoder = new StringDecoder(options.encoding);
    this.encoding = options.encoding;
  }
}
ObjectDefineProperties(ReadableState.prototype, {
  paused: {
    get() { return this[kPaused] !== null ? this[kPaused] : false; },
    set(value) { this[kPaused] = !!value; },
  },
  pipesCount: { get() { return this.pipes.length; } },
});

function Readable(options) {
  if (!(this instanceof Readable)) return new Readable(options);
  const isDuplex = this instanceof Duplex;
  this._readableState = new ReadableState(options, this, isDuplex);
  if (options) {
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal && !isDuplex) addAbortSignal(options.signal, this);
  }
  Stream.call(this, options);
  construct(this, () => {
    if (this._readableState.needReadable) maybeReadMore(this, this._readableState);
  });
}
ObjectSetPrototypeOf(Readable.prototype, Stream.prototype);
ObjectSetPrototypeOf(Readable, Stream);

Readable.ReadableState = ReadableState;
Readable.prototype.destroy = destroy;
Readable.prototype._undestroy = undestroy;
Readable.prototype._destroy = function (err, cb) {
  cb(err);
};
Readable.prototype[EventEmitter.captureRejectionSymbol] = function (err) {
  this.destroy(err);
};
Readable.prototype[SymbolAsyncDispose] = function () {
  let error;
  if (!this.destroyed) {
    error = this.readableEnded ? null : new AbortError();
    this.destroy(error);
  }
  return new PromiseCtor((resolve, reject) => {
    eos(this, (err) => (err && err !== error ? reject(err) : resolve(null)));
  });
};

Readable.prototype.push = function (chunk, encoding) {
  return readableAddChunk(this, chunk, encoding, false);
};

Readable.prototype.unshift = function (chunk, encoding) {
  return readableAddChunk(this, chunk, encoding, true);
};

function readableAddChunk(stream, chunk, encoding, addToFront) {
  const state = stream._readableState;
  let err;
  if (!state.objectMode) {
    if (typeof chunk === "string") {
      encoding = encoding || state.defaultEncoding;
      if (state.encoding !== encoding) {
        if (addToFront && state.encoding) {
          chunk = ReflectApply(BufferToString, BufferFrom(chunk, encoding), [state.encoding]);
        } else {
          chunk = BufferFrom(chunk, encoding);
          encoding = "";
        }
      }
    } else if (chunk instanceof Buffer) {
      encoding = "";
    } else if (isUint8Array(chunk)) {
      chunk = uint8ArrayToBuffer(chunk);
      encoding = "";
    } else if (chunk !== null && chunk !== undefined) {
      err = invalidArgType("chunk", ["string", "Buffer", "Uint8Array"], chunk);
    }
  }
  if (err) {
    errorOrDestroy(stream, err);
  } else if (chunk === null) {
    state.reading = false;
    onEofChunk(stream, state);
  } else if (state.objectMode || (chunk && chunk.length > 0)) {
    if (addToFront) {
      if (state.endEmitted) errorOrDestroy(stream, errUnshiftAfterEnd());
      else if (state.destroyed || state.errored) return false;
      else addChunk(stream, state, chunk, true);
    } else if (state.ended) {
      errorOrDestroy(stream, errPushAfterEof());
    } else if (state.destroyed || state.errored) {
      return false;
    } else {
      state.reading = false;
      if (state.decoder && !encoding) {
        chunk = state.decoder.write(chunk);
        if (state.objectMode || chunk.length !== 0) addChunk(stream, state, chunk, false);
        else maybeReadMore(stream, state);
      } else {
        addChunk(stream, state, chunk, false);
      }
    }
  } else if (!addToFront) {
    state.reading = false;
    maybeReadMore(stream, state);
  }
  // below the highWaterMark (or empty) and not ended: the source may push more
  return !state.ended && (state.length < state.highWaterMark || state.length === 0);
}

function clearAwaitDrain(state) {
  if (state.multiAwaitDrain) state.awaitDrainWriters.clear();
  else state.awaitDrainWriters = null;
}

function addChunk(stream, state, chunk, addToFront) {
  if (state.flowing && state.length === 0 && !state.sync && stream.listenerCount("data") > 0) {
    // flowing with nothing buffered: straight to 'data'
    clearAwaitDrain(state);
    state.dataEmitted = true;
    stream.emit("data", chunk);
  } else {
    state.length += state.objectMode ? 1 : chunk.length;
    if (addToFront) {
      if (state.bufferIndex > 0) state.buffer[--state.bufferIndex] = chunk;
      else state.buffer.unshift(chunk);
    } else {
      state.buffer.push(chunk);
    }
    if (state.needReadable) emitReadable(stream);
  }
  maybeReadMore(stream, state);
}

Readable.prototype.isPaused = function () {
  const state = this._readableState;
  return state[kPaused] === true || state.flowing === false;
};

Readable.prototype.setEncoding = function (enc) {
  const decoder = new StringDecoder(enc);
  const state = this._readableState;
  state.decoder = decoder;
  state.encoding = decoder.encoding;
  // what is buffered already is decoded now
  let content = "";
  for (let i = state.bufferIndex; i < state.buffer.length; i++) content += decoder.write(state.buffer[i]);
  state.buffer = [];
  state.bufferIndex = 0;
  if (content !== "") state.buffer.push(content);
  state.length = content.length;
  return this;
};

const MAX_HWM = 0x40000000;
function computeNewHighWaterMark(n) {
  if (n > MAX_HWM) throw outOfRange("size", "<= 1GiB", n);
  n--;
  n |= n >>> 1;
  n |= n >>> 2;
  n |= n >>> 4;
  n |= n >>> 8;
  n |= n >>> 16;
  return n + 1;
}

function howMuchToRead(n, state) {
  if (n <= 0 || (state.length === 0 && state.ended)) return 0;
  if (state.objectMode) return 1;
  if (NumberIsNaN(n)) {
    // everything, or the first chunk while flowing
    if (state.flowing && state.length) return state.buffer[state.bufferIndex].length;
    return state.length;
  }
  if (n <= state.length) return n;
  return state.ended ? state.length : 0;
}

Readable.prototype.read = function (n) {
  if (n === undefined) n = NaN;
  else if (!NumberIsInteger(n)) n = NumberParseInt(n, 10);
  const state = this._readableState;
  const nOrig = n;
  if (n > state.highWaterMark) state.highWaterMark = computeNewHighWaterMark(n);
  if (n !== 0) state.emittedReadable = false;
  // read(0) with enough buffered (or at the end) only emits 'readable' (or 'end')
  if (n === 0 && state.needReadable &&
      ((state.highWaterMark !== 0 ? state.length >= state.highWaterMark : state.length > 0) ||
       state.ended)) {
    if (state.length === 0 && state.ended) endReadable(this);
    else emitReadable(this);
    return null;
  }
  n = howMuchToRead(n, state);
  if (n === 0 && state.ended) {
    if (state.length === 0) endReadable(this);
    return null;
  }
  // Call _read() when below the highWaterMark after this read (or when a read is wanted).
  let doRead = state.needReadable;
  if (state.length === 0 || state.length - n < state.highWaterMark) doRead = true;
  if (state.ended || state.reading || state.destroyed || state.errored || !state.constructed) {
    doRead = false;
  } else if (doRead) {
    state.reading = true;
    state.sync = true;
    if (state.length === 0) state.needReadable = true;
    try {
      this._read(state.highWaterMark);
    } catch (err) {
      errorOrDestroy(this, err);
    }
    state.sync = false;
    // a synchronous push may have changed how much there is to read
    if (!state.reading) n = howMuchToRead(nOrig, state);
  }
  let ret = n > 0 ? fromList(n, state) : null;
  if (ret === null) {
    state.needReadable = state.length <= state.highWaterMark;
    n = 0;
  } else {
    state.length -= n;
    clearAwaitDrain(state);
  }
  if (state.length === 0) {
    if (!state.ended) state.needReadable = true;
    if (nOrig !== n && state.ended) endReadable(this);
  }
  if (ret !== null && !state.errorEmitted && !state.closeEmitted) {
    state.dataEmitted = true;
    this.emit("data", ret);
  }
  return ret;
};

/** Takes n bytes/characters (or one object) off the buffer. */
function fromList(n, state) {
  if (state.length === 0) return null;
  const buf = state.buffer;
  let idx = state.bufferIndex;
  let ret;
  if (state.objectMode) {
    ret = buf[idx];
    buf[idx++] = undefined;
  } else if (!n || n >= state.length) {
    if (state.decoder) {
      ret = "";
      while (idx < buf.length) {
        ret += buf[idx];
        buf[idx++] = undefined;
      }
    } else if (buf.length - idx === 1) {
      ret = buf[idx];
      buf[idx++] = undefined;
    } else {
      ret = BufferConcat(buf.slice(idx), state.length);
      idx = buf.length;
    }
  } else if (n < buf[idx].length) {
    // part of the first chunk
    const first = buf[idx];
    if (typeof first === "string") {
      ret = first.slice(0, n);
      buf[idx] = first.slice(n);
    } else {
      ret = ReflectApply(taSubarray, first, [0, n]);
      buf[idx] = ReflectApply(taSubarray, first, [n]);
    }
  } else if (n === buf[idx].length) {
    ret = buf[idx];
    buf[idx++] = undefined;
  } else if (typeof buf[idx] === "string") {
    ret = "";
    while (idx < buf.length) {
      const str = buf[idx];
      if (n > str.length) {
        ret += str;
        n -= str.length;
        buf[idx++] = undefined;
      } else {
        if (n === str.length) {
          ret += str;
          buf[idx++] = undefined;
        } else {
          ret += str.slice(0, n);
          buf[idx] = str.slice(n);
        }
        break;
      }
    }
  } else {
    ret = Buffer.allocUnsafe(n);
    const retLen = n;
    while (idx < buf.length) {
      const data = buf[idx];
      if (n > data.length) {
        ret.set(data, retLen - n);
        n -= data.length;
        buf[idx++] = undefined;
      } else {
        if (n === data.length) {
          ret.set(data, retLen - n);
          buf[idx++] = undefined;
        } else {
          ret.set(new Uint8Array(data.buffer, data.byteOffset, n), retLen - n);
          buf[idx] = ReflectApply(taSubarray, data, [n]);
        }
        break;
      }
    }
  }
  if (idx === buf.length) {
    state.buffer = [];
    state.bufferIndex = 0;
  } else if (idx > 1024) {
    state.buffer = buf.slice(idx);
    state.bufferIndex = 0;
  } else {
    state.bufferIndex = idx;
  }
  return ret;
}

function onEofChunk(stream, state) {
  if (state.ended) return;
  if (state.decoder) {
    const chunk = state.decoder.end();
    if (chunk && chunk.length) {
      state.buffer.push(chunk);
      state.length += state.objectMode ? 1 : chunk.length;
    }
  }
  state.ended = true;
  if (state.sync) {
    // pushed within _read(): 'readable' on the next tick
    emitReadable(stream);
  } else {
    state.needReadable = false;
    state.emittedReadable = true;
    emitReadableNT(stream);
  }
}

function emitReadable(stream) {
  const state = stream._readableState;
  state.needReadable = false;
  if (!state.emittedReadable) {
    state.emittedReadable = true;
    nextTick(emitReadableNT, stream);
  }
}

function emitReadableNT(stream) {
  const state = stream._readableState;
  if (!state.destroyed && !state.errored && (state.length || state.ended)) {
    stream.emit("readable");
    state.emittedReadable = false;
  }
  state.needReadable = !state.flowing && !state.ended && state.length <= state.highWaterMark;
  flow(stream);
}

/** Reads ahead (up to the highWaterMark) on the next tick. */
function maybeReadMore(stream, state) {
  if (!state.readingMore && state.constructed) {
    state.readingMore = true;
    nextTick(maybeReadMoreNT, stream, state);
  }
}

function maybeReadMoreNT(stream, state) {
  while (!state.reading && !state.ended &&
         (state.length < state.highWaterMark || (state.flowing && state.length === 0))) {
    const len = state.length;
    stream.read(0);
    if (len === state.length) break; // nothing came
  }
  state.readingMore = false;
}

Readable.prototype._read = function (n) {
  throw errNotImplemented("_read()");
};

Readable.prototype.pipe = function (dest, pipeOpts) {
  const src = this;
  const state = this._readableState;
  if (state.pipes.length === 1 && !state.multiAwaitDrain) {
    state.multiAwaitDrain = true;
    state.awaitDrainWriters = new Set(state.awaitDrainWriters ? [state.awaitDrainWriters] : []);
  }
  state.pipes.push(dest);
  const doEnd = (!pipeOpts || pipeOpts.end !== false) && !(dest && dest[kStdio]);
  const endFn = doEnd ? onend : unpipe;
  if (state.endEmitted) nextTick(endFn);
  else src.once("end", endFn);
  dest.on("unpipe", onunpipe);
  function onunpipe(readable, unpipeInfo) {
    if (readable === src && unpipeInfo && unpipeInfo.hasUnpiped === false) {
      unpipeInfo.hasUnpiped = true;
      cleanup();
    }
  }
  function onend() {
    dest.end();
  }
  let ondrain;
  let cleanedUp = false;
  function cleanup() {
    dest.removeListener("close", onclose);
    dest.removeListener("finish", onfinish);
    if (ondrain) dest.removeListener("drain", ondrain);
    dest.removeListener("error", onerror);
    dest.removeListener("unpipe", onunpipe);
    src.removeListener("end", onend);
    src.removeListener("end", unpipe);
    src.removeListener("data", ondata);
    cleanedUp = true;
    // a drain that will not come any more is not waited for
    if (ondrain && state.awaitDrainWriters && (!dest._writableState || dest._writableState.needDrain)) {
      ondrain();
    }
  }
  function pause() {
    if (!cleanedUp) {
      if (state.pipes.length === 1 && state.pipes[0] === dest) {
        state.awaitDrainWriters = dest;
        state.multiAwaitDrain = false;
      } else if (state.pipes.length > 1 && state.pipes.includes(dest)) {
        state.awaitDrainWriters.add(dest);
      }
      src.pause();
    }
    if (!ondrain) {
      ondrain = pipeOnDrain(src, dest);
      dest.on("drain", ondrain);
    }
  }
  src.on("data", ondata);
  function ondata(chunk) {
    const ret = dest.write(chunk);
    if (ret === false) pause();
  }
  function onerror(er) {
    unpipe();
    dest.removeListener("error", onerror);
    if (dest.listenerCount("error") === 0) {
      const s = dest._writableState || dest._readableState;
      if (s && !s.errorEmitted) errorOrDestroy(dest, er);
      else dest.emit("error", er);
    }
  }
  prependListener(dest, "error", onerror);
  function onclose() {
    dest.removeListener("finish", onfinish);
    unpipe();
  }
  dest.once("close", onclose);
  function onfinish() {
    dest.removeListener("close", onclose);
    unpipe();
  }
  dest.once("finish", onfinish);
  function unpipe() {
    src.unpipe(dest);
  }
  dest.emit("pipe", src);
  if (dest.writableNeedDrain === true) pause();
  else if (!state.flowing) src.resume();
  return dest;
};

function pipeOnDrain(src, dest) {
  return function pipeOnDrainFunctionResult() {
    const state = src._readableState;
    if (state.awaitDrainWriters === dest) state.awaitDrainWriters = null;
    else if (state.multiAwaitDrain) state.awaitDrainWriters.delete(dest);
    if ((!state.awaitDrainWriters || state.awaitDrainWriters.size === 0) &&
        src.listenerCount("data")) {
      src.resume();
    }
  };
}

Readable.prototype.unpipe = function (dest) {
  const state = this._readableState;
  const unpipeInfo = { hasUnpiped: false };
  if (state.pipes.length === 0) return this;
  if (!dest) {
    const dests = state.pipes;
    state.pipes = [];
    this.pause();
    for (let i = 0; i < dests.length; i++) dests[i].emit("unpipe", this, { hasUnpiped: false });
    return this;
  }
  const index = state.pipes.indexOf(dest);
  if (index === -1) return this;
  state.pipes.splice(index, 1);
  if (state.pipes.length === 0) this.pause();
  dest.emit("unpipe", this, unpipeInfo);
  return this;
};

Readable.prototype.on = function (ev, fn) {
  const res = ReflectApply(Stream.prototype.on, this, [ev, fn]);
  const state = this._readableState;
  if (ev === "data") {
    state.readableListening = this.listenerCount("readable") > 0;
    // a 'data' listener starts the flow, unless the stream was paused explicitly
    if (state.flowing !== false) this.resume();
  } else if (ev === "readable") {
    if (!state.endEmitted && !state.readableListening) {
      state.readableListening = state.needReadable = true;
      state.flowing = false;
      state.emittedReadable = false;
      if (state.length) emitReadable(this);
      else if (!state.reading) nextTick(nReadingNextTick, this);
    }
  }
  return res;
};
Readable.prototype.addListener = Readable.prototype.on;

Readable.prototype.removeListener = function (ev, fn) {
  const res = ReflectApply(EEremoveListener, this, [ev, fn]);
  if (ev === "readable") nextTick(updateReadableListening, this);
  return res;
};
Readable.prototype.off = Readable.prototype.removeListener;

Readable.prototype.removeAllListeners = function (ev) {
  const res = ReflectApply(EEremoveAllListeners, this, arguments);
  if (ev === "readable" || ev === undefined) nextTick(updateReadableListening, this);
  return res;
};

function updateReadableListening(self) {
  const state = self._readableState;
  state.readableListening = self.listenerCount("readable") > 0;
  if (state.resumeScheduled && state[kPaused] === false) state.flowing = true;
  else if (self.listenerCount("data") > 0) self.resume();
  else if (!state.readableListening) state.flowing = null;
}

function nReadingNextTick(self) {
  self.read(0);
}

Readable.prototype.resume = function () {
  const state = this._readableState;
  if (!state.flowing) {
    // with a 'readable' listener, resume() only marks the stream as not paused
    state.flowing = !state.readableListening;
    if (!state.resumeScheduled) {
      state.resumeScheduled = true;
      nextTick(resumeNT, this, state);
    }
  }
  state[kPaused] = false;
  return this;
};

function resumeNT(stream, state) {
  if (!state.reading) stream.read(0);
  state.resumeScheduled = false;
  stream.emit("resume");
  flow(stream);
  if (state.flowing && !state.reading) stream.read(0);
}

Readable.prototype.pause = function () {
  const state = this._readableState;
  if (state.flowing !== false) {
    state.flowing = false;
    this.emit("pause");
  }
  state[kPaused] = true;
  return this;
};

function flow(stream) {
  const state = stream._readableState;
  while (state.flowing && stream.read() !== null);
}

/** readable.wrap(oldStream): a Readable over an old-style (data/end events) stream. */
Readable.prototype.wrap = function (stream) {
  let paused = false;
  stream.on("data", (chunk) => {
    if (!this.push(chunk) && stream.pause) {
      paused = true;
      stream.pause();
    }
  });
  stream.on("end", () => { this.push(null); });
  stream.on("error", (err) => { errorOrDestroy(this, err); });
  stream.on("close", () => { this.destroy(); });
  stream.on("destroy", () => { this.destroy(); });
  this._read = () => {
    if (paused && stream.resume) {
      paused = false;
      stream.resume();
    }
  };
  const streamKeys = ObjectKeys(stream);
  for (let j = 1; j < streamKeys.length; j++) {
    const i = streamKeys[j];
    if (this[i] === undefined && typeof stream[i] === "function") this[i] = stream[i].bind(stream);
  }
  return this;
};

Readable.prototype[SymbolAsyncIterator] = function () {
  return streamToAsyncIterator(this);
};

Readable.prototype.iterator = function (options) {
  if (options !== undefined) validateObject(options, "options");
  return streamToAsyncIterator(this, options);
};

function streamToAsyncIterator(stream, options) {
  if (typeof stream.read !== "function") stream = Readable.wrap(stream, { objectMode: true });
  const iter = createAsyncIterator(stream, options);
  iter.stream = stream;
  return iter;
}

async function* createAsyncIterator(stream, options) {
  let callback = nop;
  function next(resolve) {
    if (this === stream) {
      callback();
      callback = nop;
    } else {
      callback = resolve;
    }
  }
  stream.on("readable", next);
  let error;
  const cleanup = eos(stream, { writable: false }, (err) => {
    error = err ? aggregateTwoErrors(error, err) : null;
    callback();
    callback = nop;
  });
  try {
    while (true) {
      const chunk = stream.destroyed ? null : stream.read();
      if (chunk !== null) {
        yield chunk;
      } else if (error) {
        throw error;
      } else if (error === null) {
        return;
      } else {
        await new PromiseCtor(next);
      }
    }
  } catch (err) {
    error = aggregateTwoErrors(error, err);
    throw error;
  } finally {
    if ((error || (options && options.destroyOnReturn) !== false) &&
        (error === undefined || stream._readableState.autoDestroy)) {
      destroyer(stream, null);
    } else {
      stream.off("readable", next);
      cleanup();
    }
  }
}

ObjectDefineProperties(Readable.prototype, {
  readable: {
    get() {
      const r = this._readableState;
      return !!r && r.readable !== false && !r.destroyed && !r.errorEmitted && !r.endEmitted;
    },
    set(val) {
      if (this._readableState) this._readableState.readable = !!val;
    },
  },
  readableDidRead: { enumerable: false, get() { return this._readableState.dataEmitted; } },
  readableAborted: {
    enumerable: false,
    get() {
      const r = this._readableState;
      return !!(r.readable !== false && (r.destroyed || r.errored) && !r.endEmitted);
    },
  },
  readableHighWaterMark: { enumerable: false, get() { return this._readableState.highWaterMark; } },
  readableBuffer: {
    enumerable: false,
    get() {
      const r = this._readableState;
      return r && r.buffer.slice(r.bufferIndex);
    },
  },
  readableFlowing: {
    enumerable: false,
    get() { return this._readableState.flowing; },
    set(state) { if (this._readableState) this._readableState.flowing = state; },
  },
  readableLength: { enumerable: false, get() { return this._readableState.length; } },
  readableObjectMode: {
    enumerable: false,
    get() { return this._readableState ? this._readableState.objectMode : false; },
  },
  readableEncoding: {
    enumerable: false,
    get() { return this._readableState ? this._readableState.encoding : null; },
  },
  errored: {
    enumerable: false,
    get() { return this._readableState ? this._readableState.errored : null; },
  },
  closed: { get() { return this._readableState ? this._readableState.closed : false; } },
  destroyed: {
    enumerable: false,
    get() { return this._readableState ? this._readableState.destroyed : false; },
    set(value) {
      if (!this._readableState) return;
      this._readableState.destroyed = value;
    },
  },
  readableEnded: {
    enumerable: false,
    get() { return this._readableState ? this._readableState.endEmitted : false; },
  },
});

function endReadable(stream) {
  const state = stream._readableState;
  if (!state.endEmitted) {
    state.ended = true;
    nextTick(endReadableNT, state, stream);
  }
}

function endReadableNT(state, stream) {
  if (!state.errored && !state.closeEmitted && !state.endEmitted && state.length === 0) {
    state.endEmitted = true;
    stream.emit("end");
    if (stream.writable && stream.allowHalfOpen === false) {
      nextTick(endWritableNT, stream);
    } else if (state.autoDestroy) {
      // a Duplex is destroyed once its writable side is done too
      const wState = stream._writableState;
      const autoDestroy = !wState || (wState.autoDestroy && (wState.finished || wState.writable === false));
      if (autoDestroy) stream.destroy();
    }
  }
}

function endWritableNT(stream) {
  const writable = stream.writable && !stream.writableEnded && !stream.destroyed;
  if (writable) stream.end();
}

Readable.from = function (iterable, opts) {
  return from(Readable, iterable, opts);
};

Readable.wrap = function (src, options) {
  return new Readable({
    objectMode: src.readableObjectMode ?? src.objectMode ?? true,
    ...options,
    destroy(err, callback) {
      destroyer(src, err);
      callback(err);
    },
  }).wrap(src);
};

// -- Readable.from (lib/internal/streams/from.js) ----------------------------------------------

function from(Ctor, iterable, opts) {
  let iterator;
  if (typeof iterable === "string" || iterable instanceof Buffer) {
    return new Ctor({
      objectMode: true,
      ...opts,
      read() {
        this.push(iterable);
        this.push(null);
      },
    });
  }
  let isAsync;
  if (iterable && typeof iterable[SymbolAsyncIterator] === "function") {
    isAsync = true;
    iterator = iterable[SymbolAsyncIterator]();
  } else if (iterable && typeof iterable[SymbolIterator] === "function") {
    isAsync = false;
    iterator = iterable[SymbolIterator]();
  } else {
    throw invalidArgType("iterable", ["Iterable"], iterable);
  }
  const readable = new Ctor({ objectMode: true, highWaterMark: 1, ...opts });
  // only one next() call at a time
  let reading = false;
  let isAsyncValues = false;
  readable._read = function () {
    if (!reading) {
      reading = true;
      if (isAsync) nextAsync();
      else if (isAsyncValues) nextSyncWithAsyncValues();
      else nextSync();
    }
  };
  readable._destroy = function (error, cb) {
    ReflectApply(PromisePrototypeThen, close(error), [
      () => nextTick(cb, error),
      (e) => nextTick(cb, e || error),
    ]);
  };
  let iteratorDone = false; // next() said done, or threw: there is nothing to close
  async function close(error) {
    if (iteratorDone) return;
    const hadError = error !== undefined && error !== null;
    const hasThrow = typeof iterator.throw === "function";
    if (hadError && hasThrow) {
      const { value, done } = await iterator.throw(error);
      await value;
      if (done) return;
    }
    if (typeof iterator.return === "function") {
      const { value } = await iterator.return();
      await value;
    }
  }
  function nextSync() {
    for (;;) {
      try {
        const { value, done } = nextOf();
        if (done) {
          readable.push(null);
          return;
        }
        if (value && typeof value.then === "function") {
          isAsyncValues = true;
          settleAsyncValue(value);
          return;
        }
        if (pushValue(value)) continue;
      } catch (err) {
        readable.destroy(err);
      }
      break;
    }
  }
  async function settleAsyncValue(promise) {
    try {
      if (pushValue(await promise)) nextSyncWithAsyncValues();
    } catch (err) {
      readable.destroy(err);
    }
  }
  /** Push one value (null is not one: TypeError); whether more may be pushed now. */
  function pushValue(value) {
    if (value === null) {
      reading = false;
      throw errNullValues();
    }
    if (readable.push(value)) return true;
    reading = false;
    return false;
  }
  function nextOf() {
    let result;
    try {
      result = iterator.next();
    } catch (err) {
      iteratorDone = true;
      throw err;
    }
    if (!isAsync && result && result.done) iteratorDone = true;
    return result;
  }
  function nextSyncWithAsyncValues() {
    try {
      const { value, done } = nextOf();
      if (done) {
        readable.push(null);
        return;
      }
      settleAsyncValue(value);
    } catch (err) {
      readable.destroy(err);
    }
  }
  async function nextAsync() {
    for (;;) {
      try {
        let result;
        try {
          result = await nextOf();
        } catch (err) {
          iteratorDone = true;
          throw err;
        }
        const { value, done } = result;
        if (done) {
          iteratorDone = true;
          readable.push(null);
          return;
        }
        if (pushValue(value)) continue;
      } catch (err) {
        readable.destroy(err);
      }
      break;
    }
  }
  return readable;
}

// -- Writable (lib/internal/streams/writable.js) ------------------------------------------------

const kOnFinished = Symbol("kOnFinished");

function WritableState(options, stream, isDuplex) {
  if (typeof isDuplex !== "boolean") isDuplex = stream instanceof Duplex;
  this.objectMode = !!(options && options.objectMode);
  if (isDuplex) this.objectMode = this.objectMode || !!(options && options.writableObjectMode);
  this.highWaterMark = options
    ? getHighWaterMark(this, options, "writableHighWaterMark", isDuplex)
    : getDefaultHighWaterMark(false);
  this.finalCalled = false;
  this.needDrain = false;
  this.ending = false; // end() was called
  this.ended = false; // end() returned
  this.finished = false; // 'finish' was emitted
  this.destroyed = false;
  // strings are turned into Buffers before _write, unless decodeStrings is false
  this.decodeStrings = !(options && options.decodeStrings === false);
  this.defaultEncoding = (options && options.defaultEncoding) || "utf8";
  if (this.defaultEncoding !== "buffer" && !BufferIsEncoding(this.defaultEncoding)) {
    throw errUnknownEncoding(this.defaultEncoding);
  }
  this.length = 0;
  this.writing = false;
  this.corked = 0;
  this.sync = true;
  this.bufferProcessing = false;
  this.onwrite = (er) => onwrite(stream, er);
  this.writecb = null;
  this.writelen = 0;
  this.afterWriteTickInfo = null;
  resetBuffer(this);
  this.pendingcb = 0;
  this.constructed = true;
  this.prefinished = false;
  this.errorEmitted = false;
  this.emitClose = !options || options.emitClose !== false;
  this.autoDestroy = !options || options.autoDestroy !== false;
  this.errored = null;
  this.closed = false;
  this.closeEmitted = false;
  this[kOnFinished] = [];
}

function resetBuffer(state) {
  state.buffered = [];
  state.bufferedIndex = 0;
  state.allBuffers = true;
  state.allNoop = true;
}

WritableState.prototype.getBuffer = function getBuffer() {
  return this.buffered.slice(this.bufferedIndex);
};
ObjectDefineProperty(WritableState.prototype, "bufferedRequestCount", {
  get() { return this.buffered.length - this.bufferedIndex; },
});

function Writable(options) {
  const isDuplex = this instanceof Duplex;
  if (!isDuplex && !ReflectApply(FunctionPrototypeSymbolHasInstance, Writable, [this])) {
    return new Writable(options);
  }
  this._writableState = new WritableState(options, this, isDuplex);
  if (options) {
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignal(options.signal, this);
  }
  Stream.call(this, options);
  construct(this, () => {
    const state = this._writableState;
    if (!state.writing) clearBuffer(this, state);
    finishMaybe(this, state);
  });
}
ObjectSetPrototypeOf(Writable.prototype, Stream.prototype);
ObjectSetPrototypeOf(Writable, Stream);
Writable.WritableState = WritableState;

ObjectDefineProperty(Writable, Symbol.hasInstance, {
  value(object) {
    if (ReflectApply(FunctionPrototypeSymbolHasInstance, this, [object])) return true;
    if (this !== Writable) return false;
    // a Duplex is a Writable too, and so are process.stdout and process.stderr
    return !!(object && (object._writableState instanceof WritableState || object[kStdio] === true));
  },
});

Writable.prototype.pipe = function () {
  errorOrDestroy(this, E(Error, "ERR_STREAM_CANNOT_PIPE", "Cannot pipe, not readable"));
};

function writeImpl(stream, chunk, encoding, cb) {
  const state = stream._writableState;
  if (typeof encoding === "function") {
    cb = encoding;
    encoding = state.defaultEncoding;
  } else {
    if (!encoding) encoding = state.defaultEncoding;
    else if (encoding !== "buffer" && !BufferIsEncoding(encoding)) throw errUnknownEncoding(encoding);
    if (typeof cb !== "function") cb = nop;
  }
  if (chunk === null) {
    throw errNullValues();
  } else if (!state.objectMode) {
    if (typeof chunk === "string") {
      if (state.decodeStrings !== false) {
        chunk = BufferFrom(chunk, encoding);
        encoding = "buffer";
      }
    } else if (chunk instanceof Buffer) {
      encoding = "buffer";
    } else if (isUint8Array(chunk)) {
      chunk = uint8ArrayToBuffer(chunk);
      encoding = "buffer";
    } else {
      throw invalidArgType("chunk", ["string", "Buffer", "TypedArray", "DataView"], chunk);
    }
  }
  let err;
  if (state.ending) err = errWriteAfterEnd();
  else if (state.destroyed) err = errDestroyed("write");
  if (err) {
    nextTick(cb, err);
    errorOrDestroy(stream, err, true);
    return err;
  }
  state.pendingcb++;
  return writeOrBuffer(stream, state, chunk, encoding, cb);
}

Writable.prototype.write = function (chunk, encoding, cb) {
  if (encoding !== null && typeof encoding === "object") encoding = encoding.encoding;
  return writeImpl(this, chunk, encoding, cb) === true;
};

Writable.prototype.cork = function () {
  this._writableState.corked++;
};

Writable.prototype.uncork = function () {
  const state = this._writableState;
  if (state.corked) {
    state.corked--;
    if (!state.writing) clearBuffer(this, state);
  }
};

Writable.prototype.setDefaultEncoding = function setDefaultEncoding(encoding) {
  if (typeof encoding === "string") encoding = encoding.toLowerCase();
  if (!BufferIsEncoding(encoding)) throw errUnknownEncoding(encoding);
  this._writableState.defaultEncoding = encoding;
  return this;
};

/** Writes now if nothing is in progress, else buffers; false once at the highWaterMark. */
function writeOrBuffer(stream, state, chunk, encoding, callback) {
  const len = state.objectMode ? 1 : chunk.length;
  state.length += len;
  const ret = state.length < state.highWaterMark;
  if (!ret) state.needDrain = true;
  if (state.writing || state.corked || state.errored || !state.constructed) {
    state.buffered.push({ chunk, encoding, callback });
    if (state.allBuffers && encoding !== "buffer") state.allBuffers = false;
    if (state.allNoop && callback !== nop) state.allNoop = false;
  } else {
    state.writelen = len;
    state.writecb = callback;
    state.writing = true;
    state.sync = true;
    stream._write(chunk, encoding, state.onwrite);
    state.sync = false;
  }
  return ret && !state.errored && !state.destroyed;
}

function doWrite(stream, state, writev, len, chunk, encoding, cb) {
  state.writelen = len;
  state.writecb = cb;
  state.writing = true;
  state.sync = true;
  if (state.destroyed) state.onwrite(errDestroyed("write"));
  else if (writev) stream._writev(chunk, state.onwrite);
  else stream._write(chunk, encoding, state.onwrite);
  state.sync = false;
}

function onwriteError(stream, state, er, cb) {
  --state.pendingcb;
  cb(er);
  errorBuffer(state);
  errorOrDestroy(stream, er);
}

function onwrite(stream, er) {
  const state = stream._writableState;
  const sync = state.sync;
  const cb = state.writecb;
  if (typeof cb !== "function") {
    errorOrDestroy(stream, errMultipleCallback());
    return;
  }
  state.writing = false;
  state.writecb = null;
  state.length -= state.writelen;
  state.writelen = 0;
  if (er) {
    er.stack; // eslint-disable-line no-unused-expressions
    if (!state.errored) state.errored = er;
    if (stream._readableState && !stream._readableState.errored) stream._readableState.errored = er;
    if (sync) nextTick(onwriteError, stream, state, er, cb);
    else onwriteError(stream, state, er, cb);
  } else {
    if (state.buffered.length > state.bufferedIndex) clearBuffer(stream, state);
    if (sync) {
      // callbacks of synchronous writes run together on the next tick
      if (state.afterWriteTickInfo !== null && state.afterWriteTickInfo.cb === cb) {
        state.afterWriteTickInfo.count++;
      } else {
        state.afterWriteTickInfo = { count: 1, cb, stream, state };
        nextTick(afterWriteTick, state.afterWriteTickInfo);
      }
    } else {
      afterWrite(stream, state, 1, cb);
    }
  }
}

function afterWriteTick({ stream, state, count, cb }) {
  state.afterWriteTickInfo = null;
  return afterWrite(stream, state, count, cb);
}

function afterWrite(stream, state, count, cb) {
  const needDrain = !state.ending && !stream.destroyed && state.length === 0 && state.needDrain;
  if (needDrain) {
    state.needDrain = false;
    stream.emit("drain");
  }
  while (count-- > 0) {
    state.pendingcb--;
    cb(null);
  }
  if (state.destroyed) errorBuffer(state);
  finishMaybe(stream, state);
}

/** The buffered writes' callbacks get the error (or ERR_STREAM_DESTROYED). */
function errorBuffer(state) {
  if (state.writing) return;
  for (let n = state.bufferedIndex; n < state.buffered.length; ++n) {
    const { chunk, callback } = state.buffered[n];
    const len = state.objectMode ? 1 : chunk.length;
    state.length -= len;
    callback(state.errored ?? errDestroyed("write"));
  }
  const onfinishCallbacks = state[kOnFinished].splice(0);
  for (let i = 0; i < onfinishCallbacks.length; i++) {
    onfinishCallbacks[i](state.errored ?? errDestroyed("end"));
  }
  resetBuffer(state);
}

function clearBuffer(stream, state) {
  if (state.corked || state.bufferProcessing || state.destroyed || !state.constructed) return;
  const { buffered, bufferedIndex, objectMode } = state;
  const bufferedLength = buffered.length - bufferedIndex;
  if (!bufferedLength) return;
  let i = bufferedIndex;
  state.bufferProcessing = true;
  if (bufferedLength > 1 && stream._writev) {
    state.pendingcb -= bufferedLength - 1;
    const callback = state.allNoop ? nop : (err) => {
      for (let n = i; n < buffered.length; ++n) buffered[n].callback(err);
    };
    const chunks = state.allNoop && i === 0 ? buffered : buffered.slice(i);
    chunks.allBuffers = state.allBuffers;
    doWrite(stream, state, true, state.length, chunks, "", callback);
    resetBuffer(state);
  } else {
    do {
      const { chunk, encoding, callback } = buffered[i];
      buffered[i++] = null;
      const len = objectMode ? 1 : chunk.length;
      doWrite(stream, state, false, len, chunk, encoding, callback);
    } while (i < buffered.length && !state.writing);
    if (i === buffered.length) {
      resetBuffer(state);
    } else if (i > 256) {
      buffered.splice(0, i);
      state.bufferedIndex = 0;
    } else {
      state.bufferedIndex = i;
    }
  }
  state.bufferProcessing = false;
}

Writable.prototype._write = function (chunk, encoding, cb) {
  if (this._writev) this._writev([{ chunk, encoding }], cb);
  else throw errNotImplemented("_write()");
};
Writable.prototype._writev = null;

Writable.prototype.end = function (chunk, encoding, cb) {
  const state = this._writableState;
  if (typeof chunk === "function") {
    cb = chunk;
    chunk = null;
    encoding = null;
  } else if (typeof encoding === "function") {
    cb = encoding;
    encoding = null;
  }
  let err;
  if (chunk !== null && chunk !== undefined) {
    const ret = writeImpl(this, chunk, encoding);
    if (ret instanceof Error) err = ret;
  }
  if (state.corked) {
    state.corked = 1;
    this.uncork();
  }
  if (err) {
    // the write's error is reported already
  } else if (!state.errored && !state.ending) {
    state.ending = true;
    finishMaybe(this, state, true);
    state.ended = true;
  } else if (state.finished) {
    err = errAlreadyFinished("end");
  } else if (state.destroyed) {
    err = errDestroyed("end");
  }
  if (typeof cb === "function") {
    if (err) nextTick(cb, err);
    else if (state.errored) nextTick(cb, state.errored);
    else if (state.finished) nextTick(cb, null);
    else state[kOnFinished].push(cb);
  }
  return this;
};

function needFinish(state) {
  return state.ending && !state.destroyed && state.constructed && state.length === 0 &&
    !state.errored && state.buffered.length === 0 && !state.finished && !state.writing &&
    !state.errorEmitted && !state.closeEmitted;
}

function callFinal(stream, state) {
  let called = false;
  function onFinish(err) {
    if (called) {
      errorOrDestroy(stream, err ?? errMultipleCallback());
      return;
    }
    called = true;
    state.pendingcb--;
    if (err) {
      const onfinishCallbacks = state[kOnFinished].splice(0);
      for (let i = 0; i < onfinishCallbacks.length; i++) onfinishCallbacks[i](err);
      errorOrDestroy(stream, err, state.sync);
    } else if (needFinish(state)) {
      state.prefinished = true;
      stream.emit("prefinish");
      state.pendingcb++;
      nextTick(finish, stream, state);
    }
  }
  state.sync = true;
  state.pendingcb++;
  try {
    stream._final(onFinish);
  } catch (err) {
    onFinish(err);
  }
  state.sync = false;
}

function prefinish(stream, state) {
  if (!state.prefinished && !state.finalCalled) {
    if (typeof stream._final === "function" && !state.destroyed) {
      state.finalCalled = true;
      callFinal(stream, state);
    } else {
      state.prefinished = true;
      stream.emit("prefinish");
    }
  }
}

function finishMaybe(stream, state, sync) {
  if (needFinish(state)) {
    prefinish(stream, state);
    if (state.pendingcb === 0) {
      if (sync) {
        state.pendingcb++;
        nextTick((stream, state) => {
          if (needFinish(state)) finish(stream, state);
          else state.pendingcb--;
        }, stream, state);
      } else if (needFinish(state)) {
        state.pendingcb++;
        finish(stream, state);
      }
    }
  }
}

function finish(stream, state) {
  state.pendingcb--;
  state.finished = true;
  const onfinishCallbacks = state[kOnFinished].splice(0);
  for (let i = 0; i < onfinishCallbacks.length; i++) onfinishCallbacks[i](null);
  stream.emit("finish");
  if (state.autoDestroy) {
    // a Duplex is destroyed once its readable side has ended too
    const rState = stream._readableState;
    const autoDestroy = !rState || (rState.autoDestroy && (rState.endEmitted || rState.readable === false));
    if (autoDestroy) stream.destroy();
  }
}

ObjectDefineProperties(Writable.prototype, {
  closed: { get() { return this._writableState ? this._writableState.closed : false; } },
  destroyed: {
    get() { return this._writableState ? this._writableState.destroyed : false; },
    set(value) {
      if (this._writableState) this._writableState.destroyed = value;
    },
  },
  writable: {
    get() {
      const w = this._writableState;
      return !!w && w.writable !== false && !w.destroyed && !w.errored && !w.ending && !w.ended;
    },
    set(val) {
      if (this._writableState) this._writableState.writable = !!val;
    },
  },
  writableFinished: { get() { return this._writableState ? this._writableState.finished : false; } },
  writableObjectMode: {
    get() { return this._writableState ? this._writableState.objectMode : false; },
  },
  writableBuffer: { get() { return this._writableState && this._writableState.getBuffer(); } },
  writableEnded: { get() { return this._writableState ? this._writableState.ending : false; } },
  writableNeedDrain: {
    get() {
      const wState = this._writableState;
      if (!wState) return false;
      return !wState.destroyed && !wState.ending && wState.needDrain;
    },
  },
  writableHighWaterMark: { get() { return this._writableState && this._writableState.highWaterMark; } },
  writableCorked: { get() { return this._writableState ? this._writableState.corked : 0; } },
  writableLength: { get() { return this._writableState && this._writableState.length; } },
  errored: {
    enumerable: false,
    get() { return this._writableState ? this._writableState.errored : null; },
  },
  writableAborted: {
    enumerable: false,
    get() {
      const w = this._writableState;
      return !!(w.writable !== false && (w.destroyed || w.errored) && !w.finished);
    },
  },
});

Writable.prototype.destroy = function (err, cb) {
  const state = this._writableState;
  // the buffered writes fail (on the next tick, after the destroy)
  if (!state.destroyed &&
      (state.bufferedIndex < state.buffered.length || state[kOnFinished].length)) {
    nextTick(errorBuffer, state);
  }
  ReflectApply(destroy, this, [err, cb]);
  return this;
};
Writable.prototype._undestroy = undestroy;
Writable.prototype[SymbolAsyncDispose] = function () {
  let error;
  if (!this.destroyed) {
    error = this.writableFinished ? null : new AbortError();
    this.destroy(error);
  }
  return new PromiseCtor((resolve, reject) => {
    eos(this, (err) => (err && err.name !== "AbortError" ? reject(err) : resolve(null)));
  });
};
Writable.prototype._destroy = function (err, cb) {
  cb(err);
};
Writable.prototype[EventEmitter.captureRejectionSymbol] = function (err) {
  this.destroy(err);
};

// -- Duplex (lib/internal/streams/duplex.js) ----------------------------------------------------

function Duplex(options) {
  if (!(this instanceof Duplex)) return new Duplex(options);
  this._readableState = new ReadableState(options, this, true);
  this._writableState = new WritableState(options, this, true);
  if (options) {
    this.allowHalfOpen = options.allowHalfOpen !== false;
    if (options.readable === false) {
      this._readableState.readable = false;
      this._readableState.ended = true;
      this._readableState.endEmitted = true;
    }
    if (options.writable === false) {
      this._writableState.writable = false;
      this._writableState.ending = true;
      this._writableState.ended = true;
      this._writableState.finished = true;
    }
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignal(options.signal, this);
  } else {
    this.allowHalfOpen = true;
  }
  Stream.call(this, options);
  if (typeof this._construct === "function") {
    construct(this, () => {
      const r = this._readableState;
      const w = this._writableState;
      if (r.needReadable) maybeReadMore(this, r);
      if (!w.writing) clearBuffer(this, w);
      finishMaybe(this, w);
    });
  }
}
ObjectSetPrototypeOf(Duplex.prototype, Readable.prototype);
ObjectSetPrototypeOf(Duplex, Readable);

{
  const keys = ReflectOwnKeys(Writable.prototype);
  for (let i = 0; i < keys.length; i++) {
    const method = keys[i];
    // what Readable has already (pipe, destroy, destroyed, ...) stays Readable's
    if (method === "constructor" || method in Duplex.prototype) continue;
    ObjectDefineProperty(Duplex.prototype, method, ObjectGetOwnPropertyDescriptor(Writable.prototype, method));
  }
}

function bothStates(getter) {
  return {
    enumerable: false,
    get() {
      if (this._readableState === undefined || this._writableState === undefined) return false;
      return getter(this._readableState, this._writableState);
    },
  };
}

ObjectDefineProperties(Duplex.prototype, {
  destroyed: {
    ...bothStates((r, w) => r.destroyed && w.destroyed),
    set(value) {
      if (this._readableState && this._writableState) {
        this._readableState.destroyed = value;
        this._writableState.destroyed = value;
      }
    },
  },
  closed: bothStates((r, w) => r.closed && w.closed),
  errored: {
    enumerable: false,
    get() {
      return (this._readableState && this._readableState.errored) ||
        (this._writableState && this._writableState.errored) || null;
    },
  },
});
Duplex.prototype.destroy = Writable.prototype.destroy;

Duplex.from = function (body) {
  return duplexify(body, "body");
};

// -- Transform and PassThrough (lib/internal/streams/transform.js, passthrough.js) ---------------

const kCallback = Symbol("kCallback");

function Transform(options) {
  if (!(this instanceof Transform)) return new Transform(options);
  // A readable highWaterMark of 0 would stall the transform: the writable side keeps its own.
  const readableHighWaterMark = options
    ? getHighWaterMark(this, options, "readableHighWaterMark", true) : null;
  if (readableHighWaterMark === 0) {
    options = {
      ...options,
      highWaterMark: null,
      readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark || 0,
    };
  }
  ReflectApply(Duplex, this, [options]);
  // a push() from _transform() emits 'readable' at once: no _read() is in progress
  this._readableState.sync = false;
  this[kCallback] = null;
  if (options) {
    if (typeof options.transform === "function") this._transform = options.transform;
    if (typeof options.flush === "function") this._flush = options.flush;
  }
  this.on("prefinish", prefinishTransform);
}
ObjectSetPrototypeOf(Transform.prototype, Duplex.prototype);
ObjectSetPrototypeOf(Transform, Duplex);

function finalTransform(cb) {
  if (typeof this._flush === "function" && !this.destroyed) {
    this._flush((er, data) => {
      if (er) {
        if (cb) cb(er);
        else this.destroy(er);
        return;
      }
      if (data !== null && data !== undefined) this.push(data);
      this.push(null);
      if (cb) cb();
    });
  } else {
    this.push(null);
    if (cb) cb();
  }
}

function prefinishTransform() {
  if (this._final !== finalTransform) ReflectApply(finalTransform, this, []);
}

Transform.prototype._final = finalTransform;

Transform.prototype._transform = function (chunk, encoding, callback) {
  throw errNotImplemented("_transform()");
};

Transform.prototype._write = function (chunk, encoding, callback) {
  const rState = this._readableState;
  const wState = this._writableState;
  const length = rState.length;
  this._transform(chunk, encoding, (err, val) => {
    if (err) {
      callback(err);
      return;
    }
    if (val !== null && val !== undefined) this.push(val);
    if (rState.ended) {
      nextTick(callback);
    } else if (wState.ended || length === rState.length || rState.length < rState.highWaterMark) {
      callback();
    } else {
      // the readable side is full: the next write waits for a read
      this[kCallback] = callback;
    }
  });
};

Transform.prototype._read = function () {
  if (this[kCallback]) {
    const callback = this[kCallback];
    this[kCallback] = null;
    callback();
  }
};

function PassThrough(options) {
  if (!(this instanceof PassThrough)) return new PassThrough(options);
  ReflectApply(Transform, this, [options]);
}
ObjectSetPrototypeOf(PassThrough.prototype, Transform.prototype);
ObjectSetPrototypeOf(PassThrough, Transform);

PassThrough.prototype._transform = function (chunk, encoding, cb) {
  cb(null, chunk);
};

// -- finished (lib/internal/streams/end-of-stream.js) -------------------------------------------

/** finished(stream[, options], callback): callback once the stream is done, errored or
 * closed early (ERR_STREAM_PREMATURE_CLOSE); returns a function that removes its listeners. */
function eos(stream, options, callback) {
  if (arguments.length === 2) {
    callback = options;
    options = {};
  } else if (options === null || options === undefined) {
    options = {};
  } else {
    validateObject(options, "options");
  }
  validateFunction(callback, "callback");
  validateAbortSignal(options.signal, "options.signal");
  callback = once(callback);
  if (isReadableStream(stream) || isWritableStream(stream)) return eosWeb(stream, options, callback);
  if (!isNodeStream(stream)) {
    throw invalidArgType("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
  }
  const readable = options.readable ?? isReadableNodeStream(stream);
  const writable = options.writable ?? isWritableNodeStream(stream);
  const wState = stream._writableState;
  const rState = stream._readableState;
  const onlegacyfinish = () => {
    if (!stream.writable) onfinish();
  };
  // With a 'close' to come, wait for it (the stream's own errors come before it).
  let closeWillCome = willEmitClose(stream) && isReadableNodeStream(stream) === readable &&
    isWritableNodeStream(stream) === writable;
  let writableFinished = isWritableFinished(stream, false);
  const onfinish = () => {
    writableFinished = true;
    if (stream.destroyed) closeWillCome = false;
    if (closeWillCome && (!stream.readable || readable)) return;
    if (!readable || readableFinished) callback.call(stream);
  };
  let readableFinished = isReadableFinished(stream, false);
  const onend = () => {
    readableFinished = true;
    if (stream.destroyed) closeWillCome = false;
    if (closeWillCome && (!stream.writable || writable)) return;
    if (!writable || writableFinished) callback.call(stream);
  };
  const onerror = (err) => {
    callback.call(stream, err);
  };
  let closed = isClosed(stream);
  const onclose = () => {
    closed = true;
    const errored = isWritableErrored(stream) || isReadableErrored(stream);
    if (errored && typeof errored !== "boolean") return callback.call(stream, errored);
    if (readable && !readableFinished && isReadableNodeStream(stream, true)) {
      if (!isReadableFinished(stream, false)) return callback.call(stream, errPrematureClose());
    }
    if (writable && !writableFinished) {
      if (!isWritableFinished(stream, false)) return callback.call(stream, errPrematureClose());
    }
    callback.call(stream);
  };
  const onclosed = () => {
    closed = true;
    const errored = isWritableErrored(stream) || isReadableErrored(stream);
    if (errored && typeof errored !== "boolean") return callback.call(stream, errored);
    callback.call(stream);
  };
  const onrequest = () => {
    stream.req.on("finish", onfinish);
  };
  if (isRequest(stream)) {
    stream.on("complete", onfinish);
    if (!closeWillCome) stream.on("abort", onclose);
    if (stream.req) onrequest();
    else stream.on("request", onrequest);
  } else if (writable && !wState) {
    // legacy streams
    stream.on("end", onlegacyfinish);
    stream.on("close", onlegacyfinish);
  }
  if (!closeWillCome && typeof stream.aborted === "boolean") stream.on("aborted", onclose);
  stream.on("end", onend);
  stream.on("finish", onfinish);
  if (options.error !== false) stream.on("error", onerror);
  stream.on("close", onclose);
  if (closed) {
    nextTick(onclose);
  } else if ((wState && wState.errorEmitted) || (rState && rState.errorEmitted)) {
    if (!closeWillCome) nextTick(onclosed);
  } else if (!readable && (!closeWillCome || isReadable(stream)) &&
             (writableFinished || isWritable(stream) === false)) {
    nextTick(onclosed);
  } else if (!writable && (!closeWillCome || isWritable(stream)) &&
             (readableFinished || isReadable(stream) === false)) {
    nextTick(onclosed);
  } else if (rState && stream.req && stream.aborted) {
    nextTick(onclosed);
  }
  const cleanup = () => {
    callback = nop;
    stream.removeListener("aborted", onclose);
    stream.removeListener("complete", onfinish);
    stream.removeListener("abort", onclose);
    stream.removeListener("request", onrequest);
    if (stream.req) stream.req.removeListener("finish", onfinish);
    stream.removeListener("end", onlegacyfinish);
    stream.removeListener("close", onlegacyfinish);
    stream.removeListener("finish", onfinish);
    stream.removeListener("end", onend);
    stream.removeListener("error", onerror);
    stream.removeListener("close", onclose);
  };
  if (options.signal && !closed) {
    const abort = () => {
      const endCallback = callback;
      cleanup();
      endCallback.call(stream, new AbortError(undefined, { cause: options.signal.reason }));
    };
    if (options.signal.aborted) {
      nextTick(abort);
    } else {
      const disposable = addAbortListener(options.signal, abort);
      const originalCallback = callback;
      callback = once((...args) => {
        disposable.dispose();
        ReflectApply(originalCallback, stream, args);
      });
    }
  }
  return cleanup;
}

// A web stream's end is not observable from outside without locking it: what this module made
// (toWeb) records it; others report once they are closed through a pipeline of this module.
const webDone = new WeakMap(); // web stream -> { done, error, callbacks }

function webRecord(stream) {
  let record = webDone.get(stream);
  if (record === undefined) {
    record = { done: false, error: undefined, callbacks: [] };
    webDone.set(stream, record);
  }
  return record;
}

function webSettle(stream, error) {
  const record = webRecord(stream);
  if (record.done) return;
  record.done = true;
  record.error = error;
  const callbacks = record.callbacks.splice(0);
  for (let i = 0; i < callbacks.length; i++) callbacks[i](error);
}

function eosWeb(stream, options, callback) {
  let active = true;
  const record = webRecord(stream);
  const run = (error) => {
    if (!active) return;
    active = false;
    if (error) callback.call(stream, error);
    else callback.call(stream);
  };
  if (record.done) nextTick(run, record.error);
  else record.callbacks.push(run);
  if (options.signal) {
    const abort = () => run(new AbortError(undefined, { cause: options.signal.reason }));
    if (options.signal.aborted) nextTick(abort);
    else addAbortListener(options.signal, abort);
  }
  return () => { active = false; };
}

// -- pipeline (lib/internal/streams/pipeline.js) ------------------------------------------------

function popCallback(streams) {
  validateFunction(streams[streams.length - 1], "streams[stream.length - 1]");
  return streams.pop();
}

function makeAsyncIterable(val) {
  if (isIterable(val)) return val;
  if (isReadableNodeStream(val)) return fromReadable(val);
  throw invalidArgType("val", ["Readable", "Iterable", "AsyncIterable"], val);
}

async function* fromReadable(val) {
  yield* ReflectApply(Readable.prototype[SymbolAsyncIterator], val, []);
}

/** Writes an (async) iterable into a Node writable, waiting for 'drain' when it is full. */
async function pumpToNode(iterable, writable, finish, { end }) {
  let error;
  let onresolve = null;
  const resume = (err) => {
    if (err) error = err;
    if (onresolve) {
      const callback = onresolve;
      onresolve = null;
      callback();
    }
  };
  const wait = () => new PromiseCtor((resolve, reject) => {
    if (error) {
      reject(error);
    } else {
      onresolve = () => {
        if (error) reject(error);
        else resolve();
      };
    }
  });
  writable.on("drain", resume);
  const cleanup = eos(writable, { readable: false }, resume);
  try {
    if (writable.writableNeedDrain) await wait();
    for await (const chunk of iterable) {
      if (!writable.write(chunk)) await wait();
    }
    if (end) {
      writable.end();
      await wait();
    }
    finish();
  } catch (err) {
    finish(error !== err ? aggregateTwoErrors(error, err) : err);
  } finally {
    cleanup();
    writable.off("drain", resume);
  }
}

async function pumpToWeb(readable, writable, finish, { end }) {
  if (isTransformStream(writable)) writable = writable.writable;
  const target = writable;
  const writer = writable.getWriter();
  try {
    for await (const chunk of readable) {
      await writer.ready;
      ReflectApply(PromisePrototypeThen, writer.write(chunk), [undefined, nop]);
    }
    await writer.ready;
    if (end) await writer.close();
    webSettle(target);
    finish();
  } catch (err) {
    try {
      await writer.abort(err);
    } catch {
      // the error that stopped the pump is the one reported
    }
    webSettle(target, err);
    finish(err);
  }
}

function pipeline(...streams) {
  return pipelineImpl(streams, once(popCallback(streams)));
}

function pipelineImpl(streams, callback, opts) {
  if (streams.length === 1 && ArrayIsArray(streams[0])) streams = streams[0];
  if (streams.length < 2) throw errMissingArgs("streams");
  const ac = new AbortControllerCtor();
  const signal = ac.signal;
  const outerSignal = opts && opts.signal;
  const lastStreamCleanup = [];
  validateAbortSignal(outerSignal, "options.signal");
  function abort() {
    finishImpl(new AbortError(undefined, { cause: outerSignal && outerSignal.reason }));
  }
  let disposable;
  if (outerSignal) disposable = addAbortListener(outerSignal, abort);
  let error;
  let value;
  const destroys = [];
  let finishCount = 0;
  function finish(err) {
    finishImpl(err, --finishCount === 0);
  }
  function finishImpl(err, final) {
    if (err && (!error || error.code === "ERR_STREAM_PREMATURE_CLOSE")) error = err;
    if (!error && !final) return;
    while (destroys.length) destroys.shift()(error);
    if (disposable) disposable.dispose();
    ac.abort();
    if (final) {
      if (!error) for (let i = 0; i < lastStreamCleanup.length; i++) lastStreamCleanup[i]();
      nextTick(callback, error, value);
    }
  }
  let ret;
  for (let i = 0; i < streams.length; i++) {
    const stream = streams[i];
    const reading = i < streams.length - 1;
    const writing = i > 0;
    const end = reading || !opts || opts.end !== false;
    const isLastStream = i === streams.length - 1;
    if (isNodeStream(stream)) {
      if (end) {
        const { destroy, cleanup } = pipelineDestroyer(stream, reading, writing);
        destroys.push(destroy);
        if (isReadable(stream) && isLastStream) lastStreamCleanup.push(cleanup);
      }
      // errors after the data has all passed
      const onError = (err) => {
        if (err && err.name !== "AbortError" && err.code !== "ERR_STREAM_PREMATURE_CLOSE") finish(err);
      };
      stream.on("error", onError);
      if (isReadable(stream) && isLastStream) {
        lastStreamCleanup.push(() => { stream.removeListener("error", onError); });
      }
    }
    if (i === 0) {
      if (typeof stream === "function") {
        ret = stream({ signal });
        if (!isIterable(ret)) throw errInvalidReturnValue("Iterable, AsyncIterable or Stream", "source", ret);
      } else if (isIterable(stream) || isReadableNodeStream(stream) || isTransformStream(stream)) {
        ret = stream;
      } else {
        ret = Duplex.from(stream);
      }
    } else if (typeof stream === "function") {
      if (isTransformStream(ret)) ret = makeAsyncIterable(ret && ret.readable);
      else ret = makeAsyncIterable(ret);
      ret = stream(ret, { signal });
      if (reading) {
        if (!isIterable(ret, true)) throw errInvalidReturnValue("AsyncIterable", `transform[${i - 1}]`, ret);
      } else {
        // the last function's result (a promise or an iterable) goes through a PassThrough
        const pt = new PassThrough({ objectMode: true });
        const then = ret && ret.then;
        if (typeof then === "function") {
          finishCount++;
          ReflectApply(then, ret, [(val) => {
            value = val;
            if (val !== null && val !== undefined) pt.write(val);
            if (end) pt.end();
            nextTick(finish);
          }, (err) => {
            pt.destroy(err);
            nextTick(finish, err);
          }]);
        } else if (isIterable(ret, true)) {
          finishCount++;
          pumpToNode(ret, pt, finish, { end });
        } else if (isReadableStream(ret) || isTransformStream(ret)) {
          const toRead = ret.readable || ret;
          finishCount++;
          pumpToNode(toRead, pt, finish, { end });
        } else {
          throw errInvalidReturnValue("AsyncIterable or Promise", "destination", ret);
        }
        ret = pt;
        const { destroy, cleanup } = pipelineDestroyer(ret, false, true);
        destroys.push(destroy);
        if (isLastStream) lastStreamCleanup.push(cleanup);
      }
    } else if (isNodeStream(stream)) {
      if (isReadableNodeStream(ret)) {
        finishCount += 2;
        const cleanup = pipe(ret, stream, finish, { end });
        if (isReadable(stream) && isLastStream) lastStreamCleanup.push(cleanup);
      } else if (isTransformStream(ret) || isReadableStream(ret)) {
        const toRead = ret.readable || ret;
        finishCount++;
        pumpToNode(toRead, stream, finish, { end });
      } else if (isIterable(ret)) {
        finishCount++;
        pumpToNode(ret, stream, finish, { end });
      } else {
        throw invalidArgType("val", ["Readable", "Iterable", "AsyncIterable", "ReadableStream",
                                     "TransformStream"], ret);
      }
      ret = stream;
    } else if (isWebStream(stream)) {
      if (isReadableNodeStream(ret)) {
        finishCount++;
        pumpToWeb(makeAsyncIterable(ret), stream, finish, { end });
      } else if (isReadableStream(ret) || isIterable(ret)) {
        finishCount++;
        pumpToWeb(ret, stream, finish, { end });
      } else if (isTransformStream(ret)) {
        finishCount++;
        pumpToWeb(ret.readable, stream, finish, { end });
      } else {
        throw invalidArgType("val", ["Readable", "Iterable", "AsyncIterable", "ReadableStream",
                                     "TransformStream"], ret);
      }
      ret = stream;
    } else {
      ret = Duplex.from(stream);
    }
  }
  if ((signal && signal.aborted) || (outerSignal && outerSignal.aborted)) nextTick(abort);
  return ret;
}

function pipelineDestroyer(stream, reading, writing) {
  let finished = false;
  stream.on("close", () => { finished = true; });
  const cleanup = eos(stream, { readable: reading, writable: writing }, (err) => {
    finished = !err;
  });
  return {
    destroy: (err) => {
      if (finished) return;
      finished = true;
      destroyer(stream, err || errDestroyed("pipe"));
    },
    cleanup,
  };
}

function pipe(src, dst, finish, { end }) {
  let ended = false;
  dst.on("close", () => {
    if (!ended) finish(errPrematureClose()); // the destination closed before the source ended
  });
  src.pipe(dst, { end: false });
  if (end) {
    function endFn() {
      ended = true;
      dst.end();
    }
    if (isReadableFinished(src)) nextTick(endFn);
    else src.once("end", endFn);
    eos(src, { readable: true, writable: false }, (err) => {
      const rState = src._readableState;
      if (err && err.code === "ERR_STREAM_PREMATURE_CLOSE" && rState && rState.ended &&
          !rState.errored && !rState.errorEmitted) {
        // ended but closed before 'end' was emitted (it will be)
        src.once("end", endFn).once("error", finish);
      } else {
        finish(err);
      }
    });
  } else {
    finish();
  }
  return eos(dst, { readable: false, writable: true }, finish);
}

// -- a Duplex over other streams (compose and Duplex.from({ readable, writable })) --------------

/** Call and clear the callback a Duplex over other streams waits on (``waits[key]``). */
function fire(waits, key) {
  const cb = waits[key];
  if (cb) {
    waits[key] = null;
    cb();
  }
}

/** ``d``'s writable side writes into the Node stream ``w``: a write waits for its 'drain'
 * when it says so, and the final callback for what ``waits.onfinish`` is fired by. */
function writeInto(d, w, waits) {
  d._write = function (chunk, encoding, callback) {
    if (w.write(chunk, encoding)) callback();
    else waits.ondrain = callback;
  };
  d._final = function (callback) {
    w.end();
    waits.onfinish = callback;
  };
  w.on("drain", () => fire(waits, "ondrain"));
}

/** ``d``'s readable side reads the Node stream ``r`` as it becomes readable, up to its end. */
function readFrom(d, r, waits) {
  r.on("readable", () => fire(waits, "onreadable"));
  r.on("end", () => { d.push(null); });
  d._read = function () {
    while (true) {
      const buf = r.read();
      if (buf === null) {
        waits.onreadable = d._read;
        return;
      }
      if (!d.push(buf)) return;
    }
  };
}

/** ``d._destroy``: nothing is waited on any more; with the pipeline still running, the
 * callback waits for it to end (``waits.onclose``) after ``destroyAll(err)``. */
function destroyOver(d, waits, destroyAll) {
  d._destroy = function (err, callback) {
    if (!err && waits.onclose !== null) err = new AbortError();
    waits.onreadable = null;
    waits.ondrain = null;
    waits.onfinish = null;
    if (waits.onclose === null) {
      callback(err);
    } else {
      waits.onclose = callback;
      destroyAll(err);
    }
  };
}

// -- compose (lib/internal/streams/compose.js) --------------------------------------------------

function compose(...streams) {
  if (streams.length === 0) throw errMissingArgs("streams");
  if (streams.length === 1) return Duplex.from(streams[0]);
  const orgStreams = [...streams];
  if (typeof streams[0] === "function") streams[0] = Duplex.from(streams[0]);
  if (typeof streams[streams.length - 1] === "function") {
    const idx = streams.length - 1;
    streams[idx] = Duplex.from(streams[idx]);
  }
  for (let n = 0; n < streams.length; ++n) {
    if (!isNodeStream(streams[n]) && !isWebStream(streams[n])) continue;
    if (n < streams.length - 1 &&
        !(isReadable(streams[n]) || isReadableStream(streams[n]) || isTransformStream(streams[n]))) {
      throw invalidArgValue(`streams[${n}]`, orgStreams[n], "must be readable");
    }
    if (n > 0 &&
        !(isWritable(streams[n]) || isWritableStream(streams[n]) || isTransformStream(streams[n]))) {
      throw invalidArgValue(`streams[${n}]`, orgStreams[n], "must be writable");
    }
  }
  const waits = { __proto__: null, ondrain: null, onfinish: null, onreadable: null,
                  onclose: undefined };
  let d;
  function onfinished(err) {
    const cb = waits.onclose;
    waits.onclose = null;
    if (cb) cb(err);
    else if (err) d.destroy(err);
    else if (!readable && !writable) d.destroy();
  }
  const head = streams[0];
  const tail = pipeline(streams, onfinished);
  const writable = !!(isWritable(head) || isWritableStream(head) || isTransformStream(head));
  const readable = !!(isReadable(tail) || isReadableStream(tail) || isTransformStream(tail));
  d = new Duplex({
    writableObjectMode: !!(head && head.writableObjectMode),
    readableObjectMode: !!(tail && tail.readableObjectMode),
    writable,
    readable,
  });
  if (writable) {
    if (isNodeStream(head)) {
      writeInto(d, head, waits);
    } else {
      const writer = (isTransformStream(head) ? head.writable : head).getWriter();
      d._write = async function (chunk, encoding, callback) {
        try {
          await writer.ready;
          ReflectApply(PromisePrototypeThen, writer.write(chunk), [undefined, nop]);
          callback();
        } catch (err) {
          callback(err);
        }
      };
      d._final = async function (callback) {
        try {
          await writer.ready;
          ReflectApply(PromisePrototypeThen, writer.close(), [undefined, nop]);
          waits.onfinish = callback;
        } catch (err) {
          callback(err);
        }
      };
    }
    const toRead = isTransformStream(tail) ? tail.readable : tail;
    eos(toRead, () => fire(waits, "onfinish"));
  }
  if (readable) {
    if (isNodeStream(tail)) {
      readFrom(d, tail, waits);
    } else {
      const reader = (isTransformStream(tail) ? tail.readable : tail).getReader();
      d._read = async function () {
        while (true) {
          try {
            const { value, done } = await reader.read();
            if (done) {
              d.push(null);
              return;
            }
            if (!d.push(value)) return;
          } catch {
            return;
          }
        }
      };
    }
  }
  destroyOver(d, waits, (err) => {
    if (isNodeStream(tail)) destroyer(tail, err);
  });
  return d;
}

// -- addAbortSignal (lib/internal/streams/add-abort-signal.js) -----------------------------------

function addAbortSignal(signal, stream) {
  validateAbortSignal(signal, "signal");
  if (!isNodeStream(stream) && !isWebStream(stream)) {
    throw invalidArgType("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
  }
  if (!isAbortSignal(signal)) return stream;
  const onAbort = () => {
    const err = new AbortError(undefined, { cause: signal.reason });
    if (isNodeStream(stream)) {
      stream.destroy(err);
    } else if (isReadableStream(stream)) {
      ReflectApply(PromisePrototypeThen, stream.cancel(err), [undefined, nop]);
    } else if (isWritableStream(stream)) {
      ReflectApply(PromisePrototypeThen, stream.abort(err), [undefined, nop]);
    }
  };
  if (signal.aborted) {
    onAbort();
  } else {
    const disposable = addAbortListener(signal, onAbort);
    if (isNodeStream(stream)) eos(stream, disposable.dispose);
  }
  return stream;
}

// -- Duplex.from (lib/internal/streams/duplexify.js) --------------------------------------------

function duplexify(body, name) {
  if (isDuplexNodeStream(body)) return body;
  if (isReadableNodeStream(body)) return duplexifyPair({ readable: body });
  if (isWritableNodeStream(body)) return duplexifyPair({ writable: body });
  if (isNodeStream(body)) return duplexifyPair({ writable: false, readable: false });
  if (isReadableStream(body)) return duplexifyPair({ readable: Readable.fromWeb(body) });
  if (isWritableStream(body)) return duplexifyPair({ writable: Writable.fromWeb(body) });
  if (typeof body === "function") {
    const { value, write, final, destroy } = fromAsyncGen(body);
    if (isIterable(value)) {
      return from(Duplex, value, { objectMode: true, write, final, destroy });
    }
    const then = value && value.then;
    if (typeof then === "function") {
      let d;
      const promise = ReflectApply(then, value, [(val) => {
        if (val !== null && val !== undefined) throw errInvalidReturnValue("nully", "body", val);
      }, (err) => {
        destroyer(d, err);
      }]);
      d = new Duplex({
        objectMode: true,
        readable: false,
        write,
        final(cb) {
          final(async () => {
            try {
              await promise;
              nextTick(cb, null);
            } catch (err) {
              nextTick(cb, err);
            }
          });
        },
        destroy,
      });
      return d;
    }
    throw errInvalidReturnValue("Iterable, AsyncIterable or AsyncFunction", name, value);
  }
  if (BlobCtor !== null && body instanceof BlobCtor) return duplexify(body.arrayBuffer(), name);
  if (isIterable(body)) return from(Duplex, body, { objectMode: true, writable: false });
  if (body && isReadableStream(body.readable) && isWritableStream(body.writable)) {
    return Duplex.fromWeb(body);
  }
  if (body && (typeof body.writable === "object" || typeof body.readable === "object")) {
    const readable = body.readable
      ? (isReadableNodeStream(body.readable) ? body.readable : duplexify(body.readable, name))
      : undefined;
    const writable = body.writable
      ? (isWritableNodeStream(body.writable) ? body.writable : duplexify(body.writable, name))
      : undefined;
    return duplexifyPair({ readable, writable });
  }
  const then = body && body.then;
  if (typeof then === "function") {
    let d;
    ReflectApply(then, body, [(val) => {
      if (val !== null && val !== undefined) d.push(val);
      d.push(null);
    }, (err) => {
      destroyer(d, err);
    }]);
    d = new Duplex({ objectMode: true, writable: false, read() {} });
    return d;
  }
  throw invalidArgType(name, ["Blob", "ReadableStream", "WritableStream", "Stream", "Iterable",
                              "AsyncIterable", "Function", "{ readable, writable } pair",
                              "Promise"], body);
}

/** An async generator function as the writable side: its argument yields what is written. */
function fromAsyncGen(fn) {
  let { promise, resolve } = PromiseWithResolvers();
  const ac = new AbortControllerCtor();
  const signal = ac.signal;
  const value = fn((async function* () {
    while (true) {
      const current = promise;
      promise = null;
      const { chunk, done, cb } = await current;
      nextTick(cb);
      if (done) return;
      if (signal.aborted) throw new AbortError(undefined, { cause: signal.reason });
      ({ promise, resolve } = PromiseWithResolvers());
      yield chunk;
    }
  })(), { signal });
  return {
    value,
    write(chunk, encoding, cb) {
      const settle = resolve;
      resolve = null;
      settle({ chunk, done: false, cb });
    },
    final(cb) {
      const settle = resolve;
      resolve = null;
      settle({ done: true, cb });
    },
    destroy(err, cb) {
      ac.abort();
      cb(err);
    },
  };
}

function PromiseWithResolvers() {
  let resolve;
  let reject;
  const promise = new PromiseCtor((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function duplexifyPair(pair) {
  const r = pair.readable && typeof pair.readable.read !== "function"
    ? Readable.wrap(pair.readable) : pair.readable;
  const w = pair.writable;
  let readable = !!isReadable(r);
  let writable = !!isWritable(w);
  const waits = { __proto__: null, ondrain: null, onfinish: null, onreadable: null,
                  onclose: undefined };
  let d;
  function onfinished(err) {
    const cb = waits.onclose;
    waits.onclose = null;
    if (cb) cb(err);
    else if (err) d.destroy(err);
  }
  d = new Duplex({
    readableObjectMode: !!(r && r.readableObjectMode),
    writableObjectMode: !!(w && w.writableObjectMode),
    readable,
    writable,
  });
  if (writable) {
    eos(w, (err) => {
      writable = false;
      if (err) destroyer(r, err);
      onfinished(err);
    });
    writeInto(d, w, waits);
    w.on("finish", () => fire(waits, "onfinish"));
  }
  if (readable) {
    eos(r, (err) => {
      readable = false;
      if (err) destroyer(r, err);
      onfinished(err);
    });
    readFrom(d, r, waits);
  }
  destroyOver(d, waits, (err) => {
    destroyer(w, err);
    destroyer(r, err);
  });
  return d;
}

// -- web streams adapters (lib/internal/webstreams/adapters.js) ----------------------------------

function bufferToUint8(chunk) {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Readable.toWeb: a ReadableStream of the stream's chunks (Uint8Arrays unless object mode). */
function newReadableStreamFromStreamReadable(streamReadable, options = {}) {
  if (!isReadableNodeStream(streamReadable)) {
    throw invalidArgType("streamReadable", "stream.Readable", streamReadable);
  }
  validateObject(options, "options");
  if (isDestroyed(streamReadable) || !isReadable(streamReadable)) {
    const readable = new ReadableStreamCtor();
    readable.cancel();
    webSettle(readable);
    return readable;
  }
  const objectMode = streamReadable.readableObjectMode;
  const highWaterMark = streamReadable.readableHighWaterMark;
  let strategy = options.strategy;
  if (!strategy) {
    strategy = objectMode ? new CountQueuingStrategyCtor({ highWaterMark })
      : new ByteLengthQueuingStrategyCtor({ highWaterMark });
  }
  let controller;
  let readableStream;
  function onData(chunk) {
    if (BufferIsBuffer(chunk) && !objectMode) chunk = bufferToUint8(chunk);
    controller.enqueue(chunk);
    if (controller.desiredSize <= 0) streamReadable.pause();
  }
  function handleError(error) {
    webSettle(readableStream, error);
    try {
      controller.error(error);
    } catch {
      // already closed or errored
    }
  }
  eos(streamReadable, (error) => {
    if (error && error.code === "ERR_STREAM_PREMATURE_CLOSE") {
      error = new AbortError(undefined, { cause: error });
    }
    if (error) return handleError(error);
    webSettle(readableStream);
    try {
      controller.close();
    } catch {
      // cancelled
    }
  });
  streamReadable.on("data", onData);
  readableStream = new ReadableStreamCtor({
    start(c) { controller = c; },
    pull() { streamReadable.resume(); },
    cancel(reason) { destroyer(streamReadable, reason); },
  }, strategy);
  return readableStream;
}

/** Readable.fromWeb: a Readable that reads the ReadableStream (its reader) as it is read. */
function newStreamReadableFromReadableStream(readableStream, options = {}) {
  if (!isReadableStream(readableStream)) {
    throw invalidArgType("readableStream", "ReadableStream", readableStream);
  }
  validateObject(options, "options");
  const { highWaterMark, encoding, objectMode = false, signal } = options;
  if (encoding !== undefined && !BufferIsEncoding(encoding)) {
    throw invalidArgValue("options.encoding", encoding);
  }
  validateBoolean(objectMode, "options.objectMode");
  const reader = readableStream.getReader();
  let closed = false;
  const readable = new Readable({
    objectMode,
    highWaterMark,
    encoding,
    signal,
    read() {
      ReflectApply(PromisePrototypeThen, reader.read(), [(chunk) => {
        if (chunk.done) readable.push(null);
        else readable.push(chunk.value);
      }, (error) => destroyer(readable, error)]);
    },
    destroy(error, callback) {
      function done() {
        try {
          callback(error);
        } catch (err) {
          nextTick(() => { throw err; });
        }
      }
      if (!closed) {
        ReflectApply(PromisePrototypeThen, reader.cancel(error), [done, done]);
        return;
      }
      done();
    },
  });
  ReflectApply(PromisePrototypeThen, reader.closed, [() => {
    closed = true;
    webSettle(readableStream);
  }, (error) => {
    closed = true;
    webSettle(readableStream, error);
    destroyer(readable, error);
  }]);
  return readable;
}

/** Writable.toWeb: a WritableStream whose writes go to the stream (waiting for 'drain'). */
function newWritableStreamFromStreamWritable(streamWritable) {
  if (!isWritableNodeStream(streamWritable)) {
    throw invalidArgType("streamWritable", "stream.Writable", streamWritable);
  }
  if (isDestroyed(streamWritable) || !isWritable(streamWritable)) {
    const writable = new WritableStreamCtor();
    writable.close();
    webSettle(writable);
    return writable;
  }
  const highWaterMark = streamWritable.writableHighWaterMark;
  const strategy = streamWritable.writableObjectMode
    ? new CountQueuingStrategyCtor({ highWaterMark }) : { highWaterMark };
  let controller;
  let backpressure;
  let closed;
  let writableStream;
  function onDrain() {
    if (backpressure !== undefined) backpressure.resolve();
  }
  const cleanup = eos(streamWritable, (error) => {
    if (error && error.code === "ERR_STREAM_PREMATURE_CLOSE") {
      error = new AbortError(undefined, { cause: error });
    }
    cleanup();
    // errors after this are the WritableStream's
    streamWritable.on("error", nop);
    webSettle(writableStream, error || undefined);
    if (error !== null && error !== undefined) {
      if (backpressure !== undefined) backpressure.reject(error);
      if (closed !== undefined) {
        closed.reject(error);
        closed = undefined;
      }
      if (controller !== undefined) controller.error(error);
      controller = undefined;
      return;
    }
    if (closed !== undefined) {
      closed.resolve();
      closed = undefined;
      return;
    }
    if (controller !== undefined) controller.error(new AbortError());
    controller = undefined;
  });
  streamWritable.on("drain", onDrain);
  writableStream = new WritableStreamCtor({
    start(c) { controller = c; },
    write(chunk) {
      if (streamWritable.writableNeedDrain || !streamWritable.write(chunk)) {
        backpressure = PromiseWithResolvers();
        const settled = () => { backpressure = undefined; };
        return ReflectApply(PromisePrototypeThen, backpressure.promise, [settled, (err) => {
          settled();
          throw err;
        }]);
      }
      return undefined;
    },
    abort(reason) { destroyer(streamWritable, reason); },
    close() {
      if (closed === undefined && !isWritableEnded(streamWritable)) {
        closed = PromiseWithResolvers();
        streamWritable.end();
        return closed.promise;
      }
      controller = undefined;
      return PromiseResolve();
    },
  }, strategy);
  return writableStream;
}

/** Writable.fromWeb: a Writable whose writes go to the WritableStream's writer. */
function newStreamWritableFromWritableStream(writableStream, options = {}) {
  if (!isWritableStream(writableStream)) {
    throw invalidArgType("writableStream", "WritableStream", writableStream);
  }
  validateObject(options, "options");
  const { highWaterMark, decodeStrings = true, objectMode = false, signal } = options;
  validateBoolean(objectMode, "options.objectMode");
  validateBoolean(decodeStrings, "options.decodeStrings");
  const writer = writableStream.getWriter();
  let closed = false;
  const writable = new Writable({
    highWaterMark,
    objectMode,
    decodeStrings,
    signal,
    writev(chunks, callback) {
      function done(error) {
        try {
          callback(error);
        } catch (err) {
          nextTick(() => destroyer(writable, err));
        }
      }
      ReflectApply(PromisePrototypeThen, writer.ready, [() => {
        const writes = [];
        for (let i = 0; i < chunks.length; i++) writes.push(writer.write(toWebChunk(chunks[i].chunk)));
        return ReflectApply(PromisePrototypeThen, PromiseAll(writes), [() => done(), done]);
      }, done]);
    },
    write(chunk, encoding, callback) {
      if (typeof chunk === "string" && decodeStrings && !objectMode) chunk = BufferFrom(chunk, encoding);
      function done(error) {
        try {
          callback(error);
        } catch (err) {
          destroyer(writable, err);
        }
      }
      ReflectApply(PromisePrototypeThen, writer.ready, [() => {
        return ReflectApply(PromisePrototypeThen, writer.write(toWebChunk(chunk)), [() => done(), done]);
      }, done]);
    },
    destroy(error, callback) {
      function done() {
        try {
          callback(error);
        } catch (err) {
          nextTick(() => { throw err; });
        }
      }
      if (!closed) {
        if (error !== null && error !== undefined) {
          ReflectApply(PromisePrototypeThen, writer.abort(error), [done, done]);
        } else {
          ReflectApply(PromisePrototypeThen, writer.close(), [done, done]);
        }
        return;
      }
      done();
    },
    final(callback) {
      function done(error) {
        try {
          callback(error);
        } catch (err) {
          nextTick(() => destroyer(writable, err));
        }
      }
      if (!closed) ReflectApply(PromisePrototypeThen, writer.close(), [() => done(), done]);
    },
  });
  ReflectApply(PromisePrototypeThen, writer.closed, [() => {
    closed = true;
    webSettle(writableStream);
    if (!isWritableEnded(writable)) destroyer(writable, errPrematureClose());
  }, (error) => {
    closed = true;
    webSettle(writableStream, error);
    destroyer(writable, error);
  }]);
  return writable;
}

function toWebChunk(chunk) {
  return BufferIsBuffer(chunk) ? bufferToUint8(chunk) : chunk;
}

Readable.fromWeb = function (readableStream, options) {
  return newStreamReadableFromReadableStream(readableStream, options);
};
Readable.toWeb = function (streamReadable, options) {
  return newReadableStreamFromStreamReadable(streamReadable, options);
};
Writable.fromWeb = function (writableStream, options) {
  return newStreamWritableFromWritableStream(writableStream, options);
};
Writable.toWeb = function (streamWritable) {
  return newWritableStreamFromStreamWritable(streamWritable);
};
Duplex.fromWeb = function (pair, options = {}) {
  validateObject(pair, "pair");
  const { readable: readableStream, writable: writableStream } = pair;
  if (!isReadableStream(readableStream)) {
    throw invalidArgType("pair.readable", "ReadableStream", readableStream);
  }
  if (!isWritableStream(writableStream)) {
    throw invalidArgType("pair.writable", "WritableStream", writableStream);
  }
  validateObject(options, "options");
  const { encoding, decodeStrings = true, objectMode = false, signal } = options;
  return duplexifyPair({
    readable: newStreamReadableFromReadableStream(readableStream, { encoding, objectMode, signal }),
    writable: newStreamWritableFromWritableStream(writableStream, { decodeStrings, objectMode }),
  });
};
Duplex.toWeb = function (duplex) {
  return {
    readable: newReadableStreamFromStreamReadable(duplex),
    writable: newWritableStreamFromStreamWritable(duplex),
  };
};

// -- the Readable operators (lib/internal/streams/operators.js) ---------------------------------

const kEmpty = Symbol("kEmpty");
const kEof = Symbol("kEof");

function operatorOptions(options) {
  if (options !== undefined && options !== null) validateObject(options, "options");
  if (options && options.signal !== undefined && options.signal !== null) {
    validateAbortSignal(options.signal, "options.signal");
  }
}

function throwIfAborted(signal) {
  if (signal && signal.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

/** map(fn[, { concurrency, highWaterMark, signal }]): fn over each chunk, `concurrency` at a
 * time, results in the source's order. */
function map(fn, options) {
  validateFunction(fn, "fn");
  operatorOptions(options);
  let concurrency = 1;
  if (options && options.concurrency !== undefined && options.concurrency !== null) {
    concurrency = MathFloor(options.concurrency);
  }
  let highWaterMark = concurrency - 1;
  if (options && options.highWaterMark !== undefined && options.highWaterMark !== null) {
    highWaterMark = MathFloor(options.highWaterMark);
  }
  validateInteger(concurrency, "options.concurrency", 1);
  validateInteger(highWaterMark, "options.highWaterMark", 0);
  highWaterMark += concurrency;
  const stream = this;
  return (async function* mapped() {
    const ac = new AbortControllerCtor();
    const outer = options && options.signal;
    const signal = ac.signal;
    let disposeOuter = null;
    if (outer) {
      if (outer.aborted) ac.abort(outer.reason);
      else disposeOuter = addAbortListener(outer, () => ac.abort(outer.reason)).dispose;
    }
    const signalOpt = { signal };
    const queued = [];
    let next;
    let resume;
    let done = false;
    let cnt = 0;
    function onCatch() {
      done = true;
      afterItemProcessed();
    }
    function afterItemProcessed() {
      cnt -= 1;
      maybeResume();
    }
    function maybeResume() {
      if (resume && !done && cnt < concurrency && queued.length < highWaterMark) {
        resume();
        resume = null;
      }
    }
    async function pump() {
      try {
        for await (let val of stream) {
          if (done) return;
          throwIfAborted(signal);
          try {
            val = fn(val, signalOpt);
            if (val === kEmpty) continue;
            val = PromiseResolve(val);
          } catch (err) {
            val = PromiseReject(err);
          }
          cnt += 1;
          ReflectApply(PromisePrototypeThen, val, [afterItemProcessed, onCatch]);
          queued.push(val);
          if (next) {
            next();
            next = null;
          }
          if (!done && (queued.length >= highWaterMark || cnt >= concurrency)) {
            await new PromiseCtor((resolve) => { resume = resolve; });
          }
        }
        queued.push(kEof);
      } catch (err) {
        const val = PromiseReject(err);
        ReflectApply(PromisePrototypeThen, val, [afterItemProcessed, onCatch]);
        queued.push(val);
      } finally {
        done = true;
        if (next) {
          next();
          next = null;
        }
      }
    }
    pump();
    try {
      while (true) {
        while (queued.length > 0) {
          const val = await queued[0];
          if (val === kEof) return;
          throwIfAborted(signal);
          if (val !== kEmpty) yield val;
          queued.shift();
          maybeResume();
        }
        await new PromiseCtor((resolve) => { next = resolve; });
      }
    } finally {
      done = true;
      if (resume) {
        resume();
        resume = null;
      }
      if (disposeOuter) disposeOuter();
      ac.abort();
    }
  })();
}

function filter(fn, options) {
  validateFunction(fn, "fn");
  async function filterFn(value, opts) {
    if (await fn(value, opts)) return value;
    return kEmpty;
  }
  return ReflectApply(map, this, [filterFn, options]);
}

function flatMap(fn, options) {
  const values = ReflectApply(map, this, [fn, options]);
  return (async function* flatMapped() {
    for await (const val of values) yield* val;
  })();
}

function toIntegerOrInfinity(number) {
  number = Number(number);
  if (NumberIsNaN(number)) return 0;
  if (number < 0) throw outOfRange("number", ">= 0", number);
  return number;
}

function drop(number, options) {
  operatorOptions(options);
  number = toIntegerOrInfinity(number);
  const stream = this;
  return (async function* dropped() {
    throwIfAborted(options && options.signal);
    for await (const val of stream) {
      throwIfAborted(options && options.signal);
      if (number-- <= 0) yield val;
    }
  })();
}

function take(number, options) {
  operatorOptions(options);
  number = toIntegerOrInfinity(number);
  const stream = this;
  return (async function* taken() {
    throwIfAborted(options && options.signal);
    for await (const val of stream) {
      throwIfAborted(options && options.signal);
      if (number-- > 0) yield val;
      // the stream's return() runs once the loop is left
      if (number <= 0) return;
    }
  })();
}

async function forEach(fn, options) {
  validateFunction(fn, "fn");
  async function forEachFn(value, opts) {
    await fn(value, opts);
    return kEmpty;
  }
  for await (const unused of ReflectApply(map, this, [forEachFn, options])); // eslint-disable-line
}

async function toArray(options) {
  operatorOptions(options);
  const signal = options && options.signal;
  const result = [];
  if (!signal) {
    for await (const val of this) result.push(val);
    return result;
  }
  // The signal stops the wait for the next chunk (not the stream: it is not destroyed).
  throwIfAborted(signal);
  const iterator = this[SymbolAsyncIterator]();
  const { promise: abortedPromise, reject } = PromiseWithResolvers();
  const disposable = addAbortListener(signal, () => {
    reject(new AbortError(undefined, { cause: signal.reason }));
  });
  ReflectApply(PromisePrototypeThen, abortedPromise, [undefined, nop]);
  try {
    while (true) {
      const { value, done } = await PromiseRace([iterator.next(), abortedPromise]);
      if (done) return result;
      throwIfAborted(signal);
      result.push(value);
    }
  } finally {
    disposable.dispose();
  }
}

async function some(fn, options) {
  validateFunction(fn, "fn");
  for await (const unused of ReflectApply(filter, this, [fn, options])) return true; // eslint-disable-line
  return false;
}

async function every(fn, options) {
  validateFunction(fn, "fn");
  return !(await ReflectApply(some, this, [async (...args) => !(await fn(...args)), options]));
}

async function find(fn, options) {
  for await (const result of ReflectApply(filter, this, [fn, options])) return result;
  return undefined;
}

async function reduce(reducer, initialValue, options) {
  validateFunction(reducer, "reducer");
  operatorOptions(options);
  let hasInitialValue = arguments.length > 1;
  const signal = options && options.signal;
  if (signal && signal.aborted) {
    const err = new AbortError(undefined, { cause: signal.reason });
    this.once("error", nop); // the stream is destroyed with it
    await finishedPromise(this.destroy(err));
    throw err;
  }
  const ac = new AbortControllerCtor();
  const lsignal = ac.signal;
  let dispose = null;
  if (signal) dispose = addAbortListener(signal, () => ac.abort()).dispose;
  let gotAnyItemFromStream = false;
  try {
    for await (const value of this) {
      gotAnyItemFromStream = true;
      throwIfAborted(signal);
      if (!hasInitialValue) {
        initialValue = value;
        hasInitialValue = true;
      } else {
        initialValue = await reducer(initialValue, value, { signal: lsignal });
      }
    }
    if (!gotAnyItemFromStream && !hasInitialValue) {
      throw E(TypeError, "ERR_INVALID_ARGS", "Reduce of an empty stream requires an initial value");
    }
  } finally {
    if (dispose) dispose();
    ac.abort();
  }
  return initialValue;
}

function composeOperator(stream, options) {
  operatorOptions(options);
  if (isNodeStream(stream) && !isWritable(stream)) {
    throw invalidArgValue("stream", stream, "must be writable");
  }
  const composedStream = compose(this, stream);
  if (options && options.signal) addAbortSignal(options.signal, composedStream);
  return composedStream;
}

const streamReturningOperators = { drop, filter, flatMap, map, take, compose: composeOperator };
const promiseReturningOperators = { every, forEach, reduce, toArray, some, find };

for (const key of ObjectKeys(streamReturningOperators)) {
  const op = streamReturningOperators[key];
  const fn = {
    [key](...args) {
      if (new.target) throw errIllegalConstructor();
      if (key === "compose") return ReflectApply(op, this, args);
      return Readable.from(ReflectApply(op, this, args));
    },
  }[key];
  ObjectDefineProperty(fn, "length", { value: op.length });
  ObjectDefineProperty(Readable.prototype, key, {
    value: fn, enumerable: false, configurable: true, writable: true,
  });
}
for (const key of ObjectKeys(promiseReturningOperators)) {
  const op = promiseReturningOperators[key];
  const fn = {
    [key](...args) {
      if (new.target) throw errIllegalConstructor();
      return ReflectApply(op, this, args);
    },
  }[key];
  ObjectDefineProperty(fn, "length", { value: op.length });
  ObjectDefineProperty(Readable.prototype, key, {
    value: fn, enumerable: false, configurable: true, writable: true,
  });
}

// -- stream.promises and the module ---------------------------------------------------------------

function pipelinePromise(...streams) {
  return new PromiseCtor((resolve, reject) => {
    let signal;
    let end;
    const lastArg = streams[streams.length - 1];
    if (lastArg && typeof lastArg === "object" && !isNodeStream(lastArg) && !isIterable(lastArg) &&
        !isWebStream(lastArg)) {
      const options = streams.pop();
      signal = options.signal;
      end = options.end;
    }
    pipelineImpl(streams, (err, value) => {
      if (err) reject(err);
      else resolve(value);
    }, { signal, end });
  });
}

function finishedPromise(stream, opts) {
  let autoCleanup = false;
  if (opts === null) opts = {};
  if (opts && opts.cleanup) {
    validateBoolean(opts.cleanup, "cleanup");
    autoCleanup = opts.cleanup;
  }
  return new PromiseCtor((resolve, reject) => {
    const cleanup = eos(stream, opts, (err) => {
      if (autoCleanup) cleanup();
      if (err) reject(err);
      else resolve();
    });
  });
}

const promises = { pipeline: pipelinePromise, finished: finishedPromise };
const customPromisify = Symbol.for("nodejs.util.promisify.custom");
ObjectDefineProperty(pipeline, customPromisify, { enumerable: true, get: () => pipelinePromise });
ObjectDefineProperty(eos, customPromisify, { enumerable: true, get: () => finishedPromise });

module.exports = Stream;
Object.assign(Stream, {
  isDestroyed,
  isDisturbed,
  isErrored,
  isReadable,
  isWritable,
  Readable,
  Writable,
  Duplex,
  Transform,
  PassThrough,
  pipeline,
  addAbortSignal,
  finished: eos,
  destroy: destroyer,
  compose,
  setDefaultHighWaterMark,
  getDefaultHighWaterMark,
  duplexPair,
  Stream,
  _isArrayBufferView: (value) => ArrayBuffer.isView(value),
  _isUint8Array: isUint8Array,
  _uint8ArrayToBuffer: uint8ArrayToBuffer,
});
ObjectDefineProperty(Stream, "promises", { configurable: true, enumerable: true, get: () => promises });

/** duplexPair([options]): two Duplexes, each one's writes the other's reads. */
function duplexPair(options) {
  const kOther = Symbol("kOther");
  const kCb = Symbol("kCb");
  class Side extends Duplex {
    constructor() {
      super(options);
      this[kCb] = null;
      this[kOther] = null;
    }
    _read() {
      const callback = this[kCb];
      if (callback) {
        this[kCb] = null;
        callback();
      }
    }
    _write(chunk, encoding, callback) {
      if (chunk.length === 0 && !this[kOther].readableObjectMode) {
        nextTick(callback);
      } else {
        this[kOther].push(chunk);
        this[kOther][kCb] = callback;
      }
    }
    _final(callback) {
      this[kOther].on("end", callback);
      this[kOther].push(null);
    }
    _destroy(err, callback) {
      const other = this[kOther];
      if (err) other.destroy(err);
      else if (!other.destroyed) other.destroy();
      callback(err);
    }
  }
  const a = new Side();
  const b = new Side();
  a[kOther] = b;
  b[kOther] = a;
  return [a, b];
}
