// Streams, part 4: WritableStream, its writer and controller (Streams Standard §5), and
// piping, ReadableStreamPipeTo (§4.9.1), which joins a readable and a writable stream.
//
// Records as in 11_readable_stream.js: `stream` is a WritableStreamSlots, `writer` a
// WritableStreamDefaultWriterSlots, `controller` a WritableStreamDefaultControllerSlots with
// the internal methods abortSteps(reason) and errorSteps(). Promises held in slots are
// deferreds ({ promise, resolve, reject, state }, see 10_streams_core.js).

const {
  ArrayPrototypePush,
  FunctionPrototypeCall,
  ObjectCreate,
  RangeError: RangeErrorCtor,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const impl = internals.streamsImpl;
const {
  Queue,
  callbackConverter,
  convertQueuingStrategy,
  createObject,
  createPrivateSlot,
  DequeueValue,
  EnqueueValueWithSize,
  ExtractHighWaterMark,
  ExtractSizeAlgorithm,
  illegalInvocation,
  invokeCallback,
  newPromise,
  newRejectedPromise,
  newResolvedPromise,
  PeekQueueValue,
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
  transformPromiseWith,
  uponFulfillment,
  uponPromise,
  uponRejection,
  waitForAll,
  // From 11_readable_stream.js
  AcquireReadableStreamDefaultReader,
  ReadableStreamCancel,
  ReadableStreamDefaultReaderRead,
  ReadableStreamDefaultReaderRelease,
  returnUndefined,
  wrapHookAlgorithm,
} = impl;

const writableStreamSlot = createPrivateSlot("WritableStream");
const writerSlot = createPrivateSlot("WritableStreamDefaultWriter");
const controllerSlot = createPrivateSlot("WritableStreamDefaultController");

// AbortSignal plumbing from 04_abort.js (loaded before this file).
const abortApi = internals.abort;

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

class WritableStreamSlots {
  state = "writable"; // "writable" | "closed" | "erroring" | "errored"
  storedError = undefined;
  writer = undefined;
  controller = undefined;
  inFlightWriteRequest = undefined;
  closeRequest = undefined;
  inFlightCloseRequest = undefined;
  pendingAbortRequest = undefined; // { promise, reason, wasAlreadyErroring }
  writeRequests = undefined; // a Queue, made by InitializeWritableStream
  backpressure = false;
  object = undefined;
}

class WritableStreamDefaultWriterSlots {
  stream = undefined;
  closedPromise = undefined;
  readyPromise = undefined;
  object = undefined;
}

/** The close sentinel: enqueued in lieu of a chunk to signal that the stream is closed. */
const closeSentinel = ObjectCreate(null);

class WritableStreamDefaultControllerSlots {
  stream = undefined;
  queue = undefined;
  queueTotalSize = 0;
  started = false;
  strategySizeAlgorithm = undefined;
  strategyHWM = 0;
  writeAlgorithm = undefined;
  closeAlgorithm = undefined;
  abortAlgorithm = undefined;
  // [[abortController]] is represented by its signal, made when first asked for (nothing
  // can observe it before); until then an abort only records its reason.
  signal = undefined;
  aborted = false;
  abortReason = undefined;
  object = undefined;

  /** [[AbortSteps]](reason) */
  abortSteps(reason) {
    const result = this.abortAlgorithm(reason);
    WritableStreamDefaultControllerClearAlgorithms(this);
    return result;
  }

  /** [[ErrorSteps]]() */
  errorSteps() {
    ResetQueue(this);
  }
}

/** controller.[[abortController]]'s signal. */
function controllerSignal(controller) {
  if (controller.signal === undefined) {
    controller.signal = abortApi.createAbortSignal();
    if (controller.aborted) abortApi.signalAbort(controller.signal, controller.abortReason);
  }
  return controller.signal;
}

/** "Signal abort on controller.[[abortController]] with reason" (runs abort listeners). */
function signalAbort(controller, reason) {
  if (controller.aborted) return;
  controller.aborted = true;
  controller.abortReason = reason;
  if (controller.signal !== undefined) abortApi.signalAbort(controller.signal, reason);
}

// ---------------------------------------------------------------------------------------------
// Working with writable streams (§5.5.1)
// ---------------------------------------------------------------------------------------------

/** AcquireWritableStreamDefaultWriter(stream) */
function AcquireWritableStreamDefaultWriter(stream) {
  const writer = new WritableStreamDefaultWriterSlots();
  SetUpWritableStreamDefaultWriter(writer, stream);
  return writer;
}

/** CreateWritableStream(start, write, close, abort, highWaterMark, sizeAlgorithm) */
function CreateWritableStream(
  startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, highWaterMark, sizeAlgorithm,
) {
  const stream = new WritableStreamSlots();
  InitializeWritableStream(stream);
  const controller = new WritableStreamDefaultControllerSlots();
  SetUpWritableStreamDefaultController(
    stream, controller, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm,
    highWaterMark, sizeAlgorithm,
  );
  return stream;
}

/** InitializeWritableStream(stream), plus the public object that goes with the record. */
function InitializeWritableStream(stream, object = undefined) {
  stream.state = "writable";
  stream.storedError = undefined;
  stream.writer = undefined;
  stream.controller = undefined;
  stream.inFlightWriteRequest = undefined;
  stream.closeRequest = undefined;
  stream.inFlightCloseRequest = undefined;
  stream.pendingAbortRequest = undefined;
  stream.writeRequests = new Queue();
  stream.backpressure = false;
  if (object === undefined) object = createObject(WritableStream);
  stream.object = object;
  writableStreamSlot.attach(object, stream);
}

/** IsWritableStreamLocked(stream) */
function IsWritableStreamLocked(stream) {
  return stream.writer !== undefined;
}

/** SetUpWritableStreamDefaultWriter(writer, stream) */
function SetUpWritableStreamDefaultWriter(writer, stream) {
  if (IsWritableStreamLocked(stream)) {
    throw new TypeErrorCtor("Cannot get a writer: the stream is already locked to a writer.");
  }
  writer.stream = stream;
  stream.writer = writer;
  const state = stream.state;
  if (state === "writable") {
    if (!WritableStreamCloseQueuedOrInFlight(stream) && stream.backpressure) {
      writer.readyPromise = newPromise();
    } else {
      writer.readyPromise = newResolvedPromise(undefined);
    }
    writer.closedPromise = newPromise();
  } else if (state === "erroring") {
    writer.readyPromise = newRejectedPromise(stream.storedError);
    setPromiseIsHandled(writer.readyPromise.promise);
    writer.closedPromise = newPromise();
  } else if (state === "closed") {
    writer.readyPromise = newResolvedPromise(undefined);
    writer.closedPromise = newResolvedPromise(undefined);
  } else {
    const storedError = stream.storedError;
    writer.readyPromise = newRejectedPromise(storedError);
    setPromiseIsHandled(writer.readyPromise.promise);
    writer.closedPromise = newRejectedPromise(storedError);
    setPromiseIsHandled(writer.closedPromise.promise);
  }
}

/** WritableStreamAbort(stream, reason) */
function WritableStreamAbort(stream, reason) {
  if (stream.state === "closed" || stream.state === "errored") {
    return promiseResolvedWith(undefined);
  }
  signalAbort(stream.controller, reason);
  const state = stream.state;
  // Signalling abort runs author code, which may have changed the state.
  if (state === "closed" || state === "errored") return promiseResolvedWith(undefined);
  if (stream.pendingAbortRequest !== undefined) return stream.pendingAbortRequest.promise.promise;
  let wasAlreadyErroring = false;
  if (state === "erroring") {
    wasAlreadyErroring = true;
    reason = undefined;
  }
  const promise = newPromise();
  stream.pendingAbortRequest = { promise, reason, wasAlreadyErroring };
  if (!wasAlreadyErroring) WritableStreamStartErroring(stream, reason);
  return promise.promise;
}

/** WritableStreamClose(stream) */
function WritableStreamClose(stream) {
  const state = stream.state;
  if (state === "closed" || state === "errored") {
    return promiseRejectedWith(new TypeErrorCtor("The stream is closed or errored; cannot close it."));
  }
  const promise = newPromise();
  stream.closeRequest = promise;
  const writer = stream.writer;
  if (writer !== undefined && stream.backpressure && state === "writable") {
    resolvePromise(writer.readyPromise, undefined);
  }
  WritableStreamDefaultControllerClose(stream.controller);
  return promise.promise;
}

// ---------------------------------------------------------------------------------------------
// Interfacing with controllers (§5.5.2)
// ---------------------------------------------------------------------------------------------

/** WritableStreamAddWriteRequest(stream) */
function WritableStreamAddWriteRequest(stream) {
  const promise = newPromise();
  stream.writeRequests.push(promise);
  return promise.promise;
}

/** WritableStreamCloseQueuedOrInFlight(stream) */
function WritableStreamCloseQueuedOrInFlight(stream) {
  return stream.closeRequest !== undefined || stream.inFlightCloseRequest !== undefined;
}

/** WritableStreamDealWithRejection(stream, error) */
function WritableStreamDealWithRejection(stream, error) {
  const state = stream.state;
  if (state === "writable") {
    WritableStreamStartErroring(stream, error);
    return;
  }
  WritableStreamFinishErroring(stream);
}

/** WritableStreamFinishErroring(stream) */
function WritableStreamFinishErroring(stream) {
  stream.state = "errored";
  stream.controller.errorSteps();
  const storedError = stream.storedError;
  const writeRequests = stream.writeRequests.drain();
  for (let i = 0; i < writeRequests.length; i++) rejectPromise(writeRequests[i], storedError);
  if (stream.pendingAbortRequest === undefined) {
    WritableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    return;
  }
  const abortRequest = stream.pendingAbortRequest;
  stream.pendingAbortRequest = undefined;
  if (abortRequest.wasAlreadyErroring) {
    rejectPromise(abortRequest.promise, storedError);
    WritableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    return;
  }
  const promise = stream.controller.abortSteps(abortRequest.reason);
  uponPromise(
    promise,
    () => {
      resolvePromise(abortRequest.promise, undefined);
      WritableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    },
    (reason) => {
      rejectPromise(abortRequest.promise, reason);
      WritableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    },
  );
}

/** WritableStreamFinishInFlightClose(stream) */
function WritableStreamFinishInFlightClose(stream) {
  resolvePromise(stream.inFlightCloseRequest, undefined);
  stream.inFlightCloseRequest = undefined;
  const state = stream.state;
  if (state === "erroring") {
    stream.storedError = undefined;
    if (stream.pendingAbortRequest !== undefined) {
      resolvePromise(stream.pendingAbortRequest.promise, undefined);
      stream.pendingAbortRequest = undefined;
    }
  }
  stream.state = "closed";
  const writer = stream.writer;
  if (writer !== undefined) resolvePromise(writer.closedPromise, undefined);
}

/** WritableStreamFinishInFlightCloseWithError(stream, error) */
function WritableStreamFinishInFlightCloseWithError(stream, error) {
  rejectPromise(stream.inFlightCloseRequest, error);
  stream.inFlightCloseRequest = undefined;
  if (stream.pendingAbortRequest !== undefined) {
    rejectPromise(stream.pendingAbortRequest.promise, error);
    stream.pendingAbortRequest = undefined;
  }
  WritableStreamDealWithRejection(stream, error);
}

/** WritableStreamFinishInFlightWrite(stream) */
function WritableStreamFinishInFlightWrite(stream) {
  resolvePromise(stream.inFlightWriteRequest, undefined);
  stream.inFlightWriteRequest = undefined;
}

/** WritableStreamFinishInFlightWriteWithError(stream, error) */
function WritableStreamFinishInFlightWriteWithError(stream, error) {
  rejectPromise(stream.inFlightWriteRequest, error);
  stream.inFlightWriteRequest = undefined;
  WritableStreamDealWithRejection(stream, error);
}

/** WritableStreamHasOperationMarkedInFlight(stream) */
function WritableStreamHasOperationMarkedInFlight(stream) {
  return stream.inFlightWriteRequest !== undefined || stream.inFlightCloseRequest !== undefined;
}

/** WritableStreamMarkCloseRequestInFlight(stream) */
function WritableStreamMarkCloseRequestInFlight(stream) {
  stream.inFlightCloseRequest = stream.closeRequest;
  stream.closeRequest = undefined;
}

/** WritableStreamMarkFirstWriteRequestInFlight(stream) */
function WritableStreamMarkFirstWriteRequestInFlight(stream) {
  stream.inFlightWriteRequest = stream.writeRequests.shift();
}

/** WritableStreamRejectCloseAndClosedPromiseIfNeeded(stream) */
function WritableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
  if (stream.closeRequest !== undefined) {
    rejectPromise(stream.closeRequest, stream.storedError);
    stream.closeRequest = undefined;
  }
  const writer = stream.writer;
  if (writer !== undefined) {
    rejectPromise(writer.closedPromise, stream.storedError);
    setPromiseIsHandled(writer.closedPromise.promise);
  }
}

/** WritableStreamStartErroring(stream, reason) */
function WritableStreamStartErroring(stream, reason) {
  const controller = stream.controller;
  stream.state = "erroring";
  stream.storedError = reason;
  const writer = stream.writer;
  if (writer !== undefined) WritableStreamDefaultWriterEnsureReadyPromiseRejected(writer, reason);
  if (!WritableStreamHasOperationMarkedInFlight(stream) && controller.started) {
    WritableStreamFinishErroring(stream);
  }
}

/** WritableStreamUpdateBackpressure(stream, backpressure) */
function WritableStreamUpdateBackpressure(stream, backpressure) {
  const writer = stream.writer;
  if (writer !== undefined && backpressure !== stream.backpressure) {
    if (backpressure) {
      writer.readyPromise = newPromise();
    } else {
      resolvePromise(writer.readyPromise, undefined);
    }
  }
  stream.backpressure = backpressure;
}

// ---------------------------------------------------------------------------------------------
// Writers (§5.5.3)
// ---------------------------------------------------------------------------------------------

/** WritableStreamDefaultWriterAbort(writer, reason) */
function WritableStreamDefaultWriterAbort(writer, reason) {
  return WritableStreamAbort(writer.stream, reason);
}

/** WritableStreamDefaultWriterClose(writer) */
function WritableStreamDefaultWriterClose(writer) {
  return WritableStreamClose(writer.stream);
}

/** WritableStreamDefaultWriterCloseWithErrorPropagation(writer) */
function WritableStreamDefaultWriterCloseWithErrorPropagation(writer) {
  const stream = writer.stream;
  const state = stream.state;
  if (WritableStreamCloseQueuedOrInFlight(stream) || state === "closed") {
    return promiseResolvedWith(undefined);
  }
  if (state === "errored") return promiseRejectedWith(stream.storedError);
  return WritableStreamDefaultWriterClose(writer);
}

/** WritableStreamDefaultWriterEnsureClosedPromiseRejected(writer, error) */
function WritableStreamDefaultWriterEnsureClosedPromiseRejected(writer, error) {
  if (writer.closedPromise.state === "pending") {
    rejectPromise(writer.closedPromise, error);
  } else {
    writer.closedPromise = newRejectedPromise(error);
  }
  setPromiseIsHandled(writer.closedPromise.promise);
}

/** WritableStreamDefaultWriterEnsureReadyPromiseRejected(writer, error) */
function WritableStreamDefaultWriterEnsureReadyPromiseRejected(writer, error) {
  if (writer.readyPromise.state === "pending") {
    rejectPromise(writer.readyPromise, error);
  } else {
    writer.readyPromise = newRejectedPromise(error);
  }
  setPromiseIsHandled(writer.readyPromise.promise);
}

/** WritableStreamDefaultWriterGetDesiredSize(writer) */
function WritableStreamDefaultWriterGetDesiredSize(writer) {
  const stream = writer.stream;
  const state = stream.state;
  if (state === "errored" || state === "erroring") return null;
  if (state === "closed") return 0;
  return WritableStreamDefaultControllerGetDesiredSize(stream.controller);
}

/** WritableStreamDefaultWriterRelease(writer) */
function WritableStreamDefaultWriterRelease(writer) {
  const stream = writer.stream;
  const releasedError = new TypeErrorCtor("The writer's lock on the stream was released.");
  WritableStreamDefaultWriterEnsureReadyPromiseRejected(writer, releasedError);
  WritableStreamDefaultWriterEnsureClosedPromiseRejected(writer, releasedError);
  stream.writer = undefined;
  writer.stream = undefined;
}

/** WritableStreamDefaultWriterWrite(writer, chunk) */
function WritableStreamDefaultWriterWrite(writer, chunk) {
  const stream = writer.stream;
  const controller = stream.controller;
  const chunkSize = WritableStreamDefaultControllerGetChunkSize(controller, chunk);
  if (stream !== writer.stream) {
    return promiseRejectedWith(new TypeErrorCtor("The writer's lock was released during write()."));
  }
  const state = stream.state;
  if (state === "errored") return promiseRejectedWith(stream.storedError);
  if (WritableStreamCloseQueuedOrInFlight(stream) || state === "closed") {
    return promiseRejectedWith(new TypeErrorCtor("The stream is closing or closed; cannot write to it."));
  }
  if (state === "erroring") return promiseRejectedWith(stream.storedError);
  const promise = WritableStreamAddWriteRequest(stream);
  WritableStreamDefaultControllerWrite(controller, chunk, chunkSize);
  return promise;
}

// ---------------------------------------------------------------------------------------------
// Default controllers (§5.5.4)
// ---------------------------------------------------------------------------------------------

/** SetUpWritableStreamDefaultController(stream, controller, start, write, close, abort, hwm, size) */
function SetUpWritableStreamDefaultController(
  stream, controller, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm,
  highWaterMark, sizeAlgorithm,
) {
  controller.stream = stream;
  stream.controller = controller;
  ResetQueue(controller);
  controller.signal = undefined;
  controller.started = false;
  controller.strategySizeAlgorithm = sizeAlgorithm;
  controller.strategyHWM = highWaterMark;
  controller.writeAlgorithm = writeAlgorithm;
  controller.closeAlgorithm = closeAlgorithm;
  controller.abortAlgorithm = abortAlgorithm;
  const backpressure = WritableStreamDefaultControllerGetBackpressure(controller);
  WritableStreamUpdateBackpressure(stream, backpressure);
  const startResult = startAlgorithm();
  const startPromise = promiseFromCallbackResult(startResult);
  uponPromise(
    startPromise,
    () => {
      controller.started = true;
      WritableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
    },
    (r) => {
      controller.started = true;
      WritableStreamDealWithRejection(stream, r);
    },
  );
}

/** The public WritableStreamDefaultController for a controller record, made on first use. */
function controllerObject(controller) {
  return controllerSlot.publicObject(controller, WritableStreamDefaultController);
}

/** SetUpWritableStreamDefaultControllerFromUnderlyingSink(stream, sink, dict, hwm, size) */
function SetUpWritableStreamDefaultControllerFromUnderlyingSink(
  stream, underlyingSink, underlyingSinkDict, highWaterMark, sizeAlgorithm,
) {
  const controller = new WritableStreamDefaultControllerSlots();
  const object = controllerObject(controller);
  const { start, write, close, abort } = underlyingSinkDict;
  const startAlgorithm = start === undefined
    ? returnUndefined
    : () => invokeCallback(start, underlyingSink, [object]);
  const writeAlgorithm = write === undefined
    ? () => resolvedUndefined
    : (chunk) => {
      try {
        return promiseFromCallbackResult(FunctionPrototypeCall(write, underlyingSink, chunk, object));
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
  const closeAlgorithm = close === undefined
    ? () => resolvedUndefined
    : () => {
      try {
        return promiseFromCallbackResult(FunctionPrototypeCall(close, underlyingSink));
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
  const abortAlgorithm = abort === undefined
    ? () => resolvedUndefined
    : (reason) => {
      try {
        return promiseFromCallbackResult(FunctionPrototypeCall(abort, underlyingSink, reason));
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
  SetUpWritableStreamDefaultController(
    stream, controller, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm,
    highWaterMark, sizeAlgorithm,
  );
}

/** WritableStreamDefaultControllerAdvanceQueueIfNeeded(controller) */
function WritableStreamDefaultControllerAdvanceQueueIfNeeded(controller) {
  const stream = controller.stream;
  if (!controller.started) return;
  if (stream.inFlightWriteRequest !== undefined) return;
  const state = stream.state;
  if (state === "erroring") {
    WritableStreamFinishErroring(stream);
    return;
  }
  if (controller.queue.length === 0) return;
  const value = PeekQueueValue(controller);
  if (value === closeSentinel) {
    WritableStreamDefaultControllerProcessClose(controller);
  } else {
    WritableStreamDefaultControllerProcessWrite(controller, value);
  }
}

/** WritableStreamDefaultControllerClearAlgorithms(controller) */
function WritableStreamDefaultControllerClearAlgorithms(controller) {
  controller.writeAlgorithm = undefined;
  controller.closeAlgorithm = undefined;
  controller.abortAlgorithm = undefined;
  controller.strategySizeAlgorithm = undefined;
}

/** WritableStreamDefaultControllerClose(controller) */
function WritableStreamDefaultControllerClose(controller) {
  EnqueueValueWithSize(controller, closeSentinel, 0);
  WritableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
}

/** WritableStreamDefaultControllerError(controller, error) */
function WritableStreamDefaultControllerError(controller, error) {
  const stream = controller.stream;
  WritableStreamDefaultControllerClearAlgorithms(controller);
  WritableStreamStartErroring(stream, error);
}

/** WritableStreamDefaultControllerErrorIfNeeded(controller, error) */
function WritableStreamDefaultControllerErrorIfNeeded(controller, error) {
  if (controller.stream.state === "writable") WritableStreamDefaultControllerError(controller, error);
}

/** WritableStreamDefaultControllerGetBackpressure(controller) */
function WritableStreamDefaultControllerGetBackpressure(controller) {
  const desiredSize = WritableStreamDefaultControllerGetDesiredSize(controller);
  return desiredSize <= 0;
}

/** WritableStreamDefaultControllerGetChunkSize(controller, chunk) */
function WritableStreamDefaultControllerGetChunkSize(controller, chunk) {
  if (controller.strategySizeAlgorithm === undefined) return 1;
  try {
    return controller.strategySizeAlgorithm(chunk);
  } catch (e) {
    WritableStreamDefaultControllerErrorIfNeeded(controller, e);
    return 1;
  }
}

/** WritableStreamDefaultControllerGetDesiredSize(controller) */
function WritableStreamDefaultControllerGetDesiredSize(controller) {
  return controller.strategyHWM - controller.queueTotalSize;
}

/** WritableStreamDefaultControllerProcessClose(controller) */
function WritableStreamDefaultControllerProcessClose(controller) {
  const stream = controller.stream;
  WritableStreamMarkCloseRequestInFlight(stream);
  DequeueValue(controller);
  const sinkClosePromise = controller.closeAlgorithm();
  WritableStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    sinkClosePromise,
    () => {
      WritableStreamFinishInFlightClose(stream);
    },
    (reason) => {
      WritableStreamFinishInFlightCloseWithError(stream, reason);
    },
  );
}

/** WritableStreamDefaultControllerProcessWrite(controller, chunk) */
function WritableStreamDefaultControllerProcessWrite(controller, chunk) {
  const stream = controller.stream;
  WritableStreamMarkFirstWriteRequestInFlight(stream);
  const sinkWritePromise = controller.writeAlgorithm(chunk);
  uponPromise(
    sinkWritePromise,
    () => {
      WritableStreamFinishInFlightWrite(stream);
      const state = stream.state;
      DequeueValue(controller);
      if (!WritableStreamCloseQueuedOrInFlight(stream) && state === "writable") {
        const backpressure = WritableStreamDefaultControllerGetBackpressure(controller);
        WritableStreamUpdateBackpressure(stream, backpressure);
      }
      WritableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
    },
    (reason) => {
      if (stream.state === "writable") WritableStreamDefaultControllerClearAlgorithms(controller);
      WritableStreamFinishInFlightWriteWithError(stream, reason);
    },
  );
}

/** WritableStreamDefaultControllerWrite(controller, chunk, chunkSize) */
function WritableStreamDefaultControllerWrite(controller, chunk, chunkSize) {
  try {
    EnqueueValueWithSize(controller, chunk, chunkSize);
  } catch (e) {
    WritableStreamDefaultControllerErrorIfNeeded(controller, e);
    return;
  }
  const stream = controller.stream;
  if (!WritableStreamCloseQueuedOrInFlight(stream) && stream.state === "writable") {
    const backpressure = WritableStreamDefaultControllerGetBackpressure(controller);
    WritableStreamUpdateBackpressure(stream, backpressure);
  }
  WritableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
}

// ---------------------------------------------------------------------------------------------
// The WritableStream class (§5.2)
// ---------------------------------------------------------------------------------------------

const convertUnderlyingSink = impl.createDictionaryConverter("UnderlyingSink", [
  { key: "abort", converter: callbackConverter },
  { key: "close", converter: callbackConverter },
  { key: "start", converter: callbackConverter },
  { key: "type", converter: (v) => v },
  { key: "write", converter: callbackConverter },
]);

const thisWritableStream = writableStreamSlot.of;

class WritableStream {
  constructor(underlyingSink = undefined, strategy = undefined) {
    const prefix = "Failed to construct 'WritableStream'";
    if (underlyingSink !== undefined) {
      underlyingSink = webidl.converters.object(underlyingSink, prefix, "Argument 1");
    } else {
      underlyingSink = null;
    }
    const strategyDict = convertQueuingStrategy(strategy, prefix, "Argument 2");
    const underlyingSinkDict = convertUnderlyingSink(underlyingSink, prefix, "Argument 1");
    if (underlyingSinkDict.type !== undefined) {
      throw new RangeErrorCtor(`${prefix}: Invalid type is specified.`);
    }
    const stream = new WritableStreamSlots();
    InitializeWritableStream(stream, this);
    const sizeAlgorithm = ExtractSizeAlgorithm(strategyDict);
    const highWaterMark = ExtractHighWaterMark(strategyDict, 1);
    SetUpWritableStreamDefaultControllerFromUnderlyingSink(
      stream, underlyingSink, underlyingSinkDict, highWaterMark, sizeAlgorithm,
    );
  }

  get locked() {
    return IsWritableStreamLocked(thisWritableStream(this, "locked"));
  }

  abort(reason = undefined) {
    let stream;
    try {
      stream = thisWritableStream(this, "abort");
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (IsWritableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeErrorCtor("Cannot abort a stream that is locked to a writer."));
    }
    return WritableStreamAbort(stream, reason);
  }

  close() {
    let stream;
    try {
      stream = thisWritableStream(this, "close");
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (IsWritableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeErrorCtor("Cannot close a stream that is locked to a writer."));
    }
    if (WritableStreamCloseQueuedOrInFlight(stream)) {
      return promiseRejectedWith(new TypeErrorCtor("The stream is already closing."));
    }
    return WritableStreamClose(stream);
  }

  getWriter() {
    return writerObject(AcquireWritableStreamDefaultWriter(thisWritableStream(this, "getWriter")));
  }
}
webidl.configureInterface(WritableStream);

// ---------------------------------------------------------------------------------------------
// WritableStreamDefaultWriter (§5.3)
// ---------------------------------------------------------------------------------------------

function writerObject(writer) {
  return writerSlot.publicObject(writer, WritableStreamDefaultWriter);
}

const writerOf = writerSlot.of;

function releasedWriterError(member) {
  return new TypeErrorCtor(`Cannot ${member}: the writer's lock on the stream was released.`);
}

class WritableStreamDefaultWriter {
  constructor(stream) {
    const prefix = "Failed to construct 'WritableStreamDefaultWriter'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const streamRecord = writableStreamSlot.get(stream);
    if (streamRecord === undefined) {
      throw new TypeErrorCtor(`${prefix}: parameter 1 is not of type 'WritableStream'.`);
    }
    const writer = new WritableStreamDefaultWriterSlots();
    writerSlot.attach(this, writer);
    writer.object = this;
    SetUpWritableStreamDefaultWriter(writer, streamRecord);
  }

  get closed() {
    const writer = writerSlot.get(this);
    if (writer === undefined) {
      return promiseRejectedWith(illegalInvocation("WritableStreamDefaultWriter", "closed"));
    }
    return writer.closedPromise.promise;
  }

  get desiredSize() {
    const writer = writerOf(this, "desiredSize");
    if (writer.stream === undefined) throw releasedWriterError("get desiredSize");
    return WritableStreamDefaultWriterGetDesiredSize(writer);
  }

  get ready() {
    const writer = writerSlot.get(this);
    if (writer === undefined) {
      return promiseRejectedWith(illegalInvocation("WritableStreamDefaultWriter", "ready"));
    }
    return writer.readyPromise.promise;
  }

  abort(reason = undefined) {
    const writer = writerSlot.get(this);
    if (writer === undefined) {
      return promiseRejectedWith(illegalInvocation("WritableStreamDefaultWriter", "abort"));
    }
    if (writer.stream === undefined) return promiseRejectedWith(releasedWriterError("abort"));
    return WritableStreamDefaultWriterAbort(writer, reason);
  }

  close() {
    const writer = writerSlot.get(this);
    if (writer === undefined) {
      return promiseRejectedWith(illegalInvocation("WritableStreamDefaultWriter", "close"));
    }
    const stream = writer.stream;
    if (stream === undefined) return promiseRejectedWith(releasedWriterError("close"));
    if (WritableStreamCloseQueuedOrInFlight(stream)) {
      return promiseRejectedWith(new TypeErrorCtor("The stream is already closing."));
    }
    return WritableStreamDefaultWriterClose(writer);
  }

  releaseLock() {
    const writer = writerOf(this, "releaseLock");
    if (writer.stream === undefined) return;
    WritableStreamDefaultWriterRelease(writer);
  }

  write(chunk = undefined) {
    const writer = writerSlot.get(this);
    if (writer === undefined) {
      return promiseRejectedWith(illegalInvocation("WritableStreamDefaultWriter", "write"));
    }
    if (writer.stream === undefined) return promiseRejectedWith(releasedWriterError("write"));
    return WritableStreamDefaultWriterWrite(writer, chunk);
  }
}
webidl.configureInterface(WritableStreamDefaultWriter);

// ---------------------------------------------------------------------------------------------
// WritableStreamDefaultController (§5.4)
// ---------------------------------------------------------------------------------------------

const controllerOf = controllerSlot.of;

class WritableStreamDefaultController {
  constructor() {
    webidl.illegalConstructor();
  }

  get signal() {
    return controllerSignal(controllerOf(this, "signal"));
  }

  error(e = undefined) {
    const controller = controllerOf(this, "error");
    const state = controller.stream.state;
    if (state !== "writable") return;
    WritableStreamDefaultControllerError(controller, e);
  }
}
webidl.configureInterface(WritableStreamDefaultController);

internals.exposeGlobals({ WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController });

// ---------------------------------------------------------------------------------------------
// ReadableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal)
// ---------------------------------------------------------------------------------------------
//
// Reads with a default reader (the user agent's choice for byte streams too), waits for the
// writer's ready promise before each read (backpressure), and never waits for a write to
// finish before the next read. Shutdown follows the standard's "shutdown with an action",
// "shutdown" and "finalize".

function ReadableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
  const reader = AcquireReadableStreamDefaultReader(source);
  const writer = AcquireWritableStreamDefaultWriter(dest);
  source.disturbed = true;
  let shuttingDown = false;
  // The last write's promise (its rejection ignored): shutdown waits for writes to settle.
  let currentWrite = resolvedUndefined;
  const promise = newPromise();
  let abortHandle;

  function abortAlgorithm() {
    const error = abortApi.getReason(signal);
    const actions = [];
    if (!preventAbort) {
      ArrayPrototypePush(actions, () => {
        if (dest.state === "writable") return WritableStreamAbort(dest, error);
        return promiseResolvedWith(undefined);
      });
    }
    if (!preventCancel) {
      ArrayPrototypePush(actions, () => {
        if (source.state === "readable") return ReadableStreamCancel(source, error);
        return promiseResolvedWith(undefined);
      });
    }
    shutdownWithAnAction(() => {
      const promises = [];
      for (let i = 0; i < actions.length; i++) ArrayPrototypePush(promises, actions[i]());
      return waitForAll(promises);
    }, true, error);
  }

  if (signal !== undefined) {
    if (abortApi.isAborted(signal)) {
      abortAlgorithm();
      return promise.promise;
    }
    abortHandle = abortApi.addAlgorithm(signal, abortAlgorithm);
  }

  // One step of the loop: wait for the writer to be ready, read a chunk, start writing it.
  // Resolves with true when reading is over (shutdown or the source closed).
  const readRequest = {
    resolveRead: undefined,
    rejectRead: undefined,
    chunkSteps(chunk) {
      currentWrite = transformPromiseWith(
        WritableStreamDefaultWriterWrite(writer, chunk), undefined, impl.noop,
      );
      this.resolveRead(false);
    },
    closeSteps() {
      this.resolveRead(true);
    },
    errorSteps(e) {
      this.rejectRead(e);
    },
  };

  function readOne() {
    const d = primordials.PromiseWithResolvers();
    readRequest.resolveRead = d.resolve;
    readRequest.rejectRead = d.reject;
    ReadableStreamDefaultReaderRead(reader, readRequest);
    return d.promise;
  }

  function pipeStep() {
    if (shuttingDown) return promiseResolvedWith(true);
    return transformPromiseWith(writer.readyPromise.promise, readOne);
  }

  function pipeLoop() {
    const loop = primordials.PromiseWithResolvers();
    function next(done) {
      if (done) loop.resolve();
      else uponPromise(pipeStep(), next, loop.reject);
    }
    next(false);
    return loop.promise;
  }

  function isOrBecomesErrored(stream, closedPromise, action) {
    if (stream.state === "errored") action(stream.storedError);
    else uponRejection(closedPromise, action);
  }

  function isOrBecomesClosed(stream, closedPromise, action) {
    if (stream.state === "closed") action();
    else uponFulfillment(closedPromise, action);
  }

  function waitForWritesToFinish() {
    // Another write may start while we wait for this one; wait for that too.
    const oldCurrentWrite = currentWrite;
    return transformPromiseWith(
      currentWrite,
      () => (oldCurrentWrite !== currentWrite ? waitForWritesToFinish() : undefined),
    );
  }

  function shutdownWithAnAction(action, originalIsError, originalError) {
    if (shuttingDown) return;
    shuttingDown = true;
    const doTheRest = () => {
      uponPromise(
        action(),
        () => finalize(originalIsError, originalError),
        (newError) => finalize(true, newError),
      );
    };
    if (dest.state === "writable" && !WritableStreamCloseQueuedOrInFlight(dest)) {
      uponFulfillment(waitForWritesToFinish(), doTheRest);
    } else {
      doTheRest();
    }
  }

  function shutdown(isError, error) {
    if (shuttingDown) return;
    shuttingDown = true;
    if (dest.state === "writable" && !WritableStreamCloseQueuedOrInFlight(dest)) {
      uponFulfillment(waitForWritesToFinish(), () => finalize(isError, error));
    } else {
      finalize(isError, error);
    }
  }

  function finalize(isError, error) {
    WritableStreamDefaultWriterRelease(writer);
    ReadableStreamDefaultReaderRelease(reader);
    if (signal !== undefined) abortApi.removeAlgorithm(signal, abortHandle);
    if (isError) rejectPromise(promise, error);
    else resolvePromise(promise, undefined);
  }

  // Errors must be propagated forward.
  isOrBecomesErrored(source, reader.closedPromise.promise, (storedError) => {
    if (!preventAbort) {
      shutdownWithAnAction(() => WritableStreamAbort(dest, storedError), true, storedError);
    } else {
      shutdown(true, storedError);
    }
  });

  // Errors must be propagated backward.
  isOrBecomesErrored(dest, writer.closedPromise.promise, (storedError) => {
    if (!preventCancel) {
      shutdownWithAnAction(() => ReadableStreamCancel(source, storedError), true, storedError);
    } else {
      shutdown(true, storedError);
    }
  });

  // Closing must be propagated forward.
  isOrBecomesClosed(source, reader.closedPromise.promise, () => {
    if (!preventClose) {
      shutdownWithAnAction(() => WritableStreamDefaultWriterCloseWithErrorPropagation(writer));
    } else {
      shutdown();
    }
  });

  // Closing must be propagated backward.
  if (WritableStreamCloseQueuedOrInFlight(dest) || dest.state === "closed") {
    const destClosed = new TypeErrorCtor(
      "The destination writable stream closed before all data could be piped to it.",
    );
    if (!preventCancel) {
      shutdownWithAnAction(() => ReadableStreamCancel(source, destClosed), true, destClosed);
    } else {
      shutdown(true, destClosed);
    }
  }

  setPromiseIsHandled(pipeLoop());
  return promise.promise;
}

// ---------------------------------------------------------------------------------------------
// Shared with the other streams files, and hooks for other specifications
// ---------------------------------------------------------------------------------------------

Object.assign(impl, {
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,
  WritableStreamSlots,
  writableStreamSlot,
  writerObject,
  AcquireWritableStreamDefaultWriter,
  CreateWritableStream,
  InitializeWritableStream,
  IsWritableStreamLocked,
  SetUpWritableStreamDefaultWriter,
  WritableStreamAbort,
  WritableStreamClose,
  WritableStreamCloseQueuedOrInFlight,
  WritableStreamDefaultWriterCloseWithErrorPropagation,
  WritableStreamDefaultWriterGetDesiredSize,
  WritableStreamDefaultWriterRelease,
  WritableStreamDefaultWriterWrite,
  WritableStreamDefaultControllerErrorIfNeeded,
  WritableStreamDefaultControllerGetDesiredSize,
  SetUpWritableStreamDefaultController,
  WritableStreamDefaultControllerSlots,
  ReadableStreamPipeTo,
});

function writableOf(object) {
  const stream = writableStreamSlot.get(object);
  if (stream === undefined) throw new TypeErrorCtor("Not a WritableStream.");
  return stream;
}

Object.assign(internals.streams, {
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,

  /**
   * "Set up" a WritableStream. `write(chunk, controller)`, `close()` and `abort(reason)` may
   * return promises; `controller` is the stream's public controller.
   */
  createWritableStream({ write, close, abort, highWaterMark = 1, size } = {}) {
    const stream = new WritableStreamSlots();
    InitializeWritableStream(stream);
    const controller = new WritableStreamDefaultControllerSlots();
    const object = controllerObject(controller);
    const writeAlgorithm = write === undefined
      ? () => resolvedUndefined
      : (chunk) => promiseCall(write, chunk, object);
    const sizeAlgorithm = size === undefined ? sizeOne : (chunk) => size(chunk);
    SetUpWritableStreamDefaultController(
      stream, controller, returnUndefined, writeAlgorithm, wrapHookAlgorithm(close),
      wrapHookAlgorithm(abort), highWaterMark, sizeAlgorithm,
    );
    return stream.object;
  },

  isWritableStream(x) {
    return writableStreamSlot.get(x) !== undefined;
  },
  isWritableLocked(object) {
    return IsWritableStreamLocked(writableOf(object));
  },

  /** "Error a WritableStream" made with createWritableStream. */
  errorWritable(object, e) {
    WritableStreamDefaultControllerErrorIfNeeded(writableOf(object).controller, e);
  },

  /** "Piping": Promise<undefined>; the streams must not be locked. */
  pipeTo(source, dest, { preventClose = false, preventAbort = false, preventCancel = false, signal } = {}) {
    const sourceRecord = impl.streamSlot.get(source);
    const destRecord = writableOf(dest);
    if (sourceRecord === undefined) throw new TypeErrorCtor("Not a ReadableStream.");
    if (impl.IsReadableStreamLocked(sourceRecord) || IsWritableStreamLocked(destRecord)) {
      return promiseRejectedWith(new TypeErrorCtor("Cannot pipe a locked stream."));
    }
    return ReadableStreamPipeTo(
      sourceRecord, destRecord, !!preventClose, !!preventAbort, !!preventCancel, signal,
    );
  },
});
