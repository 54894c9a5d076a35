// Streams, part 2: ReadableStream, its default controller, its two readers, tee of default
// streams, async iteration and ReadableStream.from (Streams Standard §4).
//
// Every abstract operation below works on records (see 10_streams_core.js): `stream` is a
// ReadableStreamSlots, `reader` a ReadableStreamDefaultReaderSlots or
// ReadableStreamBYOBReaderSlots, `controller` a ReadableStreamDefaultControllerSlots (or the
// byte controller of 12_readable_byte_stream.js). Controllers implement the spec's internal
// methods as cancelSteps(reason), pullSteps(readRequest) and releaseSteps().
//
// A read request (or read-into request) is any object with chunkSteps(chunk), closeSteps()
// (closeSteps(chunk) for read-into requests) and errorSteps(e).

const {
  ArrayPrototypePush,
  FunctionPrototypeCall,
  MathCeil,
  ObjectCreate,
  ObjectDefineProperty,
  PromisePrototypeThen,
  PromiseResolve,
  PromiseWithResolvers,
  RangeError: RangeErrorCtor,
  SymbolAsyncIterator,
  SymbolIterator,
  SymbolToStringTag,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;
const impl = internals.streamsImpl;
const {
  Queue,
  arrayBufferViewConverter,
  callbackConverter,
  convertQueuingStrategy,
  createObject,
  createPrivateSlot,
  DequeueValue,
  enforceRangeUnsignedLongLong,
  EnqueueValueWithSize,
  ExtractHighWaterMark,
  ExtractSizeAlgorithm,
  illegalInvocation,
  invokeCallback,
  IsDetachedBuffer,
  isDataView,
  newPromise,
  newRejectedPromise,
  newResolvedPromise,
  promiseCall,
  promiseFromCallbackResult,
  promiseRejectedWith,
  promiseResolvedWith,
  rejectPromise,
  resolvedUndefined,
  resolvePromise,
  ResetQueue,
  setPromiseIsHandled,
  sizeOne,
  StructuredClone,
  transformPromiseWith,
  typedArrayLength,
  uponFulfillment,
  uponPromise,
  uponRejection,
  viewBuffer,
  viewByteLength,
} = impl;

// ---------------------------------------------------------------------------------------------
// Records (internal slots)
// ---------------------------------------------------------------------------------------------

class ReadableStreamSlots {
  state = "readable"; // "readable" | "closed" | "errored"
  reader = undefined;
  storedError = undefined;
  disturbed = false;
  controller = undefined;
  object = undefined; // the public ReadableStream
}

class ReadableStreamDefaultReaderSlots {
  stream = undefined;
  closedPromise = undefined; // a deferred (see newPromise)
  readRequests = undefined; // a Queue, made by SetUpReadableStreamDefaultReader
  object = undefined;
}
ReadableStreamDefaultReaderSlots.prototype.byob = false;

class ReadableStreamBYOBReaderSlots {
  stream = undefined;
  closedPromise = undefined;
  readIntoRequests = undefined; // a Queue, made by SetUpReadableStreamBYOBReader
  object = undefined;
}
ReadableStreamBYOBReaderSlots.prototype.byob = true;

const streamSlot = createPrivateSlot("ReadableStream");
const defaultReaderSlot = createPrivateSlot("ReadableStreamDefaultReader");
const byobReaderSlot = createPrivateSlot("ReadableStreamBYOBReader");
const defaultControllerSlot = createPrivateSlot("ReadableStreamDefaultController");
const iteratorSlot = createPrivateSlot();

// ---------------------------------------------------------------------------------------------
// Working with readable streams (§4.9.1)
// ---------------------------------------------------------------------------------------------

/** AcquireReadableStreamBYOBReader(stream) */
function AcquireReadableStreamBYOBReader(stream) {
  const reader = new ReadableStreamBYOBReaderSlots();
  SetUpReadableStreamBYOBReader(reader, stream);
  return reader;
}

/** AcquireReadableStreamDefaultReader(stream) */
function AcquireReadableStreamDefaultReader(stream) {
  const reader = new ReadableStreamDefaultReaderSlots();
  SetUpReadableStreamDefaultReader(reader, stream);
  return reader;
}

/** CreateReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm[, hwm[, size]]) */
function CreateReadableStream(
  startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark = 1, sizeAlgorithm = sizeOne,
) {
  const stream = new ReadableStreamSlots();
  InitializeReadableStream(stream);
  const controller = new ReadableStreamDefaultControllerSlots();
  SetUpReadableStreamDefaultController(
    stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark,
    sizeAlgorithm,
  );
  return stream;
}

/** CreateReadableByteStream(startAlgorithm, pullAlgorithm, cancelAlgorithm) */
function CreateReadableByteStream(startAlgorithm, pullAlgorithm, cancelAlgorithm) {
  const stream = new ReadableStreamSlots();
  InitializeReadableStream(stream);
  const controller = new impl.ReadableByteStreamControllerSlots();
  impl.SetUpReadableByteStreamController(
    stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, 0, undefined,
  );
  return stream;
}

/** InitializeReadableStream(stream), plus the public object that goes with the record. */
function InitializeReadableStream(stream, object = undefined) {
  stream.state = "readable";
  stream.reader = undefined;
  stream.storedError = undefined;
  stream.disturbed = false;
  if (object === undefined) object = createObject(ReadableStream);
  stream.object = object;
  streamSlot.attach(object, stream);
}

/** IsReadableStreamLocked(stream) */
function IsReadableStreamLocked(stream) {
  return stream.reader !== undefined;
}

function returnUndefined() {
  return undefined;
}

/** ReadableStreamFromIterable(asyncIterable) */
function ReadableStreamFromIterable(asyncIterable) {
  let stream;
  const iteratorRecord = GetIterator(asyncIterable, "async");
  const startAlgorithm = returnUndefined;

  function pullAlgorithm() {
    let nextResult;
    try {
      nextResult = IteratorNext(iteratorRecord);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    const nextPromise = promiseResolvedWith(nextResult);
    return transformPromiseWith(nextPromise, (iterResult) => {
      if (!isObject(iterResult)) {
        throw new TypeErrorCtor("The iterator's next() result is not an object.");
      }
      const done = IteratorComplete(iterResult);
      if (done) {
        ReadableStreamDefaultControllerClose(stream.controller);
      } else {
        const value = IteratorValue(iterResult);
        ReadableStreamDefaultControllerEnqueue(stream.controller, value);
      }
    });
  }

  function cancelAlgorithm(reason) {
    const iterator = iteratorRecord.iterator;
    let returnMethod;
    try {
      returnMethod = GetMethod(iterator, "return");
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (returnMethod === undefined) return promiseResolvedWith(undefined);
    let returnResult;
    try {
      returnResult = FunctionPrototypeCall(returnMethod, iterator, reason);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    const returnPromise = promiseResolvedWith(returnResult);
    return transformPromiseWith(returnPromise, (iterResult) => {
      if (!isObject(iterResult)) {
        throw new TypeErrorCtor("The iterator's return() result is not an object.");
      }
      return undefined;
    });
  }

  stream = CreateReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, 0);
  return stream;
}

/** ReadableStreamTee(stream, cloneForBranch2) */
function ReadableStreamTee(stream, cloneForBranch2) {
  if (stream.controller.isByteController) return impl.ReadableByteStreamTee(stream);
  return ReadableStreamDefaultTee(stream, cloneForBranch2);
}

/** ReadableStreamDefaultTee(stream, cloneForBranch2) */
function ReadableStreamDefaultTee(stream, cloneForBranch2) {
  const reader = AcquireReadableStreamDefaultReader(stream);
  let reading = false;
  let readAgain = false;
  let canceled1 = false;
  let canceled2 = false;
  let reason1;
  let reason2;
  let branch1;
  let branch2;
  const cancelPromise = newPromise();

  const readRequest = {
    chunkSteps(chunk) {
      // A microtask first: errors of the source must reach both branches before a chunk
      // that was available synchronously.
      uponFulfillment(resolvedUndefined, () => {
        readAgain = false;
        const chunk1 = chunk;
        let chunk2 = chunk;
        if (!canceled2 && cloneForBranch2) {
          try {
            chunk2 = StructuredClone(chunk2);
          } catch (e) {
            ReadableStreamDefaultControllerError(branch1.controller, e);
            ReadableStreamDefaultControllerError(branch2.controller, e);
            resolvePromise(cancelPromise, ReadableStreamCancel(stream, e));
            return;
          }
        }
        if (!canceled1) ReadableStreamDefaultControllerEnqueue(branch1.controller, chunk1);
        if (!canceled2) ReadableStreamDefaultControllerEnqueue(branch2.controller, chunk2);
        reading = false;
        if (readAgain) pullAlgorithm();
      });
    },
    closeSteps() {
      reading = false;
      if (!canceled1) ReadableStreamDefaultControllerClose(branch1.controller);
      if (!canceled2) ReadableStreamDefaultControllerClose(branch2.controller);
      if (!canceled1 || !canceled2) resolvePromise(cancelPromise, undefined);
    },
    errorSteps() {
      reading = false;
    },
  };

  function pullAlgorithm() {
    if (reading) {
      readAgain = true;
      return resolvedUndefined;
    }
    reading = true;
    ReadableStreamDefaultReaderRead(reader, readRequest);
    return resolvedUndefined;
  }

  function cancel1Algorithm(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) {
      const compositeReason = [reason1, reason2];
      const cancelResult = ReadableStreamCancel(stream, compositeReason);
      resolvePromise(cancelPromise, cancelResult);
    }
    return cancelPromise.promise;
  }

  function cancel2Algorithm(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) {
      const compositeReason = [reason1, reason2];
      const cancelResult = ReadableStreamCancel(stream, compositeReason);
      resolvePromise(cancelPromise, cancelResult);
    }
    return cancelPromise.promise;
  }

  branch1 = CreateReadableStream(returnUndefined, pullAlgorithm, cancel1Algorithm);
  branch2 = CreateReadableStream(returnUndefined, pullAlgorithm, cancel2Algorithm);

  uponRejection(reader.closedPromise.promise, (r) => {
    ReadableStreamDefaultControllerError(branch1.controller, r);
    ReadableStreamDefaultControllerError(branch2.controller, r);
    if (!canceled1 || !canceled2) resolvePromise(cancelPromise, undefined);
  });

  return [branch1, branch2];
}

// ---------------------------------------------------------------------------------------------
// Interfacing with controllers (§4.9.2)
// ---------------------------------------------------------------------------------------------

/** ReadableStreamAddReadIntoRequest(stream, readRequest) */
function ReadableStreamAddReadIntoRequest(stream, readRequest) {
  stream.reader.readIntoRequests.push(readRequest);
}

/** ReadableStreamAddReadRequest(stream, readRequest) */
function ReadableStreamAddReadRequest(stream, readRequest) {
  stream.reader.readRequests.push(readRequest);
}

/** ReadableStreamCancel(stream, reason) */
function ReadableStreamCancel(stream, reason) {
  stream.disturbed = true;
  if (stream.state === "closed") return promiseResolvedWith(undefined);
  if (stream.state === "errored") return promiseRejectedWith(stream.storedError);
  ReadableStreamClose(stream);
  const reader = stream.reader;
  if (reader !== undefined && reader.byob) {
    const readIntoRequests = reader.readIntoRequests.drain();
    for (let i = 0; i < readIntoRequests.length; i++) readIntoRequests[i].closeSteps(undefined);
  }
  const sourceCancelPromise = stream.controller.cancelSteps(reason);
  return transformPromiseWith(sourceCancelPromise, returnUndefined);
}

/** ReadableStreamClose(stream) */
function ReadableStreamClose(stream) {
  stream.state = "closed";
  const reader = stream.reader;
  if (reader === undefined) return;
  resolvePromise(reader.closedPromise, undefined);
  if (!reader.byob && reader.readRequests.length > 0) {
    const readRequests = reader.readRequests.drain();
    for (let i = 0; i < readRequests.length; i++) readRequests[i].closeSteps();
  }
}

/** ReadableStreamError(stream, e) */
function ReadableStreamError(stream, e) {
  stream.state = "errored";
  stream.storedError = e;
  const reader = stream.reader;
  if (reader === undefined) return;
  rejectPromise(reader.closedPromise, e);
  setPromiseIsHandled(reader.closedPromise.promise);
  if (!reader.byob) {
    ReadableStreamDefaultReaderErrorReadRequests(reader, e);
  } else {
    ReadableStreamBYOBReaderErrorReadIntoRequests(reader, e);
  }
}

/** ReadableStreamFulfillReadIntoRequest(stream, chunk, done) */
function ReadableStreamFulfillReadIntoRequest(stream, chunk, done) {
  const readIntoRequest = stream.reader.readIntoRequests.shift();
  if (done) readIntoRequest.closeSteps(chunk);
  else readIntoRequest.chunkSteps(chunk);
}

/** ReadableStreamFulfillReadRequest(stream, chunk, done) */
function ReadableStreamFulfillReadRequest(stream, chunk, done) {
  const readRequest = stream.reader.readRequests.shift();
  if (done) readRequest.closeSteps();
  else readRequest.chunkSteps(chunk);
}

/** ReadableStreamGetNumReadIntoRequests(stream) */
function ReadableStreamGetNumReadIntoRequests(stream) {
  return stream.reader.readIntoRequests.length;
}

/** ReadableStreamGetNumReadRequests(stream) */
function ReadableStreamGetNumReadRequests(stream) {
  return stream.reader.readRequests.length;
}

/** ReadableStreamHasBYOBReader(stream) */
function ReadableStreamHasBYOBReader(stream) {
  const reader = stream.reader;
  return reader !== undefined && reader.byob;
}

/** ReadableStreamHasDefaultReader(stream) */
function ReadableStreamHasDefaultReader(stream) {
  const reader = stream.reader;
  return reader !== undefined && !reader.byob;
}

// ---------------------------------------------------------------------------------------------
// Readers (§4.9.3)
// ---------------------------------------------------------------------------------------------

/** ReadableStreamReaderGenericCancel(reader, reason) */
function ReadableStreamReaderGenericCancel(reader, reason) {
  return ReadableStreamCancel(reader.stream, reason);
}

/** ReadableStreamReaderGenericInitialize(reader, stream) */
function ReadableStreamReaderGenericInitialize(reader, stream) {
  reader.stream = stream;
  stream.reader = reader;
  if (stream.state === "readable") {
    reader.closedPromise = newPromise();
  } else if (stream.state === "closed") {
    reader.closedPromise = newResolvedPromise(undefined);
  } else {
    reader.closedPromise = newRejectedPromise(stream.storedError);
    setPromiseIsHandled(reader.closedPromise.promise);
  }
}

function releasedError() {
  return new TypeErrorCtor("The reader's lock on the stream was released.");
}

/** ReadableStreamReaderGenericRelease(reader) */
function ReadableStreamReaderGenericRelease(reader) {
  const stream = reader.stream;
  if (stream.state === "readable") {
    rejectPromise(reader.closedPromise, releasedError());
  } else {
    reader.closedPromise = newRejectedPromise(releasedError());
  }
  setPromiseIsHandled(reader.closedPromise.promise);
  stream.controller.releaseSteps();
  stream.reader = undefined;
  reader.stream = undefined;
}

/** ReadableStreamBYOBReaderErrorReadIntoRequests(reader, e) */
function ReadableStreamBYOBReaderErrorReadIntoRequests(reader, e) {
  const readIntoRequests = reader.readIntoRequests.drain();
  for (let i = 0; i < readIntoRequests.length; i++) readIntoRequests[i].errorSteps(e);
}

/** ReadableStreamBYOBReaderRead(reader, view, min, readIntoRequest) */
function ReadableStreamBYOBReaderRead(reader, view, min, readIntoRequest) {
  const stream = reader.stream;
  stream.disturbed = true;
  if (stream.state === "errored") {
    readIntoRequest.errorSteps(stream.storedError);
  } else {
    impl.ReadableByteStreamControllerPullInto(stream.controller, view, min, readIntoRequest);
  }
}

/** ReadableStreamBYOBReaderRelease(reader) */
function ReadableStreamBYOBReaderRelease(reader) {
  ReadableStreamReaderGenericRelease(reader);
  const e = releasedError();
  ReadableStreamBYOBReaderErrorReadIntoRequests(reader, e);
}

/** ReadableStreamDefaultReaderErrorReadRequests(reader, e) */
function ReadableStreamDefaultReaderErrorReadRequests(reader, e) {
  if (reader.readRequests.length === 0) return;
  const readRequests = reader.readRequests.drain();
  for (let i = 0; i < readRequests.length; i++) readRequests[i].errorSteps(e);
}

/** ReadableStreamDefaultReaderRead(reader, readRequest) */
function ReadableStreamDefaultReaderRead(reader, readRequest) {
  const stream = reader.stream;
  stream.disturbed = true;
  if (stream.state === "closed") {
    readRequest.closeSteps();
  } else if (stream.state === "errored") {
    readRequest.errorSteps(stream.storedError);
  } else {
    stream.controller.pullSteps(readRequest);
  }
}

/** ReadableStreamDefaultReaderRelease(reader) */
function ReadableStreamDefaultReaderRelease(reader) {
  ReadableStreamReaderGenericRelease(reader);
  const e = releasedError();
  ReadableStreamDefaultReaderErrorReadRequests(reader, e);
}

/** SetUpReadableStreamBYOBReader(reader, stream) */
function SetUpReadableStreamBYOBReader(reader, stream) {
  if (IsReadableStreamLocked(stream)) {
    throw new TypeErrorCtor("Cannot get a reader: the stream is already locked to a reader.");
  }
  if (!stream.controller.isByteController) {
    throw new TypeErrorCtor("Cannot get a BYOB reader for a stream that is not a byte stream.");
  }
  ReadableStreamReaderGenericInitialize(reader, stream);
  reader.readIntoRequests = new Queue();
}

/** SetUpReadableStreamDefaultReader(reader, stream) */
function SetUpReadableStreamDefaultReader(reader, stream) {
  if (IsReadableStreamLocked(stream)) {
    throw new TypeErrorCtor("Cannot get a reader: the stream is already locked to a reader.");
  }
  ReadableStreamReaderGenericInitialize(reader, stream);
  reader.readRequests = new Queue();
}

// ---------------------------------------------------------------------------------------------
// Default controllers (§4.9.4)
// ---------------------------------------------------------------------------------------------

class ReadableStreamDefaultControllerSlots {
  stream = undefined;
  queue = undefined;
  queueTotalSize = 0;
  started = false;
  closeRequested = false;
  pullAgain = false;
  pulling = false;
  strategySizeAlgorithm = undefined;
  strategyHWM = 0;
  pullAlgorithm = undefined;
  cancelAlgorithm = undefined;
  object = undefined;
  // The reactions to the pull promise, made once per controller rather than per pull.
  onPullFulfilled = () => {
    this.pulling = false;
    if (this.pullAgain) {
      this.pullAgain = false;
      ReadableStreamDefaultControllerCallPullIfNeeded(this);
    }
  };
  onPullRejected = (e) => {
    ReadableStreamDefaultControllerError(this, e);
  };

  /** [[CancelSteps]](reason) */
  cancelSteps(reason) {
    ResetQueue(this);
    const result = this.cancelAlgorithm(reason);
    ReadableStreamDefaultControllerClearAlgorithms(this);
    return result;
  }

  /** [[PullSteps]](readRequest) */
  pullSteps(readRequest) {
    const stream = this.stream;
    if (this.queue.length > 0) {
      const chunk = DequeueValue(this);
      if (this.closeRequested && this.queue.length === 0) {
        ReadableStreamDefaultControllerClearAlgorithms(this);
        ReadableStreamClose(stream);
      } else {
        ReadableStreamDefaultControllerCallPullIfNeeded(this);
      }
      readRequest.chunkSteps(chunk);
    } else {
      ReadableStreamAddReadRequest(stream, readRequest);
      ReadableStreamDefaultControllerCallPullIfNeeded(this);
    }
  }

  /** [[ReleaseSteps]]() */
  releaseSteps() {}
}
ReadableStreamDefaultControllerSlots.prototype.isByteController = false;

/** ReadableStreamDefaultControllerCallPullIfNeeded(controller) */
function ReadableStreamDefaultControllerCallPullIfNeeded(controller) {
  const shouldPull = ReadableStreamDefaultControllerShouldCallPull(controller);
  if (!shouldPull) return;
  if (controller.pulling) {
    controller.pullAgain = true;
    return;
  }
  controller.pulling = true;
  const pullPromise = controller.pullAlgorithm();
  uponPromise(pullPromise, controller.onPullFulfilled, controller.onPullRejected);
}

/** ReadableStreamDefaultControllerShouldCallPull(controller) */
function ReadableStreamDefaultControllerShouldCallPull(controller) {
  const stream = controller.stream;
  if (!ReadableStreamDefaultControllerCanCloseOrEnqueue(controller)) return false;
  if (!controller.started) return false;
  if (IsReadableStreamLocked(stream) && ReadableStreamGetNumReadRequests(stream) > 0) return true;
  const desiredSize = ReadableStreamDefaultControllerGetDesiredSize(controller);
  return desiredSize > 0;
}

/** ReadableStreamDefaultControllerClearAlgorithms(controller) */
function ReadableStreamDefaultControllerClearAlgorithms(controller) {
  controller.pullAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
  controller.strategySizeAlgorithm = undefined;
}

/** ReadableStreamDefaultControllerClose(controller) */
function ReadableStreamDefaultControllerClose(controller) {
  if (!ReadableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  controller.closeRequested = true;
  if (controller.queue.length === 0) {
    ReadableStreamDefaultControllerClearAlgorithms(controller);
    ReadableStreamClose(stream);
  }
}

/** ReadableStreamDefaultControllerEnqueue(controller, chunk) */
function ReadableStreamDefaultControllerEnqueue(controller, chunk) {
  if (!ReadableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  if (IsReadableStreamLocked(stream) && ReadableStreamGetNumReadRequests(stream) > 0) {
    ReadableStreamFulfillReadRequest(stream, chunk, false);
  } else {
    let chunkSize;
    try {
      chunkSize = controller.strategySizeAlgorithm(chunk);
    } catch (e) {
      ReadableStreamDefaultControllerError(controller, e);
      throw e;
    }
    try {
      EnqueueValueWithSize(controller, chunk, chunkSize);
    } catch (e) {
      ReadableStreamDefaultControllerError(controller, e);
      throw e;
    }
  }
  ReadableStreamDefaultControllerCallPullIfNeeded(controller);
}

/** ReadableStreamDefaultControllerError(controller, e) */
function ReadableStreamDefaultControllerError(controller, e) {
  const stream = controller.stream;
  if (stream.state !== "readable") return;
  ResetQueue(controller);
  ReadableStreamDefaultControllerClearAlgorithms(controller);
  ReadableStreamError(stream, e);
}

/** ReadableStreamDefaultControllerGetDesiredSize(controller) */
function ReadableStreamDefaultControllerGetDesiredSize(controller) {
  const state = controller.stream.state;
  if (state === "errored") return null;
  if (state === "closed") return 0;
  return controller.strategyHWM - controller.queueTotalSize;
}

/** ReadableStreamDefaultControllerHasBackpressure(controller) */
function ReadableStreamDefaultControllerHasBackpressure(controller) {
  return !ReadableStreamDefaultControllerShouldCallPull(controller);
}

/** ReadableStreamDefaultControllerCanCloseOrEnqueue(controller) */
function ReadableStreamDefaultControllerCanCloseOrEnqueue(controller) {
  return !controller.closeRequested && controller.stream.state === "readable";
}

/** SetUpReadableStreamDefaultController(stream, controller, start, pull, cancel, hwm, size) */
function SetUpReadableStreamDefaultController(
  stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark,
  sizeAlgorithm,
) {
  controller.stream = stream;
  ResetQueue(controller);
  controller.started = false;
  controller.closeRequested = false;
  controller.pullAgain = false;
  controller.pulling = false;
  controller.strategySizeAlgorithm = sizeAlgorithm;
  controller.strategyHWM = highWaterMark;
  controller.pullAlgorithm = pullAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
  stream.controller = controller;
  const startResult = startAlgorithm();
  const startPromise = promiseFromCallbackResult(startResult);
  uponPromise(
    startPromise,
    () => {
      controller.started = true;
      ReadableStreamDefaultControllerCallPullIfNeeded(controller);
    },
    (r) => {
      ReadableStreamDefaultControllerError(controller, r);
    },
  );
}

/** The public ReadableStreamDefaultController for a controller record, made on first use. */
function defaultControllerObject(controller) {
  return defaultControllerSlot.publicObject(controller, ReadableStreamDefaultController);
}

/**
 * The underlying source's callbacks as the spec's algorithms. `start` may throw; `pull` and
 * `cancel` return promises.
 */
function sourceAlgorithms(underlyingSource, dict, controllerObject) {
  const { start, pull, cancel } = dict;
  return {
    startAlgorithm: start === undefined
      ? returnUndefined
      : () => invokeCallback(start, underlyingSource, [controllerObject]),
    pullAlgorithm: pull === undefined
      ? () => resolvedUndefined
      : () => {
        try {
          return promiseFromCallbackResult(FunctionPrototypeCall(pull, underlyingSource, controllerObject));
        } catch (e) {
          return promiseRejectedWith(e);
        }
      },
    cancelAlgorithm: cancel === undefined
      ? () => resolvedUndefined
      : (reason) => {
        try {
          return promiseFromCallbackResult(FunctionPrototypeCall(cancel, underlyingSource, reason));
        } catch (e) {
          return promiseRejectedWith(e);
        }
      },
  };
}

/** SetUpReadableStreamDefaultControllerFromUnderlyingSource(stream, source, dict, hwm, size) */
function SetUpReadableStreamDefaultControllerFromUnderlyingSource(
  stream, underlyingSource, underlyingSourceDict, highWaterMark, sizeAlgorithm,
) {
  const controller = new ReadableStreamDefaultControllerSlots();
  const object = defaultControllerObject(controller);
  const { startAlgorithm, pullAlgorithm, cancelAlgorithm } = sourceAlgorithms(
    underlyingSource, underlyingSourceDict, object,
  );
  SetUpReadableStreamDefaultController(
    stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark,
    sizeAlgorithm,
  );
}

// ---------------------------------------------------------------------------------------------
// ECMAScript iteration helpers (GetIterator with async hint, CreateAsyncFromSyncIterator)
// ---------------------------------------------------------------------------------------------

function isObject(v) {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

/** GetMethod(V, P): undefined or null means absent; anything else must be callable. */
function GetMethod(value, key) {
  const func = value[key]; // GetV: primitives are boxed by the property access
  if (func === undefined || func === null) return undefined;
  if (typeof func !== "function") throw new TypeErrorCtor(`${String(key)} is not a function.`);
  return func;
}

/** GetIteratorFromMethod(obj, method) */
function GetIteratorFromMethod(obj, method) {
  const iterator = FunctionPrototypeCall(method, obj);
  if (!isObject(iterator)) throw new TypeErrorCtor("The iterator is not an object.");
  const nextMethod = iterator.next;
  return { iterator, nextMethod, done: false };
}

/** GetIterator(obj, kind) */
function GetIterator(obj, kind) {
  if (obj === undefined || obj === null) {
    throw new TypeErrorCtor("ReadableStream.from: the argument is not iterable.");
  }
  if (kind === "async") {
    const method = GetMethod(obj, SymbolAsyncIterator);
    if (method === undefined) {
      const syncMethod = GetMethod(obj, SymbolIterator);
      if (syncMethod === undefined) {
        throw new TypeErrorCtor("ReadableStream.from: the argument is not iterable.");
      }
      const syncIteratorRecord = GetIteratorFromMethod(obj, syncMethod);
      return CreateAsyncFromSyncIterator(syncIteratorRecord);
    }
    return GetIteratorFromMethod(obj, method);
  }
  const method = GetMethod(obj, SymbolIterator);
  if (method === undefined) throw new TypeErrorCtor("The argument is not iterable.");
  return GetIteratorFromMethod(obj, method);
}

/** IteratorNext(iteratorRecord): the result must be an object. */
function IteratorNext(iteratorRecord) {
  const result = FunctionPrototypeCall(iteratorRecord.nextMethod, iteratorRecord.iterator);
  if (!isObject(result)) throw new TypeErrorCtor("The iterator's next() result is not an object.");
  return result;
}

function IteratorComplete(iterResult) {
  return !!iterResult.done;
}

function IteratorValue(iterResult) {
  return iterResult.value;
}

/** IteratorClose(iteratorRecord) for a normal completion; errors of return() are ignored. */
function closeIteratorQuietly(syncIterator) {
  try {
    const returnMethod = GetMethod(syncIterator, "return");
    if (returnMethod !== undefined) FunctionPrototypeCall(returnMethod, syncIterator);
  } catch {
    // The original rejection wins.
  }
}

/**
 * AsyncFromSyncIteratorContinuation(result, promiseCapability, syncIteratorRecord,
 * closeOnRejection): await the value; a rejected value closes the sync iterator.
 */
function asyncFromSyncIteratorContinuation(result, syncIteratorRecord, closeOnRejection) {
  const done = !!result.done;
  const value = result.value;
  let valueWrapper;
  try {
    valueWrapper = PromiseResolve(value);
  } catch (e) {
    if (!done && closeOnRejection) closeIteratorQuietly(syncIteratorRecord.iterator);
    return promiseRejectedWith(e);
  }
  return PromisePrototypeThen(
    valueWrapper,
    (v) => ({ value: v, done }),
    done || !closeOnRejection
      ? undefined
      : (e) => {
        closeIteratorQuietly(syncIteratorRecord.iterator);
        throw e;
      },
  );
}

/** CreateAsyncFromSyncIterator(syncIteratorRecord), as an iterator record. */
function CreateAsyncFromSyncIterator(syncIteratorRecord) {
  const asyncIterator = {
    next(value) {
      let result;
      try {
        result = arguments.length > 0
          ? FunctionPrototypeCall(syncIteratorRecord.nextMethod, syncIteratorRecord.iterator, value)
          : FunctionPrototypeCall(syncIteratorRecord.nextMethod, syncIteratorRecord.iterator);
        if (!isObject(result)) throw new TypeErrorCtor("The iterator result is not an object.");
      } catch (e) {
        return promiseRejectedWith(e);
      }
      return asyncFromSyncIteratorContinuation(result, syncIteratorRecord, true);
    },
    return(value) {
      const syncIterator = syncIteratorRecord.iterator;
      let result;
      try {
        const returnMethod = GetMethod(syncIterator, "return");
        if (returnMethod === undefined) return promiseResolvedWith({ value, done: true });
        result = arguments.length > 0
          ? FunctionPrototypeCall(returnMethod, syncIterator, value)
          : FunctionPrototypeCall(returnMethod, syncIterator);
        if (!isObject(result)) throw new TypeErrorCtor("The iterator result is not an object.");
      } catch (e) {
        return promiseRejectedWith(e);
      }
      return asyncFromSyncIteratorContinuation(result, syncIteratorRecord, false);
    },
  };
  return { iterator: asyncIterator, nextMethod: asyncIterator.next, done: false };
}

// ---------------------------------------------------------------------------------------------
// Web IDL dictionaries of the ReadableStream interface
// ---------------------------------------------------------------------------------------------

const convertUnderlyingSource = impl.createDictionaryConverter("UnderlyingSource", [
  { key: "autoAllocateChunkSize", converter: enforceRangeUnsignedLongLong },
  { key: "cancel", converter: callbackConverter },
  { key: "pull", converter: callbackConverter },
  { key: "start", converter: callbackConverter },
  { key: "type", converter: webidl.createEnumConverter("ReadableStreamType", ["bytes"]) },
]);

const convertGetReaderOptions = impl.createDictionaryConverter("ReadableStreamGetReaderOptions", [
  { key: "mode", converter: webidl.createEnumConverter("ReadableStreamReaderMode", ["byob"]) },
]);

const convertIteratorOptions = impl.createDictionaryConverter("ReadableStreamIteratorOptions", [
  { key: "preventCancel", converter: converters.boolean, defaultValue: false },
]);

const convertBYOBReaderReadOptions = impl.createDictionaryConverter(
  "ReadableStreamBYOBReaderReadOptions",
  [{ key: "min", converter: enforceRangeUnsignedLongLong, defaultValue: 1 }],
);

function readableStreamConverter(v, prefix, context) {
  const stream = streamSlot.get(v);
  if (stream === undefined) {
    throw webidl.makeException(TypeErrorCtor, "is not of type 'ReadableStream'.", prefix, context);
  }
  return stream;
}

function writableStreamConverter(v, prefix, context) {
  const stream = impl.writableStreamSlot.get(v);
  if (stream === undefined) {
    throw webidl.makeException(TypeErrorCtor, "is not of type 'WritableStream'.", prefix, context);
  }
  return stream;
}

/** dictionary ReadableWritablePair { required ReadableStream readable; required WritableStream writable; } */
const convertReadableWritablePair = impl.createDictionaryConverter("ReadableWritablePair", [
  { key: "readable", converter: readableStreamConverter, required: true },
  { key: "writable", converter: writableStreamConverter, required: true },
]);

/** dictionary StreamPipeOptions */
const convertStreamPipeOptions = impl.createDictionaryConverter("StreamPipeOptions", [
  { key: "preventAbort", converter: converters.boolean, defaultValue: false },
  { key: "preventCancel", converter: converters.boolean, defaultValue: false },
  { key: "preventClose", converter: converters.boolean, defaultValue: false },
  { key: "signal", converter: internals.abort.convertAbortSignal },
]);

// ---------------------------------------------------------------------------------------------
// The ReadableStream class (§4.2)
// ---------------------------------------------------------------------------------------------

const thisStream = streamSlot.of;

class ReadableStream {
  constructor(underlyingSource = undefined, strategy = undefined) {
    const prefix = "Failed to construct 'ReadableStream'";
    // Arguments are converted first (so the strategy's getters run before the source's).
    if (underlyingSource !== undefined) {
      underlyingSource = converters.object(underlyingSource, prefix, "Argument 1");
    } else {
      underlyingSource = null;
    }
    const strategyDict = convertQueuingStrategy(strategy, prefix, "Argument 2");
    const underlyingSourceDict = convertUnderlyingSource(underlyingSource, prefix, "Argument 1");
    const stream = new ReadableStreamSlots();
    InitializeReadableStream(stream, this);
    if (underlyingSourceDict.type === "bytes") {
      if (strategyDict.size !== undefined) {
        throw new RangeErrorCtor(
          `${prefix}: The strategy for a byte stream cannot have a size function.`,
        );
      }
      const highWaterMark = ExtractHighWaterMark(strategyDict, 0);
      impl.SetUpReadableByteStreamControllerFromUnderlyingSource(
        stream, underlyingSource, underlyingSourceDict, highWaterMark,
      );
    } else {
      const sizeAlgorithm = ExtractSizeAlgorithm(strategyDict);
      const highWaterMark = ExtractHighWaterMark(strategyDict, 1);
      SetUpReadableStreamDefaultControllerFromUnderlyingSource(
        stream, underlyingSource, underlyingSourceDict, highWaterMark, sizeAlgorithm,
      );
    }
  }

  static from(asyncIterable) {
    const prefix = "Failed to execute 'from' on 'ReadableStream'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    // The argument is an async_sequence<any> (Web IDL): a value that is not an object does not
    // convert, so a string is refused rather than iterated by code point. The rest of the
    // conversion (@@asyncIterator, else @@iterator, else TypeError) and opening the sequence
    // are GetIterator(asyncIterable, async) in ReadableStreamFromIterable.
    if (!isObject(asyncIterable)) {
      throw webidl.makeException(
        TypeErrorCtor, "can not be converted to an async sequence: it is not an object.",
        prefix, "Argument 1",
      );
    }
    return ReadableStreamFromIterable(asyncIterable).object;
  }

  get locked() {
    return IsReadableStreamLocked(thisStream(this, "locked"));
  }

  cancel(reason = undefined) {
    let stream;
    try {
      stream = thisStream(this, "cancel");
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (IsReadableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeErrorCtor("Cannot cancel a stream that is locked to a reader."));
    }
    return ReadableStreamCancel(stream, reason);
  }

  getReader(options = undefined) {
    const stream = thisStream(this, "getReader");
    const prefix = "Failed to execute 'getReader' on 'ReadableStream'";
    const dict = convertGetReaderOptions(options, prefix, "Argument 1");
    if (dict.mode === undefined) return readerObject(AcquireReadableStreamDefaultReader(stream));
    return readerObject(AcquireReadableStreamBYOBReader(stream));
  }

  pipeThrough(transform, options = undefined) {
    const stream = thisStream(this, "pipeThrough");
    const prefix = "Failed to execute 'pipeThrough' on 'ReadableStream'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const pair = convertReadableWritablePair(transform, prefix, "Argument 1");
    const opts = convertStreamPipeOptions(options, prefix, "Argument 2");
    if (IsReadableStreamLocked(stream)) {
      throw new TypeErrorCtor(`${prefix}: The stream is locked.`);
    }
    if (impl.IsWritableStreamLocked(pair.writable)) {
      throw new TypeErrorCtor(`${prefix}: The destination writable stream is locked.`);
    }
    const promise = impl.ReadableStreamPipeTo(
      stream, pair.writable, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal,
    );
    setPromiseIsHandled(promise);
    return pair.readable.object;
  }

  pipeTo(destination, options = undefined) {
    const prefix = "Failed to execute 'pipeTo' on 'ReadableStream'";
    let stream;
    let dest;
    let opts;
    try {
      stream = thisStream(this, "pipeTo");
      webidl.requiredArguments(arguments.length, 1, prefix);
      dest = writableStreamConverter(destination, prefix, "Argument 1");
      opts = convertStreamPipeOptions(options, prefix, "Argument 2");
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (IsReadableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeErrorCtor(`${prefix}: The stream is locked.`));
    }
    if (impl.IsWritableStreamLocked(dest)) {
      return promiseRejectedWith(
        new TypeErrorCtor(`${prefix}: The destination writable stream is locked.`),
      );
    }
    return impl.ReadableStreamPipeTo(
      stream, dest, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal,
    );
  }

  tee() {
    const stream = thisStream(this, "tee");
    const [branch1, branch2] = ReadableStreamTee(stream, false);
    return [branch1.object, branch2.object];
  }

  values(options = undefined) {
    const stream = thisStream(this, "values");
    const dict = convertIteratorOptions(
      options, "Failed to execute 'values' on 'ReadableStream'", "Argument 1",
    );
    return createAsyncIterator(stream, dict.preventCancel);
  }
}
webidl.configureInterface(ReadableStream);
// [Symbol.asyncIterator] is the same function object as values().
impl.defineAlias(ReadableStream.prototype, SymbolAsyncIterator, ReadableStream.prototype.values);

// ---------------------------------------------------------------------------------------------
// Async iteration (§4.2.5, with Web IDL's asynchronous iterator machinery)
// ---------------------------------------------------------------------------------------------

const END_OF_ITERATION = ObjectCreate(null);

function createIterResultObject(value, done) {
  return { value, done };
}

class ReadableStreamAsyncIteratorSlots {
  target;
  reader;
  preventCancel;
  isFinished;
  ongoingPromise;

  constructor(stream, reader, preventCancel) {
    this.target = stream;
    this.reader = reader;
    this.preventCancel = preventCancel;
    this.isFinished = false;
    this.ongoingPromise = null;
  }
}

/** The asynchronous iterator initialization steps for a ReadableStream. */
function createAsyncIterator(stream, preventCancel) {
  const reader = AcquireReadableStreamDefaultReader(stream);
  const iterator = ObjectCreate(ReadableStreamAsyncIteratorPrototype);
  iteratorSlot.attach(iterator, new ReadableStreamAsyncIteratorSlots(stream, reader, preventCancel));
  return iterator;
}

/** The get the next iteration result steps for a ReadableStream. */
function getNextIterationResult(iterator) {
  const reader = iterator.reader;
  const d = PromiseWithResolvers();
  const readRequest = {
    chunkSteps(chunk) {
      d.resolve(chunk);
    },
    closeSteps() {
      ReadableStreamDefaultReaderRelease(reader);
      d.resolve(END_OF_ITERATION);
    },
    errorSteps(e) {
      ReadableStreamDefaultReaderRelease(reader);
      d.reject(e);
    },
  };
  ReadableStreamDefaultReaderRead(reader, readRequest);
  return d.promise;
}

/** The asynchronous iterator return steps for a ReadableStream. */
function asyncIteratorReturn(iterator, arg) {
  const reader = iterator.reader;
  if (!iterator.preventCancel) {
    const result = ReadableStreamReaderGenericCancel(reader, arg);
    ReadableStreamDefaultReaderRelease(reader);
    return result;
  }
  ReadableStreamDefaultReaderRelease(reader);
  return promiseResolvedWith(undefined);
}

const ReadableStreamAsyncIteratorPrototype = ObjectCreate(primordials.AsyncIteratorPrototype);
{
  const methods = {
    next() {
      const iterator = iteratorSlot.get(this);
      if (iterator === undefined) {
        return promiseRejectedWith(illegalInvocation("ReadableStream AsyncIterator", "next"));
      }
      const nextSteps = () => {
        if (iterator.isFinished) return promiseResolvedWith(createIterResultObject(undefined, true));
        const nextPromise = getNextIterationResult(iterator);
        return PromisePrototypeThen(
          nextPromise,
          (next) => {
            iterator.ongoingPromise = null;
            if (next === END_OF_ITERATION) {
              iterator.isFinished = true;
              return createIterResultObject(undefined, true);
            }
            return createIterResultObject(next, false);
          },
          (reason) => {
            iterator.ongoingPromise = null;
            iterator.isFinished = true;
            throw reason;
          },
        );
      };
      const ongoingPromise = iterator.ongoingPromise;
      if (ongoingPromise !== null) {
        iterator.ongoingPromise = PromisePrototypeThen(ongoingPromise, nextSteps, nextSteps);
      } else {
        iterator.ongoingPromise = nextSteps();
      }
      return iterator.ongoingPromise;
    },

    return(value) {
      const iterator = iteratorSlot.get(this);
      if (iterator === undefined) {
        return promiseRejectedWith(illegalInvocation("ReadableStream AsyncIterator", "return"));
      }
      const returnSteps = () => {
        if (iterator.isFinished) return promiseResolvedWith(createIterResultObject(value, true));
        iterator.isFinished = true;
        return asyncIteratorReturn(iterator, value);
      };
      const ongoingPromise = iterator.ongoingPromise;
      if (ongoingPromise !== null) {
        iterator.ongoingPromise = PromisePrototypeThen(ongoingPromise, returnSteps, returnSteps);
      } else {
        iterator.ongoingPromise = returnSteps();
      }
      return PromisePrototypeThen(iterator.ongoingPromise, () => createIterResultObject(value, true));
    },
  };
  for (const key of ["next", "return"]) {
    ObjectDefineProperty(ReadableStreamAsyncIteratorPrototype, key, {
      value: methods[key], writable: true, enumerable: true, configurable: true,
    });
  }
  ObjectDefineProperty(ReadableStreamAsyncIteratorPrototype, SymbolToStringTag, {
    value: "ReadableStream AsyncIterator", writable: false, enumerable: false, configurable: true,
  });
}

// ---------------------------------------------------------------------------------------------
// ReadableStreamDefaultReader (§4.4) and ReadableStreamBYOBReader (§4.5)
// ---------------------------------------------------------------------------------------------

/** The public reader for a reader record, made on first use. */
function readerObject(reader) {
  return reader.byob
    ? byobReaderSlot.publicObject(reader, ReadableStreamBYOBReader)
    : defaultReaderSlot.publicObject(reader, ReadableStreamDefaultReader);
}

/**
 * The read request behind reader.read(), and the read-into request behind
 * byobReader.read(view): fulfils its promise with { value, done }. A read request's
 * closeSteps() has no chunk, so its value is undefined.
 */
class ReaderReadRequest {
  promise;
  resolve;
  reject;

  constructor() {
    const d = PromiseWithResolvers();
    this.promise = d.promise;
    this.resolve = d.resolve;
    this.reject = d.reject;
  }

  chunkSteps(chunk) {
    this.resolve({ value: chunk, done: false });
  }

  closeSteps(chunk) {
    this.resolve({ value: chunk, done: true });
  }

  errorSteps(e) {
    this.reject(e);
  }
}

/** A read request for the runtime's own reads: its results have a null prototype, so a
 * `then` accessor a script put on Object.prototype never sees (nor breaks) them. */
class InternalReadRequest extends ReaderReadRequest {
  chunkSteps(chunk) {
    this.resolve({ __proto__: null, value: chunk, done: false });
  }

  closeSteps(chunk) {
    this.resolve({ __proto__: null, value: chunk, done: true });
  }
}

const defaultReaderOf = defaultReaderSlot.of;
const byobReaderOf = byobReaderSlot.of;

function noStreamError(member) {
  return new TypeErrorCtor(`Cannot ${member}: the reader has no stream (its lock was released).`);
}

class ReadableStreamDefaultReader {
  constructor(stream) {
    const prefix = "Failed to construct 'ReadableStreamDefaultReader'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const streamRecord = readableStreamConverter(stream, prefix, "Argument 1");
    const reader = new ReadableStreamDefaultReaderSlots();
    defaultReaderSlot.attach(this, reader);
    reader.object = this;
    SetUpReadableStreamDefaultReader(reader, streamRecord);
  }

  get closed() {
    const reader = defaultReaderSlot.get(this);
    if (reader === undefined) {
      return promiseRejectedWith(illegalInvocation("ReadableStreamDefaultReader", "closed"));
    }
    return reader.closedPromise.promise;
  }

  cancel(reason = undefined) {
    const reader = defaultReaderSlot.get(this);
    if (reader === undefined) {
      return promiseRejectedWith(illegalInvocation("ReadableStreamDefaultReader", "cancel"));
    }
    if (reader.stream === undefined) return promiseRejectedWith(noStreamError("cancel"));
    return ReadableStreamReaderGenericCancel(reader, reason);
  }

  read() {
    const reader = defaultReaderSlot.get(this);
    if (reader === undefined) {
      return promiseRejectedWith(illegalInvocation("ReadableStreamDefaultReader", "read"));
    }
    if (reader.stream === undefined) return promiseRejectedWith(noStreamError("read"));
    const readRequest = new ReaderReadRequest();
    ReadableStreamDefaultReaderRead(reader, readRequest);
    return readRequest.promise;
  }

  releaseLock() {
    const reader = defaultReaderOf(this, "releaseLock");
    if (reader.stream === undefined) return;
    ReadableStreamDefaultReaderRelease(reader);
  }
}
webidl.configureInterface(ReadableStreamDefaultReader);

class ReadableStreamBYOBReader {
  constructor(stream) {
    const prefix = "Failed to construct 'ReadableStreamBYOBReader'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const streamRecord = readableStreamConverter(stream, prefix, "Argument 1");
    const reader = new ReadableStreamBYOBReaderSlots();
    byobReaderSlot.attach(this, reader);
    reader.object = this;
    SetUpReadableStreamBYOBReader(reader, streamRecord);
  }

  get closed() {
    const reader = byobReaderSlot.get(this);
    if (reader === undefined) {
      return promiseRejectedWith(illegalInvocation("ReadableStreamBYOBReader", "closed"));
    }
    return reader.closedPromise.promise;
  }

  cancel(reason = undefined) {
    const reader = byobReaderSlot.get(this);
    if (reader === undefined) {
      return promiseRejectedWith(illegalInvocation("ReadableStreamBYOBReader", "cancel"));
    }
    if (reader.stream === undefined) return promiseRejectedWith(noStreamError("cancel"));
    return ReadableStreamReaderGenericCancel(reader, reason);
  }

  read(view, options = undefined) {
    const prefix = "Failed to execute 'read' on 'ReadableStreamBYOBReader'";
    let reader;
    let min;
    try {
      reader = byobReaderOf(this, "read");
      webidl.requiredArguments(arguments.length, 1, prefix);
      view = arrayBufferViewConverter(view, prefix, "Argument 1");
      min = convertBYOBReaderReadOptions(options, prefix, "Argument 2").min;
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (viewByteLength(view) === 0) {
      return promiseRejectedWith(new TypeErrorCtor(`${prefix}: The view's byte length is 0.`));
    }
    const buffer = viewBuffer(view);
    if (primordials.ArrayBufferPrototypeGetByteLength(buffer) === 0) {
      return promiseRejectedWith(new TypeErrorCtor(`${prefix}: The view's buffer has a byte length of 0.`));
    }
    if (IsDetachedBuffer(buffer)) {
      return promiseRejectedWith(new TypeErrorCtor(`${prefix}: The view's buffer is detached.`));
    }
    if (min === 0) {
      return promiseRejectedWith(new TypeErrorCtor(`${prefix}: options.min must be greater than 0.`));
    }
    if (!isDataView(view)) {
      if (min > typedArrayLength(view)) {
        return promiseRejectedWith(
          new RangeErrorCtor(`${prefix}: options.min must not exceed the view's length.`),
        );
      }
    } else if (min > viewByteLength(view)) {
      return promiseRejectedWith(
        new RangeErrorCtor(`${prefix}: options.min must not exceed the view's byte length.`),
      );
    }
    if (reader.stream === undefined) return promiseRejectedWith(noStreamError("read"));
    const readIntoRequest = new ReaderReadRequest();
    ReadableStreamBYOBReaderRead(reader, view, min, readIntoRequest);
    return readIntoRequest.promise;
  }

  /**
   * Cloudflare Workers' extension: a read that fills at least `minBytes` of `view` (unless
   * the stream ends first), the standard's `read(view, { min })` counted in bytes.
   */
  readAtLeast(minBytes, view) {
    const prefix = "Failed to execute 'readAtLeast' on 'ReadableStreamBYOBReader'";
    try {
      byobReaderOf(this, "readAtLeast");
      webidl.requiredArguments(arguments.length, 2, prefix);
      minBytes = webidl.converters["unsigned long"](minBytes, prefix, "Argument 1");
      view = arrayBufferViewConverter(view, prefix, "Argument 2");
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (minBytes === 0) {
      return promiseRejectedWith(new TypeErrorCtor(`${prefix}: minBytes must be greater than 0.`));
    }
    if (minBytes > viewByteLength(view)) {
      return promiseRejectedWith(
        new RangeErrorCtor(`${prefix}: minBytes must not exceed the view's byte length.`),
      );
    }
    const elementSize = impl.viewConstructorAndElementSize(view)[1];
    return this.read(view, { min: MathCeil(minBytes / elementSize) });
  }

  releaseLock() {
    const reader = byobReaderOf(this, "releaseLock");
    if (reader.stream === undefined) return;
    ReadableStreamBYOBReaderRelease(reader);
  }
}
webidl.configureInterface(ReadableStreamBYOBReader);

// ---------------------------------------------------------------------------------------------
// ReadableStreamDefaultController (§4.6)
// ---------------------------------------------------------------------------------------------

const defaultControllerOf = defaultControllerSlot.of;

class ReadableStreamDefaultController {
  constructor() {
    webidl.illegalConstructor();
  }

  get desiredSize() {
    return ReadableStreamDefaultControllerGetDesiredSize(defaultControllerOf(this, "desiredSize"));
  }

  close() {
    const controller = defaultControllerOf(this, "close");
    if (!ReadableStreamDefaultControllerCanCloseOrEnqueue(controller)) {
      throw new TypeErrorCtor("The stream is not in a state that permits close.");
    }
    ReadableStreamDefaultControllerClose(controller);
  }

  enqueue(chunk = undefined) {
    const controller = defaultControllerOf(this, "enqueue");
    if (!ReadableStreamDefaultControllerCanCloseOrEnqueue(controller)) {
      throw new TypeErrorCtor("The stream is not in a state that permits enqueue.");
    }
    ReadableStreamDefaultControllerEnqueue(controller, chunk);
  }

  error(e = undefined) {
    ReadableStreamDefaultControllerError(defaultControllerOf(this, "error"), e);
  }
}
webidl.configureInterface(ReadableStreamDefaultController);

internals.exposeGlobals({
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamDefaultController,
});

// ---------------------------------------------------------------------------------------------
// Shared with the other streams files
// ---------------------------------------------------------------------------------------------

Object.assign(impl, {
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamDefaultController,
  ReadableStreamSlots,
  streamSlot,
  readerObject,
  readableStreamConverter,
  AcquireReadableStreamBYOBReader,
  AcquireReadableStreamDefaultReader,
  CreateReadableStream,
  CreateReadableByteStream,
  InitializeReadableStream,
  IsReadableStreamLocked,
  ReadableStreamFromIterable,
  ReadableStreamTee,
  ReadableStreamDefaultTee,
  ReadableStreamAddReadIntoRequest,
  ReadableStreamAddReadRequest,
  ReadableStreamCancel,
  ReadableStreamClose,
  ReadableStreamError,
  ReadableStreamFulfillReadIntoRequest,
  ReadableStreamFulfillReadRequest,
  ReadableStreamGetNumReadIntoRequests,
  ReadableStreamGetNumReadRequests,
  ReadableStreamHasBYOBReader,
  ReadableStreamHasDefaultReader,
  ReadableStreamReaderGenericCancel,
  ReadableStreamBYOBReaderRead,
  ReadableStreamBYOBReaderRelease,
  ReadableStreamDefaultReaderRead,
  ReadableStreamDefaultReaderRelease,
  ReadableStreamDefaultControllerSlots,
  ReadableStreamDefaultControllerCallPullIfNeeded,
  ReadableStreamDefaultControllerShouldCallPull,
  ReadableStreamDefaultControllerClearAlgorithms,
  ReadableStreamDefaultControllerClose,
  ReadableStreamDefaultControllerEnqueue,
  ReadableStreamDefaultControllerError,
  ReadableStreamDefaultControllerGetDesiredSize,
  ReadableStreamDefaultControllerHasBackpressure,
  ReadableStreamDefaultControllerCanCloseOrEnqueue,
  SetUpReadableStreamDefaultController,
  sourceAlgorithms,
  wrapHookAlgorithm,
  returnUndefined,
  isObject,
  GetIterator,
  IteratorNext,
  IteratorComplete,
  IteratorValue,
});

// ---------------------------------------------------------------------------------------------
// Hooks for other specifications (§9.1): what fetch and the bridge build on
// ---------------------------------------------------------------------------------------------

const hooks = internals.streams;

/**
 * Wrap a hook's optional function as the spec's wrapper algorithms ("set up", §9.1.1): it is
 * called with `controllerObject` when one is given (pull), else with the algorithm's argument
 * (cancel's reason).
 */
function wrapHookAlgorithm(fn, controllerObject = undefined) {
  if (fn === undefined) return () => resolvedUndefined;
  if (controllerObject === undefined) return (arg) => promiseCall(fn, arg);
  return () => promiseCall(fn, controllerObject);
}

function streamOf(object) {
  const stream = streamSlot.get(object);
  if (stream === undefined) throw new TypeErrorCtor("Not a ReadableStream.");
  return stream;
}

function readerOf(object) {
  const reader = defaultReaderSlot.get(object) ?? byobReaderSlot.get(object);
  if (reader === undefined) throw new TypeErrorCtor("Not a ReadableStream reader.");
  return reader;
}

Object.assign(hooks, {
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamDefaultController,

  /**
   * "Set up" a ReadableStream (a default, chunk-agnostic one). `pull(controller)` and
   * `cancel(reason)` may return promises; `controller` is the stream's public controller.
   */
  createReadableStream({ pull, cancel, highWaterMark = 1, size } = {}) {
    const stream = new ReadableStreamSlots();
    InitializeReadableStream(stream);
    const controller = new ReadableStreamDefaultControllerSlots();
    const controllerObject = defaultControllerObject(controller);
    const sizeAlgorithm = size === undefined ? sizeOne : (chunk) => size(chunk);
    SetUpReadableStreamDefaultController(
      stream, controller, returnUndefined, wrapHookAlgorithm(pull, controllerObject),
      wrapHookAlgorithm(cancel), highWaterMark, sizeAlgorithm,
    );
    return stream.object;
  },

  /** "Set up with byte reading support": a readable byte stream. */
  createReadableByteStream({ pull, cancel, highWaterMark = 0 } = {}) {
    const stream = new ReadableStreamSlots();
    InitializeReadableStream(stream);
    const controller = new impl.ReadableByteStreamControllerSlots();
    const controllerObject = impl.byteControllerObject(controller);
    impl.SetUpReadableByteStreamController(
      stream, controller, returnUndefined, wrapHookAlgorithm(pull, controllerObject),
      wrapHookAlgorithm(cancel), highWaterMark, undefined,
    );
    return stream.object;
  },

  /** "Enqueue" a chunk into a stream made with the hooks above. */
  enqueue(object, chunk) {
    const stream = streamOf(object);
    const controller = stream.controller;
    if (!controller.isByteController) {
      ReadableStreamDefaultControllerEnqueue(controller, chunk);
      return;
    }
    const byobView = hooks.currentBYOBRequestView(object);
    if (byobView !== null && viewBuffer(chunk) === viewBuffer(byobView)) {
      impl.ReadableByteStreamControllerRespond(controller, viewByteLength(chunk));
    } else {
      impl.ReadableByteStreamControllerEnqueue(controller, chunk);
    }
  },

  /** "Close" a stream made with the hooks above. */
  close(object) {
    const stream = streamOf(object);
    const controller = stream.controller;
    if (controller.isByteController) {
      impl.ReadableByteStreamControllerClose(controller);
      if (controller.pendingPullIntos.length > 0) {
        impl.ReadableByteStreamControllerRespond(controller, 0);
      }
    } else {
      ReadableStreamDefaultControllerClose(controller);
    }
  },

  /** "Error" a stream made with the hooks above. */
  error(object, e) {
    const stream = streamOf(object);
    const controller = stream.controller;
    if (controller.isByteController) impl.ReadableByteStreamControllerError(controller, e);
    else ReadableStreamDefaultControllerError(controller, e);
  },

  /** "The desired size to fill up to the high water mark" (0 once not readable). */
  desiredSize(object) {
    const stream = streamOf(object);
    if (stream.state !== "readable") return 0;
    const controller = stream.controller;
    if (controller.isByteController) return impl.ReadableByteStreamControllerGetDesiredSize(controller);
    return ReadableStreamDefaultControllerGetDesiredSize(controller);
  },

  /** "The current BYOB request view" of a byte stream, or null. */
  currentBYOBRequestView(object) {
    const stream = streamOf(object);
    const byobRequest = impl.ReadableByteStreamControllerGetBYOBRequest(stream.controller);
    if (byobRequest === null) return null;
    return byobRequest.view;
  },

  isReadableStream(x) {
    return streamSlot.get(x) !== undefined;
  },
  isLocked(object) {
    return IsReadableStreamLocked(streamOf(object));
  },
  isDisturbed(object) {
    return streamOf(object).disturbed;
  },
  isReadable(object) {
    return streamOf(object).state === "readable";
  },
  isClosed(object) {
    return streamOf(object).state === "closed";
  },
  isErrored(object) {
    return streamOf(object).state === "errored";
  },
  storedError(object) {
    return streamOf(object).storedError;
  },

  /** "Get a reader": a default reader (the public object). */
  getReader(object) {
    return readerObject(AcquireReadableStreamDefaultReader(streamOf(object)));
  },

  /** "Read a chunk" from a default reader: Promise<{ value, done }>. */
  readerRead(readerObj) {
    const reader = readerOf(readerObj);
    if (reader.stream === undefined) return promiseRejectedWith(noStreamError("read"));
    const readRequest = new InternalReadRequest();
    ReadableStreamDefaultReaderRead(reader, readRequest);
    return readRequest.promise;
  },

  /** "Release" a reader. */
  readerReleaseLock(readerObj) {
    const reader = readerOf(readerObj);
    if (reader.stream === undefined) return;
    if (reader.byob) ReadableStreamBYOBReaderRelease(reader);
    else ReadableStreamDefaultReaderRelease(reader);
  },

  /** "Cancel" a stream: Promise<undefined>. */
  cancel(object, reason) {
    return ReadableStreamCancel(streamOf(object), reason);
  },

  /**
   * "Tee" a stream (§9.1.2): [branch1, branch2]. As the standard's hook does, the chunks of
   * branch2 are structured clones, so the two consumers cannot interfere (byte streams are
   * always copied).
   */
  tee(object) {
    const [a, b] = ReadableStreamTee(streamOf(object), true);
    return [a.object, b.object];
  },

  /**
   * "Read all bytes": Promise<Uint8Array> with every chunk (each must be a Uint8Array)
   * concatenated with one final copy.
   */
  readAllBytes(object) {
    return readAllBytes(AcquireReadableStreamDefaultReader(streamOf(object)));
  },
});

function readAllBytes(reader) {
  const d = PromiseWithResolvers();
  const chunks = [];
  let total = 0;
  let inRead = false;
  let gotChunkSynchronously = false;

  function concatenate() {
    if (chunks.length === 1) return primordials.TypedArrayPrototypeSlice(chunks[0]);
    const bytes = new Uint8ArrayCtor(total);
    let offset = 0;
    for (let i = 0; i < chunks.length; i++) {
      TypedArrayPrototypeSet(bytes, chunks[i], offset);
      offset += TypedArrayPrototypeGetByteLength(chunks[i]);
    }
    return bytes;
  }

  const readRequest = {
    chunkSteps(chunk) {
      if (TypedArrayPrototypeGetSymbolToStringTag(chunk) !== "Uint8Array") {
        d.reject(new TypeErrorCtor("Every chunk of a body stream must be a Uint8Array."));
        return;
      }
      const length = TypedArrayPrototypeGetByteLength(chunk);
      if (length > 0) {
        ArrayPrototypePush(chunks, chunk);
        total += length;
      }
      if (inRead) gotChunkSynchronously = true;
      else readLoop();
    },
    closeSteps() {
      d.resolve(chunks.length === 0 ? new Uint8ArrayCtor(0) : concatenate());
    },
    errorSteps(e) {
      d.reject(e);
    },
  };

  // A loop rather than recursion: queued chunks arrive synchronously.
  function readLoop() {
    do {
      gotChunkSynchronously = false;
      inRead = true;
      ReadableStreamDefaultReaderRead(reader, readRequest);
      inRead = false;
    } while (gotChunkSynchronously);
  }

  readLoop();
  return d.promise;
}
