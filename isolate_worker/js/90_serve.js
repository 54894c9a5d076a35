// Serving: incoming requests from the supervisor become Requests for the script's fetch
// handler, and its Responses go back, bodies streamed both ways under credit.
//
// Events (Python -> JS)                         Actions (JS -> Python)
//   [EV_REQUEST, sid, requestId, method, url,     [AC_HEAD, sid, status, headers, length]
//    headers, hasBody, window, client]           [AC_DATA, sid, offset, length]
//   [EV_DATA, sid, offset, length]                [AC_END, sid]
//   [EV_END, sid]                                 [AC_ERROR, sid, status, message]
//   [EV_CANCEL, sid, reason]                      [AC_CREDIT, sid, size]   request body credit
//   [EV_CREDIT, sid, size]  response credit       [AC_DONE, sid]           JS state released
//                                                 [AC_FORWARD, sid, fetchId]  see below
//                                                 [AC_COMPLETE, sid, offset, length, status,
//                                                  headers]  head, whole body, end; released
// Headers are flat arrays [name, value, ...].
//
// The fast path: when a Response's body is a fetch() body nobody has touched, the bytes
// need not enter V8 at all. The head is sent as usual, then AC_FORWARD tells Python to pipe
// that fetch's upstream body straight into this stream (isolate_worker/fetch.py).
//
// Budgets. Every served request (and scheduled event) is a Job: it may start
// `maxSubrequests` fetches, and its timers, waitUntil promises and fetches may run until
// `wallTimeAfterResponse` after its response ended; then they are cleared and aborted
// (09_timers.js carries the job's context into its timers). A fetch started where no
// job is current (a promise continuation) is charged to an open job with budget left, or
// refused: every fetch is charged to exactly one job, so an isolate never starts more than
// `maxSubrequests` times the number of requests it served.
//
// A runtime failure (the runtime itself threw while taking a request or sending its
// response, e.g. because the script patched a built-in) answers 500 and is flagged in the
// error action, so the worker can replace an isolate that keeps failing (worker.py).

const {
  DateNow,
  MathFloor,
  ObjectSetPrototypeOf,
  PromisePrototypeThen,
  PromiseResolve,
  SafeMap,
  SafeSet,
  SetIteratorPrototypeNext,
  SetPrototypeValues,
  StringPrototypeToLowerCase,
  StringPrototypeTrim,
  TypeError: TypeErrorCtor,
} = primordials;
const { host, contexts } = internals;

const { EV_REQUEST, EV_DATA, EV_END, EV_CANCEL, EV_CREDIT } = internals.kinds;
const { AC_HEAD, AC_DATA, AC_END, AC_ERROR, AC_CREDIT, AC_DONE, AC_FORWARD, AC_COMPLETE } =
  internals.kinds;

// Jobs that may adopt work and be charged fetches no job is current for (budget left, not
// expired): those whose response is still going first, then those past their response.
const open = new SafeSet();
const lingering = new SafeSet();

/** What one request (or scheduled event) may do: its subrequests and work after it. */
class Job {
  constructor(sid, label) {
    this.sid = sid;
    this.label = label; // for log lines: "request ID" or "scheduled event CRON"
    this.ctx = contexts.create(this, Infinity);
    this.ctx.onExpire = (timers) => this.expired(timers);
    this.subrequests = 0; // fetches charged
    this.fetches = 0; // of those, in flight
    this.waits = 0; // waitUntil promises pending
    this.ended = false; // its response (or scheduled handler) ended
    this.deadline = null; // the runtime timer that expires it
    open.add(this);
  }

  /** Charge one fetch to this job; throws when its budget is spent. */
  charge() {
    if (this.ctx.expired) {
      throw new TypeErrorCtor(`fetch failed: ${this.label} has ended`);
    }
    if (this.subrequests >= host.config.maxSubrequests) {
      this.close();
      throw new TypeErrorCtor(`fetch failed: too many subrequests ` +
        `(more than ${host.config.maxSubrequests} for one request)`);
    }
    this.subrequests++;
    this.fetches++;
    if (this.subrequests >= host.config.maxSubrequests) this.close();
  }

  /** It adopts and is charged nothing more that no job is current for. */
  close() {
    open.delete(this);
    lingering.delete(this);
  }

  /** A fetch charged to it finished, or a waitUntil promise settled. */
  settled() {
    if (this.ended && this.idle()) this.finish();
  }

  idle() {
    const timers = this.ctx.timers;
    return this.fetches === 0 && this.waits === 0 && (timers === null || timers.size === 0);
  }

  /** The response ended: its work may go on for `wallTimeAfterResponse`, no longer. */
  end() {
    if (this.ended) return;
    this.ended = true;
    if (scheduled.get(this.sid) === this) scheduled.delete(this.sid);
    if (this.idle()) {
      this.finish();
      return;
    }
    if (open.delete(this)) lingering.add(this);
    const ms = host.config.wallTimeAfterResponse * 1000;
    this.ctx.expires = DateNow() + ms;
    this.deadline = internals.timers.setTimeout(() => contexts.expire(this.ctx), ms);
  }

  /** Nothing of it is left: it adopts and may charge nothing more. */
  finish() {
    this.close();
    this.ctx.onExpire = null;
    contexts.expire(this.ctx);
    if (this.deadline !== null) internals.timers.clearTimeout(this.deadline);
  }

  expired(timers) {
    this.close();
    const error = new internals.DOMException(
      `${this.label} ran out of its time after the response`, "TimeoutError");
    const fetches = internals.fetch.abortFor(this, error);
    const sockets = internals.websocket.abortFor(this); // its outbound WebSockets: 1001
    const connections = internals.sockets.abortFor(this); // its TCP sockets (connect())
    if (timers + fetches + sockets + connections + this.waits > 0) {
      host.log("warn", this.sid, `${this.label}: work after the response ran past ` +
        `${host.config.wallTimeAfterResponse} s: ${timers} timer(s) cleared, ${fetches} ` +
        `fetch(es) aborted, ${sockets} WebSocket(s) closed, ${connections} socket(s) ` +
        `closed, ${this.waits} waitUntil promise(s) abandoned`);
    }
  }
}
ObjectSetPrototypeOf(Job.prototype, null);

/** The open job to charge or adopt work that runs with no job current, or null. */
function openJob() {
  let r = SetIteratorPrototypeNext(SetPrototypeValues(open));
  if (r.done) r = SetIteratorPrototypeNext(SetPrototypeValues(lingering));
  return r.done ? null : r.value;
}
contexts.adopt = () => {
  const job = openJob();
  return job === null ? null : job.ctx;
};

/** The job a fetch() starting now is charged to (charged already); throws when none may. */
function chargeFetch() {
  const ctx = contexts.current;
  let job = ctx !== null ? ctx.owner : null;
  if (job === null) job = openJob();
  if (job === null) {
    throw new TypeErrorCtor("fetch failed: too many subrequests " +
      "(no request this fetch could be charged to has budget left)");
  }
  job.charge();
  return job;
}

/** Per-request state, keyed by the supervisor's stream id. */
class ServedStream {
  constructor(sid, requestId, window) {
    this.sid = sid;
    this.requestId = requestId;
    this.job = new Job(sid, `request ${requestId}`);
    this.finished = false; // response end or error sent
    this.forwarded = false; // Python sends the response body (AC_FORWARD)
    this.cancelReason = null; // the AbortError once the supervisor cancelled the stream
    this.signal = null; // request.signal, made when first needed (requestSignal)
    this.body = null; // Inflow of the request body
    this.out = new host.Outflow(sid, AC_DATA, AC_END, window);
    // An AC_COMPLETE (out.whole) says AC_DONE too.
    this.out.onFinish = () => this.release(!this.out.whole);
    this.out.onError = (e) => {
      host.log("error", sid, `Response body stream failed (${requestId}): ${host.errorText(e)}`);
      this.sendError(500, "The response body stream failed.");
    };
  }

  /** The request's signal (aborted already if the client went away). */
  requestSignal() {
    if (this.signal === null) {
      this.signal = internals.abort.createAbortSignal();
      if (this.cancelReason !== null) internals.abort.signalAbort(this.signal, this.cancelReason);
    }
    return this.signal;
  }

  /** Answer `status`; `runtime`: the runtime failed, not the script (see worker.py). */
  sendError(status, message, runtime = false) {
    if (this.finished) return;
    this.finished = true;
    host.queueAction([AC_ERROR, this.sid, status, message, runtime ? 1 : 0]);
    this.release();
  }

  /** Forget this stream; `notify` tells Python (not when Python took the stream over). */
  release(notify = true) {
    this.finished = true;
    this.job.end();
    if (live.get(this.sid) === this) {
      live.delete(this.sid);
      if (notify) host.queueAction([AC_DONE, this.sid]);
    }
  }
}

ObjectSetPrototypeOf(ServedStream.prototype, null);

const live = new SafeMap(); // sid -> ServedStream
const scheduled = new SafeMap(); // sid -> Job of a scheduled event running (91_worker.js)

/** A request whose handler runs now (for uncaught exceptions' log lines), if any. */
let current = null;

function onRequest(ev) {
  const sid = ev[1];
  try {
    takeRequest(ev);
  } catch (e) {
    // The runtime itself failed (the script's handler throwing is caught in takeRequest).
    host.log("error", sid, `The runtime failed to take request ${ev[2]}: ${host.errorText(e)}`);
    const st = live.get(sid);
    if (st !== undefined) {
      st.sendError(500, "The worker's runtime failed.", true);
    } else {
      host.queueAction([AC_ERROR, sid, 500, "The worker's runtime failed.", 1]);
      host.queueAction([AC_DONE, sid]);
    }
  }
}

function takeRequest(ev) {
  const sid = ev[1], requestId = ev[2], method = ev[3], url = ev[4], headerList = ev[5];
  const hasBody = ev[6], window = ev[7], client = ev[8];
  internals.taskHook();
  const st = new ServedStream(sid, requestId, window);
  live.set(sid, st);
  const headers = internals.headers.fromList(headerList, "immutable");
  let body = null;
  if (hasBody) {
    // Python holds the body until JS pulls (initial grant 0): a body forwarded untouched
    // with fetch(request) never enters V8.
    st.body = new host.Inflow(sid, AC_CREDIT, host.config.requestWindow, 0);
    host.markNative(st.body.stream, { kind: "request", id: sid }); // own keys only are read
    body = new internals.body.InnerBody(st.body.stream, null, null);
  }
  // The options bag is read key by key, each one present: no accessor is consulted.
  const request = internals.request.make({
    method, url, headers, body, signal: () => st.requestSignal(),
    extra: { __proto__: null, requestId, client, sid },
  });
  current = st;
  contexts.current = st.job.ctx;
  let result;
  try {
    result = internals.worker.dispatchFetch(request);
  } catch (e) {
    fail(st, e);
    return;
  } finally {
    current = null;
    contexts.current = null;
  }
  if (internals.response.isResponse(result)) {
    safeRespond(st, result);
  } else {
    PromisePrototypeThen(PromiseResolve(result), (r) => safeRespond(st, r), (e) => fail(st, e));
  }
}

/** respond(), where an exception is the runtime's failure: 500, flagged. */
function safeRespond(st, response) {
  try {
    respond(st, response);
  } catch (e) {
    host.log("error", st.sid, `The runtime failed to send the response to ${st.requestId}: ` +
      host.errorText(e));
    st.sendError(500, "The worker's runtime failed.", true);
  }
}

function fail(st, error) {
  if (st.finished) return;
  host.log("error", st.sid, `Uncaught (in response to ${st.requestId}) ${host.errorText(error)}`);
  if (internals.fetch.isUpstreamFailure(error)) {
    st.sendError(502, "The upstream of this request failed."); // details: in the log only
  } else {
    st.sendError(500, "The worker threw an exception.");
  }
}

function declaredLength(list) {
  for (let i = 0; i < list.length; i += 2) {
    if (StringPrototypeToLowerCase(list[i]) === "content-length") {
      const n = +list[i + 1];
      return n >= 0 && n === MathFloor(n) ? n : -1;
    }
  }
  return -1;
}

// Content-Encoding values a body is compressed to on its way out, and their formats (those a
// fetch() body is decoded from: isolate_worker/fetch.py's _CODINGS).
const ENCODINGS = {
  __proto__: null, gzip: "gzip", "x-gzip": "gzip", deflate: "deflate", br: "brotli",
};

/**
 * The format of the one coding `headerList`'s Content-Encoding names (its fields combined),
 * or "": none, identity, several codings or one not known.
 */
function contentFormat(headerList) {
  const coding = internals.headers.listGet(headerList, "content-encoding");
  if (coding === null) return "";
  return ENCODINGS[StringPrototypeToLowerCase(StringPrototypeTrim(coding))] ?? "";
}

/**
 * The mark of `body`'s stream if it is a fetch() body nobody has touched (its upstream's
 * raw bytes may go out as they came), else null.
 */
function untouchedFetch(body) {
  if (body.stream === null) return null;
  const native = host.untouchedNative(body.stream);
  return native !== null && native.kind === "fetch" ? native : null;
}

/**
 * Workers' `encodeBody: "automatic"` (the default): the body the script hands over is plain
 * (a fetch() response's body is decoded once JavaScript reads it) and goes out compressed to
 * the one Content-Encoding its headers name (`format`; "": as it is, and always so under
 * "manual"). An untouched fetch() body goes as its raw bytes only when they are in the coding
 * the response names (or, under "manual", are the body as the script would read it); else
 * its decoded bytes go, compressed to `format`, and a Content-Length no longer applies.
 */
function respondWithBody(st, response, status, headerList, body) {
  const label = contentFormat(headerList);
  const format = internals.response.encodeBody(response) === "manual" ? "" : label;
  const fetched = untouchedFetch(body);
  if (fetched !== null && (fetched.coding === label || fetched.coding === format)) {
    forward(st, status, headerList, body, fetched);
    return;
  }
  if (fetched !== null && fetched.coding !== "") { // Python decodes it as it is read
    headerList = internals.headers.listWithout(headerList, "content-length");
  }
  if (format !== "") {
    host.queueAction([AC_HEAD, st.sid, status,
      internals.headers.listWithout(headerList, "content-length"), -1]);
    st.out.sendStream(internals.compression.compress(internals.body.bodyStream(body), format));
    return;
  }
  const bytes = internals.body.takeSourceBytes(body);
  if (bytes !== null) {
    // A small answer leaves as one action (one frame to the supervisor, not three).
    if (status !== 101 && st.out.sendWhole(AC_COMPLETE, bytes, [status, headerList])) return;
    host.queueAction([AC_HEAD, st.sid, status, headerList, bytes.length]);
    st.out.sendBytes(bytes);
    return;
  }
  const length = body.length === null ? declaredLength(headerList) : body.length;
  host.queueAction([AC_HEAD, st.sid, status, headerList, length]);
  st.out.sendStream(internals.body.bodyStream(body));
}

/** Python sends the untouched fetch() body `native` as it came (AC_FORWARD). */
function forward(st, status, headerList, body, native) {
  const length = body.length === null ? declaredLength(headerList) : body.length;
  host.queueAction([AC_HEAD, st.sid, status, headerList, length]);
  host.claimNative(body.stream);
  internals.fetch.forget(native.id);
  host.queueAction([AC_FORWARD, st.sid, native.id]);
  st.forwarded = true; // Python owns the rest of this stream's response
  const request = st.body;
  if (request !== null && !request.done && internals.streams.isLocked(request.stream) &&
      !host.nativeClaimed(request.stream)) {
    // The script still reads the request body (piped into the fetch, say): its bytes
    // come by this stream, which is released once they have all come.
    request.onCancel = () => st.release(false);
    return;
  }
  st.release(false);
}

function respond(st, response) {
  if (st.finished || st.cancelReason !== null) return;
  if (!internals.response.isResponse(response)) {
    fail(st, new TypeErrorCtor(
      `The handler's result is not a Response (got ${response === null ? "null" : typeof response}).`,
    ));
    return;
  }
  const status = internals.response.status(response);
  if (status === 0) {
    st.sendError(502, "The worker answered with Response.error().");
    return;
  }
  const headerList = internals.headers.list(internals.response.headers(response));
  const socket = internals.response.webSocket(response);
  if (socket !== null) { // 101: the stream carries WebSocket messages from now on
    try {
      internals.websocket.serve(st, socket, headerList);
    } catch (e) {
      fail(st, e); // the script's mistake (a socket already used), not the runtime's
    }
    return;
  }
  const body = internals.response.body(response);
  if (body === null) {
    host.queueAction([AC_HEAD, st.sid, status, headerList, 0]);
    st.out.finish();
    return;
  }
  if (internals.body.isUnusable(body)) {
    fail(st, new TypeErrorCtor("The response body was already used."));
    return;
  }
  respondWithBody(st, response, status, headerList, body);
}

function onCancel(ev) {
  const st = live.get(ev[1]);
  if (st === undefined) {
    // A scheduled event the supervisor gave up on: its work gets the time after a response.
    const job = scheduled.get(ev[1]);
    if (job !== undefined) job.end();
    return;
  }
  const error = new internals.DOMException(`The client went away: ${ev[2]}`, "AbortError");
  st.cancelReason = error;
  if (st.signal !== null) internals.abort.signalAbort(st.signal, error);
  st.out.cancel(error);
  if (st.body !== null) st.body.onError(error);
  internals.fetch.abortFor(st.job, error);
  st.release(!st.forwarded);
}

host.on(EV_REQUEST, onRequest);
host.on(EV_DATA, (ev) => {
  const st = live.get(ev[1]);
  const bytes = host.eventBytes(ev);
  if (st !== undefined && st.body !== null) st.body.onData(bytes);
});
host.on(EV_END, (ev) => {
  const st = live.get(ev[1]);
  if (st !== undefined && st.body !== null) st.body.onEnd();
  if (st !== undefined && st.forwarded) st.release(false);
});
host.on(EV_CANCEL, onCancel);
host.on(EV_CREDIT, (ev) => {
  const st = live.get(ev[1]);
  if (st !== undefined) st.out.addCredit(ev[2]);
});

internals.reportException = (e) => {
  const sid = current !== null ? current.sid : 0;
  host.log("error", sid, `Uncaught ${host.errorText(e)}`);
};

internals.serve = {
  live,
  Job,
  chargeFetch,
  /** A job for scheduled event `sid`, ended by its outcome or by the supervisor's cancel. */
  scheduledJob(sid, label) {
    const job = new Job(sid, label);
    scheduled.set(sid, job);
    return job;
  },
  /**
   * The job the code running now belongs to: the current context's, else the only live
   * request's, else null (console lines are tagged with its `sid`).
   */
  owner() {
    const ctx = contexts.current;
    if (ctx !== null && ctx.owner !== null) return ctx.owner;
    if (live.size !== 1) return null;
    const only = primordials.SafeMapValues(live)[0];
    return only.job;
  },
};
