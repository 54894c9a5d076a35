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
// Headers are flat arrays [name, value, ...].
//
// The fast path: when a Response's body is a fetch() body nobody has touched, the bytes
// need not enter V8 at all. The head is sent as usual, then AC_FORWARD tells Python to pipe
// that fetch's upstream body straight into this stream (isolate_worker/fetch.py).

const {
  MathFloor,
  PromisePrototypeThen,
  PromiseResolve,
  SafeMap,
  StringPrototypeToLowerCase,
  TypeError: TypeErrorCtor,
} = primordials;
const { host } = internals;

const EV_REQUEST = 1, EV_DATA = 2, EV_END = 3, EV_CANCEL = 4, EV_CREDIT = 5;
const AC_HEAD = 1, AC_DATA = 2, AC_END = 3, AC_ERROR = 4, AC_CREDIT = 5;
const AC_DONE = 7, AC_FORWARD = 13;

/** Per-request state, keyed by the supervisor's stream id. */
class ServedStream {
  constructor(sid, requestId, window) {
    this.sid = sid;
    this.requestId = requestId;
    this.finished = false; // response end or error sent
    this.cancelled = false;
    this.signal = internals.abort.createAbortSignal(); // request.signal
    this.body = null; // Inflow of the request body
    this.out = new host.Outflow(sid, AC_DATA, AC_END, window);
    this.out.onFinish = () => this.release();
    this.out.onError = (e) => {
      host.log("error", sid, `Response body stream failed (${requestId}): ${host.errorText(e)}`);
      this.sendError(500, "The response body stream failed.");
    };
  }

  sendError(status, message) {
    if (this.finished) return;
    this.finished = true;
    host.queueAction([AC_ERROR, this.sid, status, message]);
    this.release();
  }

  /** Forget this stream; `notify` tells Python (not when Python took the stream over). */
  release(notify = true) {
    this.finished = true;
    if (live.get(this.sid) === this) {
      live.delete(this.sid);
      if (notify) host.queueAction([AC_DONE, this.sid]);
    }
  }
}

const live = new SafeMap(); // sid -> ServedStream

/** The request whose handler is running synchronously right now, if any. */
let current = null;

function onRequest(ev) {
  const [, sid, requestId, method, url, headerList, hasBody, window, client] = ev;
  internals.taskHook();
  const st = new ServedStream(sid, requestId, window);
  live.set(sid, st);
  const headers = internals.headers.fromList(headerList, "immutable");
  let body = null;
  if (hasBody) {
    // Python holds the body until JS pulls (initial grant 0): a body forwarded untouched
    // with fetch(request) never enters V8.
    st.body = new host.Inflow(sid, AC_CREDIT, host.config.requestWindow, 0);
    host.markNative(st.body.stream, { kind: "request", id: sid });
    body = new internals.body.InnerBody(st.body.stream, null, null);
  }
  const request = internals.request.make({
    method, url, headers, body, signal: st.signal, extra: { requestId, client, sid },
  });
  current = st;
  let result;
  try {
    result = internals.worker.dispatchFetch(request);
  } catch (e) {
    current = null;
    fail(st, e);
    return;
  }
  current = null;
  if (internals.response.isResponse(result)) {
    respond(st, result);
  } else {
    PromisePrototypeThen(PromiseResolve(result), (r) => respond(st, r), (e) => fail(st, e));
  }
}

function fail(st, error) {
  if (st.finished) return;
  host.log("error", st.sid, `Uncaught (in response to ${st.requestId}) ${host.errorText(error)}`);
  st.sendError(500, "The worker threw an exception.");
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

function respond(st, response) {
  if (st.finished || st.cancelled) return;
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
  const bytes = internals.body.takeSourceBytes(body);
  if (bytes !== null) {
    host.queueAction([AC_HEAD, st.sid, status, headerList, bytes.length]);
    st.out.sendBytes(bytes);
    return;
  }
  const stream = internals.body.bodyStream(body);
  const length = body.length === null ? declaredLength(headerList) : body.length;
  host.queueAction([AC_HEAD, st.sid, status, headerList, length]);
  const native = host.untouchedNative(stream);
  if (native !== null && native.kind === "fetch") {
    host.claimNative(stream);
    internals.fetch.forget(native.id);
    host.queueAction([AC_FORWARD, st.sid, native.id]);
    st.release(false); // Python owns the rest of this stream
    return;
  }
  st.out.sendStream(stream);
}

function onCancel(ev) {
  const st = live.get(ev[1]);
  if (st === undefined) return;
  st.cancelled = true;
  const error = new internals.DOMException(`The client went away: ${ev[2]}`, "AbortError");
  internals.abort.signalAbort(st.signal, error);
  st.out.cancel(error);
  if (st.body !== null) st.body.onError(error);
  internals.fetch.abortFor(st, error);
  st.release();
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
  /**
   * The request the code running now belongs to: the one whose handler runs synchronously,
   * else the only live one, else null (fetch() counts subrequests against it, console
   * lines are tagged with it).
   */
  owner() {
    if (current !== null || live.size !== 1) return current;
    for (const st of live.values()) return st;
    return null;
  },
};
