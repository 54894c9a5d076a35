// Streams, part 3: readable byte streams - ReadableByteStreamController,
// ReadableStreamBYOBRequest and the tee of byte streams (Streams Standard §4.7, §4.8, §4.9.5).
//
// Records as in 11_readable_stream.js. A pull-into descriptor is a plain object with the
// spec's items: buffer, bufferByteLength, byteOffset, byteLength, bytesFilled, minimumFill,
// elementSize, viewConstructor, readerType ("default" | "byob" | "none"). A queue entry is
// { buffer, byteOffset, byteLength }.

const {
  ArrayBufferPrototypeGetByteLength,
  ArrayPrototypePush,
  MathMin,
  RangeError: RangeErrorCtor,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { webidl } = internals;
const impl = internals.streamsImpl;
const {
  Queue,
  ArrayBufferCtor,
  arrayBufferViewConverter,
  CanCopyDataBlockBytes,
  CloneArrayBuffer,
  CloneAsUint8Array,
  constructView,
  CopyDataBlockBytes,
  createPrivateSlot,
  enforceRangeUnsignedLongLong,
  IsDetachedBuffer,
  newPromise,
  ResetQueue,
  resolvedUndefined,
  resolvePromise,
  TransferArrayBuffer,
  uponFulfillment,
  uponPromise,
  uponRejection,
  viewBuffer,
  viewByteLength,
  viewByteOffset,
  viewConstructorAndElementSize,
  // From 11_readable_stream.js
  AcquireReadableStreamBYOBReader,
  AcquireReadableStreamDefaultReader,
  CreateReadableByteStream,
  ReadableStreamAddReadIntoRequest,
  ReadableStreamAddReadRequest,
  ReadableStreamBYOBReaderRead,
  ReadableStreamBYOBReaderRelease,
  ReadableStreamCancel,
  ReadableStreamClose,
  ReadableStreamDefaultReaderRead,
  ReadableStreamDefaultReaderRelease,
  ReadableStreamError,
  ReadableStreamFulfillReadIntoRequest,
  ReadableStreamFulfillReadRequest,
  ReadableStreamGetNumReadIntoRequests,
  ReadableStreamGetNumReadRequests,
  ReadableStreamHasBYOBReader,
  ReadableStreamHasDefaultReader,
  returnUndefined,
  sourceAlgorithms,
} = impl;

const byteControllerSlot = createPrivateSlot("ReadableByteStreamController");
const byobRequestSlot = createPrivateSlot("ReadableStreamBYOBRequest");

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

class ReadableByteStreamControllerSlots {
  stream = undefined;
  autoAllocateChunkSize = undefined;
  byobRequest = null; // a ReadableStreamBYOBRequest record, or null
  cancelAlgorithm = undefined;
  closeRequested = false;
  pullAgain = false;
  pullAlgorithm = undefined;
  pulling = false;
  pendingPullIntos = undefined; // Queues, made by SetUpReadableByteStreamController
  queue = undefined;
  queueTotalSize = 0;
  started = false;
  strategyHWM = 0;
  object = undefined;
  onPullFulfilled = () => {
    this.pulling = false;
    if (this.pullAgain) {
      this.pullAgain = false;
      ReadableByteStreamControllerCallPullIfNeeded(this);
    }
  };
  onPullRejected = (e) => {
    ReadableByteStreamControllerError(this, e);
  };

  /** [[CancelSteps]](reason) */
  cancelSteps(reason) {
    ReadableByteStreamControllerClearPendingPullIntos(this);
    ResetQueue(this);
    const result = this.cancelAlgorithm(reason);
    ReadableByteStreamControllerClearAlgorithms(this);
    return result;
  }

  /** [[PullSteps]](readRequest) */
  pullSteps(readRequest) {
    const stream = this.stream;
    if (this.queueTotalSize > 0) {
      ReadableByteStreamControllerFillReadRequestFromQueue(this, readRequest);
      return;
    }
    const autoAllocateChunkSize = this.autoAllocateChunkSize;
    if (autoAllocateChunkSize !== undefined) {
      let buffer;
      try {
        buffer = new ArrayBufferCtor(autoAllocateChunkSize);
      } catch (e) {
        readRequest.errorSteps(e);
        return;
      }
      const pullIntoDescriptor = {
        buffer,
        bufferByteLength: autoAllocateChunkSize,
        byteOffset: 0,
        byteLength: autoAllocateChunkSize,
        bytesFilled: 0,
        minimumFill: 1,
        elementSize: 1,
        viewConstructor: Uint8ArrayCtor,
        readerType: "default",
      };
      this.pendingPullIntos.push(pullIntoDescriptor);
    }
    ReadableStreamAddReadRequest(stream, readRequest);
    ReadableByteStreamControllerCallPullIfNeeded(this);
  }

  /** [[ReleaseSteps]]() */
  releaseSteps() {
    if (this.pendingPullIntos.length > 0) {
      const firstPendingPullInto = this.pendingPullIntos.peek();
      firstPendingPullInto.readerType = "none";
      this.pendingPullIntos.truncateToFirst();
    }
  }
}
ReadableByteStreamControllerSlots.prototype.isByteController = true;

class ReadableStreamBYOBRequestSlots {
  controller;
  view;
  object;

  constructor(controller, view) {
    this.controller = controller;
    this.view = view;
    this.object = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte stream controller abstract operations (§4.9.5)
// ---------------------------------------------------------------------------------------------

/** ReadableByteStreamControllerCallPullIfNeeded(controller) */
function ReadableByteStreamControllerCallPullIfNeeded(controller) {
  const shouldPull = ReadableByteStreamControllerShouldCallPull(controller);
  if (!shouldPull) return;
  if (controller.pulling) {
    controller.pullAgain = true;
    return;
  }
  controller.pulling = true;
  const pullPromise = controller.pullAlgorithm();
  uponPromise(pullPromise, controller.onPullFulfilled, controller.onPullRejected);
}

/** ReadableByteStreamControllerClearAlgorithms(controller) */
function ReadableByteStreamControllerClearAlgorithms(controller) {
  controller.pullAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
}

/** ReadableByteStreamControllerClearPendingPullIntos(controller) */
function ReadableByteStreamControllerClearPendingPullIntos(controller) {
  ReadableByteStreamControllerInvalidateBYOBRequest(controller);
  controller.pendingPullIntos = new Queue();
}

/** ReadableByteStreamControllerClose(controller) */
function ReadableByteStreamControllerClose(controller) {
  const stream = controller.stream;
  if (controller.closeRequested || stream.state !== "readable") return;
  if (controller.queueTotalSize > 0) {
    controller.closeRequested = true;
    return;
  }
  if (controller.pendingPullIntos.length > 0) {
    const firstPendingPullInto = controller.pendingPullIntos.peek();
    if (firstPendingPullInto.bytesFilled % firstPendingPullInto.elementSize !== 0) {
      const e = new TypeErrorCtor(
        "Cannot close a byte stream with a partially filled element in a pending read.",
      );
      ReadableByteStreamControllerError(controller, e);
      throw e;
    }
  }
  ReadableByteStreamControllerClearAlgorithms(controller);
  ReadableStreamClose(stream);
}

/** ReadableByteStreamControllerCommitPullIntoDescriptor(stream, pullIntoDescriptor) */
function ReadableByteStreamControllerCommitPullIntoDescriptor(stream, pullIntoDescriptor) {
  let done = false;
  if (stream.state === "closed") done = true;
  const filledView = ReadableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor);
  if (pullIntoDescriptor.readerType === "default") {
    ReadableStreamFulfillReadRequest(stream, filledView, done);
  } else {
    ReadableStreamFulfillReadIntoRequest(stream, filledView, done);
  }
}

/** ReadableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor) */
function ReadableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor) {
  const bytesFilled = pullIntoDescriptor.bytesFilled;
  const elementSize = pullIntoDescriptor.elementSize;
  const buffer = TransferArrayBuffer(pullIntoDescriptor.buffer);
  return constructView(
    pullIntoDescriptor.viewConstructor, buffer, pullIntoDescriptor.byteOffset,
    bytesFilled / elementSize,
  );
}

/** ReadableByteStreamControllerEnqueue(controller, chunk) */
function ReadableByteStreamControllerEnqueue(controller, chunk) {
  const stream = controller.stream;
  if (controller.closeRequested || stream.state !== "readable") return;
  const buffer = viewBuffer(chunk);
  const byteOffset = viewByteOffset(chunk);
  const byteLength = viewByteLength(chunk);
  if (IsDetachedBuffer(buffer)) {
    throw new TypeErrorCtor("The chunk's buffer is detached.");
  }
  const transferredBuffer = TransferArrayBuffer(buffer);
  if (controller.pendingPullIntos.length > 0) {
    const firstPendingPullInto = controller.pendingPullIntos.peek();
    if (IsDetachedBuffer(firstPendingPullInto.buffer)) {
      throw new TypeErrorCtor("The BYOB request's buffer has been detached.");
    }
    ReadableByteStreamControllerInvalidateBYOBRequest(controller);
    firstPendingPullInto.buffer = TransferArrayBuffer(firstPendingPullInto.buffer);
    if (firstPendingPullInto.readerType === "none") {
      ReadableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, firstPendingPullInto);
    }
  }
  if (ReadableStreamHasDefaultReader(stream)) {
    ReadableByteStreamControllerProcessReadRequestsUsingQueue(controller);
    if (ReadableStreamGetNumReadRequests(stream) === 0) {
      ReadableByteStreamControllerEnqueueChunkToQueue(
        controller, transferredBuffer, byteOffset, byteLength,
      );
    } else {
      if (controller.pendingPullIntos.length > 0) {
        ReadableByteStreamControllerShiftPendingPullInto(controller);
      }
      const transferredView = new Uint8ArrayCtor(transferredBuffer, byteOffset, byteLength);
      ReadableStreamFulfillReadRequest(stream, transferredView, false);
    }
  } else if (ReadableStreamHasBYOBReader(stream)) {
    ReadableByteStreamControllerEnqueueChunkToQueue(
      controller, transferredBuffer, byteOffset, byteLength,
    );
    const filledPullIntos = ReadableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
    for (let i = 0; i < filledPullIntos.length; i++) {
      ReadableByteStreamControllerCommitPullIntoDescriptor(stream, filledPullIntos[i]);
    }
  } else {
    ReadableByteStreamControllerEnqueueChunkToQueue(
      controller, transferredBuffer, byteOffset, byteLength,
    );
  }
  ReadableByteStreamControllerCallPullIfNeeded(controller);
}

/** ReadableByteStreamControllerEnqueueChunkToQueue(controller, buffer, byteOffset, byteLength) */
function ReadableByteStreamControllerEnqueueChunkToQueue(controller, buffer, byteOffset, byteLength) {
  controller.queue.push({ buffer, byteOffset, byteLength });
  controller.queueTotalSize += byteLength;
}

/** ReadableByteStreamControllerEnqueueClonedChunkToQueue(controller, buffer, byteOffset, byteLength) */
function ReadableByteStreamControllerEnqueueClonedChunkToQueue(controller, buffer, byteOffset, byteLength) {
  let cloneResult;
  try {
    cloneResult = CloneArrayBuffer(buffer, byteOffset, byteLength);
  } catch (e) {
    ReadableByteStreamControllerError(controller, e);
    throw e;
  }
  ReadableByteStreamControllerEnqueueChunkToQueue(controller, cloneResult, 0, byteLength);
}

/** ReadableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor) */
function ReadableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor) {
  if (pullIntoDescriptor.bytesFilled > 0) {
    ReadableByteStreamControllerEnqueueClonedChunkToQueue(
      controller, pullIntoDescriptor.buffer, pullIntoDescriptor.byteOffset,
      pullIntoDescriptor.bytesFilled,
    );
  }
  ReadableByteStreamControllerShiftPendingPullInto(controller);
}

/** ReadableByteStreamControllerError(controller, e) */
function ReadableByteStreamControllerError(controller, e) {
  const stream = controller.stream;
  if (stream.state !== "readable") return;
  ReadableByteStreamControllerClearPendingPullIntos(controller);
  ResetQueue(controller);
  ReadableByteStreamControllerClearAlgorithms(controller);
  ReadableStreamError(stream, e);
}

/** ReadableByteStreamControllerFillHeadPullIntoDescriptor(controller, size, pullIntoDescriptor) */
function ReadableByteStreamControllerFillHeadPullIntoDescriptor(controller, size, pullIntoDescriptor) {
  pullIntoDescriptor.bytesFilled += size;
}

/** ReadableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor) */
function ReadableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor) {
  const maxBytesToCopy = MathMin(
    controller.queueTotalSize, pullIntoDescriptor.byteLength - pullIntoDescriptor.bytesFilled,
  );
  const maxBytesFilled = pullIntoDescriptor.bytesFilled + maxBytesToCopy;
  let totalBytesToCopyRemaining = maxBytesToCopy;
  let ready = false;
  const remainderBytes = maxBytesFilled % pullIntoDescriptor.elementSize;
  const maxAlignedBytes = maxBytesFilled - remainderBytes;
  if (maxAlignedBytes >= pullIntoDescriptor.minimumFill) {
    totalBytesToCopyRemaining = maxAlignedBytes - pullIntoDescriptor.bytesFilled;
    ready = true;
  }
  const queue = controller.queue;
  while (totalBytesToCopyRemaining > 0) {
    const headOfQueue = queue.peek();
    const bytesToCopy = MathMin(totalBytesToCopyRemaining, headOfQueue.byteLength);
    const destStart = pullIntoDescriptor.byteOffset + pullIntoDescriptor.bytesFilled;
    const descriptorBuffer = pullIntoDescriptor.buffer;
    const queueBuffer = headOfQueue.buffer;
    const queueByteOffset = headOfQueue.byteOffset;
    if (!CanCopyDataBlockBytes(descriptorBuffer, destStart, queueBuffer, queueByteOffset, bytesToCopy)) {
      // The spec says to stop in an implementation-defined manner: error the stream.
      const e = new TypeErrorCtor("Internal error: invalid byte copy in a readable byte stream.");
      ReadableByteStreamControllerError(controller, e);
      throw e;
    }
    CopyDataBlockBytes(descriptorBuffer, destStart, queueBuffer, queueByteOffset, bytesToCopy);
    if (headOfQueue.byteLength === bytesToCopy) {
      queue.shift();
    } else {
      headOfQueue.byteOffset += bytesToCopy;
      headOfQueue.byteLength -= bytesToCopy;
    }
    controller.queueTotalSize -= bytesToCopy;
    ReadableByteStreamControllerFillHeadPullIntoDescriptor(controller, bytesToCopy, pullIntoDescriptor);
    totalBytesToCopyRemaining -= bytesToCopy;
  }
  return ready;
}

/** ReadableByteStreamControllerFillReadRequestFromQueue(controller, readRequest) */
function ReadableByteStreamControllerFillReadRequestFromQueue(controller, readRequest) {
  const entry = controller.queue.shift();
  controller.queueTotalSize -= entry.byteLength;
  ReadableByteStreamControllerHandleQueueDrain(controller);
  const view = new Uint8ArrayCtor(entry.buffer, entry.byteOffset, entry.byteLength);
  readRequest.chunkSteps(view);
}

/** ReadableByteStreamControllerGetBYOBRequest(controller) */
function ReadableByteStreamControllerGetBYOBRequest(controller) {
  if (controller.byobRequest === null && controller.pendingPullIntos.length > 0) {
    const firstDescriptor = controller.pendingPullIntos.peek();
    const view = new Uint8ArrayCtor(
      firstDescriptor.buffer,
      firstDescriptor.byteOffset + firstDescriptor.bytesFilled,
      firstDescriptor.byteLength - firstDescriptor.bytesFilled,
    );
    const byobRequest = new ReadableStreamBYOBRequestSlots(controller, view);
    byobRequestSlot.publicObject(byobRequest, ReadableStreamBYOBRequest);
    controller.byobRequest = byobRequest;
  }
  return controller.byobRequest;
}

/** ReadableByteStreamControllerGetDesiredSize(controller) */
function ReadableByteStreamControllerGetDesiredSize(controller) {
  const state = controller.stream.state;
  if (state === "errored") return null;
  if (state === "closed") return 0;
  return controller.strategyHWM - controller.queueTotalSize;
}

/** ReadableByteStreamControllerHandleQueueDrain(controller) */
function ReadableByteStreamControllerHandleQueueDrain(controller) {
  if (controller.queueTotalSize === 0 && controller.closeRequested) {
    ReadableByteStreamControllerClearAlgorithms(controller);
    ReadableStreamClose(controller.stream);
  } else {
    ReadableByteStreamControllerCallPullIfNeeded(controller);
  }
}

/** ReadableByteStreamControllerInvalidateBYOBRequest(controller) */
function ReadableByteStreamControllerInvalidateBYOBRequest(controller) {
  if (controller.byobRequest === null) return;
  controller.byobRequest.controller = undefined;
  controller.byobRequest.view = null;
  controller.byobRequest = null;
}

/** ReadableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller) */
function ReadableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller) {
  const filledPullIntos = [];
  while (controller.pendingPullIntos.length > 0) {
    if (controller.queueTotalSize === 0) break;
    const pullIntoDescriptor = controller.pendingPullIntos.peek();
    if (ReadableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor)) {
      ReadableByteStreamControllerShiftPendingPullInto(controller);
      ArrayPrototypePush(filledPullIntos, pullIntoDescriptor);
    }
  }
  return filledPullIntos;
}

/** ReadableByteStreamControllerProcessReadRequestsUsingQueue(controller) */
function ReadableByteStreamControllerProcessReadRequestsUsingQueue(controller) {
  const reader = controller.stream.reader;
  while (reader.readRequests.length > 0) {
    if (controller.queueTotalSize === 0) return;
    const readRequest = reader.readRequests.shift();
    ReadableByteStreamControllerFillReadRequestFromQueue(controller, readRequest);
  }
}

/** ReadableByteStreamControllerPullInto(controller, view, min, readIntoRequest) */
function ReadableByteStreamControllerPullInto(controller, view, min, readIntoRequest) {
  const stream = controller.stream;
  const [ctor, elementSize] = viewConstructorAndElementSize(view);
  const minimumFill = min * elementSize;
  const byteOffset = viewByteOffset(view);
  const byteLength = viewByteLength(view);
  let buffer;
  try {
    buffer = TransferArrayBuffer(viewBuffer(view));
  } catch (e) {
    readIntoRequest.errorSteps(e);
    return;
  }
  const pullIntoDescriptor = {
    buffer,
    bufferByteLength: ArrayBufferPrototypeGetByteLength(buffer),
    byteOffset,
    byteLength,
    bytesFilled: 0,
    minimumFill,
    elementSize,
    viewConstructor: ctor,
    readerType: "byob",
  };
  if (controller.pendingPullIntos.length > 0) {
    controller.pendingPullIntos.push(pullIntoDescriptor);
    ReadableStreamAddReadIntoRequest(stream, readIntoRequest);
    return;
  }
  if (stream.state === "closed") {
    const emptyView = constructView(ctor, pullIntoDescriptor.buffer, pullIntoDescriptor.byteOffset, 0);
    readIntoRequest.closeSteps(emptyView);
    return;
  }
  if (controller.queueTotalSize > 0) {
    if (ReadableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor)) {
      const filledView = ReadableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor);
      ReadableByteStreamControllerHandleQueueDrain(controller);
      readIntoRequest.chunkSteps(filledView);
      return;
    }
    if (controller.closeRequested) {
      const e = new TypeErrorCtor("Insufficient bytes to fill the view before the stream closed.");
      ReadableByteStreamControllerError(controller, e);
      readIntoRequest.errorSteps(e);
      return;
    }
  }
  controller.pendingPullIntos.push(pullIntoDescriptor);
  ReadableStreamAddReadIntoRequest(stream, readIntoRequest);
  ReadableByteStreamControllerCallPullIfNeeded(controller);
}

/** ReadableByteStreamControllerRespond(controller, bytesWritten) */
function ReadableByteStreamControllerRespond(controller, bytesWritten) {
  const firstDescriptor = controller.pendingPullIntos.peek();
  const state = controller.stream.state;
  if (state === "closed") {
    if (bytesWritten !== 0) {
      throw new TypeErrorCtor("bytesWritten must be 0 when calling respond() on a closed stream.");
    }
  } else {
    if (bytesWritten === 0) {
      throw new TypeErrorCtor("bytesWritten must be greater than 0 when calling respond() on a readable stream.");
    }
    if (firstDescriptor.bytesFilled + bytesWritten > firstDescriptor.byteLength) {
      throw new RangeErrorCtor("bytesWritten out of range: it exceeds the view's remaining length.");
    }
  }
  firstDescriptor.buffer = TransferArrayBuffer(firstDescriptor.buffer);
  ReadableByteStreamControllerRespondInternal(controller, bytesWritten);
}

/** ReadableByteStreamControllerRespondInClosedState(controller, firstDescriptor) */
function ReadableByteStreamControllerRespondInClosedState(controller, firstDescriptor) {
  if (firstDescriptor.readerType === "none") {
    ReadableByteStreamControllerShiftPendingPullInto(controller);
  }
  const stream = controller.stream;
  if (ReadableStreamHasBYOBReader(stream)) {
    const filledPullIntos = [];
    while (filledPullIntos.length < ReadableStreamGetNumReadIntoRequests(stream)) {
      const pullIntoDescriptor = ReadableByteStreamControllerShiftPendingPullInto(controller);
      ArrayPrototypePush(filledPullIntos, pullIntoDescriptor);
    }
    for (let i = 0; i < filledPullIntos.length; i++) {
      ReadableByteStreamControllerCommitPullIntoDescriptor(stream, filledPullIntos[i]);
    }
  }
}

/** ReadableByteStreamControllerRespondInReadableState(controller, bytesWritten, pullIntoDescriptor) */
function ReadableByteStreamControllerRespondInReadableState(controller, bytesWritten, pullIntoDescriptor) {
  ReadableByteStreamControllerFillHeadPullIntoDescriptor(controller, bytesWritten, pullIntoDescriptor);
  if (pullIntoDescriptor.readerType === "none") {
    ReadableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor);
    const filledPullIntos = ReadableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
    for (let i = 0; i < filledPullIntos.length; i++) {
      ReadableByteStreamControllerCommitPullIntoDescriptor(controller.stream, filledPullIntos[i]);
    }
    return;
  }
  if (pullIntoDescriptor.bytesFilled < pullIntoDescriptor.minimumFill) return;
  ReadableByteStreamControllerShiftPendingPullInto(controller);
  const remainderSize = pullIntoDescriptor.bytesFilled % pullIntoDescriptor.elementSize;
  if (remainderSize > 0) {
    const end = pullIntoDescriptor.byteOffset + pullIntoDescriptor.bytesFilled;
    ReadableByteStreamControllerEnqueueClonedChunkToQueue(
      controller, pullIntoDescriptor.buffer, end - remainderSize, remainderSize,
    );
  }
  pullIntoDescriptor.bytesFilled -= remainderSize;
  const filledPullIntos = ReadableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
  ReadableByteStreamControllerCommitPullIntoDescriptor(controller.stream, pullIntoDescriptor);
  for (let i = 0; i < filledPullIntos.length; i++) {
    ReadableByteStreamControllerCommitPullIntoDescriptor(controller.stream, filledPullIntos[i]);
  }
}

/** ReadableByteStreamControllerRespondInternal(controller, bytesWritten) */
function ReadableByteStreamControllerRespondInternal(controller, bytesWritten) {
  const firstDescriptor = controller.pendingPullIntos.peek();
  ReadableByteStreamControllerInvalidateBYOBRequest(controller);
  const state = controller.stream.state;
  if (state === "closed") {
    ReadableByteStreamControllerRespondInClosedState(controller, firstDescriptor);
  } else {
    ReadableByteStreamControllerRespondInReadableState(controller, bytesWritten, firstDescriptor);
  }
  ReadableByteStreamControllerCallPullIfNeeded(controller);
}

/** ReadableByteStreamControllerRespondWithNewView(controller, view) */
function ReadableByteStreamControllerRespondWithNewView(controller, view) {
  const firstDescriptor = controller.pendingPullIntos.peek();
  const state = controller.stream.state;
  const viewLength = viewByteLength(view);
  if (state === "closed") {
    if (viewLength !== 0) {
      throw new TypeErrorCtor("The view's length must be 0 when calling respondWithNewView() on a closed stream.");
    }
  } else if (viewLength === 0) {
    throw new TypeErrorCtor("The view's length must be greater than 0 when calling respondWithNewView() on a readable stream.");
  }
  if (firstDescriptor.byteOffset + firstDescriptor.bytesFilled !== viewByteOffset(view)) {
    throw new RangeErrorCtor("The region specified by view does not match byobRequest.");
  }
  if (firstDescriptor.bufferByteLength !== ArrayBufferPrototypeGetByteLength(viewBuffer(view))) {
    throw new RangeErrorCtor("The buffer of view has different capacity than byobRequest.");
  }
  if (firstDescriptor.bytesFilled + viewLength > firstDescriptor.byteLength) {
    throw new RangeErrorCtor("The region specified by view is larger than byobRequest.");
  }
  const viewByteLengthValue = viewLength;
  firstDescriptor.buffer = TransferArrayBuffer(viewBuffer(view));
  ReadableByteStreamControllerRespondInternal(controller, viewByteLengthValue);
}

/** ReadableByteStreamControllerShiftPendingPullInto(controller) */
function ReadableByteStreamControllerShiftPendingPullInto(controller) {
  return controller.pendingPullIntos.shift();
}

/** ReadableByteStreamControllerShouldCallPull(controller) */
function ReadableByteStreamControllerShouldCallPull(controller) {
  const stream = controller.stream;
  if (stream.state !== "readable") return false;
  if (controller.closeRequested) return false;
  if (!controller.started) return false;
  if (ReadableStreamHasDefaultReader(stream) && ReadableStreamGetNumReadRequests(stream) > 0) {
    return true;
  }
  if (ReadableStreamHasBYOBReader(stream) && ReadableStreamGetNumReadIntoRequests(stream) > 0) {
    return true;
  }
  const desiredSize = ReadableByteStreamControllerGetDesiredSize(controller);
  return desiredSize > 0;
}

/** SetUpReadableByteStreamController(stream, controller, start, pull, cancel, hwm, autoAllocateChunkSize) */
function SetUpReadableByteStreamController(
  stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark,
  autoAllocateChunkSize,
) {
  controller.stream = stream;
  controller.pullAgain = false;
  controller.pulling = false;
  controller.byobRequest = null;
  ResetQueue(controller);
  controller.closeRequested = false;
  controller.started = false;
  controller.strategyHWM = highWaterMark;
  controller.pullAlgorithm = pullAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
  controller.autoAllocateChunkSize = autoAllocateChunkSize;
  controller.pendingPullIntos = new Queue();
  stream.controller = controller;
  const startResult = startAlgorithm();
  const startPromise = impl.promiseFromCallbackResult(startResult);
  uponPromise(
    startPromise,
    () => {
      controller.started = true;
      ReadableByteStreamControllerCallPullIfNeeded(controller);
    },
    (r) => {
      ReadableByteStreamControllerError(controller, r);
    },
  );
}

/** The public ReadableByteStreamController for a controller record, made on first use. */
function byteControllerObject(controller) {
  return byteControllerSlot.publicObject(controller, ReadableByteStreamController);
}

/** SetUpReadableByteStreamControllerFromUnderlyingSource(stream, source, dict, hwm) */
function SetUpReadableByteStreamControllerFromUnderlyingSource(
  stream, underlyingSource, underlyingSourceDict, highWaterMark,
) {
  const controller = new ReadableByteStreamControllerSlots();
  const object = byteControllerObject(controller);
  const { startAlgorithm, pullAlgorithm, cancelAlgorithm } = sourceAlgorithms(
    underlyingSource, underlyingSourceDict, object,
  );
  const autoAllocateChunkSize = underlyingSourceDict.autoAllocateChunkSize;
  if (autoAllocateChunkSize === 0) {
    throw new TypeErrorCtor("autoAllocateChunkSize must be greater than 0.");
  }
  SetUpReadableByteStreamController(
    stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark,
    autoAllocateChunkSize,
  );
}

// ---------------------------------------------------------------------------------------------
// ReadableByteStreamTee(stream) (§4.9.1)
// ---------------------------------------------------------------------------------------------

function ReadableByteStreamTee(stream) {
  let reader = AcquireReadableStreamDefaultReader(stream);
  let reading = false;
  let readAgainForBranch1 = false;
  let readAgainForBranch2 = false;
  let canceled1 = false;
  let canceled2 = false;
  let reason1;
  let reason2;
  let branch1;
  let branch2;
  const cancelPromise = newPromise();

  function forwardReaderError(thisReader) {
    uponRejection(thisReader.closedPromise.promise, (r) => {
      if (thisReader !== reader) return;
      ReadableByteStreamControllerError(branch1.controller, r);
      ReadableByteStreamControllerError(branch2.controller, r);
      if (!canceled1 || !canceled2) resolvePromise(cancelPromise, undefined);
    });
  }

  function pullWithDefaultReader() {
    if (reader.byob) {
      ReadableStreamBYOBReaderRelease(reader);
      reader = AcquireReadableStreamDefaultReader(stream);
      forwardReaderError(reader);
    }
    const readRequest = {
      chunkSteps(chunk) {
        uponFulfillment(resolvedUndefined, () => {
          readAgainForBranch1 = false;
          readAgainForBranch2 = false;
          const chunk1 = chunk;
          let chunk2 = chunk;
          if (!canceled1 && !canceled2) {
            try {
              chunk2 = CloneAsUint8Array(chunk);
            } catch (e) {
              ReadableByteStreamControllerError(branch1.controller, e);
              ReadableByteStreamControllerError(branch2.controller, e);
              resolvePromise(cancelPromise, ReadableStreamCancel(stream, e));
              return;
            }
          }
          if (!canceled1) ReadableByteStreamControllerEnqueue(branch1.controller, chunk1);
          if (!canceled2) ReadableByteStreamControllerEnqueue(branch2.controller, chunk2);
          reading = false;
          if (readAgainForBranch1) pull1Algorithm();
          else if (readAgainForBranch2) pull2Algorithm();
        });
      },
      closeSteps() {
        reading = false;
        if (!canceled1) ReadableByteStreamControllerClose(branch1.controller);
        if (!canceled2) ReadableByteStreamControllerClose(branch2.controller);
        if (branch1.controller.pendingPullIntos.length > 0) {
          ReadableByteStreamControllerRespond(branch1.controller, 0);
        }
        if (branch2.controller.pendingPullIntos.length > 0) {
          ReadableByteStreamControllerRespond(branch2.controller, 0);
        }
        if (!canceled1 || !canceled2) resolvePromise(cancelPromise, undefined);
      },
      errorSteps() {
        reading = false;
      },
    };
    ReadableStreamDefaultReaderRead(reader, readRequest);
  }

  function pullWithBYOBReader(view, forBranch2) {
    if (!reader.byob) {
      ReadableStreamDefaultReaderRelease(reader);
      reader = AcquireReadableStreamBYOBReader(stream);
      forwardReaderError(reader);
    }
    const byobBranch = forBranch2 ? branch2 : branch1;
    const otherBranch = forBranch2 ? branch1 : branch2;
    const readIntoRequest = {
      chunkSteps(chunk) {
        uponFulfillment(resolvedUndefined, () => {
          readAgainForBranch1 = false;
          readAgainForBranch2 = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!otherCanceled) {
            let clonedChunk;
            try {
              clonedChunk = CloneAsUint8Array(chunk);
            } catch (e) {
              ReadableByteStreamControllerError(byobBranch.controller, e);
              ReadableByteStreamControllerError(otherBranch.controller, e);
              resolvePromise(cancelPromise, ReadableStreamCancel(stream, e));
              return;
            }
            if (!byobCanceled) {
              ReadableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
            }
            ReadableByteStreamControllerEnqueue(otherBranch.controller, clonedChunk);
          } else if (!byobCanceled) {
            ReadableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
          }
          reading = false;
          if (readAgainForBranch1) pull1Algorithm();
          else if (readAgainForBranch2) pull2Algorithm();
        });
      },
      closeSteps(chunk) {
        reading = false;
        const byobCanceled = forBranch2 ? canceled2 : canceled1;
        const otherCanceled = forBranch2 ? canceled1 : canceled2;
        if (!byobCanceled) ReadableByteStreamControllerClose(byobBranch.controller);
        if (!otherCanceled) ReadableByteStreamControllerClose(otherBranch.controller);
        if (chunk !== undefined) {
          if (!byobCanceled) {
            ReadableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
          }
          if (!otherCanceled && otherBranch.controller.pendingPullIntos.length > 0) {
            ReadableByteStreamControllerRespond(otherBranch.controller, 0);
          }
        }
        if (!byobCanceled || !otherCanceled) resolvePromise(cancelPromise, undefined);
      },
      errorSteps() {
        reading = false;
      },
    };
    ReadableStreamBYOBReaderRead(reader, view, 1, readIntoRequest);
  }

  function pull1Algorithm() {
    if (reading) {
      readAgainForBranch1 = true;
      return resolvedUndefined;
    }
    reading = true;
    const byobRequest = ReadableByteStreamControllerGetBYOBRequest(branch1.controller);
    if (byobRequest === null) pullWithDefaultReader();
    else pullWithBYOBReader(byobRequest.view, false);
    return resolvedUndefined;
  }

  function pull2Algorithm() {
    if (reading) {
      readAgainForBranch2 = true;
      return resolvedUndefined;
    }
    reading = true;
    const byobRequest = ReadableByteStreamControllerGetBYOBRequest(branch2.controller);
    if (byobRequest === null) pullWithDefaultReader();
    else pullWithBYOBReader(byobRequest.view, true);
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

  branch1 = CreateReadableByteStream(returnUndefined, pull1Algorithm, cancel1Algorithm);
  branch2 = CreateReadableByteStream(returnUndefined, pull2Algorithm, cancel2Algorithm);
  forwardReaderError(reader);
  return [branch1, branch2];
}

// ---------------------------------------------------------------------------------------------
// ReadableByteStreamController (§4.7) and ReadableStreamBYOBRequest (§4.8)
// ---------------------------------------------------------------------------------------------

const byteControllerOf = byteControllerSlot.of;

class ReadableByteStreamController {
  constructor() {
    webidl.illegalConstructor();
  }

  get byobRequest() {
    const byobRequest = ReadableByteStreamControllerGetBYOBRequest(
      byteControllerOf(this, "byobRequest"),
    );
    return byobRequest === null ? null : byobRequest.object;
  }

  get desiredSize() {
    return ReadableByteStreamControllerGetDesiredSize(byteControllerOf(this, "desiredSize"));
  }

  close() {
    const controller = byteControllerOf(this, "close");
    if (controller.closeRequested) {
      throw new TypeErrorCtor("The stream has already been closed; cannot close it again.");
    }
    if (controller.stream.state !== "readable") {
      throw new TypeErrorCtor("The stream is not readable; cannot close it.");
    }
    ReadableByteStreamControllerClose(controller);
  }

  enqueue(chunk) {
    const controller = byteControllerOf(this, "enqueue");
    const prefix = "Failed to execute 'enqueue' on 'ReadableByteStreamController'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    chunk = arrayBufferViewConverter(chunk, prefix, "Argument 1");
    if (viewByteLength(chunk) === 0) {
      throw new TypeErrorCtor(`${prefix}: The chunk's byte length is 0.`);
    }
    if (ArrayBufferPrototypeGetByteLength(viewBuffer(chunk)) === 0) {
      throw new TypeErrorCtor(`${prefix}: The chunk's buffer has a byte length of 0.`);
    }
    if (controller.closeRequested) {
      throw new TypeErrorCtor(`${prefix}: The stream is closing or closed.`);
    }
    if (controller.stream.state !== "readable") {
      throw new TypeErrorCtor(`${prefix}: The stream is not readable.`);
    }
    ReadableByteStreamControllerEnqueue(controller, chunk);
  }

  error(e = undefined) {
    ReadableByteStreamControllerError(byteControllerOf(this, "error"), e);
  }
}
webidl.configureInterface(ReadableByteStreamController);

const byobRequestOf = byobRequestSlot.of;

class ReadableStreamBYOBRequest {
  constructor() {
    webidl.illegalConstructor();
  }

  get view() {
    return byobRequestOf(this, "view").view;
  }

  respond(bytesWritten) {
    const byobRequest = byobRequestOf(this, "respond");
    const prefix = "Failed to execute 'respond' on 'ReadableStreamBYOBRequest'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    bytesWritten = enforceRangeUnsignedLongLong(bytesWritten, prefix, "Argument 1");
    if (byobRequest.controller === undefined) {
      throw new TypeErrorCtor(`${prefix}: This BYOB request has been invalidated.`);
    }
    if (IsDetachedBuffer(viewBuffer(byobRequest.view))) {
      throw new TypeErrorCtor(`${prefix}: The BYOB request's buffer has been detached.`);
    }
    ReadableByteStreamControllerRespond(byobRequest.controller, bytesWritten);
  }

  respondWithNewView(view) {
    const byobRequest = byobRequestOf(this, "respondWithNewView");
    const prefix = "Failed to execute 'respondWithNewView' on 'ReadableStreamBYOBRequest'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    view = arrayBufferViewConverter(view, prefix, "Argument 1");
    if (byobRequest.controller === undefined) {
      throw new TypeErrorCtor(`${prefix}: This BYOB request has been invalidated.`);
    }
    if (IsDetachedBuffer(viewBuffer(view))) {
      throw new TypeErrorCtor(`${prefix}: The view's buffer has been detached.`);
    }
    ReadableByteStreamControllerRespondWithNewView(byobRequest.controller, view);
  }
}
webidl.configureInterface(ReadableStreamBYOBRequest);

internals.exposeGlobals({ ReadableByteStreamController, ReadableStreamBYOBRequest });

Object.assign(impl, {
  ReadableByteStreamController,
  ReadableStreamBYOBRequest,
  ReadableByteStreamControllerSlots,
  byteControllerObject,
  ReadableByteStreamControllerCallPullIfNeeded,
  ReadableByteStreamControllerClearAlgorithms,
  ReadableByteStreamControllerClearPendingPullIntos,
  ReadableByteStreamControllerClose,
  ReadableByteStreamControllerCommitPullIntoDescriptor,
  ReadableByteStreamControllerConvertPullIntoDescriptor,
  ReadableByteStreamControllerEnqueue,
  ReadableByteStreamControllerError,
  ReadableByteStreamControllerFillPullIntoDescriptorFromQueue,
  ReadableByteStreamControllerGetBYOBRequest,
  ReadableByteStreamControllerGetDesiredSize,
  ReadableByteStreamControllerHandleQueueDrain,
  ReadableByteStreamControllerInvalidateBYOBRequest,
  ReadableByteStreamControllerPullInto,
  ReadableByteStreamControllerRespond,
  ReadableByteStreamControllerRespondWithNewView,
  ReadableByteStreamControllerShouldCallPull,
  SetUpReadableByteStreamController,
  SetUpReadableByteStreamControllerFromUnderlyingSource,
  ReadableByteStreamTee,
});

Object.assign(internals.streams, { ReadableByteStreamController, ReadableStreamBYOBRequest });

