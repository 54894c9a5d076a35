// The JavaScript half of the Python <-> V8 bridge (see isolate_worker/bridge.py).
//
// Theory of operation
// -------------------
// Python enters V8 with one fixed expression, `__isoflow_pump()`. Before posting it, Python
// writes every pending *event* into shared memory: a JSON array (ASCII) in `inJson` and the
// bytes of body chunks in `inBin`. The pump decodes the events, dispatches them (new
// requests run their handlers, chunks are enqueued into native streams, credits resume
// response bodies) and returns every pending *action* as one JSON string, with the bytes of
// response chunks written into `outBin`. Python reads both after the pump returns and
// before it posts the next one, so the shared buffers are never touched by both at once.
//
// V8 keeps running after the pump returns (promise reactions, timers). When that later
// work produces actions, JS calls `notify()` once; Python answers with another pump, which
// collects them. So a request costs no V8 entry of its own under load: one pump carries
// every event and action that piled up meanwhile.
//
// Events (Python -> JS), arrays whose first item is the kind:
//   [EV_REQUEST, sid, requestId, method, url, headers, hasBody, window, client]
//   [EV_DATA, sid, offset, length]       bytes are inBin[offset, offset + length)
//   [EV_END, sid]                        end of the request body
//   [EV_CANCEL, sid, reason]             the client went away / the supervisor gave up
//   [EV_CREDIT, sid, size]               the client consumed `size` bytes of response body
// Actions (JS -> Python):
//   [AC_HEAD, sid, status, headers, length]
//   [AC_DATA, sid, offset, length]       bytes are outBin[offset, offset + length)
//   [AC_END, sid]
//   [AC_ERROR, sid, status, message]
//   [AC_CREDIT, sid, size]               the script consumed request body: grant more
//   [AC_LOG, level, sid, message]
//   [AC_DONE, sid]                       all JS state of the stream is gone
// Headers are flat arrays [name, value, ...]. The pump returns `[more, ...actions]`;
// `more` is 1 when outBin filled up and another pump should follow at once.

const {
  ArrayPrototypePush,
  AtomicsAdd,
  Error: ErrorCtor,
  Int32Array: Int32ArrayCtor,
  JSONParse,
  JSONStringify,
  MathFloor,
  MathMin,
  Promise: PromiseCtor,
  ObjectDefineProperty,
  PromisePrototypeThen,
  PromiseResolve,
  SafeMap,
  SharedArrayBuffer: SharedArrayBufferCtor,
  StringFromCharCodeApply,
  TypedArrayPrototypeSet,
  TypedArrayPrototypeSubarray,
  TypeError: TypeErrorCtor,
  Uint32Array: Uint32ArrayCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const EV_REQUEST = 1, EV_DATA = 2, EV_END = 3, EV_CANCEL = 4, EV_CREDIT = 5;
const AC_HEAD = 1, AC_DATA = 2, AC_END = 3, AC_ERROR = 4, AC_CREDIT = 5, AC_LOG = 6;
const AC_DONE = 7;

const config = {
  inJsonSize: 1 << 20,
  inBinSize: 4 << 20,
  outBinSize: 4 << 20,
  requestWindow: 256 << 10, // request body bytes the supervisor may send before a grant
  maxChunk: 256 << 10, // largest response chunk sent in one action
  workerId: "",
  env: {},
};

let inJson, inJsonU8, inJsonLen, inBin, outBin, ctrl;
let notifyHost = () => {};

// -- actions ------------------------------------------------------------------------------

let actions = [];
let outChunks = []; // [action, bytes] pairs whose bytes still have to reach outBin
let inPump = false;
let notified = false;

function queueAction(action) {
  ArrayPrototypePush(actions, action);
  if (!inPump && !notified) {
    notified = true;
    notifyHost();
  }
}

function queueData(sid, bytes) {
  const action = [AC_DATA, sid, 0, bytes.length];
  ArrayPrototypePush(outChunks, bytes);
  queueAction(action);
}

/** Move pending actions into the pump's result, copying chunk bytes into outBin. */
function flushActions() {
  if (actions.length === 0) return "[0]";
  const out = [0];
  let offset = 0;
  let chunkIndex = 0;
  let i = 0;
  for (; i < actions.length; i++) {
    const action = actions[i];
    if (action[0] === AC_DATA) {
      const bytes = outChunks[chunkIndex];
      if (offset + bytes.length > outBin.length) {
        if (offset === 0) throw new ErrorCtor("response chunk larger than the bridge buffer");
        out[0] = 1;
        break;
      }
      TypedArrayPrototypeSet(outBin, bytes, offset);
      action[2] = offset;
      offset += bytes.length;
      chunkIndex++;
    }
    ArrayPrototypePush(out, action);
  }
  actions = i === actions.length ? [] : actions.slice(i);
  outChunks = chunkIndex === outChunks.length ? [] : outChunks.slice(chunkIndex);
  return JSONStringify(out);
}

// -- events -------------------------------------------------------------------------------

function asciiDecode(u8, start, end) {
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += StringFromCharCodeApply(TypedArrayPrototypeSubarray(u8, i, MathMin(end, i + 8192)));
  }
  return s;
}

function copyIn(offset, length) {
  const out = new Uint8ArrayCtor(length);
  TypedArrayPrototypeSet(out, TypedArrayPrototypeSubarray(inBin, offset, offset + length));
  return out;
}

function pump() {
  inPump = true;
  AtomicsAdd(ctrl, 0, 1);
  try {
    const length = inJsonLen[0];
    if (length > 0) {
      const events = JSONParse(asciiDecode(inJsonU8, 4, 4 + length));
      inJsonLen[0] = 0;
      for (let i = 0; i < events.length; i++) {
        try {
          dispatchEvent(events[i]);
        } catch (e) {
          internals.reportException(e);
        }
      }
    }
    return flushActions();
  } finally {
    inPump = false;
    notified = actions.length > 0; // leftovers: Python pumps again because `more` is set
  }
}

function dispatchEvent(ev) {
  switch (ev[0]) {
    case EV_REQUEST:
      onRequest(ev[1], ev[2], ev[3], ev[4], ev[5], ev[6], ev[7], ev[8]);
      break;
    case EV_DATA: {
      const st = live.get(ev[1]);
      if (st !== undefined) onRequestData(st, copyIn(ev[2], ev[3]));
      break;
    }
    case EV_END: {
      const st = live.get(ev[1]);
      if (st !== undefined) onRequestEnd(st);
      break;
    }
    case EV_CANCEL: {
      const st = live.get(ev[1]);
      if (st !== undefined) onCancel(st, ev[2]);
      break;
    }
    case EV_CREDIT: {
      const st = live.get(ev[1]);
      if (st !== undefined) onCredit(st, ev[2]);
      break;
    }
    default:
      internals.reportException(new TypeErrorCtor(`bridge: unknown event kind ${ev[0]}`));
  }
}

// -- streams (one per request) ------------------------------------------------------------

/** Per-request state, keyed by the supervisor's stream id. */
class StreamState {
  constructor(sid, requestId, window) {
    this.sid = sid;
    this.requestId = requestId;
    this.credit = window; // response bytes we may still send
    this.creditWaiter = null; // resolve() of a body pump waiting for credit
    this.headSent = false;
    this.finished = false; // response end or error sent
    this.cancelled = false;
    this.bodyStream = null; // the response body stream, when pumping one
    this.controller = null; // AbortController behind request.signal
    // request body (native stream)
    this.body = null; // the ReadableStream
    this.bodyDone = true;
    this.outstanding = 0; // request bytes granted to the supervisor and not yet received
    this.pullResolve = null;
    this.pending = []; // request chunks received while nobody was pulling
  }
}

const live = new SafeMap(); // sid -> StreamState

function requestBodyStream(st) {
  st.bodyDone = false;
  st.outstanding = config.requestWindow;
  const streams = internals.streams;
  const stream = streams.createReadableByteStream({
    pull() {
      if (st.pending.length > 0) {
        streams.enqueue(stream, st.pending.shift());
        if (st.pending.length === 0 && st.bodyDone) streams.close(stream);
        return undefined;
      }
      if (st.bodyDone) return undefined;
      grantRequestCredit(st);
      return new PromiseCtor((resolve) => {
        st.pullResolve = resolve;
      });
    },
    cancel() {
      st.bodyDone = true;
      st.pending = [];
      resolvePull(st);
    },
  });
  st.body = stream;
  internals.native.markRequestBody(stream, st.sid);
  return stream;
}

function grantRequestCredit(st) {
  const window = config.requestWindow;
  if (st.outstanding * 2 > window) return;
  const size = window - st.outstanding;
  st.outstanding = window;
  queueAction([AC_CREDIT, st.sid, size]);
}

function resolvePull(st) {
  const resolve = st.pullResolve;
  if (resolve !== null) {
    st.pullResolve = null;
    resolve();
  }
}

function onRequestData(st, bytes) {
  st.outstanding -= bytes.length;
  if (st.body === null || st.bodyDone) return;
  const streams = internals.streams;
  if (st.pullResolve !== null) {
    streams.enqueue(st.body, bytes);
    resolvePull(st);
  } else {
    ArrayPrototypePush(st.pending, bytes);
  }
}

function onRequestEnd(st) {
  if (st.body === null || st.bodyDone) return;
  st.bodyDone = true;
  if (st.pending.length === 0 && internals.streams.isReadable(st.body)) {
    internals.streams.close(st.body);
  }
  resolvePull(st);
}

function onCredit(st, size) {
  st.credit += size;
  const waiter = st.creditWaiter;
  if (waiter !== null) {
    st.creditWaiter = null;
    waiter();
  }
}

function onCancel(st, reason) {
  st.cancelled = true;
  const error = new internals.DOMExceptionOrError(`The client went away: ${reason}`, "AbortError");
  if (st.controller !== null) st.controller.abort(error);
  if (st.bodyStream !== null) {
    PromisePrototypeThen(internals.streams.cancel(st.bodyStream, error), undefined, () => {});
  }
  if (st.body !== null && !st.bodyDone) {
    st.bodyDone = true;
    if (internals.streams.isReadable(st.body)) internals.streams.error(st.body, error);
    resolvePull(st);
  }
  const waiter = st.creditWaiter;
  if (waiter !== null) {
    st.creditWaiter = null;
    waiter();
  }
  finish(st);
}

function finish(st) {
  if (!st.finished) st.finished = true;
  if (live.get(st.sid) === st) {
    live.delete(st.sid);
    queueAction([AC_DONE, st.sid]);
  }
}

// -- requests -----------------------------------------------------------------------------

function onRequest(sid, requestId, method, url, headerList, hasBody, window, client) {
  internals.taskHook();
  const st = new StreamState(sid, requestId, window);
  live.set(sid, st);
  const headers = internals.headers.fromList(headerList, "immutable");
  let body = null;
  if (hasBody) body = new internals.body.InnerBody(requestBodyStream(st), null, null);
  let signal = null;
  if (globalThis.AbortController !== undefined && internals.abort !== undefined) {
    st.controller = new internals.abort.AbortController();
    signal = st.controller.signal;
  }
  const request = internals.request.make({
    method, url, headers, body, signal, extra: { requestId, client, sid },
  });
  current = st;
  let result;
  try {
    result = internals.worker.dispatchFetch(request, st);
  } catch (e) {
    current = null;
    failResponse(st, e);
    return;
  }
  current = null;
  if (internals.response.isResponse(result)) {
    respond(st, result);
  } else {
    PromisePrototypeThen(PromiseResolve(result), (r) => respond(st, r), (e) => failResponse(st, e));
  }
}

/** The request whose handler is running synchronously right now, if any (console tags). */
let current = null;

function failResponse(st, error) {
  if (st.finished) return;
  const stack = error && error.stack ? error.stack : String(error);
  log("error", st.sid, `Uncaught (in response to ${st.requestId}) ${stack}`);
  sendError(st, 500, "The worker threw an exception.");
}

function sendError(st, status, message) {
  if (st.finished) return;
  st.finished = true;
  queueAction([AC_ERROR, st.sid, status, message]);
  finish(st);
}

function respond(st, response) {
  if (st.finished || st.cancelled) return;
  if (!internals.response.isResponse(response)) {
    failResponse(st, new TypeErrorCtor(
      `The handler's result is not a Response (got ${response === null ? "null" : typeof response}).`,
    ));
    return;
  }
  const status = internals.response.status(response);
  if (status === 0) {
    sendError(st, 502, "The worker answered with Response.error().");
    return;
  }
  const headerList = internals.headers.list(internals.response.headers(response));
  const body = internals.response.body(response);
  if (body === null) {
    st.headSent = true;
    queueAction([AC_HEAD, st.sid, status, headerList, 0]);
    endResponse(st);
    return;
  }
  if (internals.body.isUnusable(body)) {
    failResponse(st, new TypeErrorCtor("The response body was already used."));
    return;
  }
  if (body.stream === null && !(internals.blob !== undefined && internals.blob.isBlob(body.source))) {
    const bytes = body.source;
    body.used = true;
    st.headSent = true;
    queueAction([AC_HEAD, st.sid, status, headerList, bytes.length]);
    sendBytes(st, bytes);
    return;
  }
  const length = body.length === null ? declaredLength(headerList) : body.length;
  st.headSent = true;
  queueAction([AC_HEAD, st.sid, status, headerList, length]);
  pumpBody(st, internals.body.bodyStream(body));
}

function declaredLength(list) {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i].toLowerCase() === "content-length") {
      const n = +list[i + 1];
      return n >= 0 && n === MathFloor(n) ? n : -1;
    }
  }
  return -1;
}

function endResponse(st) {
  if (st.finished) return;
  st.finished = true;
  queueAction([AC_END, st.sid]);
  finish(st);
}

/** Send known bytes, in credit-sized pieces. */
function sendBytes(st, bytes) {
  let offset = 0;
  const step = () => {
    while (offset < bytes.length) {
      if (st.cancelled) return;
      if (st.credit <= 0) {
        st.creditWaiter = step;
        return;
      }
      const n = MathMin(st.credit, config.maxChunk, bytes.length - offset);
      queueData(st.sid, TypedArrayPrototypeSubarray(bytes, offset, offset + n));
      st.credit -= n;
      offset += n;
    }
    endResponse(st);
  };
  step();
}

function waitCredit(st) {
  return new PromiseCtor((resolve) => {
    st.creditWaiter = resolve;
  });
}

async function pumpBody(st, stream) {
  const streams = internals.streams;
  let reader;
  try {
    reader = streams.getReader(stream);
  } catch (e) {
    failResponse(st, e);
    return;
  }
  st.bodyStream = stream;
  try {
    for (;;) {
      while (st.credit <= 0 && !st.cancelled) await waitCredit(st);
      if (st.cancelled) return;
      const { value, done } = await streams.readerRead(reader);
      if (st.cancelled) return;
      if (done) break;
      if (!(value instanceof Uint8ArrayCtor)) {
        throw new TypeErrorCtor("Response body chunks must be Uint8Array.");
      }
      let offset = 0;
      while (offset < value.length) {
        while (st.credit <= 0 && !st.cancelled) await waitCredit(st);
        if (st.cancelled) return;
        const n = MathMin(st.credit, config.maxChunk, value.length - offset);
        queueData(st.sid, offset === 0 && n === value.length
          ? value
          : TypedArrayPrototypeSubarray(value, offset, offset + n));
        st.credit -= n;
        offset += n;
      }
    }
    endResponse(st);
  } catch (e) {
    if (st.cancelled) return;
    const stack = e && e.stack ? e.stack : String(e);
    log("error", st.sid, `Response body stream failed (${st.requestId}): ${stack}`);
    sendError(st, 500, "The response body stream failed.");
    PromisePrototypeThen(streams.cancel(stream, e), undefined, () => {});
  }
}

// -- logging ------------------------------------------------------------------------------

function log(level, sid, message) {
  queueAction([AC_LOG, level, sid, message]);
}

internals.reportException = (e) => {
  const sid = current !== null ? current.sid : 0;
  log("error", sid, `Uncaught ${e && e.stack ? e.stack : String(e)}`);
};
internals.taskHook = () => {
  AtomicsAdd(ctrl, 0, 1);
};

// -- native stream marks ------------------------------------------------------------------

internals.native = {
  marks: new primordials.SafeWeakMap(),
  markRequestBody(stream, sid) {
    this.marks.set(stream, { kind: "request", sid });
  },
  /** The native source of `stream` if it is a native stream nobody has touched, else null. */
  untouched(stream) {
    const mark = this.marks.get(stream);
    if (mark === undefined) return null;
    const streams = internals.streams;
    if (streams.isLocked(stream) || streams.isDisturbed(stream)) return null;
    return mark;
  },
};

// -- set-up (called by Python before the runtime is sealed) -------------------------------

internals.bridge = {
  config,
  live,
  log,
  currentStream: () => current,
  configure(options) {
    for (const key of primordials.ObjectKeys(options)) {
      if (key in config) config[key] = options[key];
    }
    inJson = new SharedArrayBufferCtor(config.inJsonSize);
    inJsonU8 = new Uint8ArrayCtor(inJson);
    inJsonLen = new Uint32ArrayCtor(inJson, 0, 1);
    const inBinSab = new SharedArrayBufferCtor(config.inBinSize);
    inBin = new Uint8ArrayCtor(inBinSab);
    const outBinSab = new SharedArrayBufferCtor(config.outBinSize);
    outBin = new Uint8ArrayCtor(outBinSab);
    const ctrlSab = new SharedArrayBufferCtor(64);
    ctrl = new Int32ArrayCtor(ctrlSab);
    this.buffers = { inJson, inBin: inBinSab, outBin: outBinSab, ctrl: ctrlSab };
    // Bindings: `env` for module workers, globals for service-worker scripts.
    internals.worker.env = config.env;
    for (const name of primordials.ObjectKeys(config.env)) {
      internals.exposeGlobal(name, config.env[name]);
    }
    const hostNotify = globalThis.__isoflow_notify;
    delete globalThis.__isoflow_notify;
    if (typeof hostNotify === "function") notifyHost = hostNotify;
    ObjectDefineProperty(globalThis, "__isoflow_pump", {
      value: pump, writable: false, enumerable: false, configurable: false,
    });
    return 0;
  },
};

internals.DOMExceptionOrError = function DOMExceptionOrError(message, name) {
  if (typeof globalThis.DOMException === "function") return new globalThis.DOMException(message, name);
  const e = new ErrorCtor(message);
  e.name = name;
  return e;
};
