// Streams, part 5: TransformStream and TransformStreamDefaultController (Streams Standard §6).
//
// Records as in 11_readable_stream.js: `stream` is a TransformStreamSlots whose `readable`
// and `writable` are the records of its two sides; `controller` a
// TransformStreamDefaultControllerSlots.

const {
  FunctionPrototypeCall,
  RangeError: RangeErrorCtor,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const impl = internals.streamsImpl;
const {
  callbackConverter,
  convertQueuingStrategy,
  createObject,
  createPrivateSlot,
  ExtractHighWaterMark,
  ExtractSizeAlgorithm,
  invokeCallback,
  newPromise,
  promiseCall,
  promiseFromCallbackResult,
  promiseRejectedWith,
  rejectPromise,
  resolvedUndefined,
  resolvePromise,
  sizeOne,
  transformPromiseWith,
  uponPromise,
  // From 11_readable_stream.js
  CreateReadableStream,
  ReadableStreamDefaultControllerCanCloseOrEnqueue,
  ReadableStreamDefaultControllerClose,
  ReadableStreamDefaultControllerEnqueue,
  ReadableStreamDefaultControllerError,
  ReadableStreamDefaultControllerGetDesiredSize,
  ReadableStreamDefaultControllerHasBackpressure,
  // From 13_writable_stream.js
  CreateWritableStream,
  WritableStreamDefaultControllerErrorIfNeeded,
} = impl;

const transformStreamSlot = createPrivateSlot("TransformStream");
const controllerSlot = createPrivateSlot("TransformStreamDefaultController");

class TransformStreamSlots {
  backpressure = undefined;
  backpressureChangePromise = undefined; // a deferred
  controller = undefined;
  readable = undefined;
  writable = undefined;
  object = undefined;
}

class TransformStreamDefaultControllerSlots {
  cancelAlgorithm = undefined;
  finishPromise = undefined; // a deferred, once flush or cancel has started
  flushAlgorithm = undefined;
  stream = undefined;
  transformAlgorithm = undefined;
  object = undefined;
}

// ---------------------------------------------------------------------------------------------
// Working with transform streams (§6.4.1)
// ---------------------------------------------------------------------------------------------

/** InitializeTransformStream(stream, startPromise, wHWM, wSize, rHWM, rSize) */
function InitializeTransformStream(
  stream, startPromise, writableHighWaterMark, writableSizeAlgorithm, readableHighWaterMark,
  readableSizeAlgorithm,
) {
  const startAlgorithm = () => startPromise;
  const writeAlgorithm = (chunk) => TransformStreamDefaultSinkWriteAlgorithm(stream, chunk);
  const abortAlgorithm = (reason) => TransformStreamDefaultSinkAbortAlgorithm(stream, reason);
  const closeAlgorithm = () => TransformStreamDefaultSinkCloseAlgorithm(stream);
  stream.writable = CreateWritableStream(
    startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, writableHighWaterMark,
    writableSizeAlgorithm,
  );
  const pullAlgorithm = () => TransformStreamDefaultSourcePullAlgorithm(stream);
  const cancelAlgorithm = (reason) => TransformStreamDefaultSourceCancelAlgorithm(stream, reason);
  stream.readable = CreateReadableStream(
    startAlgorithm, pullAlgorithm, cancelAlgorithm, readableHighWaterMark, readableSizeAlgorithm,
  );
  stream.backpressure = undefined;
  stream.backpressureChangePromise = undefined;
  TransformStreamSetBackpressure(stream, true);
  stream.controller = undefined;
}

/** TransformStreamError(stream, e) */
function TransformStreamError(stream, e) {
  ReadableStreamDefaultControllerError(stream.readable.controller, e);
  TransformStreamErrorWritableAndUnblockWrite(stream, e);
}

/** TransformStreamErrorWritableAndUnblockWrite(stream, e) */
function TransformStreamErrorWritableAndUnblockWrite(stream, e) {
  TransformStreamDefaultControllerClearAlgorithms(stream.controller);
  WritableStreamDefaultControllerErrorIfNeeded(stream.writable.controller, e);
  TransformStreamUnblockWrite(stream);
}

/** TransformStreamSetBackpressure(stream, backpressure) */
function TransformStreamSetBackpressure(stream, backpressure) {
  if (stream.backpressureChangePromise !== undefined) {
    resolvePromise(stream.backpressureChangePromise, undefined);
  }
  stream.backpressureChangePromise = newPromise();
  stream.backpressure = backpressure;
}

/** TransformStreamUnblockWrite(stream) */
function TransformStreamUnblockWrite(stream) {
  if (stream.backpressure === true) TransformStreamSetBackpressure(stream, false);
}

// ---------------------------------------------------------------------------------------------
// Default controllers (§6.4.2)
// ---------------------------------------------------------------------------------------------

/** SetUpTransformStreamDefaultController(stream, controller, transform, flush, cancel) */
function SetUpTransformStreamDefaultController(
  stream, controller, transformAlgorithm, flushAlgorithm, cancelAlgorithm,
) {
  controller.stream = stream;
  stream.controller = controller;
  controller.transformAlgorithm = transformAlgorithm;
  controller.flushAlgorithm = flushAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
}

function controllerObject(controller) {
  return controllerSlot.publicObject(controller, TransformStreamDefaultController);
}

/** SetUpTransformStreamDefaultControllerFromTransformer(stream, transformer, transformerDict) */
function SetUpTransformStreamDefaultControllerFromTransformer(stream, transformer, transformerDict) {
  const controller = new TransformStreamDefaultControllerSlots();
  const object = controllerObject(controller);
  let transformAlgorithm = (chunk) => {
    try {
      TransformStreamDefaultControllerEnqueue(controller, chunk);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    return resolvedUndefined;
  };
  let flushAlgorithm = () => resolvedUndefined;
  let cancelAlgorithm = () => resolvedUndefined;
  const { transform, flush, cancel } = transformerDict;
  if (transform !== undefined) {
    transformAlgorithm = (chunk) => {
      try {
        return promiseFromCallbackResult(FunctionPrototypeCall(transform, transformer, chunk, object));
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
  }
  if (flush !== undefined) {
    flushAlgorithm = () => {
      try {
        return promiseFromCallbackResult(FunctionPrototypeCall(flush, transformer, object));
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
  }
  if (cancel !== undefined) {
    cancelAlgorithm = (reason) => {
      try {
        return promiseFromCallbackResult(FunctionPrototypeCall(cancel, transformer, reason));
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
  }
  SetUpTransformStreamDefaultController(
    stream, controller, transformAlgorithm, flushAlgorithm, cancelAlgorithm,
  );
}

/** TransformStreamDefaultControllerClearAlgorithms(controller) */
function TransformStreamDefaultControllerClearAlgorithms(controller) {
  controller.transformAlgorithm = undefined;
  controller.flushAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
}

/** TransformStreamDefaultControllerEnqueue(controller, chunk) */
function TransformStreamDefaultControllerEnqueue(controller, chunk) {
  const stream = controller.stream;
  const readableController = stream.readable.controller;
  if (!ReadableStreamDefaultControllerCanCloseOrEnqueue(readableController)) {
    throw new TypeErrorCtor("The readable side is not in a state that permits enqueue.");
  }
  try {
    ReadableStreamDefaultControllerEnqueue(readableController, chunk);
  } catch (e) {
    TransformStreamErrorWritableAndUnblockWrite(stream, e);
    throw stream.readable.storedError;
  }
  const backpressure = ReadableStreamDefaultControllerHasBackpressure(readableController);
  if (backpressure !== stream.backpressure) {
    TransformStreamSetBackpressure(stream, true);
  }
}

/** TransformStreamDefaultControllerError(controller, e) */
function TransformStreamDefaultControllerError(controller, e) {
  TransformStreamError(controller.stream, e);
}

/** TransformStreamDefaultControllerPerformTransform(controller, chunk) */
function TransformStreamDefaultControllerPerformTransform(controller, chunk) {
  const transformPromise = controller.transformAlgorithm(chunk);
  return transformPromiseWith(transformPromise, undefined, (r) => {
    TransformStreamError(controller.stream, r);
    throw r;
  });
}

/** TransformStreamDefaultControllerTerminate(controller) */
function TransformStreamDefaultControllerTerminate(controller) {
  const stream = controller.stream;
  const readableController = stream.readable.controller;
  ReadableStreamDefaultControllerClose(readableController);
  const error = new TypeErrorCtor("The transform stream has been terminated.");
  TransformStreamErrorWritableAndUnblockWrite(stream, error);
}

// ---------------------------------------------------------------------------------------------
// Default sinks (§6.4.3) and sources (§6.4.4)
// ---------------------------------------------------------------------------------------------

/** TransformStreamDefaultSinkWriteAlgorithm(stream, chunk) */
function TransformStreamDefaultSinkWriteAlgorithm(stream, chunk) {
  const controller = stream.controller;
  if (stream.backpressure === true) {
    const backpressureChangePromise = stream.backpressureChangePromise.promise;
    return transformPromiseWith(backpressureChangePromise, () => {
      const writable = stream.writable;
      const state = writable.state;
      if (state === "erroring") throw writable.storedError;
      return TransformStreamDefaultControllerPerformTransform(controller, chunk);
    });
  }
  return TransformStreamDefaultControllerPerformTransform(controller, chunk);
}

/** TransformStreamDefaultSinkAbortAlgorithm(stream, reason) */
function TransformStreamDefaultSinkAbortAlgorithm(stream, reason) {
  const controller = stream.controller;
  if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
  const readable = stream.readable;
  controller.finishPromise = newPromise();
  const cancelPromise = controller.cancelAlgorithm(reason);
  TransformStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    cancelPromise,
    () => {
      if (readable.state === "errored") {
        rejectPromise(controller.finishPromise, readable.storedError);
      } else {
        ReadableStreamDefaultControllerError(readable.controller, reason);
        resolvePromise(controller.finishPromise, undefined);
      }
    },
    (r) => {
      ReadableStreamDefaultControllerError(readable.controller, r);
      rejectPromise(controller.finishPromise, r);
    },
  );
  return controller.finishPromise.promise;
}

/** TransformStreamDefaultSinkCloseAlgorithm(stream) */
function TransformStreamDefaultSinkCloseAlgorithm(stream) {
  const controller = stream.controller;
  if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
  const readable = stream.readable;
  controller.finishPromise = newPromise();
  const flushPromise = controller.flushAlgorithm();
  TransformStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    flushPromise,
    () => {
      if (readable.state === "errored") {
        rejectPromise(controller.finishPromise, readable.storedError);
      } else {
        ReadableStreamDefaultControllerClose(readable.controller);
        resolvePromise(controller.finishPromise, undefined);
      }
    },
    (r) => {
      ReadableStreamDefaultControllerError(readable.controller, r);
      rejectPromise(controller.finishPromise, r);
    },
  );
  return controller.finishPromise.promise;
}

/** TransformStreamDefaultSourceCancelAlgorithm(stream, reason) */
function TransformStreamDefaultSourceCancelAlgorithm(stream, reason) {
  const controller = stream.controller;
  if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
  const writable = stream.writable;
  controller.finishPromise = newPromise();
  const cancelPromise = controller.cancelAlgorithm(reason);
  TransformStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    cancelPromise,
    () => {
      if (writable.state === "errored") {
        rejectPromise(controller.finishPromise, writable.storedError);
      } else {
        WritableStreamDefaultControllerErrorIfNeeded(writable.controller, reason);
        TransformStreamUnblockWrite(stream);
        resolvePromise(controller.finishPromise, undefined);
      }
    },
    (r) => {
      WritableStreamDefaultControllerErrorIfNeeded(writable.controller, r);
      TransformStreamUnblockWrite(stream);
      rejectPromise(controller.finishPromise, r);
    },
  );
  return controller.finishPromise.promise;
}

/** TransformStreamDefaultSourcePullAlgorithm(stream) */
function TransformStreamDefaultSourcePullAlgorithm(stream) {
  TransformStreamSetBackpressure(stream, false);
  return stream.backpressureChangePromise.promise;
}

// ---------------------------------------------------------------------------------------------
// The TransformStream class (§6.2) and TransformStreamDefaultController (§6.3)
// ---------------------------------------------------------------------------------------------

const convertTransformer = impl.createDictionaryConverter("Transformer", [
  { key: "cancel", converter: callbackConverter },
  { key: "flush", converter: callbackConverter },
  { key: "readableType", converter: (v) => v },
  { key: "start", converter: callbackConverter },
  { key: "transform", converter: callbackConverter },
  { key: "writableType", converter: (v) => v },
]);

const thisTransformStream = transformStreamSlot.of;

class TransformStream {
  constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
    const prefix = "Failed to construct 'TransformStream'";
    if (transformer !== undefined) {
      transformer = webidl.converters.object(transformer, prefix, "Argument 1");
    } else {
      transformer = null;
    }
    const writableStrategyDict = convertQueuingStrategy(writableStrategy, prefix, "Argument 2");
    const readableStrategyDict = convertQueuingStrategy(readableStrategy, prefix, "Argument 3");
    const transformerDict = convertTransformer(transformer, prefix, "Argument 1");
    if (transformerDict.readableType !== undefined) {
      throw new RangeErrorCtor(`${prefix}: Invalid readableType specified.`);
    }
    if (transformerDict.writableType !== undefined) {
      throw new RangeErrorCtor(`${prefix}: Invalid writableType specified.`);
    }
    const readableHighWaterMark = ExtractHighWaterMark(readableStrategyDict, 0);
    const readableSizeAlgorithm = ExtractSizeAlgorithm(readableStrategyDict);
    const writableHighWaterMark = ExtractHighWaterMark(writableStrategyDict, 1);
    const writableSizeAlgorithm = ExtractSizeAlgorithm(writableStrategyDict);
    const startPromise = newPromise();
    const stream = new TransformStreamSlots();
    transformStreamSlot.attach(this, stream);
    stream.object = this;
    InitializeTransformStream(
      stream, startPromise.promise, writableHighWaterMark, writableSizeAlgorithm,
      readableHighWaterMark, readableSizeAlgorithm,
    );
    SetUpTransformStreamDefaultControllerFromTransformer(stream, transformer, transformerDict);
    if (transformerDict.start !== undefined) {
      resolvePromise(
        startPromise,
        invokeCallback(transformerDict.start, transformer, [stream.controller.object]),
      );
    } else {
      resolvePromise(startPromise, undefined);
    }
  }

  get readable() {
    return thisTransformStream(this, "readable").readable.object;
  }

  get writable() {
    return thisTransformStream(this, "writable").writable.object;
  }
}
webidl.configureInterface(TransformStream);

const controllerOf = controllerSlot.of;

class TransformStreamDefaultController {
  constructor() {
    webidl.illegalConstructor();
  }

  get desiredSize() {
    const controller = controllerOf(this, "desiredSize");
    const readableController = controller.stream.readable.controller;
    return ReadableStreamDefaultControllerGetDesiredSize(readableController);
  }

  enqueue(chunk = undefined) {
    TransformStreamDefaultControllerEnqueue(controllerOf(this, "enqueue"), chunk);
  }

  error(e = undefined) {
    TransformStreamDefaultControllerError(controllerOf(this, "error"), e);
  }

  terminate() {
    TransformStreamDefaultControllerTerminate(controllerOf(this, "terminate"));
  }
}
webidl.configureInterface(TransformStreamDefaultController);

internals.exposeGlobals({ TransformStream, TransformStreamDefaultController });

Object.assign(impl, {
  TransformStream,
  TransformStreamDefaultController,
  TransformStreamSlots,
  TransformStreamDefaultControllerSlots,
  transformStreamSlot,
  InitializeTransformStream,
  SetUpTransformStreamDefaultController,
  TransformStreamDefaultControllerEnqueue,
  TransformStreamDefaultControllerError,
  TransformStreamDefaultControllerTerminate,
  TransformStreamError,
});

// ---------------------------------------------------------------------------------------------
// Hooks for other specifications (§9.3)
// ---------------------------------------------------------------------------------------------

/**
 * "Set up" a TransformStream from internal algorithms: transformAlgorithm(chunk, controller)
 * and flushAlgorithm(controller) get the controller *record* (for
 * TransformStreamDefaultControllerEnqueue and friends), cancelAlgorithm(reason) the reason;
 * each returns a promise or undefined, and a throw becomes a rejected promise. Returns the
 * stream record.
 */
function SetUpTransformStream({
  transformAlgorithm, flushAlgorithm, cancelAlgorithm, writableHighWaterMark = 1,
  writableSizeAlgorithm = sizeOne, readableHighWaterMark = 0, readableSizeAlgorithm = sizeOne,
}) {
  const stream = new TransformStreamSlots();
  const object = createObject(TransformStream);
  transformStreamSlot.attach(object, stream);
  stream.object = object;
  const startPromise = newPromise();
  InitializeTransformStream(
    stream, startPromise.promise, writableHighWaterMark, writableSizeAlgorithm,
    readableHighWaterMark, readableSizeAlgorithm,
  );
  const controller = new TransformStreamDefaultControllerSlots();
  const transformWrapper = transformAlgorithm === undefined
    ? (chunk) => promiseCall(TransformStreamDefaultControllerEnqueue, controller, chunk)
    : (chunk) => promiseCall(transformAlgorithm, chunk, controller);
  const flushWrapper = flushAlgorithm === undefined
    ? () => resolvedUndefined
    : () => promiseCall(flushAlgorithm, controller);
  const cancelWrapper = cancelAlgorithm === undefined
    ? () => resolvedUndefined
    : (reason) => promiseCall(cancelAlgorithm, reason);
  SetUpTransformStreamDefaultController(
    stream, controller, transformWrapper, flushWrapper, cancelWrapper,
  );
  resolvePromise(startPromise, undefined);
  return stream;
}
impl.SetUpTransformStream = SetUpTransformStream;

/**
 * The hook for other runtime files: `transform(chunk, controller)`, `flush(controller)` and
 * `cancel(reason)` may return promises (transform defaults to the identity); `controller` is
 * the public TransformStreamDefaultController. Options: readable/writable high water marks
 * (0 and 1 by default) and size functions. Returns the public TransformStream.
 */
function createTransformStream({
  transform, flush, cancel, writableHighWaterMark = 1, readableHighWaterMark = 0,
  writableSize, readableSize,
} = {}) {
  const stream = SetUpTransformStream({
    transformAlgorithm: transform === undefined
      ? undefined
      : (chunk, controller) => FunctionPrototypeCall(transform, undefined, chunk, controllerObject(controller)),
    flushAlgorithm: flush === undefined
      ? undefined
      : (controller) => FunctionPrototypeCall(flush, undefined, controllerObject(controller)),
    cancelAlgorithm: cancel === undefined
      ? undefined
      : (reason) => FunctionPrototypeCall(cancel, undefined, reason),
    writableHighWaterMark,
    writableSizeAlgorithm: writableSize === undefined ? sizeOne : (chunk) => writableSize(chunk),
    readableHighWaterMark,
    readableSizeAlgorithm: readableSize === undefined ? sizeOne : (chunk) => readableSize(chunk),
  });
  return stream.object;
}

Object.assign(internals.streams, {
  TransformStream,
  TransformStreamDefaultController,
  createTransformStream,
  isTransformStream(x) {
    return transformStreamSlot.get(x) !== undefined;
  },
});
