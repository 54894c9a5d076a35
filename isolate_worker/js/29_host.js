// The host channel: how the runtime talks to Python (isolate_worker/bridge.py).
//
// Theory of operation
// -------------------
// Python enters V8 with two fixed expressions posted back to back, `__isoflow_pump(token)`
// and `__isoflow_collect(token)` (the token, known only to the bridge, keeps scripts from
// pumping). Before posting them, Python
// writes every pending *event* into shared memory: a JSON array in `inJson` (latin-1: one
// byte per code unit, so header bytes 0x80-0xFF arrive as the same code units; a batch too
// large for the buffer comes in pieces flagged PARTIAL) and the bytes of body chunks in
// `inBin`. The pump decodes the events and hands each to the handler
// registered for its kind (`host.on(kind, fn)`). V8 then runs every microtask (promise
// reactions: an async handler's Response, a stream's first chunk) before its next task,
// the collect, which returns every pending *action* as one JSON string, with the bytes of
// body chunks written into `outBin`. Python reads both after the collect returns and before
// it posts the next pump, so the shared buffers are never touched by both sides at once.
//
// V8 keeps running after the collect returns (timers, I/O results). When that later work
// produces actions, JS calls `notify()` once; Python answers with another pump, which
// collects them. So no request or chunk costs a V8 entry of its own under load: one pump
// carries every event and action that piled up meanwhile.
//
// Events are arrays `[kind, ...]`; a chunk event ends with `offset, length` into inBin.
// Actions are arrays `[kind, ...]`; a data action (its kind in kinds.DATA_ACTIONS) is
// `[kind, id, offset, length]` into outBin. The pump returns `[more, ...actions]`; `more`
// is 1 when outBin filled up and Python should pump again at once. Event and action kinds
// are defined once, in isolate_worker/kinds.py, and reach every file as `internals.kinds`
// (runtime.py); a file takes the kinds it uses into constants as it loads. kinds.ACTIONS
// says what each action holds: Python checks every action against it, and a malformed one
// fails its stream, fetch or op.
//
// Two reusable pieces carry bodies across the channel with credit-based flow control:
//   Inflow  - a native ReadableStream fed by chunk events; pulling it grants credit.
//   Outflow - sends a ReadableStream (or bytes) out as data actions, never beyond credit.

const {
  ArrayPrototypePush,
  ArrayPrototypeShift,
  ArrayPrototypeSlice,
  AtomicsAdd,
  DateNow,
  Error: ErrorCtor,
  Int32Array: Int32ArrayCtor,
  JSONParse,
  JSONStringify,
  MathMin,
  NullArray,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypeHasOwnProperty,
  ObjectSetPrototypeOf,
  Promise: PromiseCtor,
  PromisePrototypeThen,
  RegExpPrototypeExec,
  SafeMap,
  SafeWeakMap,
  SharedArrayBuffer: SharedArrayBufferCtor,
  String: StringCtor,
  StringFromCharCodeApply,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  TypedArrayPrototypeSet,
  TypedArrayPrototypeSubarray,
  TypeError: TypeErrorCtor,
  Uint32Array: Uint32ArrayCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;
const ArrayPrototype = primordials.Array.prototype;
const ArrayIsArray = primordials.ArrayIsArray;
const { AC_COMPLETE, AC_LOG, AC_OP, AC_OP_DATA, AC_WS_MESSAGE, EV_OP_RESULT } = internals.kinds;

const config = {
  __proto__: null,
  inJsonSize: 1 << 20,
  inBinSize: 4 << 20,
  outBinSize: 4 << 20,
  requestWindow: 256 << 10, // inbound body bytes granted at once
  maxChunk: 256 << 10, // largest chunk sent in one data action
  workerId: "",
  env: {},
  maxSubrequests: 50,
  wallTimeAfterResponse: 30, // seconds a request's timers and waitUntil work may run after it
  pumpToken: "",
  wsMaxMessage: 1 << 20, // bytes of one WebSocket message (37_websocket.js)
  wsMessageCost: 128, // credit a WebSocket message costs besides its bytes (WS_MESSAGE_COST)
  cacheBytes: 64 << 20, // the Cache API's budget (38_cache.js)
  logBudgetFull: true, // false for a replacement isolate (logFits)
};

let inJsonU8, inJsonLen, inBin, outBin, ctrl;
let notifyHost = () => {};
const handlers = new SafeMap(); // event kind -> handler(event)
const counters = { __proto__: null, v8BytesIn: 0, v8BytesOut: 0 };

// -- actions ------------------------------------------------------------------------------

// Runtime records are null-prototype (NullArray, `__proto__: null`, classes whose prototype
// chain ends in null): a setter or getter a script defines on Object.prototype or
// Array.prototype never sees them, so it can neither read nor forge an action. (An action
// itself is an array literal: its elements are its own, written and read without a lookup
// that could reach a prototype; JSON.stringify's `toJSON` lookup is guarded at flush.)
let actions = NullArray();
let outChunks = NullArray(); // bytes of the data actions in `actions`, in order
let inPump = false;
let notified = false;

function queueAction(action) {
  ArrayPrototypePush(actions, action);
  if (!inPump && !notified) {
    notified = true;
    notifyHost();
  }
}

// Count actions ([kind, id, n]) not yet flushed, by kind and id: queueCount adds to them.
let pendingCounts = new SafeMap();

/**
 * Queue `[kind, id, n]`, or add `n` to the one of the same kind and id this pump queued
 * already: a count (a WebSocket's messages taken) travels once a pump, not once an event.
 */
function queueCount(kind, id, n) {
  const key = `${kind}:${id}`;
  const queued = pendingCounts.get(key);
  if (queued !== undefined) {
    queued[2] += n;
    return;
  }
  const action = [kind, id, n];
  pendingCounts.set(key, action);
  queueAction(action);
}

/**
 * Body chunks are short-lived ArrayBuffers whose memory V8 counts as "external": left alone,
 * dead chunks pile up until ~64 MB before V8 collects them. A young-generation collection
 * (~40 us) after every GC_EVERY bytes of chunks keeps a streaming worker's memory flat.
 */
const GC_EVERY = 2 << 20;
let sinceGc = 0;
function chunkBytesSeen(n) {
  sinceGc += n;
  if (sinceGc >= GC_EVERY && primordials.gc !== null) {
    sinceGc = 0;
    primordials.gc({ type: "minor" });
  }
}

/**
 * Queue a data action `[kind, id, offset, length]`; `bytes` reaches outBin at flush.
 * `head` (AC_COMPLETE's status and headers, AC_WS_MESSAGE's binary flag) follows the
 * length if given.
 */
function queueData(kind, id, bytes, head) {
  counters.v8BytesOut += bytes.length;
  chunkBytesSeen(bytes.length);
  ArrayPrototypePush(outChunks, bytes);
  // Literals only: pushing onto an array would run a setter a script put on
  // Array.prototype's index (tests/integration/test_security_pollution.py).
  queueAction(head === undefined ? [kind, id, 0, bytes.length]
    : head.length === 1 ? [kind, id, 0, bytes.length, head[0]]
    : [kind, id, 0, bytes.length, head[0], head[1]]);
}

function isDataAction(action) {
  const kind = action[0];
  return dataKinds.has(kind) &&
    action.length === (kind === AC_COMPLETE ? 6 : kind === AC_WS_MESSAGE ? 5 : 4);
}
const dataKinds = new primordials.SafeSet(internals.kinds.DATA_ACTIONS); // kinds.py

/** Move pending actions into the pump's result, copying chunk bytes into outBin. */
function flushActions() {
  if (actions.length === 0) return "[0]";
  if (pendingCounts.size !== 0) pendingCounts = new SafeMap(); // they leave now (or stay whole)
  const out = NullArray();
  out[0] = 0;
  let offset = 0;
  let chunkIndex = 0;
  let i = 0;
  for (; i < actions.length; i++) {
    const action = actions[i];
    if (isDataAction(action)) {
      const bytes = outChunks[chunkIndex];
      if (offset + bytes.length > outBin.length) {
        if (offset === 0) throw new ErrorCtor("a chunk larger than the bridge buffer");
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
  actions = i === actions.length ? NullArray()
    : ObjectSetPrototypeOf(ArrayPrototypeSlice(actions, i), null);
  outChunks = chunkIndex === outChunks.length ? NullArray()
    : ObjectSetPrototypeOf(ArrayPrototypeSlice(outChunks, chunkIndex), null);
  return pristine() ? JSONStringify(out) : encode(out);
}

/**
 * Whether JSON.stringify would consult nothing a script changed: it looks `toJSON` up on
 * every array and object it meets (headers lists, op arguments), and a getter there (or a
 * Proxy put into Array.prototype's chain) would see and rewrite the runtime's actions.
 */
function pristine() {
  return ObjectGetPrototypeOf(ArrayPrototype) === ObjectPrototype &&
    !ObjectPrototypeHasOwnProperty(ArrayPrototype, "toJSON") &&
    !ObjectPrototypeHasOwnProperty(ObjectPrototype, "toJSON");
}

/** JSON of `value` (arrays, plain objects, primitives) reading own properties only. */
function encode(value) {
  if (value === null || typeof value !== "object") {
    return value === undefined ? "null" : JSONStringify(value);
  }
  let s;
  if (ArrayIsArray(value)) {
    s = "[";
    for (let i = 0; i < value.length; i++) s += (i === 0 ? "" : ",") + encode(value[i]);
    return s + "]";
  }
  s = "{";
  const keys = ObjectKeys(value);
  for (let i = 0; i < keys.length; i++) {
    s += `${i === 0 ? "" : ","}${JSONStringify(keys[i])}:${encode(value[keys[i]])}`;
  }
  return s + "}";
}

// -- events -------------------------------------------------------------------------------

function asciiDecode(u8, start, end) {
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += StringFromCharCodeApply(TypedArrayPrototypeSubarray(u8, i, MathMin(end, i + 8192)));
  }
  return s;
}

/** A copy of the event's chunk bytes (its last two items are offset and length). */
function eventBytes(ev) {
  const offset = ev[ev.length - 2];
  const length = ev[ev.length - 1];
  counters.v8BytesIn += length;
  chunkBytesSeen(length);
  const out = new Uint8ArrayCtor(length);
  TypedArrayPrototypeSet(out, TypedArrayPrototypeSubarray(inBin, offset, offset + length));
  return out;
}

let pumpToken = null; // set by configure: only the bridge knows it
const PARTIAL = 0x80000000; // inJson length flag: a piece of a larger batch, more follow
const LOG_LINE_MAX = 256 * 1024; // characters of one log line (a frame holds 1 MiB of UTF-8)

// The worker's log output is bounded: token buckets of LOG_LINES lines (refilled at that
// many a second: a line per request at 10,000 requests a second passes, a loop does not) and
// LOG_CHARS characters (refilled at LOG_CHARS_RATE a second). A message's line breaks count as
// lines (each is a line of the log). Past them lines are dropped, and a warning says how
// many, at most once a second. A replacement isolate starts with a tenth of the buckets
// (config `logBudgetFull` false: an isolate replaced again and again must not bring full ones).
// A console.log loop otherwise queued millions of actions in one pump (the worker ran out of
// memory reading them and was wedged), held the supervisor's loop writing them (every
// script's requests waited, other workers missed heartbeats) and filled the operator's disk.
const LOG_LINES = 10000;
const LOG_CHARS = 4 << 20;
const LOG_CHARS_RATE = 1 << 20;
const logBudget = {
  __proto__: null, lines: LOG_LINES, chars: LOG_CHARS, at: 0, dropped: 0, timer: false,
  reportedAt: 0,
};

const ESCAPED = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/;

/** The lines a message makes in the log: one, and one more for each line break. */
function logLines(message) {
  let n = 1;
  let i = StringPrototypeIndexOf(message, "\n");
  while (i !== -1) {
    n++;
    i = StringPrototypeIndexOf(message, "\n", i + 1);
  }
  return n;
}

/** Whether a message may be logged now (else it is counted as dropped). */
function logFits(message) {
  const now = DateNow();
  const elapsed = (now - logBudget.at) / 1000;
  logBudget.at = now;
  if (elapsed > 0) {
    logBudget.lines = MathMin(LOG_LINES, logBudget.lines + elapsed * LOG_LINES);
    logBudget.chars = MathMin(LOG_CHARS, logBudget.chars + elapsed * LOG_CHARS_RATE);
  }
  const lines = logLines(message);
  // A control character is written escaped (`\xNN`, `\u2028`): up to six characters each.
  const size = RegExpPrototypeExec(ESCAPED, message) === null ? message.length : 6 * message.length;
  if (logBudget.lines >= lines && logBudget.chars >= size) {
    logBudget.lines -= lines;
    logBudget.chars -= size;
    return true;
  }
  logBudget.dropped++;
  armDropReport();
  return false;
}

/** Tell of the drops a second from now, if no line that fits has told of them by then. */
function armDropReport() {
  if (logBudget.timer) return;
  logBudget.timer = true;
  internals.timers.setTimeout(() => {
    logBudget.timer = false;
    logBudget.at = DateNow();
    reportDropped(0);
    if (logBudget.dropped > 0) armDropReport();
  }, 1000);
}

function reportDropped(id) {
  if (logBudget.dropped === 0 || logBudget.at - logBudget.reportedAt < 1000) return;
  logBudget.reportedAt = logBudget.at;
  const n = logBudget.dropped;
  queueAction([AC_LOG, "warn", id, `${n} log message${n === 1 ? "" : "s"} dropped: a worker ` +
    `logs at most ${LOG_LINES} lines a second, and ${LOG_CHARS_RATE >> 20} Mi characters a ` +
    `second after ${LOG_CHARS >> 20} Mi`]);
  logBudget.dropped = 0;
}
let partialText = ""; // the pieces of a batch too large for inJson, until its last piece

function pump(token) {
  // A script can call the global too; without the bridge's token it does nothing.
  if (token !== pumpToken) return 0;
  inPump = true;
  AtomicsAdd(ctrl, 0, 1);
  try {
    const word = inJsonLen[0];
    inJsonLen[0] = 0;
    const length = word >= PARTIAL ? word - PARTIAL : word;
    // One byte per code unit (latin-1): Python writes header bytes 0x80-0xFF as they are.
    const text = length > 0 ? asciiDecode(inJsonU8, 4, 4 + length) : "";
    if (word >= PARTIAL) {
      partialText += text;
      return 0;
    }
    if (length > 0) {
      const events = JSONParse(partialText === "" ? text : partialText + text);
      partialText = "";
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        const handler = handlers.get(ev[0]);
        try {
          if (handler === undefined) throw new TypeErrorCtor(`host: unknown event kind ${ev[0]}`);
          handler(ev);
        } catch (e) {
          internals.reportException(e);
        }
      }
    }
    return 0;
  } finally {
    inPump = false;
    // Python posted `collect` right behind this pump: it takes what the microtasks that
    // run in between add (V8 runs them all before its next task), with no notification.
    notified = true;
  }
}

/** The pump's second half: every pending action (see `pump`), as the pump's result. */
function collect(token) {
  if (token !== pumpToken) return "[0]";
  inPump = true;
  try {
    return flushActions();
  } finally {
    inPump = false;
    notified = actions.length > 0; // leftovers: Python pumps again because `more` is set
  }
}

// -- Inflow: a native ReadableStream fed from the host ------------------------------------

/**
 * A byte stream whose chunks arrive as host events. Pulling it grants the producer credit
 * (action `[creditKind, id, size]`), keeping at most `window` bytes granted and not yet
 * received; `window` bytes are considered granted at the start (the peer's initial window).
 */
class Inflow {
  constructor(id, creditKind, window, initialGrant = window) {
    this.id = id;
    this.creditKind = creditKind;
    this.window = window;
    this.outstanding = initialGrant; // granted, not yet received
    this.pending = NullArray(); // chunks received while nobody pulls
    this.pullResolve = null;
    this.done = false; // end, error or cancel seen
    this.error = null;
    this.cancelled = false;
    this.onCancel = null; // called with the reason when the script cancels the stream
    const streams = internals.streams;
    this.stream = streams.createReadableByteStream({
      __proto__: null,
      pull: () => this.pull(),
      cancel: (reason) => {
        this.cancelled = true;
        this.done = true;
        this.pending = NullArray();
        this.resolvePull();
        if (this.onCancel !== null) this.onCancel(reason);
      },
    });
  }

  pull() {
    const streams = internals.streams;
    if (this.pending.length > 0) {
      streams.enqueue(this.stream, ArrayPrototypeShift(this.pending));
      this.maybeClose();
      return undefined;
    }
    if (this.done) return undefined;
    this.grant();
    return new PromiseCtor((resolve) => {
      this.pullResolve = resolve;
    });
  }

  grant() {
    if (this.outstanding * 2 > this.window) return;
    const size = this.window - this.outstanding;
    this.outstanding = this.window;
    queueAction([this.creditKind, this.id, size]);
  }

  resolvePull() {
    const resolve = this.pullResolve;
    if (resolve !== null) {
      this.pullResolve = null;
      resolve();
    }
  }

  onData(bytes) {
    this.outstanding -= bytes.length;
    if (this.done) return;
    if (this.pullResolve !== null) {
      internals.streams.enqueue(this.stream, bytes);
      this.resolvePull();
    } else {
      ArrayPrototypePush(this.pending, bytes);
    }
  }

  onEnd() {
    if (this.done) return;
    this.done = true;
    this.maybeClose();
    this.resolvePull();
  }

  onError(error) {
    if (this.done && this.pending.length === 0 && !internals.streams.isReadable(this.stream)) {
      return;
    }
    this.done = true;
    this.pending = NullArray();
    if (internals.streams.isReadable(this.stream)) internals.streams.error(this.stream, error);
    this.resolvePull();
  }

  maybeClose() {
    if (this.done && !this.cancelled && this.pending.length === 0 &&
        internals.streams.isReadable(this.stream)) {
      internals.streams.close(this.stream);
    }
  }
}

ObjectSetPrototypeOf(Inflow.prototype, null);

// -- Outflow: a body sent to the host under credit ----------------------------------------

/**
 * Sends bytes or a ReadableStream out as data actions `[dataKind, id, ...]`, then
 * `[endKind, id]`; on a stream error, `onError(e)` decides what to tell the host. Never
 * more bytes than the credit the host granted (`addCredit`).
 */
class Outflow {
  constructor(id, dataKind, endKind, credit) {
    this.id = id;
    this.dataKind = dataKind;
    this.endKind = endKind;
    this.credit = credit;
    this.waiter = null;
    this.cancelled = false;
    this.finished = false;
    this.whole = false; // sent as one action with the end (sendWhole)
    this.stream = null;
    this.onError = null;
    this.onFinish = null;
  }

  addCredit(size) {
    this.credit += size;
    this.wake();
  }

  wake() {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter();
    }
  }

  waitCredit() {
    return new PromiseCtor((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stop sending; cancels the stream being read, if any. */
  cancel(reason) {
    if (this.cancelled || this.finished) return;
    this.cancelled = true;
    if (this.stream !== null) {
      PromisePrototypeThen(internals.streams.cancel(this.stream, reason), undefined, () => {});
    }
    this.wake();
  }

  finish() {
    if (this.finished || this.cancelled) return;
    this.finished = true;
    queueAction([this.endKind, this.id]);
    if (this.onFinish !== null) this.onFinish();
  }

  /**
   * Send known bytes and the end as one data action of `kind` that carries `head` too
   * (a response's status and headers: AC_COMPLETE), if they fit the credit and one chunk;
   * false (nothing sent) if not.
   */
  sendWhole(kind, bytes, head) {
    if (this.finished || this.cancelled || bytes.length > this.credit ||
        bytes.length > config.maxChunk) {
      return false;
    }
    this.credit -= bytes.length;
    queueData(kind, this.id, bytes, head);
    this.finished = true;
    this.whole = true;
    if (this.onFinish !== null) this.onFinish();
    return true;
  }

  /** Send known bytes in credit-sized pieces, then the end. */
  sendBytes(bytes) {
    let offset = 0;
    const step = () => {
      while (offset < bytes.length) {
        if (this.cancelled) return;
        if (this.credit <= 0) {
          this.waiter = step;
          return;
        }
        const n = MathMin(this.credit, config.maxChunk, bytes.length - offset);
        queueData(this.dataKind, this.id, TypedArrayPrototypeSubarray(bytes, offset, offset + n));
        this.credit -= n;
        offset += n;
      }
      this.finish();
    };
    step();
  }

  /** Read `stream` to its end, sending every chunk; chunks must be Uint8Arrays. */
  async sendStream(stream) {
    const streams = internals.streams;
    this.stream = stream;
    let reader;
    try {
      reader = streams.getReader(stream);
      for (;;) {
        while (this.credit <= 0 && !this.cancelled) await this.waitCredit();
        if (this.cancelled) return;
        const { value, done } = await streams.readerRead(reader);
        if (this.cancelled) return;
        if (done) break;
        if (!(value instanceof Uint8ArrayCtor)) {
          throw new TypeErrorCtor("Body chunks must be Uint8Array.");
        }
        let offset = 0;
        while (offset < value.length) {
          while (this.credit <= 0 && !this.cancelled) await this.waitCredit();
          if (this.cancelled) return;
          const n = MathMin(this.credit, config.maxChunk, value.length - offset);
          queueData(this.dataKind, this.id, offset === 0 && n === value.length
            ? value
            : TypedArrayPrototypeSubarray(value, offset, offset + n));
          this.credit -= n;
          offset += n;
        }
      }
      this.finish();
    } catch (e) {
      if (this.cancelled) return;
      this.cancelled = true;
      if (this.onError !== null) this.onError(e);
      if (reader !== undefined) {
        PromisePrototypeThen(streams.cancel(stream, e), undefined, () => {});
      }
    }
  }
}

ObjectSetPrototypeOf(Outflow.prototype, null);

// -- ops: asynchronous work done natively in Python (crypto, compression) ------------------

let nextOpId = 1;
const pendingOps = new SafeMap(); // id -> { resolve, reject }

/**
 * Run native op `name` with JSON-able `args` and optional bytes. Resolves to
 * `{ value, bytes }` (bytes a Uint8Array or null); rejects with the DOMException (or
 * TypeError) the op names. Ops are listed in isolate_worker/ops.py.
 */
function op(name, args, bytes = null) {
  if (bytes !== null && bytes.length > outBin.length) {
    // One action's bytes must fit outBin (flushActions could not send them: the pump would
    // fail); callers send larger payloads in pieces (crypto's upload, compression's input).
    return primordials.PromiseReject(new ErrorCtor(
      `op ${name}: ${bytes.length} bytes exceed the bridge buffer (${outBin.length})`));
  }
  const id = nextOpId++;
  const { promise, resolve, reject } = primordials.PromiseWithResolvers();
  pendingOps.set(id, { __proto__: null, resolve, reject });
  if (bytes !== null) queueData(AC_OP_DATA, id, bytes);
  queueAction([AC_OP, id, name, args, bytes !== null]);
  return promise;
}

function onOpResult(ev) {
  const id = ev[1], ok = ev[2], value = ev[3], hasBytes = ev[4];
  const pending = pendingOps.get(id);
  if (pending === undefined) return;
  pendingOps.delete(id);
  internals.taskHook();
  const bytes = hasBytes ? eventBytes(ev) : null;
  if (ok) {
    pending.resolve({ __proto__: null, value, bytes });
  } else if (value.name === "TypeError") {
    pending.reject(new TypeErrorCtor(value.message));
  } else {
    pending.reject(new internals.DOMException(value.message, value.name));
  }
}
handlers.set(EV_OP_RESULT, onOpResult);

// -- native stream marks --------------------------------------------------------------------

const marks = new SafeWeakMap();

const host = {
  config,
  counters,
  op,
  Inflow,
  Outflow,
  queueAction,
  queueCount,
  queueData,
  eventBytes,
  on(kind, handler) {
    handlers.set(kind, handler);
  },
  /** Remember that `stream` is native (kind "request" or "fetch", with its id; a fetch's
   * with the coding of its raw bytes). */
  markNative(stream, mark) {
    marks.set(stream, mark);
  },
  /** The native mark of `stream` if it is native and nobody has touched it, else null. */
  untouchedNative(stream) {
    const mark = marks.get(stream);
    if (mark === undefined) return null;
    const streams = internals.streams;
    if (streams.isLocked(stream) || streams.isDisturbed(stream)) return null;
    return mark;
  },
  /** Lock a native stream for the runtime's own use (it is piped natively from now on). */
  claimNative(stream) {
    internals.streams.getReader(stream);
    const mark = marks.get(stream);
    if (mark !== undefined) mark.claimed = true;
  },
  /** Whether `stream` is native and the runtime claimed it (JavaScript never reads it). */
  nativeClaimed(stream) {
    const mark = marks.get(stream);
    return mark !== undefined && mark.claimed === true;
  },
  log(level, id, message) {
    // A log frame holds 1 MiB: a longer line is cut, and says so (it was dropped whole).
    if (message.length > LOG_LINE_MAX) {
      message = `${StringPrototypeSlice(message, 0, LOG_LINE_MAX)}... [${
        message.length - LOG_LINE_MAX} more characters not logged]`;
    }
    if (!logFits(message)) return;
    reportDropped(id);
    queueAction([AC_LOG, level, id, message]);
  },
  /**
   * What a thrown value says, as a string: its `stack` (or `message`, for `key` "message")
   * when that is a non-empty string, else String() of it, else a fixed text. The one way the
   * runtime turns a thrown value into text: it never throws, whatever was thrown (a getter
   * that throws, a Proxy, a value String() cannot convert: `Object.create(null)`).
   */
  errorText(e, key = "stack") {
    try {
      if ((typeof e === "object" && e !== null) || typeof e === "function") {
        const text = e[key]; // the script's code may run here (a getter, a Proxy's trap)
        if (typeof text === "string" && text !== "") return text;
      }
    } catch {
      // String() of it, then
    }
    try {
      return StringCtor(e);
    } catch {
      return "(an exception that cannot be shown)";
    }
  },
  configure(options) {
    for (const key of ObjectKeys(options)) {
      if (key in config) config[key] = options[key];
    }
    const inJson = new SharedArrayBufferCtor(config.inJsonSize);
    inJsonU8 = new Uint8ArrayCtor(inJson);
    inJsonLen = new Uint32ArrayCtor(inJson, 0, 1);
    const inBinSab = new SharedArrayBufferCtor(config.inBinSize);
    inBin = new Uint8ArrayCtor(inBinSab);
    const outBinSab = new SharedArrayBufferCtor(config.outBinSize);
    outBin = new Uint8ArrayCtor(outBinSab);
    const ctrlSab = new SharedArrayBufferCtor(64);
    ctrl = new Int32ArrayCtor(ctrlSab);
    this.buffers = { inJson, inBin: inBinSab, outBin: outBinSab, ctrl: ctrlSab };
    pumpToken = config.pumpToken;
    if (!config.logBudgetFull) { // a replacement isolate: a tenth of the buckets (logFits)
      logBudget.lines = LOG_LINES / 10;
      logBudget.chars = LOG_CHARS / 10;
      logBudget.at = DateNow();
    }
    const hostNotify = globalThis.__isoflow_notify;
    delete globalThis.__isoflow_notify;
    if (typeof hostNotify === "function") notifyHost = hostNotify;
    ObjectDefineProperty(globalThis, "__isoflow_pump", {
      value: pump, writable: false, enumerable: false, configurable: false,
    });
    ObjectDefineProperty(globalThis, "__isoflow_collect", {
      value: collect, writable: false, enumerable: false, configurable: false,
    });
    if (this.afterConfigure !== undefined) this.afterConfigure();
    return 0;
  },
};

internals.host = host;
internals.taskHook = () => {
  if (ctrl !== undefined) AtomicsAdd(ctrl, 0, 1);
};
